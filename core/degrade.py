"""Redis is a helper, not a dependency of stored data: when it is down or hung, presence,
rate limits, socket counters and pushes degrade instead of failing the request.

``degraded(area, exc)`` records one such failure: it is counted per area (``counts()``, shown
by ``/healthz``) and logged at most once per ``REDIS_DEGRADED_LOG_SECONDS`` per area, so an
outage writes a few lines rather than one traceback per request.

A failure also opens a breaker for ``REDIS_RETRY_SECONDS``: meanwhile ``call`` answers its
fallback at once instead of waiting on a hung Redis again (each request pays at most one
timeout); the first call after that tries Redis again, and everything resumes by itself.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings

log = logging.getLogger(__name__)

try:
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis is a requirement
    RedisError = OSError  # type: ignore[misc,assignment]

# What a down, refused or hung Redis raises through redis-py (socket timeouts included).
REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, asyncio.TimeoutError)

_lock = threading.Lock()
_counts: dict[str, int] = {}
_logged_at: dict[str, float] = {}
_open_until = 0.0
_failed_since: float | None = None  # wall time of the first failure not yet taken (core.resync)

_T = TypeVar("_T")


def degraded(area: str, exc: BaseException) -> None:
    """Count one failed Redis call of ``area``; log it unless this area logged recently."""
    global _open_until, _failed_since
    now = time.monotonic()
    with _lock:
        _open_until = now + settings.REDIS_RETRY_SECONDS
        if _failed_since is None:
            _failed_since = time.time()
        total = _counts[area] = _counts.get(area, 0) + 1
        last = _logged_at.get(area)
        due = last is None or now - last >= settings.REDIS_DEGRADED_LOG_SECONDS
        if due:
            _logged_at[area] = now
    if due:
        log.warning("Redis unavailable for %s (%s: %s); degraded, %d failure(s) so far",
                    area, type(exc).__name__, exc, total)


def counts() -> dict[str, int]:
    """Failures counted per area since the process started."""
    with _lock:
        return dict(_counts)


def skipping() -> bool:
    """True while a recent Redis failure says not to wait on Redis again yet."""
    return time.monotonic() < _open_until


def call(area: str, func: Callable[..., _T], *args: Any, fallback: _T, **kwargs: Any) -> _T:
    """``func(*args, **kwargs)``, or ``fallback`` when Redis fails or failed a moment ago."""
    if skipping():
        with _lock:
            _counts[area] = _counts.get(area, 0) + 1
        return fallback
    try:
        return func(*args, **kwargs)
    except REDIS_ERRORS as exc:
        degraded(area, exc)
        return fallback


def take_failure() -> float | None:
    """The wall time of the first Redis failure since the last call (None: none since): the
    start of a span in which pushes may have been lost."""
    global _failed_since
    with _lock:
        since, _failed_since = _failed_since, None
    return since


def keep_failure(since: float) -> None:
    """Give back a failure time taken by ``take_failure`` that could not be acted on."""
    global _failed_since
    with _lock:
        _failed_since = since if _failed_since is None else min(_failed_since, since)


def reset() -> None:
    """Forget failures and close the breaker (tests)."""
    global _open_until, _failed_since
    with _lock:
        _counts.clear()
        _logged_at.clear()
        _open_until = 0.0
        _failed_since = None
