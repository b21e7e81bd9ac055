"""Limits above one socket: open sockets per user and per address, anonymous sockets, and a
frame budget per user.

Open sockets are counted where every server process sees them: with ``CACHE_REDIS_URL`` set,
one Redis sorted set per counted key (``user:<id>``, ``addr:<ip>``, ``anon:<ip>``) whose members
are the sockets' channel names, scored with the time they were last confirmed. A process
re-confirms its own sockets every ``REFRESH_SECONDS`` from a daemon thread, in one pipelined
round trip; the sockets of a process that died stop counting after ``TTL_SECONDS``. Without
Redis (the embedded default: one process) the sets live in a dictionary.

Opening a socket costs one round trip (prune, add, count for every key, as one MULTI/EXEC);
a socket over a cap is removed again at once. Two sockets racing for the last place may both
be refused, never both admitted beyond the cap by more than the race itself.

The anonymous cap per process (``WS_MAX_ANONYMOUS_SOCKETS``) is a plain counter: it protects
the process itself, whatever the other processes hold.

The per-user frame budget is a token bucket per user and per process, shared by that user's
sockets in the process and kept as long as one of them is open: no I/O on the hot path.
What is worth more than a frame (stored messages, relay recipients) is also counted across
processes in the cache (``core.throttle.spend``).
"""
from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Protocol

from django.conf import settings

from core import degrade
from core.degrade import REDIS_ERRORS, degraded
from core.gateway.ratelimit import TokenBucket

log = logging.getLogger(__name__)

TTL_SECONDS = 90
REFRESH_SECONDS = 30

# Which cap refused a socket (the close reason names it).
USER, ADDRESS, ANONYMOUS = "user", "address", "anonymous"


class SlotStore(Protocol):
    def acquire(self, member: str, caps: list[tuple[str, int]], now: float) -> str | None: ...
    def release(self, member: str) -> None: ...
    def release_many(self, members: list[str]) -> None: ...
    def clear(self) -> None: ...


class MemorySlots:
    """One process: exact counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sets: dict[str, set[str]] = {}
        self._held: dict[str, list[str]] = {}

    def acquire(self, member: str, caps: list[tuple[str, int]], now: float) -> str | None:
        with self._lock:
            for key, limit in caps:
                if limit and len(self._sets.get(key, ())) >= limit:
                    return key
            for key, _ in caps:
                self._sets.setdefault(key, set()).add(member)
            self._held[member] = [key for key, _ in caps]
            return None

    def release(self, member: str) -> None:
        with self._lock:
            for key in self._held.pop(member, ()):
                members = self._sets.get(key)
                if members is not None:
                    members.discard(member)
                    if not members:
                        del self._sets[key]

    def release_many(self, members: list[str]) -> None:
        for member in members:
            self.release(member)

    def clear(self) -> None:
        with self._lock:
            self._sets.clear()
            self._held.clear()


class RedisSlots:
    """Every process: sorted sets in Redis, re-confirmed by each process for its own sockets."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, **settings.REDIS_CLIENT_OPTIONS)
        self._lock = threading.Lock()
        self._held: dict[str, list[str]] = {}
        # Sockets admitted while Redis was away: the next refresh that reaches Redis counts them.
        self._unconfirmed: set[str] = set()

    def acquire(self, member: str, caps: list[tuple[str, int]], now: float) -> str | None:
        # Per deployment: two deployments on one Redis must not share one user id's cap.
        keys = [f"{settings.DEPLOYMENT_PREFIX}:sockets:{key}" for key, _ in caps]
        try:
            if degrade.skipping():
                raise ConnectionError("Redis failed a moment ago")
            with self._redis.pipeline(transaction=True) as pipe:
                for key in keys:
                    pipe.zremrangebyscore(key, "-inf", now - TTL_SECONDS)
                    pipe.zadd(key, {member: now})
                    pipe.zcard(key)
                    pipe.expire(key, TTL_SECONDS * 2)
                results = pipe.execute()
        except REDIS_ERRORS as exc:
            # Redis away: admit (uncounted for now) rather than refuse every new socket.
            degraded("socket counts", exc)
            with self._lock:
                self._held[member] = keys
                self._unconfirmed.add(member)
            _start_refresher()
            return None
        for index, (key, limit) in enumerate(caps):
            if limit and int(results[index * 4 + 2]) > limit:
                self._remove(member, keys)
                return key
        with self._lock:
            self._held[member] = keys
        _start_refresher()
        return None

    def _remove(self, member: str, keys: list[str]) -> None:
        self._remove_all([(member, keys)])

    def _remove_all(self, held: list[tuple[str, list[str]]]) -> None:
        try:
            if degrade.skipping():
                raise ConnectionError("Redis failed a moment ago")
            with self._redis.pipeline(transaction=False) as pipe:
                for member, keys in held:
                    for key in keys:
                        pipe.zrem(key, member)
                pipe.execute()
        except REDIS_ERRORS as exc:  # the entries age out after TTL_SECONDS on their own
            degraded("socket counts", exc)

    def release(self, member: str) -> None:
        self.release_many([member])

    def release_many(self, members: list[str]) -> None:
        """Give back the places of closed sockets (one round trip)."""
        held: list[tuple[str, list[str]]] = []
        with self._lock:
            for member in members:
                keys = self._held.pop(member, None)
                self._unconfirmed.discard(member)
                if keys:
                    held.append((member, keys))
        if held:
            self._remove_all(held)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()
            self._unconfirmed.clear()

    def refresh(self) -> None:
        """Re-confirm every socket this process holds (one round trip)."""
        with self._lock:
            held = list(self._held.items())
            unconfirmed = set(self._unconfirmed)
        if not held:
            return
        now = time.time()
        with self._redis.pipeline(transaction=False) as pipe:
            for member, keys in held:
                for key in keys:
                    # xx: never re-adds a socket released meanwhile; one admitted while Redis
                    # was away is added now.
                    pipe.zadd(key, {member: now}, xx=member not in unconfirmed)
            for key in {key for _, keys in held for key in keys}:
                pipe.expire(key, TTL_SECONDS * 2)
            pipe.execute()
        with self._lock:
            self._unconfirmed -= unconfirmed


_store: SlotStore | None = None
_store_lock = threading.Lock()
_anonymous_here = 0
_anonymous_lock = threading.Lock()


_refresher: threading.Thread | None = None


def _refresh_forever() -> None:
    while True:
        time.sleep(REFRESH_SECONDS)
        current = _store
        if isinstance(current, RedisSlots):
            try:
                current.refresh()
            except REDIS_ERRORS as exc:  # Redis away for a moment: the next round catches up
                degraded("socket counts", exc)
            except Exception:
                log.warning("could not refresh this process's socket counts", exc_info=True)


def _start_refresher() -> None:
    global _refresher
    with _anonymous_lock:
        if _refresher is None:
            _refresher = threading.Thread(target=_refresh_forever, name="socket-slots", daemon=True)
            _refresher.start()


def store() -> SlotStore:
    global _store
    with _store_lock:
        if _store is None:
            url = settings.CACHE_REDIS_URL
            _store = RedisSlots(url) if url else MemorySlots()
        return _store


def shared() -> bool:
    """True when counting needs a network round trip (run it off the event loop)."""
    return isinstance(store(), RedisSlots)


def socket_open(*, channel: str, user_id: int | None, address: str | None) -> str | None:
    """Count a new socket; None when admitted, else which cap refused it (nothing is held then).
    An admitted socket must be given back with ``socket_close``."""
    global _anonymous_here
    caps: list[tuple[str, int]] = []
    if user_id is not None:
        caps.append((f"user:{user_id}", settings.WS_MAX_SOCKETS_PER_USER))
    if address:
        caps.append((f"addr:{address}", settings.WS_MAX_SOCKETS_PER_ADDRESS))
        if user_id is None:
            caps.append((f"anon:{address}", settings.WS_MAX_ANONYMOUS_PER_ADDRESS))
    if user_id is None:
        with _anonymous_lock:
            if _anonymous_here >= settings.WS_MAX_ANONYMOUS_SOCKETS:
                return ANONYMOUS
            _anonymous_here += 1
    refused = store().acquire(channel, caps, time.time()) if caps else None
    if refused is not None and user_id is None:
        with _anonymous_lock:
            _anonymous_here -= 1
    if refused is None:
        return None
    return USER if refused.startswith("user:") else ANONYMOUS if refused.startswith("anon:") else ADDRESS


def socket_close(*, channel: str, anonymous: bool) -> None:
    sockets_closed([(channel, anonymous)])


def sockets_closed(sockets: list[tuple[str, bool]]) -> None:
    """Give back the places of closed sockets, ``(channel, anonymous)`` pairs, in one go."""
    global _anonymous_here
    anonymous = sum(1 for _, anon in sockets if anon)
    if anonymous:
        with _anonymous_lock:
            _anonymous_here = max(0, _anonymous_here - anonymous)
    store().release_many([channel for channel, _ in sockets])


# --- frames per user ---------------------------------------------------------------------------
class _UserBucket(TokenBucket):
    __slots__ = ("__weakref__",)


_user_buckets: weakref.WeakValueDictionary[int, _UserBucket] = weakref.WeakValueDictionary()


def user_bucket(user_id: int) -> TokenBucket:
    """The frame budget of ``user_id`` in this process, shared by all of the user's sockets here
    (each socket keeps a reference; the bucket goes when the last one closes)."""
    bucket = _user_buckets.get(user_id)
    if bucket is None:
        bucket = _UserBucket(settings.WS_USER_RATE_PER_SECOND, settings.WS_USER_RATE_BURST)
        _user_buckets[user_id] = bucket
    return bucket


def reset() -> None:
    """Forget every count of this process (tests)."""
    global _store, _anonymous_here
    with _store_lock:
        if _store is not None:
            _store.clear()
        _store = None
    with _anonymous_lock:
        _anonymous_here = 0
    _user_buckets.clear()
