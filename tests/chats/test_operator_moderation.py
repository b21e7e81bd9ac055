"""Operators moderate chats from the console (/admin/): find and read a chat's messages, recall
and delete them, mute, unmute and remove members, dissolve a group. Driven through the admin's own
URLs as a superuser; what members see is checked on their sockets."""
from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.admin.models import LogEntry
from django.test import Client

from accounts.models import User
from chats.models import Chat, ChatMember
from chats.services import group_create
from messaging.models import Message
from messaging.services import message_send
from tests.chats import create_group, history, message_in, online, say, send
from tests.conftest import Connect, SocketClient, atoken_for
from tests.core.test_admin_pages import operator

MESSAGES = "/admin/messaging/message/"
MEMBERS = "/admin/chats/chatmember/"


def text_in(user: User, chat: Chat, text: str) -> Message:
    return message_send(sender=user, type_=1, content={"text": text}, chat_wire_id=chat.wire_id)[0]


def logged(obj: Any) -> list[str]:
    """The admin log's messages about ``obj``, by the operator ``root``."""
    return list(LogEntry.objects.filter(object_id=str(obj.pk), user__username="root",
                                        content_type__model=obj._meta.model_name)
                .values_list("change_message", flat=True))


async def act(client: Client, url: str, action: str, pks: list[int], **extra: Any) -> Any:
    return await sync_to_async(client.post)(url, {"action": action, "_selected_action": pks, **extra})


CONFIRMED = {"post": "yes"}  # the confirmation page's submit, with ``reason``
CHATS = "/admin/chats/chat/"


async def group_of_three(connect: Connect, alice: User, bob: User,
                         charlie: User) -> tuple[SocketClient, SocketClient, SocketClient, int, Client]:
    """alice owns a group with bob and charlie, all online; the set-up's pushes are dropped."""
    a, b, c = await online(connect, alice), await online(connect, bob), await online(connect, charlie)
    chat_id = await create_group(a, bob, charlie)
    for client in (a, b, c):
        await message_in(client, chat_id, "create")
        client.pending.clear()
    return a, b, c, chat_id, await sync_to_async(operator)()


# --- finding and reading messages -------------------------------------------------------------
@pytest.mark.django_db
def test_messages_of_one_chat_and_search_by_text_and_sender(alice: User, bob: User, charlie: User) -> None:
    team = group_create(owner=alice, title="Team", member_ids=[bob.pk])
    other = group_create(owner=charlie, title="Other", member_ids=[bob.pk])
    text_in(alice, team, "lunch at noon")
    text_in(bob, team, "the needle is here")
    text_in(charlie, other, "elsewhere entirely")
    client = operator()

    chat_page = client.get(f"/admin/chats/chat/{team.pk}/change/").content.decode()
    assert f"{MESSAGES}?chat={team.pk}" in chat_page  # the way from a chat to its messages
    listed = client.get(MESSAGES, {"chat": team.pk}).content.decode()
    assert "lunch at noon" in listed and "the needle is here" in listed
    assert "elsewhere entirely" not in listed

    found = client.get(MESSAGES, {"q": "NEEDLE"}).content.decode()
    assert "the needle is here" in found and "lunch at noon" not in found and "elsewhere" not in found
    by_sender = client.get(MESSAGES, {"q": charlie.username}).content.decode()
    assert "elsewhere entirely" in by_sender and "lunch at noon" not in by_sender


@pytest.mark.django_db
def test_a_message_reads_with_its_content_and_cannot_be_changed(alice: User, bob: User) -> None:
    team = group_create(owner=alice, title="Team", member_ids=[bob.pk])
    msg = text_in(bob, team, "read me")
    client = operator()
    page = client.get(f"{MESSAGES}{msg.pk}/change/")
    assert page.status_code == 200
    assert '&quot;text&quot;: &quot;read me&quot;' in page.content.decode()  # the JSON, indented
    assert client.get(f"{MESSAGES}add/").status_code == 403
    assert client.post(f"{MESSAGES}{msg.pk}/change/", {"content": "{}"}).status_code == 403
    msg.refresh_from_db()
    assert msg.content == {"text": "read me"}


# --- recall and delete ------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
async def test_operator_recall_reaches_every_member(connect: Connect, alice: User, bob: User,
                                                    charlie: User) -> None:
    a, b, c, chat_id, client = await group_of_three(connect, alice, bob, charlie)
    sent = await say(b, chat_id, "rude words")
    await message_in(a, chat_id)
    await message_in(c, chat_id)

    asked = await act(client, MESSAGES, "recall", [sent["messageId"]])
    assert asked.status_code == 200 and "Yes, recall them" in asked.content.decode()
    assert await a.nothing()  # not yet
    page = await act(client, MESSAGES, "recall", [sent["messageId"]], **CONFIRMED, reason="insults")
    assert page.status_code == 302

    expected = {"chatId": chat_id, "messageId": sent["messageId"], "seq": sent["seq"]}
    for member in (a, b, c):  # the same push as a sender's own recall
        assert await member.push("messages.onRecall") == expected
    shown = next(m for m in await history(c, chat_id) if m["messageId"] == sent["messageId"])
    assert shown["recalled"] is True and shown["content"] == {}
    msg = await Message.objects.aget(pk=sent["messageId"])
    assert await sync_to_async(logged)(msg) == [f"recalled (chat {chat_id}, seq {sent['seq']}). Reason: insults"]

    # a second recall changes nothing and pushes nothing
    assert (await act(client, MESSAGES, "recall", [sent["messageId"]], **CONFIRMED,
                      reason="again")).status_code == 302
    assert await a.nothing()


@pytest.mark.django_db(transaction=True)
async def test_operator_cannot_recall_a_system_message(connect: Connect, alice: User, bob: User,
                                                       charlie: User) -> None:
    a, _, _, chat_id, client = await group_of_three(connect, alice, bob, charlie)
    notice = await Message.objects.aget(chat_id=-chat_id, seq=1)  # the "create" message
    page = await act(client, MESSAGES, "recall", [notice.pk], **CONFIRMED, reason="clean up")
    assert page.status_code == 302
    await notice.arefresh_from_db()
    assert notice.recalled_at is None
    assert await a.nothing()


@pytest.mark.django_db(transaction=True)
async def test_operator_delete_asks_then_recalls_and_erases_the_text(connect: Connect, alice: User, bob: User,
                                                                     charlie: User) -> None:
    a, b, c, chat_id, client = await group_of_three(connect, alice, bob, charlie)
    sent = await say(b, chat_id, "my secret phone number")

    asked = await act(client, MESSAGES, "erase", [sent["messageId"]])
    assert asked.status_code == 200 and "Yes, delete them" in asked.content.decode()
    assert (await Message.objects.aget(pk=sent["messageId"])).recalled_at is None  # not yet

    blank = await act(client, MESSAGES, "erase", [sent["messageId"]], **CONFIRMED, reason=" ")
    assert blank.status_code == 200 and "This field is required." in blank.content.decode()
    assert (await Message.objects.aget(pk=sent["messageId"])).recalled_at is None

    done = await act(client, MESSAGES, "erase", [sent["messageId"]], **CONFIRMED, reason="personal data")
    assert done.status_code == 302
    for member in (a, b, c):
        assert (await member.push("messages.onRecall"))["messageId"] == sent["messageId"]
    msg = await Message.objects.aget(pk=sent["messageId"])
    assert msg.recalled_at is not None and msg.content == {}  # gone from storage, the row (and seq) kept
    assert await Message.objects.filter(content__text__icontains="phone number").aexists() is False
    assert (await sync_to_async(client.get)(MESSAGES, {"chat": -chat_id})).content.decode().count("(deleted)") == 1
    [entry] = await sync_to_async(logged)(msg)
    assert entry.startswith("deleted") and entry.endswith(". Reason: personal data")


# --- members ----------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
async def test_operator_mute_and_unmute(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    a, b, c, chat_id, client = await group_of_three(connect, alice, bob, charlie)
    member = await ChatMember.objects.aget(chat_id=-chat_id, user=bob)

    members_page = (await sync_to_async(client.get)(MEMBERS, {"chat": -chat_id})).content.decode()
    assert bob.username in members_page and charlie.username in members_page

    assert (await act(client, MEMBERS, "mute", [member.pk], minutes="10")).status_code == 302
    for watcher in (a, c):
        notice = await message_in(watcher, chat_id, "mute")
        assert notice["from"] is None and notice["content"]["uIds"] == [bob.pk]
        assert notice["content"]["until"] > 0
    assert (await send(b, chat_id, {"text": "let me speak"}))["code"] == 460

    assert (await act(client, MEMBERS, "unmute", [member.pk])).status_code == 302
    assert (await message_in(a, chat_id, "mute"))["content"]["until"] is None
    await say(b, chat_id, "thanks")
    chat = await Chat.objects.aget(pk=-chat_id)
    assert [m.split(" (")[0] for m in await sync_to_async(logged)(chat)] == [
        f"lifted the mute of {bob.username}", f"muted {bob.username}"]  # newest first


@pytest.mark.django_db(transaction=True)
async def test_operator_mute_refuses_an_admin_and_a_bad_duration(connect: Connect, alice: User, bob: User,
                                                                 charlie: User) -> None:
    a, _, _, chat_id, client = await group_of_three(connect, alice, bob, charlie)
    owner = await ChatMember.objects.aget(chat_id=-chat_id, user=alice)
    page = await act(client, MEMBERS, "mute", [owner.pk], minutes="10")
    assert page.status_code == 302
    follow = (await sync_to_async(client.get)(MEMBERS)).content.decode()
    assert "owners and admins are never muted" in follow
    bob_row = await ChatMember.objects.aget(chat_id=-chat_id, user=bob)
    await act(client, MEMBERS, "mute", [bob_row.pk], minutes="0")
    await bob_row.arefresh_from_db()
    assert bob_row.muted_until is None
    assert await a.nothing()


@pytest.mark.django_db(transaction=True)
async def test_operator_kick_removes_and_bans(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    a, b, c, chat_id, client = await group_of_three(connect, alice, bob, charlie)
    member = await ChatMember.objects.aget(chat_id=-chat_id, user=bob)

    asked = await act(client, MEMBERS, "kick", [member.pk])
    assert asked.status_code == 200 and "Yes, remove them" in asked.content.decode()
    assert await ChatMember.objects.filter(pk=member.pk).aexists()

    assert (await act(client, MEMBERS, "kick", [member.pk], **CONFIRMED, reason="spam")).status_code == 302
    assert await b.push("chats.onRemoved") == {"chatId": chat_id, "op": "kick"}
    for watcher in (a, c):
        notice = await message_in(watcher, chat_id, "kick")
        assert notice["from"] is None and notice["content"]["uIds"] == [bob.pk]
    assert (await send(b, chat_id, {"text": "still here?"}))["code"] == 403
    bans = await a.ok("chats.bans", {"chatId": chat_id})
    assert [(ban["uId"], ban["bannedBy"]) for ban in bans] == [(bob.pk, None)]
    chat = await Chat.objects.aget(pk=-chat_id)
    assert chat.member_count == 2
    [entry] = await sync_to_async(logged)(chat)
    assert entry == f"removed {bob.username} (user {bob.pk}). Reason: spam"


# --- dissolving a group -----------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
async def test_operator_dissolves_a_group(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    a, b, c, chat_id, client = await group_of_three(connect, alice, bob, charlie)
    await say(b, chat_id, "before the end")
    for watcher in (a, c):
        await message_in(watcher, chat_id)
    # the chat's page posts it to the list's action, which asks for a reason
    change_page = (await sync_to_async(client.get)(f"{CHATS}{-chat_id}/change/")).content.decode()
    assert f'formaction="{CHATS}" name="action" value="dissolve"' in change_page
    assert f'name="_selected_action" value="{-chat_id}"' in change_page

    asked = await act(client, CHATS, "dissolve", [-chat_id])
    assert asked.status_code == 200 and "Yes, dissolve the group" in asked.content.decode()
    blank = await act(client, CHATS, "dissolve", [-chat_id], **CONFIRMED, reason="")
    assert blank.status_code == 200 and "This field is required." in blank.content.decode()
    assert (await Chat.objects.aget(pk=-chat_id)).dissolved_at is None

    assert (await act(client, CHATS, "dissolve", [-chat_id], **CONFIRMED, reason="scam ring")).status_code == 302
    for member in (a, b, c):
        assert (await message_in(member, chat_id, "dissolve"))["from"] is None
        assert await member.push("chats.onDissolved") == {"chatId": chat_id, "isChannel": False}

    for member in (a, b):
        reply = await send(member, chat_id, {"text": "hello?"})
        assert reply["code"] == 410 and "dissolved" in reply["msg"]
    assert (await c.call("chats.info", {"chatId": chat_id}))["code"] == 410
    assert (await c.call("chats.addMembers", {"chatId": chat_id, "uIds": [alice.pk]}))["code"] == 410
    assert chat_id not in [conv["chatId"] for conv in await a.ok("messages.conversations", {})]
    assert (await a.ok("messages.sync", {}))["chats"] == []
    chat = await Chat.objects.aget(pk=-chat_id)
    assert chat.member_count == 0 and chat.dissolved_at is not None
    assert await Message.objects.filter(chat=chat, content__text="before the end").aexists()  # history kept
    assert await sync_to_async(logged)(chat) == ["dissolved the group (3 members removed). Reason: scam ring"]

    again = await sync_to_async(client.post)(CHATS, {"action": "dissolve", "_selected_action": [-chat_id],
                                                     **CONFIRMED, "reason": "again"}, follow=True)
    assert "None of the selected chats is a group that is not dissolved." in again.content.decode()
    assert await a.nothing()


@pytest.mark.django_db(transaction=True)
async def test_a_dissolved_super_group_cannot_be_joined_on_any_protocol(connect: Connect, alice: User,
                                                                        bob: User, charlie: User) -> None:
    a = await online(connect, alice)
    chat_id = await create_group(a, bob, kind="supergroup")
    client = await sync_to_async(operator)()
    assert (await act(client, CHATS, "dissolve", [chat_id], **CONFIRMED, reason="spam")).status_code == 302
    c = await online(connect, charlie)
    assert (await c.call("chats.join", {"chatId": chat_id}))["code"] == 410


    im = await sync_to_async(Client().post)("/im/group_join", {"session_key": await atoken_for(charlie),
                                                               "group_id": str(chat_id)})
    assert im.json()["status"] == 4
    assert not await ChatMember.objects.filter(chat_id=chat_id).aexists()


@pytest.mark.django_db(transaction=True)
async def test_the_bridges_cannot_send_to_a_dissolved_group(connect: Connect, settings: Any) -> None:
    from tests.hxbridge.conftest import CLIENT_ID, CLIENT_SECRET
    from tests.hxbridge.test_groups import SEED_GROUP_SEND, members_and_group

    settings.HX_CLIENT_ID, settings.HX_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET

    api, users, group = await members_and_group(connect)
    client = await sync_to_async(operator)()
    assert (await act(client, CHATS, "dissolve", [-group["chatId"]], **CONFIRMED,
                      reason="spam")).status_code == 302
    target = str(group["chatId"])
    sent = await api.ok("sendMessages", {**SEED_GROUP_SEND, "target": [target]})
    assert sent["data"] == {target: "this group was dissolved"}
    jim_member = users["sockets"]["u3"]
    await jim_member.send_raw(json.dumps({"cmd": 11, "chatType": 1, "groupId": target, "msgType": 0,
                                          "content": "anyone?", "from": f"uid:{users['logins']['u3'][0]}"}))
    while "cmd" in (reply := await jim_member.frame()):
        pass  # pushes before the reply
    assert reply["msg"].endswith("this group was dissolved") and reply["code"] != 10000
    assert not await Message.objects.filter(chat_id=-group["chatId"], content__text="anyone?").aexists()
