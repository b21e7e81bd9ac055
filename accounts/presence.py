"""Presence: a user is online while any of their sockets is alive, on any server process.

Each socket is an entry in a per-user set, scored with the time it was last heard from
(connect, any frame, at most every ``PRESENCE_TOUCH_SECONDS``). An entry older than
``PRESENCE_TTL_SECONDS`` no longer counts, so the sockets of a crashed process age out on
their own. The store is Redis with ``REDIS_URL`` (shared by every process) and a
dictionary in the embedded default (one process).

Transitions push ``presence.onUpdate {uId, online, lastSeen}`` to the user's friends; going
offline also records ``User.last_seen_at``. Clients keep a socket counted by sending
``system.heartbeat`` (or anything) more often than the TTL.

Disconnects are settled in batches (``sockets_disconnected``: one Redis round trip, one UPDATE
of ``last_seen_at`` and one friends query for a whole batch), so thousands of sockets dropping at
once are settled in seconds. With Redis each process also lists its sockets under its process
id; when a process stops heartbeating (a crash) another one takes its sockets offline
(``sweep_process``, run by ``core.resync``) instead of waiting for the TTL.

While Redis is away presence degrades (``core.degrade``): a socket is not registered (the
gateway registers it again once Redis answers), a disconnect is not recorded (the entry ages
out after the TTL) and everyone reads as offline; nothing of this fails a request.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Protocol

from django.conf import settings
from django.dispatch import Signal
from django.utils import timezone

from accounts.models import Friendship, User
from core import degrade
from core.resync import PROCESS_ID

log = logging.getLogger(__name__)


Sockets = list[tuple[int, str]]  # (user id, socket channel name) pairs


class Store(Protocol):
    def add(self, user_id: int, socket: str, now: float) -> bool: ...  # True: was offline
    def touch(self, user_id: int, socket: str, now: float) -> None: ...
    # The users left with no live socket once ``sockets`` (held by ``process``) are removed.
    def remove_many(self, sockets: Sockets, now: float, process: str) -> set[int]: ...
    def online(self, user_ids: list[int], now: float) -> set[int]: ...
    def held_by(self, process: str) -> Sockets: ...  # the sockets ``process`` registered
    def forget_process(self, process: str) -> None: ...
    # Live sockets registered, and whether that counts every server process (False: this one).
    def socket_count(self, now: float) -> tuple[int, bool]: ...

    def remove(self, user_id: int, socket: str, now: float) -> bool:  # True: now offline
        return bool(self.remove_many([(user_id, socket)], now, PROCESS_ID))


class MemoryStore(Store):
    """One process: nothing to share, no other process to outlive."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: dict[int, dict[str, float]] = {}

    def _live(self, user_id: int, now: float) -> dict[str, float]:
        entries = self._sockets.setdefault(user_id, {})
        cutoff = now - settings.PRESENCE_TTL_SECONDS
        for socket in [s for s, seen in entries.items() if seen < cutoff]:
            del entries[socket]
        return entries

    def add(self, user_id: int, socket: str, now: float) -> bool:
        with self._lock:
            entries = self._live(user_id, now)
            was_offline = not entries
            entries[socket] = now
            return was_offline

    def touch(self, user_id: int, socket: str, now: float) -> None:
        with self._lock:
            self._live(user_id, now)[socket] = now

    def remove_many(self, sockets: Sockets, now: float, process: str) -> set[int]:
        with self._lock:
            for user_id, socket in sockets:
                self._sockets.get(user_id, {}).pop(socket, None)
            offline = {uid for uid, _ in sockets if not self._live(uid, now)}
            for uid in offline:
                self._sockets.pop(uid, None)
            return offline

    def online(self, user_ids: list[int], now: float) -> set[int]:
        with self._lock:
            return {uid for uid in user_ids if self._live(uid, now)}

    def held_by(self, process: str) -> Sockets:
        return []

    def forget_process(self, process: str) -> None:
        pass

    def socket_count(self, now: float) -> tuple[int, bool]:
        cutoff = now - settings.PRESENCE_TTL_SECONDS
        with self._lock:
            return sum(1 for entries in self._sockets.values() for seen in entries.values() if seen >= cutoff), True


class RedisStore(Store):
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, **settings.REDIS_CLIENT_OPTIONS)

    @staticmethod
    def _key(user_id: int) -> str:
        return f"{settings.DEPLOYMENT_PREFIX}:presence:{user_id}"

    @staticmethod
    def process_key(process: str) -> str:
        """The set of ``"<user id> <socket>"`` a process registered (``core.resync`` keeps it
        from expiring while the process heartbeats)."""
        return f"{settings.DEPLOYMENT_PREFIX}:presence:process:{process}"

    def add(self, user_id: int, socket: str, now: float) -> bool:
        key, ttl = self._key(user_id), settings.PRESENCE_TTL_SECONDS
        held = self.process_key(PROCESS_ID)
        # MULTI/EXEC: prune, count and add happen as one step, so of two sockets connecting
        # at once on two processes exactly one sees the user offline.
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now - ttl)
            pipe.zcard(key)
            pipe.zadd(key, {socket: now})
            pipe.expire(key, ttl * 2)
            pipe.sadd(held, f"{user_id} {socket}")
            pipe.expire(held, ttl * 2)
            before = pipe.execute()[1]
        return int(before) == 0

    def touch(self, user_id: int, socket: str, now: float) -> None:
        key = self._key(user_id)
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {socket: now})
            pipe.expire(key, settings.PRESENCE_TTL_SECONDS * 2)
            pipe.execute()

    def remove_many(self, sockets: Sockets, now: float, process: str) -> set[int]:
        if not sockets:
            return set()
        users = sorted({uid for uid, _ in sockets})
        # One MULTI/EXEC for the whole batch: the counts are taken after every removal.
        with self._redis.pipeline(transaction=True) as pipe:
            for user_id, socket in sockets:
                pipe.zrem(self._key(user_id), socket)
            pipe.srem(self.process_key(process), *(f"{uid} {socket}" for uid, socket in sockets))
            for user_id in users:
                pipe.zremrangebyscore(self._key(user_id), "-inf", now - settings.PRESENCE_TTL_SECONDS)
                pipe.zcard(self._key(user_id))
            results = pipe.execute()
        counts = results[len(sockets) + 2::2]
        return {uid for uid, left in zip(users, counts, strict=True) if int(left) == 0}

    def held_by(self, process: str) -> Sockets:
        held: Sockets = []
        entries: set[bytes] = self._redis.smembers(self.process_key(process))  # type: ignore[assignment]
        for entry in entries:
            user, _, socket = (entry.decode() if isinstance(entry, bytes) else entry).partition(" ")
            if user.isdigit() and socket:
                held.append((int(user), socket))
        return held

    def forget_process(self, process: str) -> None:
        self._redis.delete(self.process_key(process))

    def socket_count(self, now: float) -> tuple[int, bool]:
        """The sockets held by every heartbeating server process (``core.resync``) and this one:
        two round trips, one SCARD per process. Without the heartbeats (``RESYNC_ENABLED`` off)
        only this process's sockets are known."""
        processes = {PROCESS_ID}
        every = bool(settings.RESYNC_ENABLED)
        if every:
            live = self._redis.zrangebyscore(f"{settings.DEPLOYMENT_PREFIX}:processes",
                                             now - settings.PROCESS_DEAD_SECONDS, "+inf")
            processes |= {p.decode() if isinstance(p, bytes) else str(p) for p in live}  # type: ignore[union-attr]
        with self._redis.pipeline(transaction=False) as pipe:
            for process in sorted(processes):
                pipe.scard(self.process_key(process))
            counts = pipe.execute()
        return sum(int(n) for n in counts), every

    def online(self, user_ids: list[int], now: float) -> set[int]:
        cutoff = now - settings.PRESENCE_TTL_SECONDS
        with self._redis.pipeline(transaction=False) as pipe:
            for uid in user_ids:
                pipe.zcount(self._key(uid), cutoff, "+inf")
            counts = pipe.execute()
        return {uid for uid, n in zip(user_ids, counts, strict=True) if n}


# Sent (with ``user_id``) on a user's first live socket, on the thread that registered it; the
# desk assigns waiting visitors to an agent who comes online (messaging.desk).
came_online = Signal()

_store: Store | None = None
_store_lock = threading.Lock()


def store() -> Store:
    global _store
    with _store_lock:
        if _store is None:
            url = settings.CACHE_REDIS_URL
            _store = RedisStore(url) if url else MemoryStore()
        return _store


def _friend_ids(user_id: int) -> list[int]:
    return list(Friendship.objects.filter(user_id=user_id).values_list("friend_id", flat=True))


def _push(user_id: int, online: bool, last_seen: int | None, friend_ids: list[int] | None = None) -> None:
    from core.realtime import send_event

    send_event("presence.onUpdate", {"uId": user_id, "online": online, "lastSeen": last_seen},
               _friend_ids(user_id) if friend_ids is None else friend_ids)


def socket_connected(*, user_id: int, socket: str) -> bool:
    """Register a live socket; False when Redis is away (register it again later)."""
    first = degrade.call("presence", store().add, user_id, socket, time.time(), fallback=None)
    if first is None:
        return False
    if first:
        _push(user_id, True, None)
        for receiver, result in came_online.send_robust(sender=None, user_id=user_id):
            if isinstance(result, Exception):  # a listener's failure must not fail the connect
                log.error("came_online listener %r failed", receiver, exc_info=result)
    return True


def socket_seen(*, user_id: int, socket: str) -> None:
    degrade.call("presence", store().touch, user_id, socket, time.time(), fallback=None)


def socket_disconnected(*, user_id: int, socket: str) -> None:
    sockets_disconnected([(user_id, socket)])


def sockets_disconnected(sockets: Sockets, *, process: str = PROCESS_ID) -> set[int]:
    """Settle closed sockets (of this process, or of ``process`` that died) as one batch:
    the users left without a live socket get ``last_seen_at`` and an offline push to their
    friends. Returns those users."""
    none: set[int] = set()
    offline = degrade.call("presence", store().remove_many, sockets, time.time(), process, fallback=none)
    _gone_offline(offline)
    return offline


def _gone_offline(offline: set[int]) -> None:
    if offline:
        now = timezone.now()
        User.objects.filter(pk__in=offline).update(last_seen_at=now)
        friends: dict[int, list[int]] = {uid: [] for uid in offline}
        for user_id, friend_id in Friendship.objects.filter(user_id__in=offline).values_list("user_id", "friend_id"):
            friends[user_id].append(friend_id)
        for user_id in sorted(offline):
            _push(user_id, False, int(now.timestamp()), friends[user_id])


def sweep_process(process: str) -> int:
    """Take the sockets of a process that stopped heartbeating offline; how many it held."""
    held = store().held_by(process)
    for start in range(0, len(held), 1000):  # Redis failing here raises: the sweep is retried
        _gone_offline(store().remove_many(held[start:start + 1000], time.time(), process))
    store().forget_process(process)
    return len(held)


def online_among(user_ids: list[int]) -> set[int]:
    """Those of ``user_ids`` online now (a live socket on any process). Undisclosed: for
    trusted callers such as the Easemob bridge's admin; users ask through ``presence_of``."""
    return degrade.call("presence", store().online, user_ids, time.time(), fallback=set())


def sockets_online() -> tuple[int, bool] | None:
    """Users' live sockets now (anonymous ones are not registered), and whether the count covers
    every server process (False: this process only); None while Redis is away."""
    return degrade.call("presence", store().socket_count, time.time(), fallback=None)


def presence_of(*, viewer_id: int, user_ids: list[int]) -> list[dict[str, Any]]:
    """Presence of the viewer's friends among ``user_ids`` (others are not disclosed)."""
    friends = set(Friendship.objects.filter(user_id=viewer_id, friend_id__in=user_ids)
                  .values_list("friend_id", flat=True))
    visible = [uid for uid in dict.fromkeys(user_ids) if uid in friends or uid == viewer_id]
    online = online_among(visible)
    seen = dict(User.objects.filter(pk__in=visible).values_list("pk", "last_seen_at"))

    def last_seen(uid: int) -> int | None:
        stamp = seen.get(uid)
        return int(stamp.timestamp()) if stamp is not None and uid not in online else None

    return [{"uId": uid, "online": uid in online, "lastSeen": last_seen(uid)} for uid in visible]
