"""Whether a request comes from one of an operator's listed networks (``HX_TRUSTED_NETWORKS``,
``DESK_TRUSTED_NETWORKS``; parsed and checked at start-up by ``config.env.env_networks``).

The client address is the one every limit per address uses: ``REMOTE_ADDR``, the peer daphne
saw. Headers a client writes (``X-Forwarded-For``, ``X-Real-IP``) are never read here; daphne
replaces the peer with ``X-Forwarded-For`` only when started with ``--proxy-headers``, which is
for a balancer that sets that header itself (docs/deploy.md#behind-a-load-balancer).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any


def address_in(address: object, networks: Iterable[IPv4Network | IPv6Network]) -> bool:
    """``address`` (text) lies in one of ``networks``; anything that is not an IP address does not."""
    if not isinstance(address, str) or not address:
        return False
    try:
        ip: IPv4Address | IPv6Address = ip_address(address.strip())
    except ValueError:
        return False
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d
    return any(ip.version == network.version and ip in network for network in networks)


def from_trusted(meta: Mapping[str, Any], networks: Iterable[IPv4Network | IPv6Network]) -> bool:
    """The client address of the request whose ``META`` this is (``REMOTE_ADDR``) lies in one of
    ``networks``."""
    return address_in(meta.get("REMOTE_ADDR"), networks)
