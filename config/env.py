"""The one place that reads the environment.

Typed reads with development-safe defaults; a malformed value raises
``ImproperlyConfigured`` at start-up instead of misbehaving later.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file beside manage.py is read if present; real environment variables win.
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(str(BASE_DIR / ".env"), overwrite=False)


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    try:
        value = env.int(name, default=default)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer") from exc
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be <= {maximum}, got {value}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = env.str(name, default="").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_decimal(name: str, default: str, *, minimum: str = "0") -> Decimal:
    """An exact amount (never through a float)."""
    raw = env.str(name, default=default).strip()
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ImproperlyConfigured(f"{name} must be a decimal number, got {raw!r}") from exc
    if not value.is_finite() or value < Decimal(minimum):
        raise ImproperlyConfigured(f"{name} must be a number >= {minimum}, got {raw!r}")
    return value


def env_networks(name: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Comma-separated networks in CIDR notation (``10.0.0.0/8, 192.168.1.7``; a bare address is
    one host); empty: none. A malformed entry, one with host bits set (``10.0.0.1/8``) or a
    network of every address (``0.0.0.0/0``) stops the start-up."""
    networks: list[IPv4Network | IPv6Network] = []
    for raw in env.str(name, default="").split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            network = ip_network(entry, strict=True)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name}: {entry!r} is not a network in CIDR notation (e.g. 10.0.0.0/8 or 192.168.1.7): {exc}"
            ) from exc
        if network.prefixlen == 0:
            raise ImproperlyConfigured(f"{name}: {entry!r} is every address; list your private networks only")
        networks.append(network)
    return tuple(networks)
