"""``JimConsumer``: the J-IM command socket of the J-IM document at ``ws://HOST/?token=TOKEN``.

It is the native gateway (token login, the ``user.<id>`` group joined before accepting,
presence, rate limit, frame cap, the database thread pool, session ends) speaking J-IM frames:

* request ``{"cmd": 11, ...}`` (``cmd`` a number or a string); replies ``{"code", "command", "msg", "data"?}``
* 11 chat -> 12, 13 heartbeat -> 13, 17 users -> 18, 19 messages -> 20 (messaging.jim.commands)
* pushes: a native ``onMessage`` becomes the cmd 11 chat body; ``desk.onAssigned`` becomes a
  command 101 frame (``frames.ASSIGNED``) with the new contact; other native events have no
  J-IM command and are dropped.

A socket without a valid token is closed with 4001 (J-IM has no anonymous use).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from core import jsonwire
from core.exceptions import BUSY_MSG, ApplicationError
from core.gateway import threads
from core.gateway.consumer import CLOSE_BAD_TOKEN, GatewayConsumer
from core.gateway.threads import run_sync
from messaging.jim import commands, frames

log = logging.getLogger(__name__)

HANDLERS: dict[int, Callable[[commands.Caller, dict[str, Any]], dict[str, Any]]] = {
    frames.CHAT: commands.chat,
    frames.GET_USER: commands.get_user,
    frames.GET_MESSAGE: commands.get_message,
}


def _contact(card: dict[str, Any]) -> dict[str, Any]:
    """A desk card as an entry of a friends list (cmd 18's shape)."""
    entry: dict[str, Any] = {"id": card["id"]}
    if card.get("nick"):
        entry["nick"] = card["nick"]
    entry["terminal"] = card.get("terminal") or "ws"
    return entry


class JimConsumer(GatewayConsumer):
    anonymous_allowed = False
    metrics_protocol = "jim"
    caller: commands.Caller | None = None

    async def _join(self) -> None:
        await super()._join()
        if self.caller is None:
            self.caller = await run_sync(commands.caller_for)(self.user, self.channel_name)

    # --- inbound -------------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        admitted = await self._admit(text_data)
        if admitted is None:
            return
        frame, allowed = admitted
        try:
            cmd = frames.number(frame.get("cmd"), "cmd")
        except ApplicationError:
            cmd = 0
        if not allowed:
            await self._send({"code": 429, "command": frames.REPLY_OF.get(cmd, 0),
                              "msg": "rate limit exceeded; slow down"})
            return
        if self.user is None or self.caller is None:
            return  # the session just ended; the socket is closing
        if self._expired():
            await self._end_session(CLOSE_BAD_TOKEN)
            return
        await self._keep_alive()
        if cmd == frames.HEARTBEAT:
            await self._send({"command": frames.HEARTBEAT,
                              "data": {"createTime": int(time.time() * 1000), "hbbyte": frames.HEARTBEAT_BYTE}})
            return
        handler = HANDLERS.get(cmd)
        if handler is None:
            code, msg = frames.UNKNOWN_CMD
            await self._send({"code": code, "command": 0, "msg": msg})
            return
        if threads.busy(self.backlog()):  # refused before anything is done: retrying is safe
            await self._send({"code": frames.FROM_NATIVE.get(503, 503), "command": frames.REPLY_OF.get(cmd, 0),
                              "msg": BUSY_MSG})
            return
        try:
            reply = await run_sync(handler)(self.caller, frame)
        except ApplicationError as error:
            reply = frames.failure(cmd, error.message)
        except Exception:
            log.exception("J-IM command %s failed", cmd)
            reply = {"code": 500, "command": frames.REPLY_OF.get(cmd, 0), "msg": "internal error"}
        await self._send(reply)

    async def _reply_error(self, rid: Any, code: int, msg: str) -> None:
        # Refusals before the command is known (binary, too large, malformed JSON, rate limit).
        await self._send({"code": frames.FROM_NATIVE.get(code, code), "command": 0, "msg": msg})

    async def _send(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=jsonwire.dumps(frame))

    # --- pushes ----------------------------------------------------------------------------
    async def _deliver(self, text: str) -> None:
        event = jsonwire.loads_own(text)  # a push this server wrote
        name, data = event.get("event"), event.get("data") or {}
        if name == "onMessage":
            body = await run_sync(commands.push)(self.user.pk, data)
            if body is not None:
                await self._send(body)
        elif name == "desk.onAssigned":
            other = data["agent"] if data["visitor"]["uId"] == self.user.pk else data["visitor"]
            await self._send({"code": 200, "command": frames.ASSIGNED, "data": [_contact(other)],
                              "msg": "assigned"})
