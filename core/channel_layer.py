"""The channel layer: channels-redis's pub/sub layer, kept working while Redis is away.

A socket's own channel is registered in process even when Redis cannot be reached (the
stock layer raises, and the socket fails to open); its subscription is retried with the
socket's next successful ``group_add``. Pushes to users travel through groups, which the
socket gateway re-joins until Redis answers again.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
    _wrap_close,
)

from core.degrade import REDIS_ERRORS, degraded

log = logging.getLogger(__name__)


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
        self.channels[channel] = asyncio.Queue()
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
            self.channels.setdefault(channel, asyncio.Queue())
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
    def _get_layer(self) -> _LoopLayer:
        loop = asyncio.get_running_loop()
        try:
            layer: _LoopLayer = self._layers[loop]
        except KeyError:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
