"""A real daphne process: two users register, log in, connect and relay data to each other.

This is what ``make run`` serves; the test points the server at the test database.
"""
from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator

import pytest
import websockets

from tests.e2e.server import daphne

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_server_url() -> Iterator[str]:
    with daphne() as port:
        yield f"http://127.0.0.1:{port}"


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def test_two_users_see_each_others_relay_push(live_server_url: str) -> None:
    for name in ("erin", "frank"):
        _post(f"{live_server_url}/api/v1/auth/register", {"username": name, "password": "secret123"})
    erin = _post(f"{live_server_url}/api/v1/auth/login", {"username": "erin", "password": "secret123"})
    frank = _post(f"{live_server_url}/api/v1/auth/login", {"username": "frank", "password": "secret123"})
    ws_url = live_server_url.replace("http", "ws")

    async def scenario() -> tuple[dict, dict, dict, dict]:
        async with websockets.connect(f"{ws_url}/ws/?token={erin['token']}") as a, \
                websockets.connect(f"{ws_url}/ws/?token={frank['token']}") as b:
            await a.send(json.dumps({"id": 1, "method": "system.relayData",
                                     "params": {"action": "hello", "to": [frank["userId"]], "data": {"n": 1}}}))
            reply_a = json.loads(await asyncio.wait_for(a.recv(), 5))
            push_b = json.loads(await asyncio.wait_for(b.recv(), 5))
            await b.send(json.dumps({"id": 2, "method": "system.relayData",
                                     "params": {"action": "hi", "to": [erin["userId"]]}}))
            reply_b = json.loads(await asyncio.wait_for(b.recv(), 5))
            push_a = json.loads(await asyncio.wait_for(a.recv(), 5))
            return reply_a, push_b, reply_b, push_a

    reply_a, push_b, reply_b, push_a = asyncio.run(scenario())
    assert reply_a == {"id": 1, "code": 200, "data": {}} and reply_b == {"id": 2, "code": 200, "data": {}}
    assert push_b == {"event": "on_event", "data": {"action": "hello", "from": erin["userId"],
                                                    "to": [frank["userId"]], "data": {"n": 1}}}
    assert push_a["data"]["from"] == frank["userId"] and push_a["data"]["action"] == "hi"


def test_bad_token_is_closed_with_4001_by_the_real_server(live_server_url: str) -> None:
    async def scenario() -> int | None:
        async with websockets.connect(f"{live_server_url.replace('http', 'ws')}/ws/?token=bogus") as ws:
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
        return None

    assert asyncio.run(scenario()) == 4001


def test_huge_frames_are_cut_off_by_the_transport(live_server_url: str) -> None:
    """Over WS_TRANSPORT_MAX_BYTES (about 1.5 MiB by default) the server closes with 1009 unread;
    between WS_MAX_FRAME_BYTES and that, it answers 413 and the socket stays usable."""
    token = _post(f"{live_server_url}/api/v1/auth/register", {"username": "gina", "password": "secret123"})["token"]
    url = f"{live_server_url.replace('http', 'ws')}/ws/?token={token}"

    async def scenario() -> tuple[dict, dict, int | None]:
        async with websockets.connect(url, max_size=None) as ws:
            await ws.send(json.dumps({"id": 1, "method": "system.heartbeat", "pad": "x" * 500_000}))
            polite = json.loads(await asyncio.wait_for(ws.recv(), 5))
            await ws.send(json.dumps({"id": 2, "method": "system.heartbeat"}))
            after = json.loads(await asyncio.wait_for(ws.recv(), 5))
            await ws.send("x" * (2 * 1024 * 1024))
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as closed:
                return polite, after, closed.rcvd.code if closed.rcvd else None
        return polite, after, None

    polite, after, close_code = asyncio.run(scenario())
    assert polite["code"] == 413 and after["code"] == 200
    assert close_code == 1009


def test_message_reaches_every_device_exactly_once_through_the_real_server(live_server_url: str) -> None:
    """alice on a phone and a pc, bob on a phone and a pc: a message from alice's phone
    reaches bob's two devices and alice's pc once each, and bob, offline for a second
    message, gets it on sync."""
    base = live_server_url
    ws = base.replace("http", "ws")
    for name in ("hana", "ivan"):
        _post(f"{base}/api/v1/auth/register", {"username": name, "password": "secret123"})
    tokens = {f"{name}-{device}": _post(f"{base}/api/v1/auth/login", {"username": name, "password": "secret123",
                                                                     "device": device})
              for name in ("hana", "ivan") for device in ("phone", "pc")}
    ivan_id = tokens["ivan-phone"]["userId"]

    async def scenario() -> tuple[dict, list[dict], dict]:
        async def open_(key: str) -> websockets.ClientConnection:
            return await websockets.connect(f"{ws}/ws/?token={tokens[key]['token']}")

        hana_phone, hana_pc, ivan_phone, ivan_pc = [await open_(k) for k in
                                                    ("hana-phone", "hana-pc", "ivan-phone", "ivan-pc")]
        await hana_phone.send(json.dumps({"id": 1, "method": "messages.send", "params": {
            "to": ivan_id, "type": 1, "content": {"text": "live"}, "clientMsgId": "e2e-1"}}))
        reply = json.loads(await asyncio.wait_for(hana_phone.recv(), 5))
        pushes = [json.loads(await asyncio.wait_for(s.recv(), 5)) for s in (ivan_phone, ivan_pc, hana_pc)]
        for s in (ivan_phone, ivan_pc, hana_pc, hana_phone):  # nothing more arrives anywhere
            try:
                extra = await asyncio.wait_for(s.recv(), 0.5)
                raise AssertionError(f"unexpected frame {extra!r}")
            except TimeoutError:
                pass
        await ivan_phone.close()
        await ivan_pc.close()
        await hana_phone.send(json.dumps({"id": 2, "method": "messages.send", "params": {
            "to": ivan_id, "type": 1, "content": {"text": "while you were away"}}}))
        await asyncio.wait_for(hana_phone.recv(), 5)
        back = await open_("ivan-phone")
        await back.send(json.dumps({"id": 3, "method": "messages.sync", "params": {"positions": {}}}))
        synced = json.loads(await asyncio.wait_for(back.recv(), 5))
        for s in (hana_phone, hana_pc, back):
            await s.close()
        return reply, pushes, synced

    reply, pushes, synced = asyncio.run(scenario())
    assert reply["code"] == 200 and reply["data"]["seq"] == 1
    assert all(p["event"] == "onMessage" and p["data"]["messageId"] == reply["data"]["messageId"] for p in pushes)
    chats = synced["data"]["chats"]
    assert [m["content"]["text"] for m in chats[0]["messages"]] == ["live", "while you were away"]
