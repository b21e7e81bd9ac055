"""A bare WebSocket relay: the reference that bench/run.py measures the server against.

    python -m bench.relay --port 18201 --users var/bench/users.json

It speaks just enough of the native protocol for the one-to-one benchmark: a socket opened with
``/ws/?token=TOKEN`` (a token of ``--users``, JSON from ``manage.py bench_users``) belongs to
that user; ``messages.send {"to": userId, ...}`` answers ``{"id", "code": 200, "data":
{"messageId"}}`` and pushes ``onMessage`` with the same content to every socket of ``to``; any
other method answers ``200`` with ``{}``. Nothing is stored, checked or limited: the figures it
gives are what this machine's Python, asyncio and the ``websockets`` package do with no server
work in between. Loopback only.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

MAX_FRAME_BYTES = 64 * 1024


class Relay:
    def __init__(self, tokens: dict[str, int]) -> None:
        self.tokens = tokens
        self.sockets: dict[int, set[ServerConnection]] = {}
        self.next_message_id = 0

    async def handle(self, ws: ServerConnection) -> None:
        token = parse_qs(urlsplit(ws.request.path if ws.request else "").query).get("token", [""])[0]
        user_id = self.tokens.get(token)
        if user_id is None:
            await ws.close(4001, "bad token")
            return
        self.sockets.setdefault(user_id, set()).add(ws)
        try:
            async for raw in ws:
                await self.frame(ws, user_id, json.loads(raw))
        except ConnectionClosed:
            pass
        finally:
            self.sockets[user_id].discard(ws)

    async def frame(self, ws: ServerConnection, user_id: int, frame: dict[str, Any]) -> None:
        params = frame.get("params") or {}
        if frame.get("method") != "messages.send":
            await ws.send(json.dumps({"id": frame.get("id"), "code": 200, "data": {}}))
            return
        self.next_message_id += 1
        message = {"messageId": self.next_message_id, "from": user_id, "type": params.get("type", 1),
                   "content": params.get("content")}
        await ws.send(json.dumps({"id": frame.get("id"), "code": 200, "data": {"messageId": self.next_message_id}}))
        push = json.dumps({"event": "onMessage", "data": message})
        to = params.get("to")
        for peer in list(self.sockets.get(to, ()) if isinstance(to, int) else ()):
            with contextlib.suppress(ConnectionClosed):
                await peer.send(push)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--users", required=True, help="JSON from manage.py bench_users")
    args = parser.parse_args()
    if not args.host.startswith("127.") and args.host not in ("localhost", "::1"):
        raise SystemExit("the relay listens on loopback addresses only")
    with open(args.users) as f:
        relay = Relay({u["token"]: u["userId"] for u in json.load(f)})
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(relay.handle, args.host, args.port, ping_interval=None, max_size=MAX_FRAME_BYTES):
        print(f"relay listening on {args.host}:{args.port}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
