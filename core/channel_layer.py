"""The channel layer: channels-redis's pub/sub layer, kept working while Redis is away.

A socket's own channel is registered in process even when Redis cannot be reached (the
stock layer raises, and the socket fails to open); its subscription is retried with the
socket's next successful ``group_add``. Pushes to users travel through groups, which the
socket gateway re-joins until Redis answers again.

Each socket's channel waits on a queue of its own, empty nearly all the time: both layers use
``core.lean_queue.LeanQueue`` (a few hundred bytes idle) instead of ``asyncio.Queue`` (~3 KiB).
``InMemoryLayer`` is channels' in-process layer (one process, no Redis) with those queues.

Both layers can also hand a channel's messages straight to a queue the caller already waits on
(``attach``): the socket gateway merges its channel into daphne's inbox of the socket's frames,
so an idle socket waits on one queue in one task instead of two queues, two extra tasks and an
``asyncio.wait`` (channels' ``await_many_dispatch``). ``unwrap`` turns what arrives there back
into the message, ``detach`` unsubscribes when the socket ends.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from copy import deepcopy
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer
from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
    _wrap_close,
)

from core.degrade import REDIS_ERRORS, degraded
from core.lean_queue import LeanQueue

log = logging.getLogger(__name__)


class Forwarded:
    """A channel-layer message in a socket's inbox (as the layer queued it: ``unwrap`` it)."""

    __slots__ = ("item",)

    def __init__(self, item: Any) -> None:
        self.item = item


class _Forwarder:
    """Stands in for a channel's queue in the layer: what the layer puts there goes to ``inbox``.
    ``pending`` counts what is still waiting there; ``maxsize`` the layer's capacity."""

    __slots__ = ("inbox", "maxsize", "pending")

    def __init__(self, inbox: asyncio.Queue[Any], maxsize: int = 0) -> None:
        self.inbox, self.pending, self.maxsize = inbox, 0, maxsize

    def put_nowait(self, item: Any) -> None:
        if self.maxsize and self.pending >= self.maxsize:
            raise asyncio.QueueFull
        self.inbox.put_nowait(Forwarded(item))
        self.pending += 1

    def empty(self) -> bool:  # nothing waits here (the in-memory layer's expiry sweep skips it)
        return True

    def qsize(self) -> int:
        return 0


class _Shard(RedisSingleShardConnection):
    async def _do_receiving(self) -> None:
        """channels-redis's receive loop, but a lost connection counts as a Redis failure
        (``core.degrade``: one log line per interval, not a traceback a second): what was
        published while this process was not subscribed is lost, so ``core.resync`` must
        re-deliver that span even if no publish of this process failed. redis-py
        subscribes again on the next read."""
        for _ in range(10**12):  # bounded; lives as long as the layer
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except (asyncio.CancelledError, GeneratorExit):
                raise
            except REDIS_ERRORS as exc:
                degraded("channel layer", exc)
                await asyncio.sleep(1)
            except Exception:
                log.exception("unexpected error in the channel layer's receive loop")
                await asyncio.sleep(1)


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]  # type: ignore[has-type]
        self.unsubscribed: set[str] = set()

    async def _subscribe_to_channel(self, channel: str) -> None:
        self.channels[channel] = LeanQueue()
        try:
            await self._get_shard(channel).subscribe(channel)
        except REDIS_ERRORS as exc:
            degraded("channel layer", exc)
            self.unsubscribed.add(channel)
        else:
            self.unsubscribed.discard(channel)

    async def ensure_subscribed(self, channel: str) -> None:
        """Subscribe ``channel`` unless it is subscribed already (raises when Redis is away)."""
        if channel not in self.channels or channel in self.unsubscribed:
            if channel not in self.channels:
                self.channels[channel] = LeanQueue()
            await self._get_shard(channel).subscribe(channel)
            self.unsubscribed.discard(channel)

    async def group_add(self, group: str, channel: str) -> None:
        await super().group_add(group, channel)
        for pending in list(self.unsubscribed):  # Redis answers again: catch up
            if pending in self.channels:
                await self.ensure_subscribed(pending)
            else:
                self.unsubscribed.discard(pending)


class PubSubChannelLayer(RedisPubSubChannelLayer):
    def attach(self, channel: str, inbox: asyncio.Queue[Any]) -> _Forwarder:
        """From now on ``channel``'s messages go to ``inbox`` as ``Forwarded``."""
        forwarder = _Forwarder(inbox)
        self._get_layer().channels[channel] = forwarder
        return forwarder

    def unwrap(self, forwarder: _Forwarder, forwarded: Forwarded) -> dict[str, Any] | None:
        forwarder.pending -= 1
        message: dict[str, Any] = self.deserialize(forwarded.item)
        return message

    async def detach(self, channel: str) -> None:
        """What channels-redis does when a receive on ``channel`` is cancelled."""
        layer = self._get_layer()
        if layer.channels.pop(channel, None) is None:
            return
        try:
            await layer._get_shard(channel).unsubscribe(channel)
        except asyncio.CancelledError:  # the server is stopping: the subscription ends with it
            raise
        except Exception:
            log.exception("could not unsubscribe channel %s", channel)

    def _get_layer(self) -> _LoopLayer:
        loop = asyncio.get_running_loop()
        try:
            layer: _LoopLayer = self._layers[loop]
        except KeyError:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer


class InMemoryLayer(InMemoryChannelLayer):
    """channels' ``InMemoryChannelLayer`` (its send and receive, unchanged otherwise) with a
    ``LeanQueue`` per channel, made only when the channel has none (the stock layer builds a
    queue on every call and drops it when the channel has one)."""

    CLEAN_EVERY = 1.0  # seconds between sweeps for expired messages and group memberships

    _cleaned = 0.0

    def _clean_expired(self) -> None:
        """The stock sweep walks every channel and group membership; it ran on every group send
        and receive (~8% of the event loop at 1,200 one-to-one messages/s). Expiry is counted
        in seconds (``expiry``, ``group_expiry``): once a second is enough."""
        now = time.monotonic()
        if now - self._cleaned < self.CLEAN_EVERY:
            return
        self._cleaned = now
        super()._clean_expired()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """The stock group send, without a task and an ``as_completed`` per member channel
        (each ``send`` here only puts the message in a queue, nothing to wait for)."""
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            with contextlib.suppress(ChannelFull):  # a full channel misses it, as in the stock layer
                await self.send(channel, message)

    def _queue(self, channel: str) -> asyncio.Queue[Any]:
        queue: asyncio.Queue[Any] | None = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = LeanQueue(maxsize=self.get_capacity(channel))
        return queue

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        try:
            self._queue(channel).put_nowait((time.time() + self.expiry, deepcopy(message)))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None

    def attach(self, channel: str, inbox: asyncio.Queue[Any]) -> _Forwarder:
        """From now on ``channel``'s messages go to ``inbox`` as ``Forwarded`` (up to the
        channel's capacity waiting there, as with its own queue)."""
        forwarder = _Forwarder(inbox, self.get_capacity(channel))
        self.channels[channel] = forwarder
        return forwarder

    def unwrap(self, forwarder: _Forwarder, forwarded: Forwarded) -> dict[str, Any] | None:
        """The message, or None when it expired while waiting (the layer's own receive
        would have dropped it)."""
        forwarder.pending -= 1
        expires, message = forwarded.item
        if expires < time.time():
            return None
        result: dict[str, Any] = message
        return result

    async def detach(self, channel: str) -> None:
        self.channels.pop(channel, None)

    async def receive(self, channel: str) -> dict[str, Any]:
        self.require_valid_channel_name(channel)
        self._clean_expired()
        queue = self._queue(channel)
        try:
            _, message = await queue.get()
        finally:
            if queue.empty():
                self.channels.pop(channel, None)
        result: dict[str, Any] = message
        return result
