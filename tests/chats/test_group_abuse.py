"""Groups cannot be used around a blacklist or a user's invite privacy, group creation and
invitations are limited per user, and a kick sticks (the ban list) — over the native socket."""
from __future__ import annotations

import pytest
from django.test import override_settings

from accounts.models import Block, Friendship, User
from chats.models import ChatMember
from tests.chats import create_group, make_user, message_in, online, say
from tests.conftest import Connect

pytestmark = pytest.mark.django_db(transaction=True)


async def members(chat_id: int) -> set[int]:
    pk = -chat_id if chat_id < 0 else chat_id
    return {uid async for uid in ChatMember.objects.filter(chat_id=pk).values_list("user_id", flat=True)}


async def befriend(a: User, b: User) -> None:
    await Friendship.objects.abulk_create([Friendship(user=a, friend=b), Friendship(user=b, friend=a)])


# --- blacklists --------------------------------------------------------------------------------
async def test_a_blacklisted_user_cannot_put_the_victim_into_a_group_and_message_them(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    await Block.objects.acreate(user=bob, blocked=alice)  # bob blacklisted alice
    a, b = await online(connect, alice), await online(connect, bob)

    data = await a.ok("chats.create", {"title": "Trap", "uIds": [bob.pk, charlie.pk]})
    await say(a, data["chatId"], "hello bob")

    assert await members(data["chatId"]) == {alice.pk, charlie.pk}
    assert await b.nothing(0.5)  # neither the group's creation nor the message reached bob
    assert data["skipped"] == [bob.pk] and data["memberCount"] == 2
    assert (await a.call("chats.addMembers", {"chatId": data["chatId"], "uIds": [bob.pk]}))["data"] == {
        "added": [], "skipped": [bob.pk]}
    # A group member who is not blacklisted may still add bob.
    c = await online(connect, charlie)
    assert await c.ok("chats.addMembers", {"chatId": data["chatId"], "uIds": [bob.pk]}) == {
        "added": [bob.pk], "skipped": []}


async def test_the_actors_own_blacklist_also_keeps_the_user_out(
    connect: Connect, alice: User, bob: User
) -> None:
    await Block.objects.acreate(user=alice, blocked=bob)  # alice blacklisted bob
    a = await online(connect, alice)
    data = await a.ok("chats.create", {"title": "Team", "uIds": [bob.pk]})
    assert await members(data["chatId"]) == {alice.pk} and data["skipped"] == [bob.pk]


# --- invite privacy ------------------------------------------------------------------------------
async def test_invite_privacy_friends_and_nobody(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    await befriend(alice, bob)
    a, b, c = await online(connect, alice), await online(connect, bob), await online(connect, charlie)
    assert await b.ok("chats.invitePrivacy.get") == {"who": "anyone"}
    assert await b.ok("chats.invitePrivacy.set", {"who": "friends"}) == {"who": "friends"}

    by_stranger = await c.ok("chats.create", {"title": "Spam", "uIds": [bob.pk]})
    by_friend = await a.ok("chats.create", {"title": "Friends", "uIds": [bob.pk]})
    assert by_stranger["skipped"] == [bob.pk] and await members(by_stranger["chatId"]) == {charlie.pk}
    assert by_friend["skipped"] == [] and await members(by_friend["chatId"]) == {alice.pk, bob.pk}

    assert await b.ok("chats.invitePrivacy.set", {"who": "nobody"}) == {"who": "nobody"}
    group = await a.ok("chats.create", {"title": "Again", "uIds": [bob.pk, charlie.pk]})
    assert group["skipped"] == [bob.pk]
    # Joining by oneself stays possible.
    link = (await a.ok("chats.createInviteLink", {"chatId": group["chatId"]}))["token"]
    assert (await b.ok("chats.joinByLink", {"token": link}))["chatId"] == group["chatId"]
    assert (await b.call("chats.invitePrivacy.set", {"who": "everyone"}))["code"] == 422


# --- rate limits --------------------------------------------------------------------------------
@override_settings(GROUP_CREATE_PER_HOUR=3)
async def test_group_creation_is_limited_per_user(connect: Connect, alice: User, bob: User) -> None:
    a = await online(connect, alice)
    codes = [(await a.call("chats.create", {"title": f"g{n}"}))["code"] for n in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert (await (await online(connect, bob)).call("chats.create", {"title": "mine"}))["code"] == 200


@override_settings(GROUP_INVITES_PER_HOUR=3)
async def test_invitations_are_limited_per_user(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    dave = await make_user("dave", "13800000004")
    a = await online(connect, alice)
    chat_id = await create_group(a, bob, charlie)  # two invitations
    refused = await a.call("chats.addMembers", {"chatId": chat_id, "uIds": [dave.pk, 424242]})
    assert refused["code"] == 404  # unknown users are refused before anything is counted
    link = await a.call("chats.createInviteLink", {"chatId": chat_id})  # the third
    assert link["code"] == 200
    over = await a.call("chats.addMembers", {"chatId": chat_id, "uIds": [dave.pk]})
    assert over["code"] == 429 and dave.pk not in await members(chat_id)


# --- the ban list -----------------------------------------------------------------------------------
async def test_a_kicked_member_cannot_rejoin_until_unbanned(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    a, b, c = await online(connect, alice), await online(connect, bob), await online(connect, charlie)
    group = await create_group(a, bob, charlie)
    public = await create_group(a, bob, kind="supergroup")
    link = (await a.ok("chats.createInviteLink", {"chatId": group}))["token"]
    await a.ok("chats.kick", {"chatId": group, "uId": bob.pk})
    await a.ok("chats.kick", {"chatId": public, "uId": bob.pk})

    by_link = await b.call("chats.joinByLink", {"token": link})
    by_id = await b.call("chats.join", {"chatId": public})
    by_member = await c.ok("chats.addMembers", {"chatId": group, "uIds": [bob.pk]})
    assert by_link["code"] == 403 and "admin" in by_link["msg"]
    assert by_id["code"] == 403
    assert by_member == {"added": [], "skipped": [bob.pk]}
    assert bob.pk not in await members(group) and bob.pk not in await members(public)
    bans = await a.ok("chats.bans", {"chatId": group})
    assert [(ban["uId"], ban["bannedBy"]) for ban in bans] == [(bob.pk, alice.pk)]
    assert (await c.call("chats.bans", {"chatId": group}))["code"] == 403
    assert (await c.call("chats.unban", {"chatId": group, "uId": bob.pk}))["code"] == 403

    # An admin lifts the ban: bob may come back by himself.
    await a.ok("chats.unban", {"chatId": group, "uId": bob.pk})
    assert (await b.ok("chats.joinByLink", {"token": link}))["chatId"] == group
    assert await a.ok("chats.bans", {"chatId": group}) == []
    # An admin adding a banned user back lifts the ban too.
    assert await a.ok("chats.addMembers", {"chatId": public, "uIds": [bob.pk]}) == {"added": [bob.pk], "skipped": []}
    assert await a.ok("chats.bans", {"chatId": public}) == []
    await message_in(b, public, "join")
