"""Closed sockets are settled in batches, off the socket's own disconnect handler.

A disconnect handler only queues its socket here and returns at once: when thousands of
sockets drop together (a network blip, a load balancer restart) the ASGI server's handler
timeout (daphne: 10 s) would otherwise cut most of them short, leaving users online forever
with no last-seen time and no offline notice. One task per process drains the queue: it
leaves the user groups, then settles presence and the socket counts of up to
``DEPARTURES_BATCH`` sockets in one thread hop (``accounts.presence.sockets_disconnected``: one
Redis round trip, one UPDATE, one friends query per batch).

What is still queued when the process dies is settled by another process
(``core.resync``), or ages out after ``PRESENCE_TTL_SECONDS`` without Redis.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from channels.layers import get_channel_layer
from django.conf import settings

from core import degrade
from core.degrade import REDIS_ERRORS
from core.gateway import limits
from core.gateway.threads import run_sync
from core.loops import cancel
from core.realtime import user_group

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Departure:
    channel: str
    user_id: int | None  # None: anonymous, or its login ended before (already left)
    release: bool  # it holds a place under the shared socket caps
    anonymous: bool


_queue: asyncio.Queue[Departure] | None = None
_task: asyncio.Task[None] | None = None
_loop: asyncio.AbstractEventLoop | None = None


def bind_loop(loop: asyncio.AbstractEventLoop) -> None:
    global _queue, _task, _loop
    if _loop is loop and _queue is not None:
        return
    _loop, _queue = loop, asyncio.Queue()
    _task = loop.create_task(_drain(_queue), name="socket-departures")


def leave(departure: Departure) -> None:
    """Queue a closed socket (called on the event loop; returns at once)."""
    if _queue is None:
        raise RuntimeError("departures.bind_loop() was not called on this loop")
    _queue.put_nowait(departure)


async def _drain(queue: asyncio.Queue[Departure]) -> None:
    for _ in range(10**12):  # bounded; lives as long as the process
        batch = [await queue.get()]
        while not queue.empty() and len(batch) < settings.DEPARTURES_BATCH:
            batch.append(queue.get_nowait())
        try:
            await settle(batch)
        except Exception:  # one bad batch must not stop the settling of the next ones
            log.exception("settling %d closed sockets failed", len(batch))
        finally:
            for _ in batch:
                queue.task_done()


async def settle(batch: list[Departure]) -> None:
    layer = get_channel_layer()
    for item in batch:
        if item.user_id is None:
            continue
        try:
            await layer.group_discard(user_group(item.user_id), item.channel)
        except REDIS_ERRORS as exc:  # the subscription goes with the process's connection
            degrade.degraded("socket groups", exc)
    await run_sync(_settle_sync)(batch)


def _settle_sync(batch: list[Departure]) -> None:
    from accounts import presence

    gone = [(item.user_id, item.channel) for item in batch if item.user_id is not None]
    if gone:
        presence.sockets_disconnected(gone)
    released = [item for item in batch if item.release]
    if released:
        limits.sockets_closed([(item.channel, item.anonymous) for item in released])


async def flush() -> None:
    """Wait until everything queued so far is settled (tests; a bounded wait)."""
    if _queue is not None and _task is not None and not _task.done():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_queue.join(), timeout=10)


async def shutdown() -> None:
    """Settle what is queued, then stop (tests call it before their event loop closes)."""
    global _queue, _task, _loop
    await flush()
    task, _queue, _task, _loop = _task, None, None, None
    await cancel(task)
