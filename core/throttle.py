"""Attempt counters in the shared cache (Redis in production), for rate limits across processes.

They live outside the database on purpose: a failed attempt must count even when the
transaction that checked it rolls back.
"""
from __future__ import annotations

import contextlib
import weakref
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from core.exceptions import RATE_LIMITED, ApplicationError


def count(key: str) -> int:
    return int(cache.get(f"throttle:{key}", 0))


def hit(key: str, window_seconds: int) -> int:
    """Add one to ``key``'s counter (the window starts at the first hit); return the new count."""
    full = f"throttle:{key}"
    cache.add(full, 0, timeout=window_seconds)
    try:
        return int(cache.incr(full))
    except ValueError:  # expired between add and incr
        cache.set(full, 1, timeout=window_seconds)
        return 1


def reset(key: str) -> None:
    cache.delete(f"throttle:{key}")


def check(key: str, limit: int, window_seconds: int, message: str) -> None:
    """Count one use of ``key``; refuse with ``rate_limited`` past ``limit`` per window."""
    if hit(key, window_seconds) > limit:
        raise ApplicationError(RATE_LIMITED, message)


# Django builds a cache backend per thread; the client goes with its backend.
_clients: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _redis_client(full: str) -> tuple[Any, str] | None:
    """The raw Redis client and stored key behind the default cache, when it is Redis (the
    client is kept per cache backend: building one per call costs more than the round trip)."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client = _clients.get(backend._cache)
    if client is None:
        client = _clients[backend._cache] = backend._cache.get_client(None, write=True)
    return client, backend.make_key(full)


def spend(key: str, amount: int, limit: int, window_seconds: int, message: str) -> None:
    """Count ``amount`` uses of ``key`` (e.g. the recipients of one call); refuse with
    ``rate_limited``, counting nothing, when that would pass ``limit`` in the window (which
    starts at the first use). On Redis this is one round trip (the cache API would take three),
    since it sits on hot paths such as every message sent."""
    full = f"throttle:{key}"
    redis = _redis_client(full)
    if redis is not None:
        client, stored = redis
        with client.pipeline(transaction=False) as pipe:
            pipe.set(stored, 0, ex=window_seconds, nx=True)  # the window starts at the first use
            pipe.incrby(stored, amount)
            _, total = pipe.execute()
        if int(total) > limit:
            client.decrby(stored, amount)  # a refused call spends nothing
            raise ApplicationError(RATE_LIMITED, message)
        return
    cache.add(full, 0, timeout=window_seconds)
    try:
        total = int(cache.incr(full, amount))
    except ValueError:  # expired between add and incr
        cache.set(full, amount, timeout=window_seconds)
        total = amount
    if total > limit:
        with contextlib.suppress(ValueError):  # expired meanwhile
            cache.decr(full, amount)  # a refused call spends nothing
        raise ApplicationError(RATE_LIMITED, message)
