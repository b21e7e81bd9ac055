"""The one chokepoint that sends events to users.

An event is ``{"event": name, "data": {...}}``. It goes to the channel-layer group
``user.<id>`` of every recipient, so every socket of every device of that user gets it;
each socket adapter turns it into its own frame. Only services call these functions, and
the caller names the recipients explicitly: a wrong list is a security bug.

Inside a server process the gateway binds its event loop here (``bind_loop``). From then
on ``send_event`` called on a database thread does not wait: it appends the event to a
queue that one task on the loop drains in order, so a thread is never parked on a Redis
round trip and events leave in the order their transactions committed. Elsewhere (Celery
workers, management commands, sync tests) it sends synchronously.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from core import contract, fanout, jsonwire, metrics
from core.degrade import REDIS_ERRORS, degraded
from core.loops import cancel

log = logging.getLogger(__name__)

Envelope = list[tuple[str, dict[str, Any]]]  # (group, channel-layer message) pairs

_loop: asyncio.AbstractEventLoop | None = None
_queue: asyncio.Queue[Envelope] | None = None
_task: asyncio.Task[None] | None = None


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def _envelope(name: str, data: dict[str, Any], user_ids: Iterable[int], exclude_channel: str | None) -> Envelope:
    if settings.RPC_CHECK_REPLIES:  # the tests: every push is held to its published schema
        contract.check_event(name, data)
    # Encoded once here, not once per receiving socket; exact Decimals survive the channel
    # layer's msgpack this way too.
    message: dict[str, Any] = {"type": "realtime.event", "text": jsonwire.dumps({"event": name, "data": data}),
               "exclude": exclude_channel}
    if name == "onMessage":  # the socket notes it received it (core.resync re-delivers the rest)
        message["mid"] = data["messageId"]
    users = set(user_ids)
    if fanout.wide(users):  # once to each process, which hands it to its own sockets of these users
        message["users"] = sorted(users)
        return [(fanout.GROUP, message)]
    return [(user_group(uid), message) for uid in users]


async def _publish(envelope: Envelope) -> None:
    layer = get_channel_layer()
    await asyncio.gather(*(layer.group_send(group, message) for group, message in envelope))


async def _send_in_order(group: str, messages: list[dict[str, Any]]) -> None:
    layer = get_channel_layer()
    for message in messages:
        try:
            await layer.group_send(group, message)
        except REDIS_ERRORS as exc:  # one failed publish must not stop the publisher
            degraded("pushes", exc)
        except Exception as exc:
            log.error("publishing an event to %s failed: %s: %s", group, type(exc).__name__, exc)


class _PubSubBatch:
    """Publishes a batch to channels-redis's pub/sub layer in one pipelined round trip per
    Redis shard. The layer's own ``group_send`` takes a per-connection lock around every
    single PUBLISH (measured: pushes seconds late at ~100 messages/s); this uses the
    layer's channel naming and serializer (channels-redis is pinned) with its own client.
    """

    def __init__(self, layer: Any) -> None:
        import redis.asyncio as aioredis

        self.layer = layer
        hosts = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]
        options: dict[str, Any] = dict(settings.REDIS_CLIENT_OPTIONS)
        self.clients = [aioredis.Redis.from_url(h, **options) if isinstance(h, str)
                        else aioredis.Redis.from_url(h["address"], **{k: v for k, v in h.items() if k != "address"})
                        for h in hosts]

    async def publish(self, pairs: list[tuple[str, dict[str, Any]]]) -> None:
        from channels_redis.utils import _consistent_hash

        loop_layer = self.layer._get_layer()
        by_shard: dict[int, list[tuple[str, bytes]]] = {}
        for group, message in pairs:
            name = loop_layer._get_group_channel_name(group)
            index = _consistent_hash(name, len(self.clients))
            by_shard.setdefault(index, []).append((name, self.layer.serialize(message)))
        await asyncio.gather(*(self._send(index, items) for index, items in by_shard.items()))

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()

    async def _send(self, index: int, items: list[tuple[str, bytes]]) -> None:
        async with self.clients[index].pipeline(transaction=False) as pipe:
            for name, data in items:
                pipe.publish(name, data)
            await pipe.execute()


def _batcher() -> _PubSubBatch | None:
    from channels_redis.pubsub import RedisPubSubChannelLayer

    layer = get_channel_layer()
    return _PubSubBatch(layer) if isinstance(layer, RedisPubSubChannelLayer) else None


async def _drain(queue: asyncio.Queue[Envelope]) -> None:
    """Publish whatever is queued as one batch, in commit order: one pipelined round trip
    with the pub/sub layer; otherwise different users concurrently, each user's events one
    after another."""
    batcher = _batcher()
    try:
        await _drain_with(queue, batcher)
    finally:
        if batcher is not None:
            await batcher.close()


async def _drain_with(queue: asyncio.Queue[Envelope], batcher: _PubSubBatch | None) -> None:
    while True:
        batch = [await queue.get()]
        while not queue.empty():
            batch.append(queue.get_nowait())
        pairs = [pair for envelope in batch for pair in envelope]
        started = time.monotonic()
        if batcher is not None:
            try:
                await batcher.publish(pairs)
            except REDIS_ERRORS as exc:  # pushes are best effort: messages are durable and synced
                degraded("pushes", exc)  # one line per interval while Redis is away, with a count
            except Exception as exc:
                # One line per failed batch, not a traceback: every batch fails the same way.
                log.error("publishing %d events failed: %s: %s", len(pairs), type(exc).__name__, exc)
            metrics.PUBLISH_SECONDS.observe(time.monotonic() - started)
            continue
        by_group: dict[str, list[dict[str, Any]]] = {}
        for group, message in pairs:
            if group == fanout.GROUP and fanout.in_process():
                await fanout.deliver(message)  # the in-memory layer: this process is every process
                continue
            by_group.setdefault(group, []).append(message)
        await asyncio.gather(*(_send_in_order(group, messages) for group, messages in by_group.items()))
        metrics.PUBLISH_SECONDS.observe(time.monotonic() - started)


def bind_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Called on the event loop by the gateway; starts this process's publisher task."""
    global _loop, _queue, _task
    if _loop is loop and _queue is not None:
        return
    _queue = asyncio.Queue()
    _loop = loop
    _task = loop.create_task(_drain(_queue), name="realtime-publisher")


async def shutdown() -> None:
    """Stop this process's publisher (tests call it before their event loop closes)."""
    global _loop, _queue, _task
    task, _loop, _queue, _task = _task, None, None, None
    await cancel(task)


def _send(envelope: Envelope) -> None:
    if not envelope:
        return
    loop, queue = _loop, _queue
    if loop is not None and queue is not None:
        if loop.is_running():
            loop.call_soon_threadsafe(queue.put_nowait, envelope)
        elif not loop.is_closed():
            # The process is stopping: its publisher is gone. Waiting for it here (async_to_sync
            # from a thread the stopped loop started) would hang the exit; the event is dropped
            # like any push to a process that dies (core.resync re-delivers messages).
            log.info("process stopping: %d event(s) not published", len(envelope))
        else:
            async_to_sync(_publish)(envelope)
    else:
        async_to_sync(_publish)(envelope)


def send_event(
    name: str, data: dict[str, Any], user_ids: Iterable[int], *, exclude_channel: str | None = None
) -> None:
    """Send now. Inside a transaction use ``send_event_on_commit`` instead."""
    _send(_envelope(name, data, user_ids, exclude_channel))
    metrics.PUSHES.labels(name).inc()


def send_event_on_commit(
    name: str, data: dict[str, Any], user_ids: Iterable[int], *, exclude_channel: str | None = None
) -> None:
    # After commit: a client must never see an event for a write that was rolled back.
    envelope = _envelope(name, data, user_ids, exclude_channel)
    counter = metrics.PUSHES.labels(name)

    def after_commit() -> None:
        _send(envelope)
        counter.inc()

    transaction.on_commit(after_commit)


def end_sessions_on_commit(
    user_id: int, session_ids: Iterable[int], *, close_code: int, event: dict[str, Any] | None = None
) -> None:
    """Close the sockets of the given login sessions (after commit), pushing ``event`` first."""
    ids = sorted(set(session_ids))
    if not ids:
        return
    if event is not None and settings.RPC_CHECK_REPLIES:
        contract.check_event(event["event"], event["data"])
    message = {"type": "session.end", "sessions": ids, "close_code": close_code, "event": event}
    transaction.on_commit(lambda: _send([(user_group(user_id), message)]))
