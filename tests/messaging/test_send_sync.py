"""messages.* over the socket: delivery to every device exactly once, idempotent resends,
gap-free seqs, offline sync, history, conversations, read receipts, recall, delete, typing."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import Block, User
from messaging.models import Message
from tests.accounts.factories import make_friends
from tests.conftest import Connect, SocketClient, atoken_for, set_app_config

pytestmark = pytest.mark.django_db(transaction=True)


def text(body: str, **extra: Any) -> dict[str, Any]:
    return {"type": 1, "content": {"text": body}, **extra}


async def devices(connect: Connect, user: User, *names: str) -> list[SocketClient]:
    return [await connect(await atoken_for(user, name)) for name in names]


async def test_private_message_reaches_every_device_once(connect: Connect, alice: User, bob: User) -> None:
    alice_phone, alice_pc = await devices(connect, alice, "phone", "pc")
    bob_phone, bob_pc = await devices(connect, bob, "phone", "pc")
    reply = await alice_phone.ok("messages.send", text("hi bob", to=bob.pk, clientMsgId="c-1"))
    assert set(reply) == {"messageId", "chatId", "seq", "createAt"} and reply["seq"] == 1
    expected = {"messageId": reply["messageId"], "chatId": reply["chatId"], "seq": 1, "from": alice.pk,
                "type": 1, "subType": 0, "content": {"text": "hi bob"}, "clientMsgId": "c-1",
                "createAt": reply["createAt"]}
    for socket in (bob_phone, bob_pc, alice_pc):
        assert await socket.push("onMessage") == expected
        assert await socket.nothing()  # exactly once
    assert await alice_phone.nothing()  # not echoed to the sending socket
    assert await Message.objects.acount() == 1


async def test_resend_with_same_client_msg_id_stores_and_pushes_nothing_new(
    connect: Connect, alice: User, bob: User
) -> None:
    (alice_socket,) = await devices(connect, alice, "phone")
    (bob_socket,) = await devices(connect, bob, "phone")
    first = await alice_socket.ok("messages.send", text("once", to=bob.pk, clientMsgId="same"))
    again = await alice_socket.ok("messages.send", text("once", to=bob.pk, clientMsgId="same"))
    assert again == first
    await bob_socket.push("onMessage")
    assert await bob_socket.nothing()
    assert await Message.objects.acount() == 1


async def test_seqs_are_gap_free_and_increasing(connect: Connect, alice: User, bob: User) -> None:
    (alice_socket,) = await devices(connect, alice, "phone")
    (bob_socket,) = await devices(connect, bob, "phone")
    seqs = []
    for i in range(5):
        sender = alice_socket if i % 2 == 0 else bob_socket
        target = bob.pk if sender is alice_socket else alice.pk
        seqs.append((await sender.ok("messages.send", text(f"m{i}", to=target)))["seq"])
    assert seqs == [1, 2, 3, 4, 5]


async def test_blacklisted_sender_gets_501_and_nothing_is_stored(connect: Connect, alice: User, bob: User) -> None:
    await Block.objects.acreate(user=bob, blocked=alice)
    (alice_socket,) = await devices(connect, alice, "phone")
    (bob_socket,) = await devices(connect, bob, "phone")
    reply = await alice_socket.call("messages.send", text("hello?", to=bob.pk))
    assert reply["code"] == 501
    assert await Message.objects.acount() == 0
    assert await bob_socket.nothing()


async def test_only_friend_chat_refuses_strangers(connect: Connect, alice: User, bob: User) -> None:
    (alice_socket,) = await devices(connect, alice, "phone")
    assert (await alice_socket.call("messages.send", text("hi", to=bob.pk)))["code"] == 200  # switch off
    await sync_to_async(set_app_config)(only_friend_chat=True)
    assert (await alice_socket.call("messages.send", text("hi", to=bob.pk)))["code"] == 470
    await sync_to_async(make_friends)(alice, bob)
    assert (await alice_socket.call("messages.send", text("hi", to=bob.pk)))["code"] == 200


async def test_only_friend_chat_lets_anyone_reach_internal_accounts(connect: Connect, alice: User,
                                                                    bob: User) -> None:
    """Customer service and desk agents are internal accounts: strangers may write to them."""
    await User.objects.filter(pk=bob.pk).aupdate(is_internal=True)
    await sync_to_async(set_app_config)(only_friend_chat=True)
    (alice_socket,) = await devices(connect, alice, "phone")
    assert (await alice_socket.call("messages.send", text("help?", to=bob.pk)))["code"] == 200


async def test_bad_content_is_422(connect: Connect, alice: User, bob: User) -> None:
    (client,) = await devices(connect, alice, "phone")
    cases = [
        text("   ", to=bob.pk),
        {"type": 10, "content": {"op": "fake"}, "to": bob.pk},  # system messages are server-only
        {"type": 2, "content": {}, "to": bob.pk},  # red packets come from redpacket.create
        {"type": 8, "content": {"lat": 95, "lng": 0}, "to": bob.pk},
        {"type": 3, "content": {}, "to": bob.pk},
        {"type": 1, "content": {"text": "x"}},  # neither to nor chatId
        {"type": 1, "content": {"text": "x" * (128 * 1024 + 1)}, "to": bob.pk},  # over MESSAGE_MAX_CONTENT_BYTES
        text("to myself", to=alice.pk),
    ]
    for params in cases:
        reply = await client.call("messages.send", params)
        assert reply["code"] == 422, (params, reply)
    assert await Message.objects.acount() == 0


async def test_plain_string_content_is_a_text_message(connect: Connect, alice: User, bob: User) -> None:
    (client,) = await devices(connect, alice, "phone")
    reply = await client.ok("messages.send", {"type": 1, "content": "short form", "to": bob.pk})
    history = await client.ok("messages.history", {"chatId": reply["chatId"]})
    assert history["messages"][0]["content"] == {"text": "short form"}


async def test_offline_user_gets_everything_on_sync_in_order(connect: Connect, alice: User, bob: User,
                                                             charlie: User) -> None:
    (alice_socket,) = await devices(connect, alice, "phone")
    group = await alice_socket.ok("chats.create", {"title": "trip", "uIds": [bob.pk, charlie.pk]})
    sent = []
    for i in range(7):
        sent.append(await alice_socket.ok("messages.send", text(f"p{i}", to=bob.pk)))
        await alice_socket.ok("messages.send", text(f"g{i}", chatId=group["chatId"]))
    # bob was offline all along; he syncs in pages of 5
    (bob_socket,) = await devices(connect, bob, "phone")
    positions: dict[str, int] = {}
    seen: dict[int, list[int]] = {}
    texts: list[str] = []
    for _ in range(10):
        page = await bob_socket.ok("messages.sync", {"positions": positions, "limit": 5})
        for chat in page["chats"]:
            seqs = [m["seq"] for m in chat["messages"]]
            seen.setdefault(chat["chatId"], []).extend(seqs)
            texts += [m["content"].get("text", "") for m in chat["messages"] if m["type"] == 1]
            if seqs:
                positions[str(chat["chatId"])] = seqs[-1]
        if not page["hasMore"]:
            break
    private_chat = sent[0]["chatId"]
    assert seen[private_chat] == list(range(1, 8))
    assert seen[group["chatId"]] == list(range(1, 9))  # the create notice + 7 messages
    assert sorted(texts) == sorted([f"p{i}" for i in range(7)] + [f"g{i}" for i in range(7)])
    again = await bob_socket.ok("messages.sync", {"positions": positions})
    assert again == {"chats": [], "hasMore": False}


async def test_history_pages_backwards(connect: Connect, alice: User, bob: User) -> None:
    (client,) = await devices(connect, alice, "phone")
    chat_id = None
    for i in range(6):
        chat_id = (await client.ok("messages.send", text(f"h{i}", to=bob.pk)))["chatId"]
    page = await client.ok("messages.history", {"chatId": chat_id, "limit": 4})
    assert [m["seq"] for m in page["messages"]] == [3, 4, 5, 6] and page["hasMore"] is True
    older = await client.ok("messages.history", {"chatId": chat_id, "beforeSeq": 3, "limit": 4})
    assert [m["seq"] for m in older["messages"]] == [1, 2] and older["hasMore"] is False


async def test_strangers_cannot_read_a_chat(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    (alice_socket,) = await devices(connect, alice, "phone")
    chat_id = (await alice_socket.ok("messages.send", text("private", to=bob.pk)))["chatId"]
    (charlie_socket,) = await devices(connect, charlie, "phone")
    for method, params in (("messages.history", {"chatId": chat_id}),
                           ("messages.send", text("intrude", chatId=chat_id)),
                           ("messages.read", {"chatId": chat_id, "seq": 1})):
        assert (await charlie_socket.call(method, params))["code"] == 403, method
    assert (await charlie_socket.call("messages.history", {"chatId": 999999}))["code"] == 404


async def test_conversations_show_last_message_and_unread(connect: Connect, alice: User, bob: User) -> None:
    (alice_socket,) = await devices(connect, alice, "phone")
    (bob_socket,) = await devices(connect, bob, "phone")
    for i in range(3):
        await alice_socket.ok("messages.send", text(f"u{i}", to=bob.pk))
    convs = await bob_socket.ok("messages.conversations")
    assert len(convs) == 1
    assert convs[0]["unread"] == 3 and convs[0]["lastMessage"]["content"] == {"text": "u2"}
    assert (await alice_socket.ok("messages.conversations"))[0]["unread"] == 0  # own messages are read
    assert convs[0]["peerReadSeq"] == 0  # sending moves no read position: alice has read nothing
    await bob_socket.ok("messages.read", {"chatId": convs[0]["chatId"], "seq": 2})
    assert (await bob_socket.ok("messages.conversations"))[0]["unread"] == 1
    # alice's read receipts, as a client that restarts sees them: bob read up to seq 2
    assert (await alice_socket.ok("messages.conversations"))[0]["peerReadSeq"] == 2


async def test_a_conversation_whose_messages_were_all_deleted_has_no_last_message(
    connect: Connect, alice: User, bob: User
) -> None:
    (alice_socket,) = await devices(connect, alice, "phone")
    (bob_socket,) = await devices(connect, bob, "phone")
    sent = await alice_socket.ok("messages.send", text("gone", to=bob.pk))
    await bob_socket.ok("messages.delete", {"chatId": sent["chatId"], "messageIds": [sent["messageId"]]})
    (conv,) = await bob_socket.ok("messages.conversations")
    assert conv["lastMessage"] is None and conv["unread"] == 0
    assert conv["kind"] == "private" and conv["userIds"] == sorted([alice.pk, bob.pk]) and conv["ownerId"] is None
    assert (await alice_socket.ok("messages.conversations"))[0]["lastMessage"]["messageId"] == sent["messageId"]


async def test_read_receipt_goes_to_the_other_side(connect: Connect, alice: User, bob: User) -> None:
    (alice_socket,) = await devices(connect, alice, "phone")
    bob_phone, bob_pc = await devices(connect, bob, "phone", "pc")
    chat_id = (await alice_socket.ok("messages.send", text("read me", to=bob.pk)))["chatId"]
    assert await bob_phone.ok("messages.read", {"chatId": chat_id, "seq": 99}) == {"readSeq": 1}
    assert await alice_socket.push("messages.onRead") == {"chatId": chat_id, "uId": bob.pk, "seq": 1}
    assert (await bob_pc.push("messages.onRead"))["seq"] == 1  # bob's other device clears its badge
    assert await bob_phone.ok("messages.read", {"chatId": chat_id, "seq": 0}) == {"readSeq": 1}  # never back


async def test_recall_within_the_window(connect: Connect, alice: User, bob: User) -> None:
    (alice_socket,) = await devices(connect, alice, "phone")
    (bob_socket,) = await devices(connect, bob, "phone")
    sent = await alice_socket.ok("messages.send", text("oops", to=bob.pk))
    await bob_socket.push("onMessage")
    assert (await bob_socket.call("messages.recall", {"chatId": sent["chatId"], "messageId": sent["messageId"]}))[
        "code"] == 403  # not bob's message
    await alice_socket.ok("messages.recall", {"chatId": sent["chatId"], "messageId": sent["messageId"]})
    assert await bob_socket.push("messages.onRecall") == {"chatId": sent["chatId"], "messageId": sent["messageId"],
                                                          "seq": sent["seq"]}
    shown = (await bob_socket.ok("messages.history", {"chatId": sent["chatId"]}))["messages"][0]
    assert shown["recalled"] is True and shown["content"] == {}


async def test_recall_after_the_window_is_refused(connect: Connect, alice: User, bob: User) -> None:
    (alice_socket,) = await devices(connect, alice, "phone")
    sent = await alice_socket.ok("messages.send", text("old", to=bob.pk))
    await Message.objects.filter(pk=sent["messageId"]).aupdate(created_at=timezone.now() - timedelta(minutes=5))
    reply = await alice_socket.call("messages.recall", {"chatId": sent["chatId"], "messageId": sent["messageId"]})
    assert reply["code"] == 403 and "120 seconds" in reply["msg"]


async def test_delete_for_me_hides_only_for_me(connect: Connect, alice: User, bob: User) -> None:
    (alice_socket,) = await devices(connect, alice, "phone")
    (bob_socket,) = await devices(connect, bob, "phone")
    first = await alice_socket.ok("messages.send", text("keep", to=bob.pk))
    second = await alice_socket.ok("messages.send", text("drop", to=bob.pk))
    assert await alice_socket.ok("messages.delete", {"chatId": first["chatId"],
                                                     "messageIds": [second["messageId"]]}) == {"deleted": 1}
    mine = (await alice_socket.ok("messages.history", {"chatId": first["chatId"]}))["messages"]
    theirs = (await bob_socket.ok("messages.history", {"chatId": first["chatId"]}))["messages"]
    assert [m["messageId"] for m in mine] == [first["messageId"]]
    assert len(theirs) == 2


async def test_typing_is_pushed_to_the_others_only(connect: Connect, alice: User, bob: User) -> None:
    alice_phone, alice_pc = await devices(connect, alice, "phone", "pc")
    (bob_socket,) = await devices(connect, bob, "phone")
    chat_id = (await alice_phone.ok("messages.send", text("hey", to=bob.pk)))["chatId"]
    await bob_socket.push("onMessage")
    await alice_pc.push("onMessage")
    await alice_phone.ok("messages.typing", {"chatId": chat_id})
    assert await bob_socket.push("messages.onTyping") == {"chatId": chat_id, "uId": alice.pk}
    assert await alice_pc.nothing()


async def test_group_message_fans_out_to_every_member_device(connect: Connect, alice: User, bob: User,
                                                             charlie: User) -> None:
    (alice_socket,) = await devices(connect, alice, "phone")
    group = await alice_socket.ok("chats.create", {"title": "fans", "uIds": [bob.pk, charlie.pk]})
    assert group["chatId"] < 0
    bob_phone, bob_pc = await devices(connect, bob, "phone", "pc")
    (charlie_socket,) = await devices(connect, charlie, "phone")
    sent = await alice_socket.ok("messages.send", text("hello all", chatId=group["chatId"]))
    for socket in (bob_phone, bob_pc, charlie_socket):
        pushed = await socket.push("onMessage")
        assert pushed["messageId"] == sent["messageId"] and pushed["chatId"] == group["chatId"]
        assert await socket.nothing()


async def test_recall_rules_in_a_group(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    (owner,) = await devices(connect, alice, "phone")
    group = await owner.ok("chats.create", {"title": "rules", "uIds": [bob.pk, charlie.pk]})
    chat_id = group["chatId"]
    (admin,) = await devices(connect, bob, "phone")
    (member,) = await devices(connect, charlie, "phone")
    await owner.ok("chats.setAdmin", {"chatId": chat_id, "uId": bob.pk, "isAdmin": True})
    said = await member.ok("messages.send", text("spam", chatId=chat_id))
    boss = await owner.ok("messages.send", text("rule one", chatId=chat_id))
    history = await admin.ok("messages.history", {"chatId": chat_id})
    notice = next(m for m in history["messages"] if m["type"] == 10)

    def ref(message_id: int) -> dict[str, int]:
        return {"chatId": chat_id, "messageId": message_id}

    assert (await admin.call("messages.recall", ref(notice["messageId"])))["code"] == 403  # system notice
    assert (await admin.call("messages.recall", ref(boss["messageId"])))["code"] == 403  # the owner outranks
    assert (await member.call("messages.recall", ref(boss["messageId"])))["code"] == 403  # not theirs
    assert await admin.ok("messages.recall", ref(said["messageId"])) == {}  # an admin over a member


async def test_unread_ignores_deleted_and_recalled_messages(connect: Connect, alice: User, bob: User) -> None:
    (alice_socket,) = await devices(connect, alice, "phone")
    (bob_socket,) = await devices(connect, bob, "phone")
    first = await alice_socket.ok("messages.send", text("one", to=bob.pk))
    second = await alice_socket.ok("messages.send", text("two", to=bob.pk))
    await alice_socket.ok("messages.send", text("three", to=bob.pk))
    await bob_socket.ok("messages.delete", {"chatId": first["chatId"], "messageIds": [first["messageId"]]})
    await alice_socket.ok("messages.recall", {"chatId": first["chatId"], "messageId": second["messageId"]})
    assert (await bob_socket.ok("messages.conversations"))[0]["unread"] == 1


async def test_rights_changed_just_before_a_send_apply_to_it(connect: Connect, alice: User, bob: User) -> None:
    (owner,) = await devices(connect, alice, "phone")
    group = await owner.ok("chats.create", {"title": "fresh rules", "uIds": [bob.pk]})
    (member,) = await devices(connect, bob, "phone")
    assert (await member.call("messages.send", text("see https://a.example", chatId=group["chatId"])))["code"] == 200
    await owner.ok("chats.modifyBannedRightex", {"chatId": group["chatId"], "banSendWebLink": True})
    assert (await member.call("messages.send", text("see https://b.example", chatId=group["chatId"])))["code"] == 461


async def test_location_with_decimal_coordinates_round_trips(connect: Connect, alice: User, bob: User) -> None:
    """Socket JSON parses non-integers exactly (for money); free-form content must still be
    stored and pushed as ordinary numbers."""
    (alice_socket,) = await devices(connect, alice, "phone")
    (bob_socket,) = await devices(connect, bob, "phone")
    sent = await alice_socket.ok("messages.send", {"to": bob.pk, "type": 8,
                                                   "content": {"lat": 31.2304, "lng": 121.4737, "name": "Bund"}})
    pushed = await bob_socket.push("onMessage")
    assert pushed["content"] == {"lat": 31.2304, "lng": 121.4737, "name": "Bund"}
    # Stored as a JSON number and read back digit for digit (as Decimal, like money amounts).
    stored = await Message.objects.aget(pk=sent["messageId"])
    assert stored.content["lat"] == Decimal("31.2304")
    await bob_socket.send_raw(json.dumps({"id": 7, "method": "messages.history", "params": {"chatId": sent["chatId"]}}))
    assert '"content":{"lat":31.2304,"lng":121.4737,"name":"Bund"}' in await bob_socket.comm.receive_from(3)


async def test_relay_data_with_decimals_is_pushed_as_plain_numbers(connect: Connect, alice: User, bob: User) -> None:
    (alice_socket,) = await devices(connect, alice, "phone")
    (bob_socket,) = await devices(connect, bob, "phone")
    await alice_socket.ok("system.relayData", {"action": "pos", "to": [bob.pk], "data": {"x": 0.5, "n": 2}})
    assert (await bob_socket.push("on_event"))["data"] == {"x": 0.5, "n": 2}
