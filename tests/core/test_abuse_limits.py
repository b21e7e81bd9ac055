"""Limits above one socket, over the native socket: frames per user, open sockets per user,
per address and anonymous, relay recipients and messages per user."""
from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from accounts.models import User
from messaging.models import Message
from tests.conftest import Connect, SocketClient, atoken_for, stop_loop_tasks

pytestmark = pytest.mark.django_db(transaction=True)

CLOSE_TOO_MANY_SOCKETS = 4029  # docs/protocol.md: too many sockets

Open = Callable[..., Any]


@pytest.fixture
async def open_from(transactional_db: None) -> AsyncIterator[Open]:
    """``await open_from(address, token=None, path="/ws/")``: a socket whose client address is
    ``address`` (what daphne puts in the scope, from the peer or X-Forwarded-For)."""
    from config.asgi import application

    opened: list[WebsocketCommunicator] = []

    async def _open(address: str, token: str | None = None, path: str = "/ws/") -> SocketClient:
        async def with_address(scope: dict[str, Any], receive: Any, send: Any) -> Any:
            return await application({**scope, "client": [address, 40000 + len(opened)]}, receive, send)

        comm = WebsocketCommunicator(with_address, path if token is None else f"{path}?token={token}")
        connected, _ = await comm.connect()
        assert connected
        opened.append(comm)
        return SocketClient(comm)

    yield _open
    for comm in opened:
        with contextlib.suppress(Exception):
            await comm.disconnect()
    await stop_loop_tasks()


async def _codes(client: SocketClient, count: int) -> list[int]:
    """Send ``count`` heartbeats at once, then read the ``count`` replies' codes."""
    for index in range(count):
        await client.send_raw(json.dumps({"id": index, "method": "system.heartbeat"}))
    return [(await client.frame())["code"] for _ in range(count)]


async def _is_open(client: SocketClient) -> bool:
    return (await client.call("system.heartbeat"))["code"] == 200


# --- frames per user -------------------------------------------------------------------------
# A refill of one token in 1000 s: nothing comes back while a test runs, however slow the machine.
SLOW = 0.001


@override_settings(WS_RATE_PER_SECOND=1, WS_RATE_BURST=50, WS_USER_RATE_PER_SECOND=SLOW, WS_USER_RATE_BURST=12)
async def test_a_users_sockets_share_one_frame_budget(connect: Connect, alice: User, bob: User) -> None:
    sockets = [await connect(await atoken_for(alice, f"d{n}")) for n in range(3)]
    codes = [code for client in sockets for code in await _codes(client, 8)]
    # 24 frames over three sockets, each socket far below its own burst of 50: the user's 12 pass.
    assert codes == [200] * 12 + [429] * 12
    # Another user is not affected.
    assert await _codes(await connect(await atoken_for(bob)), 5) == [200] * 5


@override_settings(WS_USER_RATE_PER_SECOND=SLOW, WS_USER_RATE_BURST=2)
async def test_the_user_budget_applies_to_the_jim_socket_too(connect: Connect, alice: User) -> None:
    token = await atoken_for(alice)
    native, jim = await connect(token), await connect(token, path="/")
    assert await _codes(native, 2) == [200, 200]
    await jim.send_raw(json.dumps({"cmd": 13, "hbbyte": "-127"}))
    assert (await jim.frame())["code"] == 429


# --- open sockets --------------------------------------------------------------------------------
@override_settings(WS_MAX_SOCKETS_PER_USER=2)
async def test_sockets_over_the_per_user_cap_are_closed_with_4029(connect: Connect, alice: User, bob: User) -> None:
    first, second = await connect(await atoken_for(alice, "a")), await connect(await atoken_for(alice, "b"))
    third = await connect(await atoken_for(alice, "c"))
    assert await third.closed() == CLOSE_TOO_MANY_SOCKETS
    jim = await connect(await atoken_for(alice, "d"), path="/")  # the J-IM socket counts too
    assert await jim.closed() == CLOSE_TOO_MANY_SOCKETS
    assert await _is_open(first) and await _is_open(second)
    assert await _is_open(await connect(await atoken_for(bob)))  # others are not affected
    # A closed socket gives its place back.
    await first.comm.disconnect()
    assert await _is_open(await connect(await atoken_for(alice, "e")))


@override_settings(WS_MAX_SOCKETS_PER_ADDRESS=3)
async def test_sockets_over_the_per_address_cap_are_closed_with_4029(
    open_from: Open, alice: User, bob: User, charlie: User
) -> None:
    a1 = await open_from("198.51.100.7", await atoken_for(alice, "a"))
    a2 = await open_from("198.51.100.7", await atoken_for(alice, "b"))
    b1 = await open_from("198.51.100.7", await atoken_for(bob))
    refused = await open_from("198.51.100.7", await atoken_for(charlie))
    assert await refused.closed() == CLOSE_TOO_MANY_SOCKETS
    anonymous = await open_from("198.51.100.7")
    assert await anonymous.closed() == CLOSE_TOO_MANY_SOCKETS
    assert all([await _is_open(s) for s in (a1, a2, b1)])
    assert await _is_open(await open_from("198.51.100.8", await atoken_for(charlie)))


@override_settings(WS_MAX_ANONYMOUS_PER_ADDRESS=2, WS_MAX_SOCKETS_PER_ADDRESS=50)
async def test_anonymous_sockets_are_capped_per_address(open_from: Open, alice: User) -> None:
    first, second = await open_from("203.0.113.5"), await open_from("203.0.113.5")
    third = await open_from("203.0.113.5")
    assert await third.closed() == CLOSE_TOO_MANY_SOCKETS
    assert await _is_open(first) and await _is_open(second)
    # A logged-in socket from the same address is not anonymous.
    assert await _is_open(await open_from("203.0.113.5", await atoken_for(alice)))
    assert await _is_open(await open_from("203.0.113.6"))


@override_settings(WS_MAX_ANONYMOUS_SOCKETS=3, WS_MAX_ANONYMOUS_PER_ADDRESS=10)
async def test_anonymous_sockets_are_capped_per_process(open_from: Open, alice: User) -> None:
    sockets = [await open_from(f"192.0.2.{n}") for n in range(1, 4)]
    refused = await open_from("192.0.2.99")
    assert await refused.closed() == CLOSE_TOO_MANY_SOCKETS
    assert await _is_open(await open_from("192.0.2.99", await atoken_for(alice)))
    await sockets[0].comm.disconnect()
    assert await _is_open(await open_from("192.0.2.99"))


# --- relay recipients and messages -----------------------------------------------------------------
@override_settings(RELAY_RECIPIENTS_PER_MINUTE=5)
async def test_relay_recipients_are_limited_per_user(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    phone, pc = await connect(await atoken_for(alice, "phone")), await connect(await atoken_for(alice, "pc"))
    bob_socket = await connect(await atoken_for(bob))
    both = {"action": "typing", "to": [bob.pk, charlie.pk]}
    assert (await phone.call("system.relayData", both))["code"] == 200
    assert (await pc.call("system.relayData", both))["code"] == 200
    refused = await phone.call("system.relayData", both)  # 6 recipients in the minute: over 5
    assert refused["code"] == 429
    assert (await pc.call("system.relayData", {"action": "typing", "to": [bob.pk]}))["code"] == 200
    assert (await pc.call("system.relayData", {"action": "typing", "to": [bob.pk]}))["code"] == 429
    pushes = [await bob_socket.push("on_event") for _ in range(3)]
    assert [p["from"] for p in pushes] == [alice.pk] * 3
    assert await bob_socket.nothing()


@override_settings(MESSAGES_PER_MINUTE=3)
async def test_messages_are_limited_per_user_across_sockets(connect: Connect, alice: User, bob: User) -> None:
    phone, pc = await connect(await atoken_for(alice, "phone")), await connect(await atoken_for(alice, "pc"))
    replies = []
    for index, client in enumerate([phone, pc, phone, pc, phone]):
        replies.append(await client.call("messages.send", {"to": bob.pk, "type": 1, "content": {"text": f"m{index}"},
                                                            "clientMsgId": f"c{index}"}))
    assert [r["code"] for r in replies] == [200, 200, 200, 429, 429]
    assert await Message.objects.filter(sender=alice).acount() == 3
    # A resend of a stored message still gets its first answer.
    again = await pc.call("messages.send", {"to": bob.pk, "type": 1, "content": {"text": "m0"}, "clientMsgId": "c0"})
    assert again["code"] == 200 and again["data"]["messageId"] == replies[0]["data"]["messageId"]
    # Bob may still write.
    bob_socket = await connect(await atoken_for(bob))
    reply = await bob_socket.call("messages.send", {"to": alice.pk, "type": 1, "content": {"text": "hi"}})
    assert reply["code"] == 200
