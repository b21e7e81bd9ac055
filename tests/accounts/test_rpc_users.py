"""users.*, friends.*, users.blacklist.* over the socket."""
from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from accounts.models import Block, Friendship, User
from tests.accounts.factories import make_friends
from tests.conftest import Connect, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)


async def test_users_info_returns_known_users_in_seed_shape(connect: Connect, alice: User, bob: User) -> None:
    client = await connect(await atoken_for(alice))
    data = await client.ok("users.info", {"uIds": [bob.pk, alice.pk, 999999]})
    assert [u["uId"] for u in data] == sorted([alice.pk, bob.pk])
    entry = next(u for u in data if u["uId"] == bob.pk)
    assert entry == {"uId": bob.pk, "firstName": bob.first_name, "lastName": bob.last_name,
                     "userName": "bob", "avatar": "", "isInternal": False}


async def test_users_info_rejects_too_many_ids(connect: Connect, alice: User) -> None:
    client = await connect(await atoken_for(alice))
    reply = await client.call("users.info", {"uIds": list(range(1, 202))})
    assert reply["code"] == 422


async def test_search_by_phone_finds_a_searchable_user(connect: Connect, alice: User, bob: User) -> None:
    client = await connect(await atoken_for(alice))
    assert await client.ok("users.searchByPhone", {"phone": "138-0000-0002"}) == {"uId": bob.pk}


async def test_search_by_phone_respects_privacy_and_blacklist(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    await User.objects.filter(pk=bob.pk).aupdate(phone_searchable=False)
    await Block.objects.acreate(user=charlie, blocked=alice)
    client = await connect(await atoken_for(alice))
    hidden = await client.call("users.searchByPhone", {"phone": bob.phone})
    blocked = await client.call("users.searchByPhone", {"phone": charlie.phone})
    missing = await client.call("users.searchByPhone", {"phone": "15999999999"})
    # the same answer for all three, so phone numbers cannot be probed
    assert hidden["code"] == blocked["code"] == missing["code"] == 404
    assert hidden["msg"] == blocked["msg"] == missing["msg"]


async def test_search_by_phone_is_rate_limited(connect: Connect, alice: User) -> None:
    client = await connect(await atoken_for(alice))
    codes = [(await client.call("users.searchByPhone", {"phone": "15999999999"}))["code"] for _ in range(31)]
    assert codes[:30] == [404] * 30 and codes[30] == 429


async def test_set_privacy_hides_user_from_phone_search(connect: Connect, alice: User, bob: User) -> None:
    bob_client, alice_client = await connect(await atoken_for(bob)), await connect(await atoken_for(alice))
    assert await bob_client.ok("users.setPrivacy", {"phoneSearchable": False}) == {}
    assert (await alice_client.call("users.searchByPhone", {"phone": bob.phone}))["code"] == 404


async def test_query_privacy_settings_tells_who_blacklisted_me(
    connect: Connect, alice: User, bob: User, charlie: User
) -> None:
    await Block.objects.acreate(user=bob, blocked=alice)
    await Block.objects.acreate(user=alice, blocked=charlie)  # my own blacklist is not "theirs"
    client = await connect(await atoken_for(alice))
    data = await client.ok("users.queryPrivacySettings", {"uIds": [bob.pk, charlie.pk]})
    assert sorted(data, key=lambda d: d["uId"]) == sorted(
        [{"uId": bob.pk, "isBlacklist": True}, {"uId": charlie.pk, "isBlacklist": False}],
        key=lambda d: d["uId"],
    )


async def test_update_profile_changes_what_others_see(connect: Connect, alice: User, bob: User) -> None:
    alice_client, bob_client = await connect(await atoken_for(alice)), await connect(await atoken_for(bob))
    me = await alice_client.ok("users.updateProfile", {"firstName": "Wang", "lastName": "Li", "avatar": "a.png"})
    assert (me["firstName"], me["lastName"], me["avatar"]) == ("Wang", "Li", "a.png")
    seen = (await bob_client.ok("users.info", {"uIds": [alice.pk]}))[0]
    assert (seen["firstName"], seen["lastName"], seen["avatar"]) == ("Wang", "Li", "a.png")


async def test_update_profile_limits_lengths(connect: Connect, alice: User) -> None:
    client = await connect(await atoken_for(alice))
    assert (await client.call("users.updateProfile", {"avatar": "x" * 600}))["code"] == 422


async def test_friends_add_is_mutual_and_pushed_to_both(connect: Connect, alice: User, bob: User) -> None:
    """To a user who lets anyone add them, friends.add is instant (see test_friend_requests.py
    for those who approve their friends, the default)."""
    alice_client, bob_client = await connect(await atoken_for(alice)), await connect(await atoken_for(bob))
    await bob_client.ok("users.setPrivacy", {"friendAdd": "anyone"})
    added = await alice_client.ok("friends.add", {"uId": bob.pk})
    assert added["uId"] == bob.pk and added["pending"] is False
    assert (await bob_client.push("friends.onAdded"))["uId"] == alice.pk
    assert (await alice_client.push("friends.onAdded"))["uId"] == bob.pk
    assert [f["uId"] for f in await bob_client.ok("friends.list")] == [alice.pk]
    assert [f["uId"] for f in await alice_client.ok("friends.list")] == [bob.pk]


async def test_friends_add_refusals(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    await Block.objects.acreate(user=charlie, blocked=alice)
    client = await connect(await atoken_for(alice))
    assert (await client.call("friends.add", {"uId": alice.pk}))["code"] == 400  # self
    assert (await client.call("friends.add", {"uId": 999999}))["code"] == 404
    assert (await client.call("friends.add", {"uId": charlie.pk}))["code"] == 501  # blacklisted by them
    await User.objects.filter(pk=bob.pk).aupdate(friend_policy=User.FriendPolicy.ANYONE)
    await client.ok("friends.add", {"uId": bob.pk})
    assert (await client.call("friends.add", {"uId": bob.pk}))["code"] == 409
    assert await Friendship.objects.filter(user=alice).acount() == 1


async def test_friends_add_refused_while_i_blacklist_them(connect: Connect, alice: User, bob: User) -> None:
    client = await connect(await atoken_for(alice))
    await client.ok("users.blacklist.add", {"uId": bob.pk})
    assert (await client.call("friends.add", {"uId": bob.pk}))["code"] == 403


async def test_friends_remove_ends_both_directions(connect: Connect, alice: User, bob: User) -> None:
    alice_client, bob_client = await connect(await atoken_for(alice)), await connect(await atoken_for(bob))
    await sync_to_async(make_friends)(alice, bob)
    assert await alice_client.ok("friends.remove", {"uId": bob.pk}) == {}
    assert (await bob_client.push("friends.onRemoved")) == {"uId": alice.pk}
    assert await bob_client.ok("friends.list") == []
    assert (await alice_client.call("friends.remove", {"uId": bob.pk}))["code"] == 404


async def test_blacklist_add_list_remove(connect: Connect, alice: User, bob: User) -> None:
    client = await connect(await atoken_for(alice))
    assert await client.ok("users.blacklist.add", {"uId": bob.pk}) == {}
    assert await client.ok("users.blacklist.add", {"uId": bob.pk}) == {}  # idempotent
    assert [u["uId"] for u in await client.ok("users.blacklist.list")] == [bob.pk]
    assert await client.ok("users.blacklist.remove", {"uId": bob.pk}) == {}
    assert await client.ok("users.blacklist.list") == []
    assert (await client.call("users.blacklist.add", {"uId": alice.pk}))["code"] == 400
    assert (await client.call("users.blacklist.add", {"uId": 999999}))["code"] == 404


async def test_blacklisted_user_is_not_told(connect: Connect, alice: User, bob: User) -> None:
    alice_client, bob_client = await connect(await atoken_for(alice)), await connect(await atoken_for(bob))
    await alice_client.ok("users.blacklist.add", {"uId": bob.pk})
    assert await bob_client.nothing()


@override_settings(RELAY_MAX_RECIPIENTS=100)
async def test_every_user_method_needs_login(connect: Connect) -> None:
    client = await connect()
    for method in ("users.info", "users.searchByPhone", "users.queryPrivacySettings", "users.updateProfile",
                   "users.setPrivacy", "users.blacklist.add", "users.blacklist.remove", "users.blacklist.list",
                   "friends.add", "friends.remove", "friends.list", "friends.requests", "friends.accept",
                   "friends.reject", "friends.cancel"):
        assert (await client.call(method, {}))["code"] == 401, method
