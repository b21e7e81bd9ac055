"""Friends with consent: friends.add asks the user (friend requests) unless they let anyone add
them or nobody; friends.requests / accept / reject / cancel; the friendAdd privacy setting;
the same over REST and the im/* facade."""
from __future__ import annotations

import io

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.test import Client, override_settings
from rest_framework.test import APIClient

from accounts.models import Block, FriendRequest, Friendship, User
from accounts.moments import moment_post
from tests.conftest import Connect, SocketClient, atoken_for, token_for

pytestmark = pytest.mark.django_db(transaction=True)


async def sockets(connect: Connect, *users: User) -> list[SocketClient]:
    return [await connect(await atoken_for(u)) for u in users]


async def friends_of(client: SocketClient) -> list[int]:
    return [f["uId"] for f in await client.ok("friends.list")]


async def test_a_stranger_reads_nothing_friends_only_until_the_request_is_accepted(
        connect: Connect, alice: User, charlie: User) -> None:
    """friends.add used to make friends at once, so anyone could read a user's friends-only
    moments and presence. Now it asks, and nothing is shared until the user accepts."""
    moment = (await sync_to_async(moment_post)(user=alice, text="for my friends"))["momentId"]
    a, c = await sockets(connect, alice, charlie)
    asked = await c.ok("friends.add", {"uId": alice.pk, "message": "hi, it's charlie"})
    assert asked["uId"] == alice.pk and asked["pending"] is True
    request = await a.push("friends.onRequest")
    assert request["uId"] == charlie.pk and request["userName"] == "charlie"
    assert request["message"] == "hi, it's charlie" and isinstance(request["createAt"], int)
    # not friends: no moments, no presence, no friend on either list
    assert [m["momentId"] for m in (await c.ok("moment.feed"))["moments"]] == []
    assert (await c.call("moment.list", {"uId": alice.pk}))["code"] == 404
    assert await c.ok("presence.query", {"uIds": [alice.pk]}) == []
    assert await friends_of(c) == [] and await friends_of(a) == []
    assert not await Friendship.objects.aexists()
    # asking again changes nothing and pushes nothing
    assert (await c.ok("friends.add", {"uId": alice.pk}))["pending"] is True
    assert await a.nothing()

    accepted = await a.ok("friends.accept", {"uId": charlie.pk})
    assert accepted["uId"] == charlie.pk
    assert (await a.push("friends.onAdded"))["uId"] == charlie.pk
    assert (await c.push("friends.onAdded"))["uId"] == alice.pk
    assert await friends_of(c) == [alice.pk] and await friends_of(a) == [charlie.pk]
    assert [m["momentId"] for m in (await c.ok("moment.feed"))["moments"]] == [moment]
    assert (await c.ok("presence.query", {"uIds": [alice.pk]}))[0]["online"] is True
    assert await a.ok("friends.requests") == [] and await c.ok("friends.requests", {"direction": "outgoing"}) == []
    assert (await a.call("friends.accept", {"uId": charlie.pk}))["code"] == 404  # nothing pending any more
    assert (await c.call("friends.add", {"uId": alice.pk}))["code"] == 409  # already friends


async def test_requests_are_listed_both_ways_and_rejected_or_cancelled_with_a_push(
        connect: Connect, alice: User, bob: User, charlie: User) -> None:
    a, b, c = await sockets(connect, alice, bob, charlie)
    await b.ok("friends.add", {"uId": alice.pk})
    await c.ok("friends.add", {"uId": alice.pk, "message": "me too"})
    incoming = await a.ok("friends.requests", {"direction": "incoming"})
    assert [(r["uId"], r["message"]) for r in incoming] == [(charlie.pk, "me too"), (bob.pk, "")]  # newest first
    assert await a.ok("friends.requests") == incoming  # incoming is the default
    assert [r["uId"] for r in await b.ok("friends.requests", {"direction": "outgoing"})] == [alice.pk]
    assert await a.ok("friends.requests", {"direction": "outgoing"}) == []

    assert await a.ok("friends.reject", {"uId": bob.pk}) == {}
    assert await b.push("friends.onRequestRejected") == {"uId": alice.pk}
    assert await c.ok("friends.cancel", {"uId": alice.pk}) == {}
    assert await a.push("friends.onRequestCancelled") == {"uId": charlie.pk}
    assert [r["uId"] for r in await a.ok("friends.requests")] == []
    assert not await Friendship.objects.aexists()
    for method, client, uid in (("friends.reject", a, bob.pk), ("friends.accept", a, charlie.pk),
                                ("friends.cancel", c, alice.pk), ("friends.accept", b, alice.pk)):
        assert (await client.call(method, {"uId": uid}))["code"] == 404, method
    assert (await a.call("friends.accept", {"uId": alice.pk}))["code"] == 400  # oneself
    # refused once, bob may ask again
    assert (await b.ok("friends.add", {"uId": alice.pk}))["pending"] is True
    assert (await a.push("friends.onRequest"))["uId"] == bob.pk
    assert [r["uId"] for r in await a.ok("friends.requests")] == [bob.pk]
    assert (await a.call("friends.requests", {"direction": "sideways"}))["code"] == 422
    assert (await b.call("friends.add", {"uId": alice.pk, "message": "x" * 101}))["code"] == 422


async def test_asking_each_other_is_consent_on_both_sides(connect: Connect, alice: User, bob: User) -> None:
    a, b = await sockets(connect, alice, bob)
    await b.ok("users.setPrivacy", {"friendAdd": "nobody"})
    assert (await a.call("friends.add", {"uId": bob.pk}))["code"] == 403  # bob takes no requests
    assert (await b.ok("friends.add", {"uId": alice.pk}))["pending"] is True
    # bob asked alice himself: alice's friends.add accepts his request, whatever his setting
    assert (await a.ok("friends.add", {"uId": bob.pk}))["pending"] is False
    assert (await b.push("friends.onAdded"))["uId"] == alice.pk
    assert await friends_of(a) == [bob.pk] and await friends_of(b) == [alice.pk]
    assert await FriendRequest.objects.filter(status=FriendRequest.Status.PENDING).acount() == 0


async def test_the_friend_add_setting(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    a, b, c = await sockets(connect, alice, bob, charlie)
    assert (await b.ok("web.account.myInfo"))["friendAdd"] == "approval"  # the default
    await b.ok("users.setPrivacy", {"friendAdd": "anyone"})
    assert (await b.ok("web.account.myInfo"))["friendAdd"] == "anyone"
    assert (await b.ok("web.account.myInfo"))["phoneSearchable"] is True  # the other setting is untouched
    assert (await a.ok("friends.add", {"uId": bob.pk}))["pending"] is False  # at once
    assert (await b.push("friends.onAdded"))["uId"] == alice.pk
    await b.ok("users.setPrivacy", {"friendAdd": "nobody", "phoneSearchable": False})
    refused = await c.call("friends.add", {"uId": bob.pk})
    assert refused["code"] == 403 and refused["msg"] == "this user cannot be added as a friend"
    assert not await FriendRequest.objects.aexists()
    for bad in ({}, {"friendAdd": "friends"}, {"friendAdd": 1}, {"phoneSearchable": "maybe"}):
        assert (await b.call("users.setPrivacy", bad))["code"] == 422, bad
    assert (await b.ok("web.account.myInfo"))["friendAdd"] == "nobody"


async def test_blacklists_still_refuse_and_hide_requests(connect: Connect, alice: User, bob: User,
                                                         charlie: User) -> None:
    a, b, c = await sockets(connect, alice, bob, charlie)
    await b.ok("friends.add", {"uId": alice.pk})
    await c.ok("friends.add", {"uId": alice.pk})
    await a.ok("users.blacklist.add", {"uId": bob.pk})
    assert [r["uId"] for r in await a.ok("friends.requests")] == [charlie.pk]  # bob's is hidden
    assert (await a.call("friends.accept", {"uId": bob.pk}))["code"] == 403  # unblock first
    await Block.objects.acreate(user=charlie, blocked=alice)  # charlie blocks alice after asking
    assert (await a.call("friends.accept", {"uId": charlie.pk}))["code"] == 501
    assert not await Friendship.objects.aexists()


@override_settings(FRIEND_REQUESTS_PER_HOUR=2)
async def test_friend_requests_are_rate_limited(connect: Connect, alice: User, user_factory: type) -> None:
    others = [await sync_to_async(user_factory)() for _ in range(3)]
    (a,) = await sockets(connect, alice)
    for other in others[:2]:
        await a.ok("friends.add", {"uId": other.pk})
    await a.ok("friends.add", {"uId": others[0].pk})  # asking again while pending does not count
    assert (await a.call("friends.add", {"uId": others[2].pk}))["code"] == 429
    assert await FriendRequest.objects.acount() == 2


def test_requests_over_rest(alice: User, bob: User) -> None:
    alice_api, bob_api = APIClient(), APIClient()
    alice_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(alice)}")
    bob_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(bob)}")
    asked = alice_api.post(f"/api/v1/friends/{bob.pk}/add", {"message": "hello"}, format="json")
    assert asked.status_code == 200 and asked.json()["pending"] is True
    assert alice_api.get("/api/v1/friends").json() == []
    incoming = bob_api.get("/api/v1/friends/requests").json()
    assert [(r["uId"], r["message"]) for r in incoming] == [(alice.pk, "hello")]
    assert [r["uId"] for r in alice_api.get("/api/v1/friends/requests?direction=outgoing").json()] == [bob.pk]
    assert bob_api.post(f"/api/v1/friends/requests/{alice.pk}/accept").json()["uId"] == alice.pk
    assert [f["uId"] for f in alice_api.get("/api/v1/friends").json()] == [bob.pk]
    missing = bob_api.post(f"/api/v1/friends/requests/{alice.pk}/reject")
    assert missing.status_code == 404 and missing.json()["code"] == 404
    assert bob_api.put("/api/v1/me/privacy", {"friendAdd": "nobody"}, format="json").status_code == 200
    alice_api.post(f"/api/v1/friends/{bob.pk}/remove")
    refused = alice_api.post(f"/api/v1/friends/{bob.pk}/add")
    assert refused.status_code == 403 and refused.json()["error"] == "friend_not_addable"


def test_im_friend_add_asks_and_answers_status_5_for_nobody(alice: User, bob: User, charlie: User) -> None:
    client = Client()
    asked = client.post("/im/friend_add", {"session_key": token_for(alice), "user_id": bob.pk}).json()
    assert asked["status"] == 0 and asked["data"]["pending"] is True and asked["data"]["uId"] == bob.pk
    assert client.post("/im/friend_list", {"session_key": token_for(alice)}).json()["status"] == 1  # still empty
    assert FriendRequest.objects.filter(from_user=alice, to_user=bob, status=FriendRequest.Status.PENDING).exists()
    User.objects.filter(pk=charlie.pk).update(friend_policy=User.FriendPolicy.NOBODY)
    refused = client.post("/im/friend_add", {"session_key": token_for(alice), "user_id": charlie.pk}).json()
    assert refused["status"] == 5  # the newer im/* document: this user cannot be added
    assert not Friendship.objects.exists()


def test_the_demo_seed_keeps_alices_friends() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # safe to run again
    alice = User.objects.get(username="alice")
    friends = set(Friendship.objects.filter(user=alice).values_list("friend__username", flat=True))
    assert friends == {"bob", "charlie"}
    assert alice.friend_policy == User.FriendPolicy.APPROVAL  # the demo users keep the default


@pytest.mark.postgres
def test_requests_crossing_at_the_same_instant_make_the_two_friends(alice: User, bob: User) -> None:
    """Two users asking each other at once: whichever runs second sees the first one's
    request and accepts it, so they end as friends with nothing left pending."""
    from accounts.services import friend_add, friend_remove
    from tests.accounts.test_concurrency import run_parallel

    for _ in range(5):
        results = run_parallel(2, lambda i: friend_add(user=(alice, bob)[i], friend_id=(bob, alice)[i].pk))
        assert sorted(r.pending for r in results) == [False, True], results
        assert Friendship.objects.count() == 2
        assert not FriendRequest.objects.filter(status=FriendRequest.Status.PENDING).exists()
        friend_remove(user=alice, friend_id=bob.pk)
