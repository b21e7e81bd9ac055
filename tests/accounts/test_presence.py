"""Presence across devices: friends see online/offline transitions, not every socket."""
from __future__ import annotations

import time

import pytest
from asgiref.sync import sync_to_async

from accounts import presence
from accounts.models import User
from tests.accounts.factories import make_friends
from tests.conftest import Connect, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)


async def _befriend(connect: Connect, a: User, b: User) -> None:
    await sync_to_async(make_friends)(a, b)


async def test_friends_see_online_once_and_offline_after_the_last_device(
    connect: Connect, alice: User, bob: User
) -> None:
    await _befriend(connect, alice, bob)
    bob_socket = await connect(await atoken_for(bob))

    phone = await connect(await atoken_for(alice, "phone"))
    assert await bob_socket.push("presence.onUpdate") == {"uId": alice.pk, "online": True, "lastSeen": None}
    pc = await connect(await atoken_for(alice, "pc"))
    assert await bob_socket.nothing()  # a second device is no transition
    assert (await bob_socket.ok("presence.query", {"uIds": [alice.pk]}))[0]["online"] is True
    await phone.comm.disconnect()
    assert await bob_socket.nothing()  # still online on the pc
    await pc.comm.disconnect()
    update = await bob_socket.push("presence.onUpdate")
    assert update["uId"] == alice.pk and update["online"] is False and update["lastSeen"] >= int(time.time()) - 5
    state = (await bob_socket.ok("presence.query", {"uIds": [alice.pk]}))[0]
    assert state == {"uId": alice.pk, "online": False, "lastSeen": update["lastSeen"]}


async def test_presence_is_only_disclosed_to_friends(connect: Connect, alice: User, charlie: User) -> None:
    await connect(await atoken_for(alice))
    stranger = await connect(await atoken_for(charlie))
    assert await stranger.ok("presence.query", {"uIds": [alice.pk]}) == []
    assert await stranger.nothing()  # and no pushes either


def test_a_crashed_process_sockets_age_out() -> None:
    store = presence.MemoryStore()
    now = time.time()
    assert store.add(7, "socket-a", now) is True
    assert store.add(7, "socket-b", now) is False
    assert store.online([7], now + 10) == {7}
    # nobody touched them for longer than the TTL (the process died): offline
    assert store.online([7], now + 10_000) == set()
    assert store.add(7, "socket-c", now + 10_000) is True


@pytest.mark.skipif("not __import__('django.conf').conf.settings.CACHE_REDIS_URL")
def test_redis_store_counts_sockets_across_processes() -> None:
    from django.conf import settings

    store = presence.RedisStore(settings.CACHE_REDIS_URL)
    user_id = 987654321
    now = time.time()
    store.remove(user_id, "x", now)
    assert store.add(user_id, "p1-socket", now) is True
    assert store.add(user_id, "p2-socket", now) is False  # another process, same user
    assert store.remove(user_id, "p1-socket", now) is False
    assert store.online([user_id], now) == {user_id}
    assert store.remove(user_id, "p2-socket", now) is True
    assert store.online([user_id], now) == set()


async def test_heartbeat_keeps_presence_fresh(connect: Connect, alice: User) -> None:
    client = await connect(await atoken_for(alice))
    assert await sync_to_async(presence.store().online)([alice.pk], time.time()) == {alice.pk}
    assert (await client.call("system.heartbeat"))["code"] == 200
