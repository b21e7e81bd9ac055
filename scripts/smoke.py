"""Smoke-check a running server: /healthz, then a WebSocket round trip between two demo users.

    python scripts/smoke.py http://127.0.0.1:8000

Logs in alice and bob (created by ``make run``'s demo seed), connects both sockets, sends
``system.relayData`` from alice to bob and checks bob's ``on_event`` push. Exits non-zero
on any failure.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.request

import websockets


def http_json(url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


async def reply_to(ws: websockets.ClientConnection, rid: int) -> dict:
    """The reply with this id; pushes that arrive first (e.g. presence.onUpdate) are skipped."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if frame.get("id") == rid and "event" not in frame:
            return frame


async def push_named(ws: websockets.ClientConnection, event: str) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if frame.get("event") == event:
            return frame


async def round_trip(base: str) -> None:
    password = os.environ.get("DEMO_PASSWORD", "demo1234")
    alice = http_json(f"{base}/api/v1/auth/login", {"username": "alice", "password": password})
    bob = http_json(f"{base}/api/v1/auth/login", {"username": "bob", "password": password})
    ws = base.replace("http://", "ws://").replace("https://", "wss://")
    async with websockets.connect(f"{ws}/ws/?token={alice['token']}") as a, \
            websockets.connect(f"{ws}/ws/?token={bob['token']}") as b:
        await a.send(json.dumps({"id": 1, "method": "system.synctime", "params": {"client_time": 1}}))
        reply = await reply_to(a, 1)
        assert reply["code"] == 200 and reply["data"]["client_time"] == 1, reply
        await a.send(json.dumps({"id": 2, "method": "system.relayData",
                                 "params": {"action": "smoke", "to": [bob["userId"]], "data": {"ok": True}}}))
        reply = await reply_to(a, 2)
        assert reply == {"id": 2, "code": 200, "data": {}}, reply
        push = await push_named(b, "on_event")
        assert push["event"] == "on_event" and push["data"]["from"] == alice["userId"], push
    print(f"smoke: websocket round trip ok (alice {alice['userId']} -> bob {bob['userId']})")


def main() -> int:
    base = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000").rstrip("/")
    health = http_json(f"{base}/healthz")
    print(f"smoke: /healthz {json.dumps(health)}")
    if health.get("status") != "ok":
        return 1
    asyncio.run(round_trip(base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
