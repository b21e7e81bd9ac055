"""Groups and super-groups over the socket: create, info, members, join, invite links, leave,
kick, mute, admins, ownership, and what a late joiner sees."""
from __future__ import annotations

import time
from typing import Any

import pytest

from accounts.models import User
from chats.models import Chat, ChatMember
from messaging.models import Message
from tests.chats import create_group, history, make_user, message_in, online, say, send, texts
from tests.conftest import Connect

pytestmark = pytest.mark.django_db(transaction=True)


async def info(client: Any, chat_id: int) -> dict[str, Any]:
    return dict(await client.ok("chats.info", {"chatId": chat_id}))


# --- create, info, members -------------------------------------------------------------------
async def test_create_group_has_negative_chat_id_and_members_get_the_create_message(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b, c = await online(connect, alice), await online(connect, bob), await online(connect, charlie)

    data = await a.ok("chats.create", {"title": "Team", "uIds": [charlie.pk, bob.pk], "memo": "hi"})

    assert data["chatId"] < 0
    assert (data["kind"], data["title"], data["memo"], data["ownerId"], data["memberCount"], data["role"]) == (
        "group", "Team", "hi", alice.pk, 3, "owner")
    chat = await Chat.objects.aget(pk=-data["chatId"])
    assert chat.kind == Chat.Kind.GROUP
    for client in (a, b, c):
        pushed = await message_in(client, data["chatId"])
        assert pushed["chatId"] == data["chatId"] and pushed["seq"] == 1
        assert pushed["from"] == alice.pk and pushed["type"] == 10
        assert pushed["content"] == {"op": "create", "title": "Team", "uIds": [alice.pk, bob.pk, charlie.pk]}


async def test_create_super_group_has_positive_chat_id(connect: Connect, alice: User, bob: User) -> None:
    a, b = await online(connect, alice), await online(connect, bob)

    data = await a.ok("chats.create", {"title": "Public", "kind": "supergroup", "uIds": [bob.pk]})

    assert data["chatId"] > 0 and data["kind"] == "supergroup"
    assert (await Chat.objects.aget(pk=data["chatId"])).kind == Chat.Kind.SUPERGROUP
    assert (await message_in(b, data["chatId"], "create"))["seq"] == 1


async def test_create_refuses_unknown_users_and_blank_titles(connect: Connect, alice: User, bob: User) -> None:
    a = await online(connect, alice)

    unknown = await a.call("chats.create", {"title": "Team", "uIds": [bob.pk, 999999]})
    blank = await a.call("chats.create", {"title": "   ", "uIds": [bob.pk]})

    assert unknown["code"] == 404 and "999999" in unknown["msg"]
    assert blank["code"] == 422
    assert await Chat.objects.acount() == 0
    assert await Message.objects.acount() == 0


async def test_info_and_members_for_a_member(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a, bob, charlie)

    seen = await info(b, chat_id)
    listed = await b.ok("chats.members", {"chatId": chat_id})
    page2 = await b.ok("chats.members", {"chatId": chat_id, "page": 2, "count": 2})

    assert (seen["chatId"], seen["role"], seen["ownerId"], seen["memberCount"], seen["mutedUntil"]) == (
        chat_id, "member", alice.pk, 3, None)
    assert seen["lastSeq"] == 1
    assert listed["chatId"] == chat_id and listed["total"] == 3
    assert [(m["uId"], m["role"]) for m in listed["members"]] == [
        (alice.pk, "owner"), (bob.pk, "member"), (charlie.pk, "member")]
    entry = listed["members"][1]
    assert entry["userName"] == "bob" and entry["mutedUntil"] is None and isinstance(entry["joinedAt"], int)
    assert [m["uId"] for m in page2["members"]] == [charlie.pk]


async def test_non_member_is_refused_with_403(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    a, c = await online(connect, alice), await online(connect, charlie)
    chat_id = await create_group(a, bob)

    for method in ("chats.info", "chats.members", "messages.history"):
        reply = await c.call(method, {"chatId": chat_id})
        assert reply["code"] == 403, (method, reply)
    assert (await send(c, chat_id, "let me in"))["code"] == 403
    assert await Message.objects.filter(sender=charlie).acount() == 0


async def test_unknown_chat_is_404(connect: Connect, alice: User, bob: User) -> None:
    a = await online(connect, alice)
    group_id = await create_group(a, bob)

    for chat_id in (-999999, 999999, 0, -group_id):  # -group_id: a normal group addressed with +id
        reply = await a.call("chats.info", {"chatId": chat_id})
        assert reply["code"] == 404, (chat_id, reply)
    assert (await a.call("messages.history", {"chatId": -999999}))["code"] == 404


# --- update ----------------------------------------------------------------------------------
async def test_update_by_admin_changes_the_group_and_posts_an_edit_message(
    connect: Connect, alice: User, bob: User
) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a, bob)

    data = await a.ok("chats.update", {"chatId": chat_id, "title": "Renamed", "memo": "rules"})

    assert (data["title"], data["memo"]) == ("Renamed", "rules")
    pushed = await message_in(b, chat_id, "edit")
    assert pushed["content"] == {"op": "edit", "title": "Renamed", "memo": "rules"}
    assert (await info(b, chat_id))["title"] == "Renamed"


async def test_update_by_ordinary_member_is_403_and_changes_nothing(
    connect: Connect, alice: User, bob: User
) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a, bob)

    reply = await b.call("chats.update", {"chatId": chat_id, "title": "Mine now"})

    assert reply["code"] == 403
    seen = await info(a, chat_id)
    assert seen["title"] == "Team" and seen["lastSeq"] == 1


# --- adding and joining -----------------------------------------------------------------------
async def test_any_member_adds_members_to_a_normal_group(
    connect: Connect, alice: User, bob: User
) -> None:
    dave = await make_user("dave", "13800000004")
    a, b, d = await online(connect, alice), await online(connect, bob), await online(connect, dave)
    chat_id = await create_group(a, bob)

    added = await b.ok("chats.addMembers", {"chatId": chat_id, "uIds": [dave.pk]})
    again = await b.ok("chats.addMembers", {"chatId": chat_id, "uIds": [dave.pk, alice.pk]})

    assert added == {"added": [dave.pk], "skipped": []} and again == {"added": [], "skipped": []}
    for client in (a, d):
        pushed = await message_in(client, chat_id, "join")
        assert pushed["content"] == {"op": "join", "uIds": [dave.pk]} and pushed["from"] == bob.pk
    assert (await info(d, chat_id))["memberCount"] == 3


async def test_add_members_to_unknown_user_is_404(connect: Connect, alice: User, bob: User) -> None:
    a = await online(connect, alice)
    chat_id = await create_group(a, bob)

    assert (await a.call("chats.addMembers", {"chatId": chat_id, "uIds": [999999]}))["code"] == 404
    assert (await info(a, chat_id))["memberCount"] == 2


async def test_only_admins_add_members_to_a_super_group(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a, bob, kind="supergroup")

    refused = await b.call("chats.addMembers", {"chatId": chat_id, "uIds": [charlie.pk]})
    await a.ok("chats.setAdmin", {"chatId": chat_id, "uId": bob.pk, "isAdmin": True})
    added = await b.ok("chats.addMembers", {"chatId": chat_id, "uIds": [charlie.pk]})

    assert refused["code"] == 403
    assert added == {"added": [charlie.pk], "skipped": []}


async def test_join_a_super_group_by_id(connect: Connect, alice: User, bob: User) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a, kind="supergroup")

    data = await b.ok("chats.join", {"chatId": chat_id})
    again = await b.call("chats.join", {"chatId": chat_id})

    assert (data["chatId"], data["role"], data["memberCount"]) == (chat_id, "member", 2)
    pushed = await message_in(a, chat_id, "join")
    assert pushed["content"] == {"op": "join", "uIds": [bob.pk]} and pushed["from"] == bob.pk
    assert again["code"] == 409


async def test_a_normal_group_cannot_be_joined_by_id(connect: Connect, alice: User, bob: User) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a)

    assert (await b.call("chats.join", {"chatId": chat_id}))["code"] == 403
    assert (await b.call("chats.info", {"chatId": chat_id}))["code"] == 403
    assert await ChatMember.objects.filter(user=bob).acount() == 0


# --- invite links -----------------------------------------------------------------------------
async def test_invite_link_lets_a_stranger_join_until_disabled(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    dave = await make_user("dave", "13800000004")
    a, b, c, d = [await online(connect, u) for u in (alice, bob, charlie, dave)]
    chat_id = await create_group(a, bob)

    token = (await b.ok("chats.createInviteLink", {"chatId": chat_id}))["token"]  # any member, normal group
    joined = await c.ok("chats.joinByLink", {"token": token})
    twice = await c.call("chats.joinByLink", {"token": token})
    member_disable = await b.call("chats.disableInviteLink", {"chatId": chat_id})
    await a.ok("chats.disableInviteLink", {"chatId": chat_id})
    after = await d.call("chats.joinByLink", {"token": token})

    assert (joined["chatId"], joined["role"]) == (chat_id, "member")
    assert (await message_in(a, chat_id, "join"))["content"] == {"op": "join", "uIds": [charlie.pk]}
    assert twice["code"] == 409
    assert member_disable["code"] == 403
    assert after["code"] == 404
    assert (await d.call("chats.info", {"chatId": chat_id}))["code"] == 403


async def test_a_new_invite_link_replaces_the_old_one(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b, c = await online(connect, alice), await online(connect, bob), await online(connect, charlie)
    chat_id = await create_group(a)

    old = (await a.ok("chats.createInviteLink", {"chatId": chat_id}))["token"]
    new = (await a.ok("chats.createInviteLink", {"chatId": chat_id}))["token"]

    assert old != new
    assert (await b.call("chats.joinByLink", {"token": old}))["code"] == 404
    assert (await c.ok("chats.joinByLink", {"token": new}))["chatId"] == chat_id
    assert (await b.call("chats.joinByLink", {"token": "no-such-token"}))["code"] == 404


async def test_only_admins_create_invite_links_of_a_super_group(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b, c = await online(connect, alice), await online(connect, bob), await online(connect, charlie)
    chat_id = await create_group(a, bob, kind="supergroup")

    assert (await b.call("chats.createInviteLink", {"chatId": chat_id}))["code"] == 403
    token = (await a.ok("chats.createInviteLink", {"chatId": chat_id}))["token"]
    assert (await c.ok("chats.joinByLink", {"token": token}))["chatId"] == chat_id


# --- leave ------------------------------------------------------------------------------------
async def test_a_member_leaves(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a, bob, charlie)

    assert await b.ok("chats.leave", {"chatId": chat_id}) == {}

    assert await b.push("chats.onRemoved") == {"chatId": chat_id, "op": "leave"}
    pushed = await message_in(a, chat_id, "leave")
    assert pushed["content"] == {"op": "leave", "uIds": [bob.pk]} and pushed["from"] == bob.pk
    assert (await b.call("chats.info", {"chatId": chat_id}))["code"] == 403
    assert (await info(a, chat_id))["memberCount"] == 2
    assert (await b.call("chats.leave", {"chatId": chat_id}))["code"] == 403


async def test_owner_leaving_hands_the_group_to_the_longest_serving_admin(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    dave = await make_user("dave", "13800000004")  # dave.pk > charlie.pk
    a, d = await online(connect, alice), await online(connect, dave)
    chat_id = await create_group(a, bob)  # bob: the longest-serving member, but no admin
    await a.ok("chats.addMembers", {"chatId": chat_id, "uIds": [dave.pk]})
    await a.ok("chats.addMembers", {"chatId": chat_id, "uIds": [charlie.pk]})
    await a.ok("chats.setAdmin", {"chatId": chat_id, "uId": charlie.pk, "isAdmin": True})
    await a.ok("chats.setAdmin", {"chatId": chat_id, "uId": dave.pk, "isAdmin": True})

    await a.ok("chats.leave", {"chatId": chat_id})

    assert await a.push("chats.onRemoved") == {"chatId": chat_id, "op": "leave"}
    pushed = await message_in(d, chat_id, "leave")
    assert pushed["content"] == {"op": "leave", "uIds": [alice.pk], "newOwner": dave.pk}
    seen = await info(d, chat_id)
    assert (seen["ownerId"], seen["role"], seen["memberCount"]) == (dave.pk, "owner", 3)
    roles = {m["uId"]: m["role"] for m in (await d.ok("chats.members", {"chatId": chat_id}))["members"]}
    assert roles == {dave.pk: "owner", charlie.pk: "admin", bob.pk: "member"}


async def test_owner_leaving_without_admins_hands_the_group_to_the_longest_serving_member(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a, charlie)
    await a.ok("chats.addMembers", {"chatId": chat_id, "uIds": [bob.pk]})  # bob.pk < charlie.pk, joined later

    await a.ok("chats.leave", {"chatId": chat_id})

    pushed = await message_in(b, chat_id, "leave")
    assert pushed["content"]["newOwner"] == charlie.pk
    assert (await info(b, chat_id))["ownerId"] == charlie.pk


async def test_leaving_a_private_chat_is_refused(connect: Connect, alice: User, bob: User) -> None:
    a = await online(connect, alice)
    sent = await a.ok("messages.send", {"to": bob.pk, "type": 1, "content": {"text": "hi"}})

    assert (await a.call("chats.leave", {"chatId": sent["chatId"]}))["code"] == 422
    assert (await info(a, sent["chatId"]))["kind"] == "private"


# --- kick -------------------------------------------------------------------------------------
async def test_kicked_member_is_told_and_gets_nothing_more_from_the_chat(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b, c = await online(connect, alice), await online(connect, bob), await online(connect, charlie)
    chat_id = await create_group(a, bob, charlie)

    assert await a.ok("chats.kick", {"chatId": chat_id, "uId": bob.pk}) == {}

    assert await b.push("chats.onRemoved") == {"chatId": chat_id, "op": "kick"}
    b.pending.clear()  # the removal is the last thing bob is told; earlier pushes are in pending
    pushed = await message_in(c, chat_id, "kick")
    assert pushed["content"] == {"op": "kick", "uIds": [bob.pk]} and pushed["from"] == alice.pk
    await say(a, chat_id, "bob is gone")
    assert texts([await message_in(c, chat_id)]) == ["bob is gone"]
    assert await b.nothing()
    refused = await send(b, chat_id, "still here?")
    assert refused["code"] == 403
    assert await Message.objects.filter(chat_id=-chat_id, sender=bob).acount() == 0
    assert (await b.call("messages.history", {"chatId": chat_id}))["code"] == 403
    assert (await info(a, chat_id))["memberCount"] == 2


async def test_ordinary_member_cannot_kick(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a, bob, charlie)

    assert (await b.call("chats.kick", {"chatId": chat_id, "uId": charlie.pk}))["code"] == 403
    assert (await info(a, chat_id))["memberCount"] == 3


async def test_admin_cannot_kick_the_owner_or_another_admin(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    dave = await make_user("dave", "13800000004")
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a, bob, charlie, dave)
    for uid in (bob.pk, charlie.pk):
        await a.ok("chats.setAdmin", {"chatId": chat_id, "uId": uid, "isAdmin": True})

    assert (await b.call("chats.kick", {"chatId": chat_id, "uId": alice.pk}))["code"] == 403
    assert (await b.call("chats.kick", {"chatId": chat_id, "uId": charlie.pk}))["code"] == 403
    assert await b.ok("chats.kick", {"chatId": chat_id, "uId": dave.pk}) == {}
    assert (await b.call("chats.kick", {"chatId": chat_id, "uId": dave.pk}))["code"] == 403  # no longer a member
    assert await a.ok("chats.kick", {"chatId": chat_id, "uId": charlie.pk}) == {}  # the owner may
    assert (await info(a, chat_id))["memberCount"] == 2


# --- mute -------------------------------------------------------------------------------------
async def test_muted_member_cannot_send_until_unmuted(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b, c = await online(connect, alice), await online(connect, bob), await online(connect, charlie)
    chat_id = await create_group(a, bob, charlie)

    before = int(time.time())
    assert await a.ok("chats.mute", {"chatId": chat_id, "uId": bob.pk, "seconds": 600}) == {}
    muted = await message_in(c, chat_id, "mute")
    assert muted["content"]["uIds"] == [bob.pk]
    assert before + 590 <= muted["content"]["until"] <= int(time.time()) + 610
    assert (await message_in(b, chat_id, "mute"))["content"] == muted["content"]
    assert (await info(b, chat_id))["mutedUntil"] == muted["content"]["until"]
    last_seq = (await info(a, chat_id))["lastSeq"]
    c.pending.clear()  # the mute is the last push charlie got

    refused = await send(b, chat_id, "can I speak?")

    assert refused["code"] == 460
    assert await Message.objects.filter(chat_id=-chat_id, sender=bob, type=1).acount() == 0
    assert (await info(a, chat_id))["lastSeq"] == last_seq  # no seq was spent
    assert "can I speak?" not in texts(await history(c, chat_id))
    assert await c.nothing()
    # other members still speak
    await say(c, chat_id, "charlie talks")

    await a.ok("chats.mute", {"chatId": chat_id, "uId": bob.pk, "seconds": 0})
    assert (await message_in(b, chat_id, "mute"))["content"] == {"op": "mute", "uIds": [bob.pk], "until": None}
    assert (await info(b, chat_id))["mutedUntil"] is None
    await say(b, chat_id, "thanks")
    assert texts(await history(a, chat_id)) == ["charlie talks", "thanks"]


async def test_mute_is_for_admins_and_only_over_lower_roles(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    dave = await make_user("dave", "13800000004")
    a, b, c = await online(connect, alice), await online(connect, bob), await online(connect, charlie)
    chat_id = await create_group(a, bob, charlie, dave)
    for uid in (bob.pk, charlie.pk):
        await a.ok("chats.setAdmin", {"chatId": chat_id, "uId": uid, "isAdmin": True})

    member_mutes = await (await online(connect, dave)).call(
        "chats.mute", {"chatId": chat_id, "uId": bob.pk, "seconds": 60})
    admin_mutes_admin = await b.call("chats.mute", {"chatId": chat_id, "uId": charlie.pk, "seconds": 60})
    admin_mutes_owner = await b.call("chats.mute", {"chatId": chat_id, "uId": alice.pk, "seconds": 60})

    assert member_mutes["code"] == admin_mutes_admin["code"] == admin_mutes_owner["code"] == 403
    await say(c, chat_id, "admins still talk")
    await say(a, chat_id, "so does the owner")
    assert await b.ok("chats.mute", {"chatId": chat_id, "uId": dave.pk, "seconds": 60}) == {}


async def test_a_muted_member_made_owner_can_speak(connect: Connect, alice: User, bob: User) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a, bob)
    await a.ok("chats.mute", {"chatId": chat_id, "uId": bob.pk, "seconds": 3600})

    await a.ok("chats.transferOwner", {"chatId": chat_id, "uId": bob.pk})

    assert (await info(b, chat_id))["role"] == "owner"
    assert (await send(b, chat_id, "the owner speaks"))["code"] == 200


async def test_leaving_and_rejoining_does_not_lift_a_mute(connect: Connect, alice: User, bob: User) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a, bob, kind="supergroup")
    await a.ok("chats.mute", {"chatId": chat_id, "uId": bob.pk, "seconds": 3600})

    await b.ok("chats.leave", {"chatId": chat_id})
    await b.ok("chats.join", {"chatId": chat_id})

    assert (await send(b, chat_id, "muted no more?"))["code"] == 460


# --- admins and ownership ---------------------------------------------------------------------
async def test_only_the_owner_appoints_and_removes_admins(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b, c = await online(connect, alice), await online(connect, bob), await online(connect, charlie)
    chat_id = await create_group(a, bob, charlie)

    assert (await b.call("chats.setAdmin", {"chatId": chat_id, "uId": charlie.pk, "isAdmin": True}))["code"] == 403
    assert await a.ok("chats.setAdmin", {"chatId": chat_id, "uId": bob.pk, "isAdmin": True}) == {}
    assert (await message_in(c, chat_id, "admin"))["content"] == {"op": "admin", "uIds": [bob.pk]}
    assert (await info(b, chat_id))["role"] == "admin"
    # an admin cannot appoint admins either
    assert (await b.call("chats.setAdmin", {"chatId": chat_id, "uId": charlie.pk, "isAdmin": True}))["code"] == 403
    assert (await info(c, chat_id))["role"] == "member"

    await a.ok("chats.setAdmin", {"chatId": chat_id, "uId": bob.pk, "isAdmin": False})
    assert (await message_in(c, chat_id, "unadmin"))["content"] == {"op": "unadmin", "uIds": [bob.pk]}
    assert (await info(b, chat_id))["role"] == "member"


async def test_transfer_owner_makes_the_old_owner_an_admin(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b, c = await online(connect, alice), await online(connect, bob), await online(connect, charlie)
    chat_id = await create_group(a, bob, charlie)

    assert (await b.call("chats.transferOwner", {"chatId": chat_id, "uId": bob.pk}))["code"] == 403
    assert await a.ok("chats.transferOwner", {"chatId": chat_id, "uId": bob.pk}) == {}

    assert (await message_in(c, chat_id, "owner"))["content"] == {"op": "owner", "uIds": [bob.pk]}
    seen = await info(c, chat_id)
    assert seen["ownerId"] == bob.pk
    roles = {m["uId"]: m["role"] for m in (await c.ok("chats.members", {"chatId": chat_id}))["members"]}
    assert roles == {alice.pk: "admin", bob.pk: "owner", charlie.pk: "member"}
    # the old owner lost the owner's rights, the new owner has them
    assert (await a.call("chats.transferOwner", {"chatId": chat_id, "uId": charlie.pk}))["code"] == 403
    assert (await a.call("chats.setAdmin", {"chatId": chat_id, "uId": charlie.pk, "isAdmin": True}))["code"] == 403
    assert await b.ok("chats.setAdmin", {"chatId": chat_id, "uId": charlie.pk, "isAdmin": True}) == {}


async def test_transfer_owner_to_a_non_member_is_refused(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a = await online(connect, alice)
    chat_id = await create_group(a, bob)

    assert (await a.call("chats.transferOwner", {"chatId": chat_id, "uId": charlie.pk}))["code"] == 403
    assert (await info(a, chat_id))["ownerId"] == alice.pk


# --- what a late joiner sees ------------------------------------------------------------------
async def test_a_late_joiner_does_not_see_messages_from_before_the_join(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b, c = await online(connect, alice), await online(connect, bob), await online(connect, charlie)
    chat_id = await create_group(a, bob)
    await say(a, chat_id, "before charlie")
    await say(b, chat_id, "also before")

    await a.ok("chats.addMembers", {"chatId": chat_id, "uIds": [charlie.pk]})
    await say(b, chat_id, "welcome charlie")

    seen = await history(c, chat_id)
    assert [(m["type"], m["content"].get("op") or m["content"].get("text")) for m in seen] == [
        (10, "join"), (1, "welcome charlie")]
    assert seen[0]["seq"] == 4
    synced = await c.ok("messages.sync", {})
    (entry,) = [e for e in synced["chats"] if e["chatId"] == chat_id]
    assert [m["seq"] for m in entry["messages"]] == [4, 5]
    # even when the client asks from the very start
    synced = await c.ok("messages.sync", {"positions": {str(chat_id): 0}})
    (entry,) = [e for e in synced["chats"] if e["chatId"] == chat_id]
    assert [m["seq"] for m in entry["messages"]] == [4, 5]
    assert texts(await history(b, chat_id)) == ["before charlie", "also before", "welcome charlie"]


async def test_a_super_group_joiner_does_not_see_earlier_messages(
    connect: Connect, alice: User, bob: User
) -> None:
    a, b = await online(connect, alice), await online(connect, bob)
    chat_id = await create_group(a, kind="supergroup")
    await say(a, chat_id, "secret plans")

    await b.ok("chats.join", {"chatId": chat_id})

    assert texts(await history(b, chat_id)) == []
    assert [m["content"]["op"] for m in await history(b, chat_id)] == ["join"]
