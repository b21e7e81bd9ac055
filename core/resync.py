"""Nothing committed goes unseen by an online socket, whatever happened to the pushes.

Pushes are best effort: they travel through Redis pub/sub from a queue in the memory of the
process that committed the message. A Redis outage drops the pushes published meanwhile (and
those a subscriber missed while reconnecting); a process that dies takes its queue with it.
Messages are durable, so what was lost can be found again: this module finds the *spans of
time* in which pushes may have been lost and has every server process re-deliver, to each of
its open sockets, the messages of that span the socket has not seen (``replay``). Clients need
nothing new: a re-delivered message is an ordinary ``onMessage`` (J-IM: its chat frame).

With Redis (several processes) each server process runs one ``Monitor`` task that every
``PROCESS_HEARTBEAT_SECONDS``:

* heartbeats: its id, scored with the time, in the sorted set ``<prefix>:processes``;
* after a failed Redis call anywhere in the process (``core.degrade``) and once Redis answers
  again, records the span from the failure (less ``RESYNC_MARGIN_SECONDS``) to now in
  ``<prefix>:resync:spans``, read by every process;
* reads the spans recorded since it last looked and replays each to its own sockets;
* takes over a process whose heartbeat is older than ``PROCESS_DEAD_SECONDS`` (a crash, a
  kill, a frozen host): exactly one survivor wins it (ZREM), takes its sockets offline at once
  (``accounts.presence.sweep_process``) and records the span of its last seconds. A process
  only sweeps after its own heartbeats went through for that long, so an outage of Redis
  itself never makes live processes look dead; one that was swept while alive finds its id
  gone on its next heartbeat and registers its sockets again.

Without Redis (the embedded default: one process, in-memory channel layer) no push can be
lost short of the process itself, and nothing here runs.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterable
from typing import Any, Protocol

from django.conf import settings

from core import degrade
from core.degrade import REDIS_ERRORS
from core.loops import cancel

log = logging.getLogger(__name__)

# This process, among all server processes of the deployment.
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

SPANS_KEPT_SECONDS = 3600
SEEN_IDS = 128  # each socket remembers the last message ids it received, not to send them twice
Replayed = list[tuple[int, str]]  # (messageId, the push as JSON text), in delivery order


class Socket(Protocol):
    """What ``replay`` needs of an open socket (the gateway's consumer)."""

    channel_name: str
    joined_wall: float  # when it joined its user's group (wall time)

    @property
    def user_id(self) -> int | None: ...

    # Sends those of ``pushes`` it has not seen (how many); closes itself with 1012 instead when
    # more than ``cap`` are unseen or ``complete`` is False (the list was cut short).
    async def replay(self, pushes: Replayed, cap: int, complete: bool) -> int: ...


_sockets: dict[str, Socket] = {}


def register(sock: Socket) -> None:
    _sockets[sock.channel_name] = sock


def forget(sock: Socket) -> None:
    _sockets.pop(sock.channel_name, None)


def local_sockets() -> list[Socket]:
    return list(_sockets.values())


def _key(name: str) -> str:
    return f"{settings.DEPLOYMENT_PREFIX}:{name}"


async def replay(start: float, end: float) -> int:
    """Re-deliver to this process's sockets the messages created in [start, end] that each has
    not seen; a socket owed more than ``RESYNC_MAX_MESSAGES`` is closed instead (1012: the
    client reconnects and syncs). Returns the number of pushes re-delivered."""
    from core.gateway.threads import run_sync
    from messaging.selectors import messages_between

    targets = [s for s in local_sockets() if s.user_id is not None and s.joined_wall <= end]
    users = sorted({s.user_id for s in targets if s.user_id is not None})
    cap, sent = settings.RESYNC_MAX_MESSAGES, 0
    limit = cap + SEEN_IDS + 1  # cut short: more than ``cap`` are unseen whatever a socket saw
    owed: dict[int, Replayed] = {}
    for first in range(0, len(users), 500):
        owed.update(await run_sync(messages_between)(users[first:first + 500], start, end, limit))
    for sock in targets:
        pushes = owed.get(sock.user_id or 0)
        if pushes:
            sent += await sock.replay(pushes, cap, complete=len(pushes) < limit)
    return sent


class Monitor:
    """The heartbeat, span and sweep loop of this process (see the module's text)."""

    def __init__(self) -> None:
        import redis.asyncio as aioredis

        self.redis = aioredis.Redis.from_url(settings.CACHE_REDIS_URL, **settings.REDIS_CLIENT_OPTIONS)
        self.cursor = time.time()  # spans recorded before this process started are not ours
        self.seen_spans: dict[str, float] = {}
        self.ok_since: float | None = None
        self.registered = False

    async def run(self) -> None:
        interval = settings.PROCESS_HEARTBEAT_SECONDS
        try:
            for _ in range(10**9):  # bounded; lives as long as the process
                try:
                    await self.tick(time.time())
                except REDIS_ERRORS as exc:
                    self.ok_since = None
                    degrade.degraded("process heartbeat", exc)
                except Exception:
                    log.exception("resync monitor tick failed")
                await asyncio.sleep(interval)
        finally:
            await self.redis.aclose()

    async def tick(self, now: float) -> None:
        from accounts.presence import RedisStore

        failed_since = degrade.take_failure()
        recorded: list[str] = []
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zadd(_key("processes"), {PROCESS_ID: now})
                pipe.expire(RedisStore.process_key(PROCESS_ID), settings.PRESENCE_TTL_SECONDS * 2)
                pipe.zrangebyscore(_key("resync:spans"), self.cursor - 60, "+inf")
                pipe.zrangebyscore(_key("processes"), "-inf", now - settings.PROCESS_DEAD_SECONDS,
                                   withscores=True)
                added, _, spans, stale = await pipe.execute()
            if failed_since is not None:
                recorded.append(await self.record_span(failed_since - settings.RESYNC_MARGIN_SECONDS, now + 1,
                                                       "redis"))
        except BaseException:
            if failed_since is not None:  # not recorded yet: the next tick records it
                degrade.keep_failure(failed_since)
            raise
        if self.ok_since is None:
            self.ok_since = now
        if added and self.registered:
            log.warning("this process was taken for dead; registering its %d sockets again", len(_sockets))
            await self.register_again()
        self.registered = True
        self.cursor = now
        for raw in [*spans, *recorded]:
            await self.handle_span(raw, now)
        if now - self.ok_since >= settings.PROCESS_DEAD_SECONDS:
            for process, beat in stale:
                name = process.decode() if isinstance(process, bytes) else str(process)
                if name != PROCESS_ID:
                    await self.take_over(name, float(beat), now)
        if len(self.seen_spans) > 1000 or any(t < now - SPANS_KEPT_SECONDS for t in self.seen_spans.values()):
            self.seen_spans = {k: t for k, t in self.seen_spans.items() if t >= now - SPANS_KEPT_SECONDS}
            await self.redis.zremrangebyscore(_key("resync:spans"), "-inf", now - SPANS_KEPT_SECONDS)

    async def record_span(self, start: float, end: float, why: str) -> str:
        span = json.dumps({"id": uuid.uuid4().hex, "start": start, "end": end, "why": why, "by": PROCESS_ID})
        await self.redis.zadd(_key("resync:spans"), {span: end})
        log.warning("pushes may have been lost from %.0f to %.0f (%s): every process re-delivers", start, end, why)
        return span

    async def handle_span(self, raw: bytes | str, now: float) -> None:
        try:
            span = json.loads(raw)
            span_id, start, end = str(span["id"]), float(span["start"]), float(span["end"])
        except (ValueError, KeyError, TypeError):
            return
        if span_id in self.seen_spans:
            return
        start = max(start, end - settings.RESYNC_MAX_SPAN_SECONDS)
        try:
            sent = await replay(start, end)
        except Exception as exc:  # the database away, say: tried again on the next tick
            log.warning("re-delivering %.0f-%.0f failed (%s: %s); retrying", start, end, type(exc).__name__, exc)
            return
        self.seen_spans[span_id] = now
        if sent:
            log.info("re-delivered %d pushes of %.0f-%.0f (%s)", sent, start, end, span.get("why"))

    async def take_over(self, process: str, beat: float, now: float) -> None:
        from accounts import presence
        from core.gateway.threads import run_sync

        if not await self.redis.zrem(_key("processes"), process):
            return  # another process won it
        try:
            count = await run_sync(presence.sweep_process)(process)
        except Exception:  # Redis or the database failing: the sweep is retried on the next tick
            await self.redis.zadd(_key("processes"), {process: beat})
            raise
        log.warning("server process %s stopped heartbeating %.0f s ago; its %d sockets are offline",
                    process, now - beat, count)
        await self.handle_span(await self.record_span(beat - settings.RESYNC_MARGIN_SECONDS, now, "process lost"), now)

    async def register_again(self) -> None:
        from accounts import presence
        from core.gateway.threads import run_sync

        for sock in local_sockets():
            if sock.user_id is not None:
                await run_sync(presence.socket_connected)(user_id=sock.user_id, socket=sock.channel_name)


_task: asyncio.Task[None] | None = None
_loop: asyncio.AbstractEventLoop | None = None


def start(loop: asyncio.AbstractEventLoop) -> None:
    """Start this process's monitor on the gateway's loop (with Redis only; once per loop)."""
    global _task, _loop
    if not settings.CACHE_REDIS_URL or not settings.RESYNC_ENABLED or (_loop is loop and _task is not None):
        return
    _loop = loop
    _task = loop.create_task(Monitor().run(), name="resync-monitor")


async def stop() -> None:
    global _task, _loop
    task, _task, _loop = _task, None, None
    await cancel(task)


def message_ids(result: Any) -> Iterable[int]:
    """The message a method's reply names (``messageId``), which its socket has thereby seen."""
    if isinstance(result, dict):
        mid = result.get("messageId")
        if isinstance(mid, int) and not isinstance(mid, bool):
            yield mid
