"""Pushes to many users reach each server process once, not once per user.

A push goes to the channel-layer group of each of its users (``user.<id>``): for a message in
a group of 500 that is 500 messages published to Redis, and 500 received, decoded and
dispatched by the processes holding those users' sockets. A push to at least
``FANOUT_BROADCAST_MIN`` users is instead published once, with the list of its users, to the
one group every gateway process listens on (``GROUP``); each process hands it to its own
sockets of those users (``deliver``), with the same checks as a push through a user's group
(``GatewayConsumer.realtime_event``). With the in-memory layer (one process) the publisher
hands it over directly.

Every process receives every such push, whether or not it holds one of its users: the cost of
a broadcast grows with the number of processes, the cost per user does not. Hence the
threshold: a push to a few users still goes through their own groups.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from channels.layers import get_channel_layer
from django.conf import settings

from core.degrade import REDIS_ERRORS, degraded
from core.loops import cancel

log = logging.getLogger(__name__)

GROUP = "gateway.broadcast"


class Socket(Protocol):
    channel_name: str

    async def realtime_event(self, message: dict[str, Any]) -> None: ...


_by_user: dict[int, dict[str, Socket]] = {}
_user_of: dict[str, int] = {}


def register(sock: Socket, user_id: int) -> None:
    """``sock`` (a logged-in socket of this process) receives broadcasts for ``user_id``."""
    forget(sock)
    _by_user.setdefault(user_id, {})[sock.channel_name] = sock
    _user_of[sock.channel_name] = user_id


def forget(sock: Socket) -> None:
    user_id = _user_of.pop(sock.channel_name, None)
    if user_id is None:
        return
    socks = _by_user.get(user_id)
    if socks is not None:
        socks.pop(sock.channel_name, None)
        if not socks:
            del _by_user[user_id]


def wide(user_ids: set[int]) -> bool:
    """Whether a push to these users is broadcast rather than sent to each user's group."""
    minimum = settings.FANOUT_BROADCAST_MIN
    return bool(minimum) and len(user_ids) >= minimum


async def deliver(message: dict[str, Any]) -> int:
    """Hand a broadcast to this process's sockets of its users; how many got it."""
    delivered = 0
    for user_id in message.get("users", ()):
        socks = _by_user.get(user_id)
        if not socks:
            continue
        for sock in list(socks.values()):
            try:
                await sock.realtime_event(message)
                delivered += 1
            except Exception as exc:  # one closed socket must not stop the others
                log.debug("broadcast to %s not delivered: %s", sock.channel_name, exc)
    return delivered


_task: asyncio.Task[None] | None = None
_loop: asyncio.AbstractEventLoop | None = None
_listening: asyncio.Event | None = None


def in_process() -> bool:
    """True with the in-memory layer: the publisher delivers broadcasts itself."""
    from channels.layers import InMemoryChannelLayer

    return isinstance(get_channel_layer(), InMemoryChannelLayer)


def start(loop: asyncio.AbstractEventLoop) -> None:
    """Listen for broadcasts on the gateway's loop (once per loop; nothing to do in process)."""
    global _task, _loop, _listening
    if _loop is loop or in_process():
        return
    _loop, _listening = loop, asyncio.Event()
    _task = loop.create_task(_listen(_listening), name="fanout-listener")


async def listening(timeout: float) -> None:
    """Wait (at most ``timeout`` seconds) until this process receives broadcasts."""
    if _listening is not None and not _listening.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_listening.wait(), timeout)


async def _listen(ready: asyncio.Event) -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("broadcast.")
    for _ in range(10**9):  # bounded; lives as long as the process
        try:
            await layer.group_add(GROUP, channel)
            break
        except REDIS_ERRORS as exc:
            degraded("broadcasts", exc)
            await asyncio.sleep(settings.REDIS_RETRY_SECONDS)
    ready.set()
    for _ in range(10**12):
        try:
            message = await layer.receive(channel)
            await deliver(message)
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except REDIS_ERRORS as exc:
            degraded("broadcasts", exc)
            await asyncio.sleep(settings.REDIS_RETRY_SECONDS)
        except Exception:
            log.exception("a broadcast could not be delivered")


async def stop() -> None:
    """Stop listening (tests, before their event loop closes)."""
    global _task, _loop, _listening
    task, _task, _loop, _listening = _task, None, None, None
    await cancel(task)
