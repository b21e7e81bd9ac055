"""addFriends, getFriends, getUserStatus and offlineMsgCount: the seed's requests, acting on the
same friends, blacklists, presence and unread messages the native protocol sees."""
from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from accounts.models import Block, Friendship, User
from tests.conftest import Connect, atoken_for
from tests.hxbridge.conftest import AHx, Hx, aapi

pytestmark = pytest.mark.django_db


async def alogin(username: str, password: str) -> str:
    reply = await AsyncClient().post("/api/v1/auth/login", {"username": username, "password": password},
                                     content_type="application/json")
    assert reply.status_code == 200, reply.content
    return str(reply.json()["token"])


async def seed_users(api: AHx, *names: str) -> None:
    data = await api.ok("registerUser", {"users": [{"username": n, "password": "123456"} for n in names]})
    assert [e["username"] for e in data["entities"]] == list(names)


# --- addFriends / getFriends --------------------------------------------------------------------
async def test_add_friends_with_the_seed_request_is_seen_natively(connect: Connect) -> None:
    api = await aapi()
    await seed_users(api, "u3", "u2", "jliu", "u1")
    u1 = await connect(await alogin("u1", "123456"))
    u3 = await connect(await alogin("u3", "123456"))
    data = await api.ok("addFriends", {"owner_username": "u1", "friend_username": "u3", "type": "post"})
    owner_uuid = (await api.ok("getUser", {"username": "u1"}))["entities"][0]["uuid"]
    assert data["path"] == f"/users/{owner_uuid}/contacts" and data["action"] == "post"
    assert [e["username"] for e in data["entities"]] == ["u3"]
    assert {"application", "organization", "applicationName", "uri", "duration", "timestamp"} <= set(data)
    # both sides were told, as by the native friends.add
    assert (await u1.push("friends.onAdded"))["userName"] == "u3"
    assert (await u3.push("friends.onAdded"))["userName"] == "u1"
    for friend in ("u2", "jliu"):
        await api.ok("addFriends", {"owner_username": "u1", "friend_username": friend, "type": "post"})
    listed = await api.ok("getFriends", {"owner_username": "u1", "type": "contacts"})
    assert listed["data"] == ["u3", "u2", "jliu"]  # the seed's answer
    assert (listed["entities"], listed["count"], listed["action"]) == ([], 3, "get")
    assert list(listed) == ["duration", "data", "entities", "count", "action", "uri", "timestamp"]
    assert [f["userName"] for f in await u1.ok("friends.list")] == ["u3", "u2", "jliu"]
    assert [f["userName"] for f in await u3.ok("friends.list")] == ["u1"]


async def test_delete_friends_is_seen_natively(connect: Connect, alice: User, bob: User) -> None:
    alice_socket = await connect(await atoken_for(alice))
    await User.objects.filter(pk=bob.pk).aupdate(friend_policy=User.FriendPolicy.ANYONE)  # no approval needed
    assert (await alice_socket.ok("friends.add", {"uId": bob.pk}))["pending"] is False
    api = await aapi()
    assert (await api.ok("getFriends", {"owner_username": "bob"}))["data"] == ["alice"]  # type defaults to contacts
    data = await api.ok("addFriends", {"owner_username": "alice", "friend_username": "bob", "type": "delete"})
    assert data["action"] == "delete" and data["entities"][0]["username"] == "bob"
    assert await alice_socket.push("friends.onRemoved") == {"uId": bob.pk}
    assert await alice_socket.ok("friends.list") == []
    assert not await Friendship.objects.aexists()


def test_add_friends_is_an_operators_act_that_needs_no_approval(api: Hx, alice: User, bob: User) -> None:
    """Users ask each other (friend requests); the back office adds friends directly, whatever
    the friend's friendAdd setting says."""
    User.objects.filter(pk=bob.pk).update(friend_policy=User.FriendPolicy.NOBODY)
    api.ok("addFriends", {"owner_username": "alice", "friend_username": "bob", "type": "post"})
    assert api.ok("getFriends", {"owner_username": "bob"})["data"] == ["alice"]


def test_add_and_delete_are_idempotent(api: Hx, alice: User, bob: User) -> None:
    for _ in range(2):
        api.ok("addFriends", {"owner_username": "alice", "friend_username": "bob", "type": "post"})
    assert Friendship.objects.count() == 2  # both directions, once
    api.ok("addFriends", {"owner_username": "bob", "friend_username": "alice", "type": "POST"})
    for _ in range(2):
        api.ok("addFriends", {"owner_username": "bob", "friend_username": "alice", "type": "delete"})
    assert not Friendship.objects.exists()


@pytest.mark.parametrize(("body", "code", "error", "message"), [
    ({"owner_username": "alice", "friend_username": "nobody", "type": "post"}, 404, "service_resource_not_found",
     "no such user: nobody"),
    ({"owner_username": "nobody", "friend_username": "bob", "type": "delete"}, 404, "service_resource_not_found",
     "no such user: nobody"),
    ({"owner_username": "alice", "friend_username": "alice", "type": "post"}, 400, "illegal_argument",
     "you cannot do that to yourself"),
    ({"owner_username": "alice", "friend_username": "alice", "type": "delete"}, 400, "illegal_argument",
     "you cannot do that to yourself"),
    ({"owner_username": "alice", "friend_username": "bob", "type": "put"}, 400, "illegal_argument",
     'type must be "post"'),
    ({"owner_username": "alice", "friend_username": "bob"}, 400, "illegal_argument", "type is required"),
    ({"friend_username": "bob", "type": "post"}, 400, "illegal_argument", "owner_username is required"),
    ({"owner_username": "alice", "friend_username": "charlie", "type": "post"}, 403, "forbidden_op",
     "you are on this user's blacklist"),
    ({"owner_username": "charlie", "friend_username": "alice", "type": "post"}, 403, "forbidden_op",
     "remove this user from your blacklist first"),
    ({"owner_username": "alice", "friend_username": "gone", "type": "post"}, 404, "service_resource_not_found",
     "no such user: gone"),
])
def test_add_friends_refusals(api: Hx, alice: User, bob: User, charlie: User, body: dict[str, Any], code: int,
                              error: str, message: str) -> None:
    from tests.accounts.factories import make_user

    make_user(username="gone", is_active=False)
    Block.objects.create(user=charlie, blocked=alice)
    reply = api("addFriends", body)
    assert reply["code"] == code and reply["data"]["error"] == error and message in reply["message"], reply
    assert not Friendship.objects.exists()


async def test_get_blocks_matches_the_native_blacklist(connect: Connect, alice: User, bob: User,
                                                       charlie: User) -> None:
    alice_socket = await connect(await atoken_for(alice))
    await alice_socket.ok("users.blacklist.add", {"uId": charlie.pk})
    await alice_socket.ok("users.blacklist.add", {"uId": bob.pk})
    api = await aapi()
    blocks = await api.ok("getFriends", {"owner_username": "alice", "type": "blocks"})
    native = [u["userName"] for u in await alice_socket.ok("users.blacklist.list")]
    assert blocks["data"] == native == ["bob", "charlie"] and blocks["count"] == 2
    assert (await api.ok("getFriends", {"owner_username": "alice", "type": "contacts"}))["data"] == []
    bad = await api("getFriends", {"owner_username": "alice", "type": "groups"})
    assert bad["code"] == 400 and 'type must be "contacts"' in bad["message"]
    missing = await api("getFriends", {"owner_username": "nobody", "type": "blocks"})
    assert missing["code"] == 404


# --- getUserStatus --------------------------------------------------------------------------------
async def test_user_status_follows_the_users_sockets(connect: Connect) -> None:
    api = await aapi()
    await seed_users(api, "u1")
    data = await api.ok("getUserStatus", {"username": "u1"})
    assert data["data"] == {"u1": "offline"}  # the seed's answer
    assert list(data) == ["duration", "data", "entities", "count", "action", "uri", "timestamp"]
    assert (data["entities"], data["count"], data["action"]) == ([], 0, "get")
    phone = await connect(await alogin("u1", "123456"))
    pc = await connect(await alogin("u1", "123456"))
    assert (await api.ok("getUserStatus", {"username": "U1"}))["data"] == {"U1": "online"}  # keyed as asked
    await phone.comm.disconnect()
    assert (await api.ok("getUserStatus", {"username": "u1"}))["data"] == {"u1": "online"}  # the pc is still on
    await pc.comm.disconnect()
    assert (await api.ok("getUserStatus", {"username": "u1"}))["data"] == {"u1": "offline"}
    missing = await api("getUserStatus", {"username": "nobody"})
    assert missing["code"] == 404 and missing["message"] == "no such user: nobody"
    assert (await api("getUserStatus", {}))["code"] == 400


# --- offlineMsgCount --------------------------------------------------------------------------------
async def test_offline_message_count_is_the_unread_count_of_conversations(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    api = await aapi()
    data = await api.ok("offlineMsgCount", {"owner_username": "bob"})
    assert data["data"] == {"bob": 0}  # the seed's answer for a user with nothing waiting
    assert list(data) == ["duration", "data", "entities", "count", "action", "uri", "timestamp"]
    alice_socket, charlie_socket = (await connect(await atoken_for(alice)), await connect(await atoken_for(charlie)))
    bob_socket = await connect(await atoken_for(bob))
    sent = [await alice_socket.ok("messages.send", {"to": bob.pk, "type": 1, "content": f"a{i}"}) for i in range(3)]
    await charlie_socket.ok("messages.send", {"to": bob.pk, "type": 1, "content": "from charlie"})
    await bob_socket.ok("messages.send", {"to": alice.pk, "type": 1, "content": "own messages never count"})
    group = await alice_socket.ok("chats.create", {"title": "trip", "uIds": [bob.pk]})  # a system message: no count
    await alice_socket.ok("messages.send", {"chatId": group["chatId"], "type": 1, "content": "in the group"})
    await alice_socket.ok("messages.recall", {"chatId": sent[2]["chatId"], "messageId": sent[2]["messageId"]})

    async def count() -> int:
        return int((await api.ok("offlineMsgCount", {"owner_username": "bob"}))["data"]["bob"])

    conversations = await bob_socket.ok("messages.conversations")
    assert await count() == sum(c["unread"] for c in conversations) == 2 + 1 + 1
    await bob_socket.ok("messages.read", {"chatId": sent[0]["chatId"], "seq": sent[1]["seq"]})
    assert await count() == 2
    await bob_socket.ok("messages.delete", {"chatId": group["chatId"], "messageIds": [
        (await bob_socket.ok("messages.history", {"chatId": group["chatId"]}))["messages"][-1]["messageId"]]})
    assert await count() == 1
    missing = await api("offlineMsgCount", {"owner_username": "nobody"})
    assert missing["code"] == 404


async def test_form_encoded_status_request(connect: Connect, bob: User) -> None:
    client = AsyncClient()
    api = await aapi()
    await connect(await atoken_for(bob))
    reply = await client.post("/hx/getUserStatus", {"username": "bob", "token": api.token})
    assert reply.json()["data"]["data"] == {"bob": "online"}


async def test_a_deactivated_user_is_still_answered_for(connect: Connect, bob: User) -> None:
    await sync_to_async(User.objects.filter(pk=bob.pk).update)(is_active=False)
    api = await aapi()
    assert (await api.ok("getUserStatus", {"username": "bob"}))["data"] == {"bob": "offline"}
    assert (await api.ok("offlineMsgCount", {"owner_username": "bob"}))["data"] == {"bob": 0}
