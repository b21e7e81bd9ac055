"""Each server process announces its deployment's prefix on the channel layer's Redis, and
warns at start-up when other deployments are live there.

Redis pub/sub ignores the db number, so two deployments on one Redis are kept apart only by
their prefixes (``DEPLOYMENT_PREFIX``). The announcements live in db 0 of that Redis, whatever
db each deployment uses, so every deployment sees the others; each expires unless refreshed.
"""
from __future__ import annotations

import logging
import re
import threading
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

KEY_PREFIX = "im:deployments:"
TTL_SECONDS = 90
REFRESH_SECONDS = 30
MAX_LISTED = 1000  # announcements read per pass at most

_started = False


def identity() -> str:
    """What makes two processes one deployment: their database (never its password)."""
    db = settings.DATABASES["default"]
    return f"{db.get('HOST') or ''}:{db.get('PORT') or ''}/{db['NAME']}"


def registry_url(url: str) -> str:
    """``url`` pointed at db 0: the one place every deployment on that Redis can see."""
    return re.sub(r"/\d*/?$", "", url.rstrip("/")) + "/0" if "://" in url else url


def announce_once(client: Any) -> dict[str, str]:
    """Register this deployment's prefix; return the other live ones (prefix -> identity) and
    warn about them, and about another deployment using this very prefix."""
    own, me = settings.DEPLOYMENT_PREFIX, identity()
    others: dict[str, str] = {}
    for count, key in enumerate(client.scan_iter(match=f"{KEY_PREFIX}*", count=100)):
        if count >= MAX_LISTED:
            break
        prefix = key.decode()[len(KEY_PREFIX):]
        value = client.get(key)
        holder = value.decode() if value else ""
        if prefix != own:
            others[prefix] = holder
        elif holder and holder != me:
            log.warning("another deployment (database %s) uses this deployment's prefix %r on the same "
                        "Redis: each would receive the other's messages and presence; set DEPLOYMENT_NAME",
                        holder, own)
    client.set(f"{KEY_PREFIX}{own}", me, ex=TTL_SECONDS)
    return others


def _run(url: str) -> None:
    import redis

    client = redis.Redis.from_url(registry_url(url), socket_connect_timeout=2, socket_timeout=2)
    seen: set[str] | None = None
    stop = threading.Event()
    while True:
        try:
            others = announce_once(client)
        except Exception as exc:  # Redis away: try again at the next refresh
            log.warning("could not announce this deployment on Redis: %s: %s", type(exc).__name__, exc)
        else:
            if others and set(others) != seen:
                log.warning("other deployments are live on this Redis: %s; this one's prefix is %r, so "
                            "each sees only its own traffic", ", ".join(sorted(others)), settings.DEPLOYMENT_PREFIX)
            seen = set(others)
        stop.wait(REFRESH_SECONDS)


def start() -> None:
    """Called once per server process with Redis: announce now and every REFRESH_SECONDS."""
    global _started
    if _started or not settings.REDIS_URL:
        return
    _started = True
    url = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    url = url if isinstance(url, str) else url["address"]
    threading.Thread(target=_run, args=(url,), name="deployment-announce", daemon=True).start()
