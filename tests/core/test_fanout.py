"""Pushes to many users are broadcast once to every process (core.fanout), and each process
hands them to its own sockets of those users, exactly once, with the usual checks."""
from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from core import fanout, realtime
from tests.conftest import Connect, SocketClient, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)


def text(body: str, **extra: Any) -> dict[str, Any]:
    return {"type": 1, "content": {"text": body}, **extra}


async def pushes_of(socket: SocketClient, message_id: int) -> int:
    """How many onMessage pushes of ``message_id`` the socket receives (the group's creation
    notice may still arrive on a socket opened just after it)."""
    frames, socket.pending = socket.pending, []
    while not await socket.comm.receive_nothing(0.3):
        frames.append(await socket.frame())
    return sum(1 for f in frames if f.get("event") == "onMessage" and f["data"]["messageId"] == message_id)


@pytest.fixture
def broadcasts(settings: Any, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Pushes to two users or more are broadcast; the list records each one delivered."""
    settings.FANOUT_BROADCAST_MIN = 2
    seen: list[dict[str, Any]] = []
    real = fanout.deliver

    async def recording(message: dict[str, Any]) -> int:
        seen.append(message)
        return await real(message)

    monkeypatch.setattr(fanout, "deliver", recording)
    return seen


async def test_a_group_message_is_broadcast_once_and_reaches_each_device_once(
    connect: Connect, alice: User, bob: User, charlie: User, broadcasts: list[dict[str, Any]],
) -> None:
    alice_phone = await connect(await atoken_for(alice, "phone"))
    alice_pc = await connect(await atoken_for(alice, "pc"))
    group = await alice_phone.ok("chats.create", {"title": "wide", "uIds": [bob.pk, charlie.pk]})
    bob_phone, bob_pc = await connect(await atoken_for(bob, "phone")), await connect(await atoken_for(bob, "pc"))
    charlie_socket = await connect(await atoken_for(charlie))
    del broadcasts[:]
    sent = await alice_phone.ok("messages.send", text("to all", chatId=group["chatId"]))
    for socket in (alice_pc, bob_phone, bob_pc, charlie_socket):
        assert await pushes_of(socket, sent["messageId"]) == 1
    assert await pushes_of(alice_phone, sent["messageId"]) == 0  # the sender's socket, as through a group
    on_message = [b for b in broadcasts if b.get("mid") == sent["messageId"]]
    assert len(on_message) == 1 and set(on_message[0]["users"]) == {alice.pk, bob.pk, charlie.pk}


async def test_a_push_to_few_users_still_goes_through_their_groups(
    connect: Connect, alice: User, bob: User, settings: Any, broadcasts: list[dict[str, Any]],
) -> None:
    settings.FANOUT_BROADCAST_MIN = 3
    alice_socket, bob_socket = await connect(await atoken_for(alice)), await connect(await atoken_for(bob))
    await alice_socket.ok("messages.send", text("just us", to=bob.pk))
    assert (await bob_socket.push("onMessage"))["content"] == {"text": "just us"}
    assert not broadcasts
    envelope = realtime._envelope("x", {}, [1, 2], None)
    assert [group for group, _ in envelope] == ["user.1", "user.2"]
    assert [group for group, _ in realtime._envelope("x", {}, [1, 2, 3], None)] == [fanout.GROUP]


async def test_closed_and_logged_out_sockets_are_left_out(
    connect: Connect, alice: User, bob: User, charlie: User, broadcasts: list[dict[str, Any]],
) -> None:
    alice_socket = await connect(await atoken_for(alice))
    group = await alice_socket.ok("chats.create", {"title": "wide", "uIds": [bob.pk, charlie.pk]})
    bob_socket = await connect(await atoken_for(bob))
    charlie_socket = await connect(await atoken_for(charlie))
    await charlie_socket.comm.disconnect()
    await bob_socket.ok("accounts.logout")
    assert await bob_socket.closed() == 4003
    await alice_socket.ok("messages.send", text("anyone?", chatId=group["chatId"]))
    assert charlie.pk not in fanout._by_user and bob.pk not in fanout._by_user
