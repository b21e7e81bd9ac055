"""messages.send stored in batches on the native socket (messaging.fastsend): the same replies,
pushes, seqs and refusals as the ordinary path, many sends per transaction under load, and
nothing lost or doubled when a batch fails."""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.utils import timezone

from accounts.models import Block, User
from chats.models import Chat, ChatMember
from messaging import fastsend
from messaging.models import Message
from tests.accounts.factories import make_friends
from tests.conftest import Connect, SocketClient, atoken_for, set_app_config

pytestmark = pytest.mark.django_db(transaction=True)


def text(body: str, **extra: Any) -> dict[str, Any]:
    return {"type": 1, "content": {"text": body}, **extra}


async def socket_of(connect: Connect, user: User, device: str = "phone") -> SocketClient:
    return await connect(await atoken_for(user, device))


def batched() -> int:
    return fastsend.BATCHES.stats["done"]


async def test_a_warm_chat_takes_the_batch_and_answers_as_before(connect: Connect, alice: User, bob: User) -> None:
    alice_phone, alice_pc = await socket_of(connect, alice), await socket_of(connect, alice, "pc")
    bob_phone = await socket_of(connect, bob)
    first = await alice_phone.ok("messages.send", text("one", to=bob.pk))  # the chat is looked up
    await bob_phone.push("onMessage")
    await alice_pc.push("onMessage")
    before = batched()
    reply = await alice_phone.ok("messages.send", text("two", to=bob.pk, clientMsgId="b-2"))
    assert batched() == before + 1
    assert set(reply) == {"messageId", "chatId", "seq", "createAt"}
    assert reply["chatId"] == first["chatId"] and reply["seq"] == 2
    expected = {"messageId": reply["messageId"], "chatId": reply["chatId"], "seq": 2, "from": alice.pk, "type": 1,
                "subType": 0, "content": {"text": "two"}, "clientMsgId": "b-2", "createAt": reply["createAt"]}
    for socket in (bob_phone, alice_pc):
        assert await socket.push("onMessage") == expected
        assert await socket.nothing()
    assert await alice_phone.nothing()
    stored = await Message.objects.aget(pk=reply["messageId"])
    assert (stored.seq, stored.sender_id, stored.type, stored.content, stored.client_msg_id) == (
        2, alice.pk, 1, {"text": "two"}, "b-2")
    assert int(stored.created_at.timestamp()) == reply["createAt"]
    # The history reads it back like any other message.
    history = await bob_phone.ok("messages.history", {"chatId": reply["chatId"]})
    assert [m["content"]["text"] for m in history["messages"]] == ["one", "two"]
    chat = await Chat.objects.aget(pk=(await Message.objects.aget(pk=reply["messageId"])).chat_id)
    assert chat.last_seq == 2


async def test_a_resend_answers_the_first_copy_and_stores_nothing(connect: Connect, alice: User, bob: User) -> None:
    alice_socket, bob_socket = await socket_of(connect, alice), await socket_of(connect, bob)
    await alice_socket.ok("messages.send", text("warm", to=bob.pk))
    first = await alice_socket.ok("messages.send", text("once", to=bob.pk, clientMsgId="same"))
    again = await alice_socket.ok("messages.send", text("once", to=bob.pk, clientMsgId="same"))
    assert again == first
    assert [(await bob_socket.push("onMessage"))["seq"] for _ in range(2)] == [1, 2]
    assert await bob_socket.nothing()
    assert await Message.objects.acount() == 2


async def test_refusals_after_the_chat_is_warm(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    alice_socket, bob_socket = await socket_of(connect, alice), await socket_of(connect, bob)
    await alice_socket.ok("messages.send", text("warm", to=bob.pk))
    await bob_socket.push("onMessage")
    await Block.objects.acreate(user=bob, blocked=alice)
    assert (await alice_socket.call("messages.send", text("blocked", to=bob.pk)))["code"] == 501
    await Block.objects.filter(user=bob).adelete()
    await sync_to_async(set_app_config)(only_friend_chat=True)
    assert (await alice_socket.call("messages.send", text("stranger", to=bob.pk)))["code"] == 470
    await sync_to_async(make_friends)(alice, bob)
    assert (await alice_socket.call("messages.send", text("friend", to=bob.pk)))["code"] == 200
    assert (await bob_socket.push("onMessage"))["seq"] == 2  # the refusals took no seq
    await bob_socket.nothing()
    assert not [f for f in bob_socket.pending if f["event"] == "onMessage"]
    # A group both share that bans whispers between its members stops a member's private message.
    await sync_to_async(set_app_config)(only_friend_chat=False)
    charlie_socket = await socket_of(connect, charlie)
    made = await charlie_socket.ok("chats.create", {"title": "quiet", "uIds": [alice.pk, bob.pk]})
    await charlie_socket.ok("chats.modifyBannedRightex", {"chatId": made["chatId"], "banWhisper": True})
    assert (await alice_socket.call("messages.send", text("psst", to=bob.pk)))["code"] == 464
    assert await Message.objects.filter(content__text__in=["blocked", "stranger", "psst"]).acount() == 0


async def test_group_rules_under_the_batch(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    owner, member = await socket_of(connect, alice), await socket_of(connect, bob)
    group = (await owner.ok("chats.create", {"title": "g", "uIds": [bob.pk, charlie.pk]}))["chatId"]
    await member.ok("messages.send", text("warm", chatId=group))
    before = batched()
    await member.ok("messages.send", text("hello", chatId=group))
    assert batched() == before + 1
    # Content rules bind ordinary members (checked the ordinary way); the owner is exempt.
    await owner.ok("chats.modifyBannedRightex", {"chatId": group, "banSendWebLink": True})
    assert (await member.call("messages.send", text("see www.example.com", chatId=group)))["code"] == 461
    assert (await owner.call("messages.send", text("see www.example.com", chatId=group)))["code"] == 200
    await owner.ok("chats.modifyBannedRightex", {"chatId": group, "banSendWebLink": False})
    # A mute, and a kick, apply to the next send.
    await ChatMember.objects.filter(chat__pk=-group, user=bob).aupdate(
        muted_until=timezone.now() + timedelta(minutes=5))
    assert (await member.call("messages.send", text("muted", chatId=group)))["code"] == 460
    await ChatMember.objects.filter(chat__pk=-group, user=bob).aupdate(muted_until=None)
    await member.ok("messages.send", text("unmuted", chatId=group))
    await owner.ok("chats.kick", {"chatId": group, "uId": bob.pk})
    refused = await member.call("messages.send", text("kicked", chatId=group))
    assert refused["code"] != 200
    texts = [m.content["text"] async for m in Message.objects.filter(chat__pk=-group, type=1).order_by("seq")]
    assert texts == ["warm", "hello", "see www.example.com", "unmuted"]
    seqs = [s async for s in Message.objects.filter(chat__pk=-group).order_by("seq").values_list("seq", flat=True)]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_many_sockets_at_once_share_batches_with_gap_free_seqs(connect: Connect, alice: User, bob: User,
                                                                      charlie: User) -> None:
    """Sends arriving together are stored together, and every chat's seqs stay gap-free."""
    users = [alice, bob, charlie]
    sockets = {u.pk: [await socket_of(connect, u, f"d{i}") for i in range(3)] for u in users}
    pairs = [(alice, bob), (bob, charlie), (charlie, alice)]
    for a, b in pairs:
        await sockets[a.pk][0].ok("messages.send", text("warm", to=b.pk))
    batches_before, largest_before = fastsend.BATCHES.stats["batches"], fastsend.BATCHES.stats["largest"]
    fastsend.BATCHES.stats["largest"] = 0

    async def burst(socket: SocketClient, peer: int, n: int) -> list[int]:
        return [(await socket.ok("messages.send", text(f"{n}-{i}", to=peer, clientMsgId=f"{socket}-{n}-{i}")))["seq"]
                for i in range(8)]

    jobs = [burst(sockets[a.pk][d], b.pk, d) for a, b in pairs for d in range(3)]
    results = await asyncio.gather(*jobs)
    assert sum(len(r) for r in results) == 72
    assert fastsend.BATCHES.stats["batches"] > batches_before
    assert fastsend.BATCHES.stats["largest"] > 1  # nine sockets at once: more than one send per transaction
    fastsend.BATCHES.stats["largest"] = max(largest_before, fastsend.BATCHES.stats["largest"])
    for chat in [c async for c in Chat.objects.filter(kind=Chat.Kind.PRIVATE)]:
        seqs = [s async for s in Message.objects.filter(chat=chat).order_by("seq").values_list("seq", flat=True)]
        assert seqs == list(range(1, 26)) and chat.last_seq == 25


async def test_a_failed_batch_sends_each_message_the_ordinary_way(connect: Connect, alice: User, bob: User,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    alice_socket, bob_socket = await socket_of(connect, alice), await socket_of(connect, bob)
    await alice_socket.ok("messages.send", text("warm", to=bob.pk))
    await bob_socket.push("onMessage")
    real = fastsend._store_pg if connection.vendor == "postgresql" else fastsend._store_sqlite
    calls = []

    def failing(stored: list[Any], *args: Any) -> Any:
        calls.append(len(stored))
        real(stored, *args)  # the rows are written, then the transaction fails and is rolled back
        raise RuntimeError("connection lost")

    monkeypatch.setattr(fastsend, "_store_pg" if connection.vendor == "postgresql" else "_store_sqlite", failing)
    replies = await asyncio.gather(*(alice_socket.ok("messages.send", text(f"m{i}", to=bob.pk, clientMsgId=f"f{i}"))
                                     for i in range(3)))
    assert calls  # the batch ran and failed
    assert sorted(r["seq"] for r in replies) == [2, 3, 4]
    pushed = sorted([(await bob_socket.push("onMessage"))["seq"] for _ in range(3)])
    assert pushed == [2, 3, 4] and await bob_socket.nothing()
    assert await Message.objects.acount() == 4


async def test_the_rate_limit_counts_each_send_once(connect: Connect, alice: User, bob: User,
                                                    settings: Any) -> None:
    settings.MESSAGES_PER_MINUTE = 4
    alice_socket = await socket_of(connect, alice)
    codes = [(await alice_socket.call("messages.send", text(f"m{i}", to=bob.pk)))["code"] for i in range(6)]
    assert codes == [200, 200, 200, 200, 429, 429]
    assert await Message.objects.acount() == 4


async def test_switched_off_every_send_goes_the_ordinary_way(connect: Connect, alice: User, bob: User,
                                                              settings: Any) -> None:
    settings.MESSAGES_BATCHED = False
    alice_socket = await socket_of(connect, alice)
    before = fastsend.BATCHES.stats["batches"]
    for i in range(3):
        await alice_socket.ok("messages.send", text(f"m{i}", to=bob.pk))
    assert fastsend.BATCHES.stats["batches"] == before
    assert await Message.objects.acount() == 3


async def pipelined(socket: SocketClient, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send every frame at once, without waiting for replies; the replies in the order they came."""
    first = socket.last_id + 1
    for offset, frame in enumerate(frames):
        await socket.send_raw(json.dumps({"id": first + offset, **frame}))
    socket.last_id += len(frames)
    replies: list[dict[str, Any]] = []
    while len(replies) < len(frames):
        frame = await socket.frame()
        if "event" in frame:
            socket.pending.append(frame)
        else:
            replies.append(frame)
    assert [r["id"] for r in replies] == list(range(first, first + len(frames)))  # in the order sent
    return replies


async def test_a_socket_s_sends_run_at_once_and_keep_their_order(connect: Connect, alice: User, bob: User) -> None:
    alice_socket, bob_socket = await socket_of(connect, alice), await socket_of(connect, bob)
    await alice_socket.ok("messages.send", text("warm", to=bob.pk))
    await bob_socket.push("onMessage")
    batches_before = fastsend.BATCHES.stats["batches"]
    replies = await pipelined(alice_socket, [{"method": "messages.send", "params": text(f"m{i}", to=bob.pk)}
                                             for i in range(20)])
    assert [r["code"] for r in replies] == [200] * 20
    assert [r["data"]["seq"] for r in replies] == list(range(2, 22))  # stored in the order sent, gap-free
    assert fastsend.BATCHES.stats["batches"] - batches_before < 20  # several sends per batch
    pushes = [await bob_socket.push("onMessage") for _ in range(20)]
    assert sorted((p["seq"], p["content"]["text"]) for p in pushes) == [(i + 2, f"m{i}") for i in range(20)]
    assert await bob_socket.nothing()
    stored = [m async for m in Message.objects.filter(sender=alice).order_by("seq").values_list("seq", "content")]
    assert stored[1:] == [(i + 2, {"text": f"m{i}"}) for i in range(20)]


async def test_a_resend_in_the_same_batch_is_stored_once(connect: Connect, alice: User, bob: User) -> None:
    alice_socket, bob_socket = await socket_of(connect, alice), await socket_of(connect, bob)
    await alice_socket.ok("messages.send", text("warm", to=bob.pk))
    frames = [{"method": "messages.send", "params": text(body, to=bob.pk, clientMsgId=cmid)}
              for body, cmid in (("a", "x"), ("b", "y"), ("a", "x"), ("c", None))]
    replies = [r["data"] for r in await pipelined(alice_socket, frames)]
    assert replies[2] == replies[0]  # the resend answers the first copy
    assert [r["seq"] for r in replies] == [2, 3, 2, 4]
    assert await Message.objects.acount() == 4
    pushed = sorted([(await bob_socket.push("onMessage"))["seq"] for _ in range(4)])
    assert pushed == [1, 2, 3, 4] and await bob_socket.nothing()


async def test_another_method_waits_for_the_sends_before_it(connect: Connect, alice: User, bob: User) -> None:
    alice_socket = await socket_of(connect, alice)
    chat = (await alice_socket.ok("messages.send", text("warm", to=bob.pk)))["chatId"]
    frames = [{"method": "messages.send", "params": text(f"m{i}", to=bob.pk)} for i in range(5)]
    frames.append({"method": "messages.history", "params": {"chatId": chat}})
    replies = await pipelined(alice_socket, frames)
    assert [m["seq"] for m in replies[-1]["data"]["messages"]] == [1, 2, 3, 4, 5, 6]


async def test_a_pipeline_depth_of_one_sends_one_at_a_time(connect: Connect, alice: User, bob: User,
                                                         settings: Any) -> None:
    settings.WS_PIPELINE_DEPTH = 1
    alice_socket = await socket_of(connect, alice)
    await alice_socket.ok("messages.send", text("warm", to=bob.pk))
    fastsend.BATCHES.stats["largest"], largest_before = 0, fastsend.BATCHES.stats["largest"]
    replies = await pipelined(alice_socket, [{"method": "messages.send", "params": text(f"m{i}", to=bob.pk)}
                                             for i in range(6)])
    assert [r["data"]["seq"] for r in replies] == [2, 3, 4, 5, 6, 7]
    assert fastsend.BATCHES.stats["largest"] == 1  # each waited for the one before it
    fastsend.BATCHES.stats["largest"] = max(largest_before, 1)
