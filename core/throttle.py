"""Attempt counters in the shared cache (Redis in production), for rate limits across processes.

They live outside the database on purpose: a failed attempt must count even when the
transaction that checked it rolls back. While the cache's Redis is down or hung the limits
fail open (counted and logged by ``core.degrade``): a request that only needs the database
still gets its answer, unthrottled, rather than a 500.
"""
from __future__ import annotations

import contextlib
import functools
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection

from core import degrade
from core.exceptions import RATE_LIMITED, ApplicationError

_T = TypeVar("_T")


def _fail_open(fallback: Callable[..., Any]) -> Callable[[Callable[..., _T]], Callable[..., _T]]:
    """On a Redis failure (or while a recent one holds Redis off), answer ``fallback(...)``."""
    def wrap(func: Callable[..., _T]) -> Callable[..., _T]:
        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> _T:
            missing = object()
            result = degrade.call("rate limits", func, *args, fallback=missing, **kwargs)
            return cast(_T, fallback(*args, **kwargs) if result is missing else result)
        return guarded
    return wrap


@_fail_open(lambda *a, **k: 0)
def count(key: str) -> int:
    return int(cache.get(f"throttle:{key}", 0))


@_fail_open(lambda *a, **k: 1)
def hit(key: str, window_seconds: int) -> int:
    """Add one to ``key``'s counter (the window starts at the first hit); return the new count."""
    full = f"throttle:{key}"
    cache.add(full, 0, timeout=window_seconds)
    try:
        return int(cache.incr(full))
    except ValueError:  # expired between add and incr
        cache.set(full, 1, timeout=window_seconds)
        return 1


@_fail_open(lambda *a, **k: None)
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


@_fail_open(lambda *a, **k: None)
def spend(key: str, amount: int, limit: int, window_seconds: int, message: str) -> None:
    """Count ``amount`` uses of ``key`` (e.g. the recipients of one call); refuse with
    ``rate_limited``, counting nothing, when that would pass ``limit`` in the window (which
    starts at the first use). On Redis this is one round trip (the cache API would take three),
    since it sits on hot paths such as every message sent."""
    if not _count([key], amount, limit, window_seconds)[0]:
        raise ApplicationError(RATE_LIMITED, message)


@_fail_open(lambda keys, *a, **k: [True] * len(keys))
def spend_each(keys: Sequence[str], limit: int, window_seconds: int) -> list[bool]:
    """``spend`` one use of each key (a key may repeat) for a batch of calls, in one round trip
    on Redis: whether each was allowed. A refused one counts nothing; all are allowed while
    Redis is down or was a moment ago."""
    return _count(keys, 1, limit, window_seconds)


def _count(keys: Sequence[str], amount: int, limit: int, window_seconds: int) -> list[bool]:
    fulls = [f"throttle:{key}" for key in keys]
    redis = _redis_client(fulls[0]) if fulls else None
    if redis is not None:
        client = redis[0]
        stored = [_redis_client(full)[1] for full in fulls]  # type: ignore[index]
        with client.pipeline(transaction=False) as pipe:
            for key in stored:
                pipe.set(key, 0, ex=window_seconds, nx=True)  # the window starts at the first use
                pipe.incrby(key, amount)
            allowed = [int(total) <= limit for total in pipe.execute()[1::2]]
        refused = [key for key, ok in zip(stored, allowed, strict=True) if not ok]
        if refused:
            with client.pipeline(transaction=False) as pipe:
                for key in refused:
                    pipe.decrby(key, amount)  # a refused call spends nothing
                pipe.execute()
        return allowed
    allowed = []
    for full in fulls:
        cache.add(full, 0, timeout=window_seconds)
        try:
            total = int(cache.incr(full, amount))
        except ValueError:  # expired between add and incr
            cache.set(full, amount, timeout=window_seconds)
            total = amount
        if total > limit:
            with contextlib.suppress(ValueError):  # expired meanwhile
                cache.decr(full, amount)  # a refused call spends nothing
        allowed.append(total <= limit)
    return allowed


@_fail_open(lambda *a, **k: None)
def _forgive(full_key: str) -> None:
    with suppress(ValueError):  # expired meanwhile: nothing left to take back
        cache.decr(full_key)


# --- password checks ------------------------------------------------------------------------
# The address of the client being served, for limits per address deep inside a service (e.g. a
# payment password checked by a money flow). Set by the socket gateway's dispatch and by the
# HTTP middleware ``ClientAddressMiddleware``; None outside a request.
client_address: ContextVar[str | None] = ContextVar("client_address", default=None)


@contextmanager
def serving(address: str | None) -> Iterator[None]:
    """Run the block with ``client_address`` set to ``address``."""
    reset_token = client_address.set(address)
    try:
        yield
    finally:
        client_address.reset(reset_token)


class PasswordAttempt:
    """One password check, already counted (``password_attempt``). Call ``succeeded`` after a
    right password: the subject's failures are cleared and this attempt is taken back from the
    address's count. A wrong password needs nothing: the attempt stays counted."""

    def __init__(self, subject_key: str, address_key: str | None) -> None:
        self.subject_key, self.address_key = subject_key, address_key

    def succeeded(self) -> None:
        if self.subject_key:
            _delete(self.subject_key)
        if self.address_key:
            _forgive(self.address_key)


@_fail_open(lambda *a, **k: None)
def _delete(full_key: str) -> None:
    cache.delete(full_key)


@_fail_open(lambda *a, **k: PasswordAttempt("", None))
def password_attempt(
    subject: str, *, limit: int, window_seconds: int, ip: str | None = None,
    code: str = RATE_LIMITED, message: str = "too many password attempts; try again later",
) -> PasswordAttempt:
    """Count one password check of ``subject`` (e.g. ``login:alice``, ``account:42``) and of the
    client's address, BEFORE the (slow, deliberately) hash is computed; refuse with ``code`` past
    ``limit`` wrong ones per subject, or PASSWORD_ATTEMPTS_PER_IP per address, in the window.

    Every password check of every protocol goes through here. Counting first means parallel
    guesses are limited too: only ``limit`` of them are ever hashed at once, so one user cannot
    keep the workers (and their database connections) busy hashing. ``ip`` defaults to the
    address of the client being served (``client_address``)."""
    address = ip if ip is not None else client_address.get()
    keys = [(f"throttle:password:{subject}", limit)]
    if address:
        keys.append((f"throttle:password-ip:{address}", settings.PASSWORD_ATTEMPTS_PER_IP))
    taken: list[str] = []
    for key, most in keys:
        cache.add(key, 0, timeout=window_seconds)
        try:
            value = int(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window_seconds)
            value = 1
        taken.append(key)
        if value > most:
            for full in taken:  # a refused attempt is not an attempt: it checked nothing
                _forgive(full)
            raise ApplicationError(code, message)
    return PasswordAttempt(taken[0], taken[1] if len(taken) > 1 else None)


def release_connection() -> None:
    """Give this thread's database connection back before a slow computation (a password hash):
    on PostgreSQL it returns to the process's pool for other requests meanwhile, and the next
    query takes one again. Inside a transaction the connection must stay; SQLite keeps its
    per-thread connection (not pooled, nothing to give back)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        connection.close()


def password_reset(subject: str) -> None:
    """Clear ``subject``'s wrong checks (e.g. after a reset by SMS code)."""
    _delete(f"throttle:password:{subject}")


@_fail_open(lambda *a, **k: 0)
def password_failures(subject: str) -> int:
    """Wrong (or running) checks of ``subject`` counted in the current window."""
    return int(cache.get(f"throttle:password:{subject}", 0))
