"""Attempt counters in the shared cache (Redis in production), for rate limits across processes.

They live outside the database on purpose: a failed attempt must count even when the
transaction that checked it rolls back.
"""
from __future__ import annotations

import contextlib

from django.core.cache import cache

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


def spend(key: str, amount: int, limit: int, window_seconds: int, message: str) -> None:
    """Count ``amount`` uses of ``key`` (e.g. the recipients of one call); refuse with
    ``rate_limited``, counting nothing, when that would pass ``limit`` in the window."""
    full = f"throttle:{key}"
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
