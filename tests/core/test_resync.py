"""Lost pushes are re-delivered, closed sockets are settled in batches, a dead process's sockets
go offline: in process, on the real consumer (the fault suite does it across real processes)."""
from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from accounts import presence
from accounts.models import User
from core import realtime, resync
from core.gateway import departures
from messaging.models import HiddenMessage, Message
from messaging.selectors import messages_between
from tests.accounts.factories import make_friends, make_user
from tests.conftest import Connect, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)

needs_redis = pytest.mark.skipif(not settings.CACHE_REDIS_URL, reason="needs Redis (REDIS_URL)")


async def _send(socket: Any, to: int, text: str) -> dict[str, Any]:
    return dict(await socket.ok("messages.send", {"to": to, "type": 1, "content": {"text": text}}))


class _Dropped:
    """While active, every push is dropped, as when Redis is away or the process died."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def __enter__(self) -> None:
        self.monkeypatch.setattr(realtime, "_send", lambda envelope: None)

    def __exit__(self, *exc: object) -> None:
        self.monkeypatch.undo()


async def test_lost_pushes_are_redelivered_once_without_further_traffic(
        connect: Connect, alice: User, bob: User, monkeypatch: pytest.MonkeyPatch) -> None:
    sender = await connect(await atoken_for(alice))
    phone, tablet = await connect(await atoken_for(bob, "phone")), await connect(await atoken_for(bob, "tablet"))
    start = time.time() - 1
    first = await _send(sender, bob.pk, "pushed")
    assert (await phone.push("onMessage"))["messageId"] == first["messageId"]
    assert (await tablet.push("onMessage"))["messageId"] == first["messageId"]
    with _Dropped(monkeypatch):
        lost = [await _send(sender, bob.pk, f"lost {n}") for n in range(3)]
    assert await phone.nothing() and await tablet.nothing()

    redelivered = await resync.replay(start, time.time() + 1)

    for socket in (phone, tablet):  # each socket gets what it missed, in seq order, and only that
        got = [await socket.push("onMessage") for _ in lost]
        assert [m["messageId"] for m in got] == [m["messageId"] for m in lost]
        assert [m["content"]["text"] for m in got] == ["lost 0", "lost 1", "lost 2"]
        assert await socket.nothing()
    assert await sender.nothing()  # the sender's socket has its own messages from the replies
    assert redelivered == 6
    assert await resync.replay(start, time.time() + 1) == 0  # nothing twice


async def test_a_socket_owed_too_much_is_told_to_reconnect(
        connect: Connect, alice: User, bob: User, monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    settings.RESYNC_MAX_MESSAGES = 2
    sender = await connect(await atoken_for(alice))
    receiver = await connect(await atoken_for(bob))
    start = time.time() - 1
    with _Dropped(monkeypatch):
        for n in range(3):
            await _send(sender, bob.pk, f"lost {n}")
    await resync.replay(start, time.time() + 1)
    assert await receiver.closed() == 1012  # the client reconnects and syncs
    assert await sender.nothing()


async def test_a_socket_opened_after_the_span_is_left_alone(
        connect: Connect, alice: User, bob: User, monkeypatch: pytest.MonkeyPatch) -> None:
    sender = await connect(await atoken_for(alice))
    start = time.time() - 1
    with _Dropped(monkeypatch):
        await _send(sender, bob.pk, "before bob connected")
    end = time.time()
    await asyncio.sleep(0.01)
    receiver = await connect(await atoken_for(bob))  # it syncs on connect (docs/messaging.md)
    assert await resync.replay(start, end) == 0
    assert await receiver.nothing()


def test_messages_between_follows_sync_visibility(alice: User, bob: User, charlie: User) -> None:
    from chats import services as chat_services
    from messaging import services

    start = time.time() - 1
    private, _, _ = services.message_send(sender=alice, to=bob.pk, type_=1, content={"text": "p"})
    hidden, _, _ = services.message_send(sender=alice, to=bob.pk, type_=1, content={"text": "h"})
    HiddenMessage.objects.create(user=bob, message_id=hidden.pk)
    group = chat_services.group_create(owner=alice, title="g", member_ids=[bob.pk])
    in_group, _, _ = services.message_send(sender=alice, chat_wire_id=group.wire_id, type_=1, content={"text": "g"})
    chat_services.chat_members_add(actor=alice, wire_id=group.wire_id, user_ids=[charlie.pk])
    owed = messages_between([bob.pk, charlie.pk], start, time.time() + 1, 10)

    def ids(user: User) -> list[int]:
        return [mid for mid, _ in owed.get(user.pk, [])]

    assert private.pk in ids(bob) and in_group.pk in ids(bob) and hidden.pk not in ids(bob)
    assert in_group.pk not in ids(charlie)  # sent before charlie joined
    assert ids(charlie) == list(Message.objects.filter(chat_id=group.pk, seq__gt=group.members.get(
        user=charlie).joined_seq).values_list("pk", flat=True))  # the join notice only
    assert len(messages_between([bob.pk], start, time.time() + 1, 1)[bob.pk]) == 1  # the limit
    assert messages_between([bob.pk], time.time() + 5, time.time() + 6, 10) == {}


async def test_closed_sockets_are_settled_in_batches(connect: Connect, monkeypatch: pytest.MonkeyPatch) -> None:
    watcher_user = await sync_to_async(make_user)(username="watcher")
    users = [await sync_to_async(make_user)(username=f"u{n}") for n in range(30)]
    for user in users:
        await sync_to_async(make_friends)(watcher_user, user)
    watcher = await connect(await atoken_for(watcher_user))
    sockets = [await connect(await atoken_for(user)) for user in users]
    for _ in users:
        await watcher.push("presence.onUpdate")
    batches: list[int] = []
    settle = presence.sockets_disconnected

    def counted(gone: presence.Sockets, **kwargs: Any) -> set[int]:
        batches.append(len(gone))
        return settle(gone, **kwargs)

    monkeypatch.setattr(presence, "sockets_disconnected", counted)
    await asyncio.gather(*(socket.comm.disconnect() for socket in sockets))
    await departures.flush()
    offline = [await watcher.push("presence.onUpdate") for _ in users]
    assert sorted(u["uId"] for u in offline) == sorted(u.pk for u in users)
    assert all(u["online"] is False and u["lastSeen"] for u in offline)
    assert sum(batches) == len(users) and len(batches) < len(users) / 3  # batched, not one by one
    seen = await sync_to_async(lambda: list(User.objects.filter(pk__in=[u.pk for u in users])
                                            .values_list("last_seen_at", flat=True)))()
    assert all(seen)
    assert await sync_to_async(presence.online_among)([u.pk for u in users]) == set()


@needs_redis
async def test_a_dead_process_sockets_go_offline_and_its_last_seconds_are_redelivered(
        connect: Connect, alice: User, bob: User, monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    settings.PROCESS_DEAD_SECONDS = 6
    await sync_to_async(make_friends)(alice, bob)
    receiver = await connect(await atoken_for(bob))
    sender = await connect(await atoken_for(alice))
    assert (await receiver.push("presence.onUpdate"))["online"] is True
    # alice's socket now stands for one on a process that dies: its presence entry is moved
    # to the dead process's list, and its last pushes are lost.
    dead = "elsewhere:1:dead"
    store = presence.store()
    channel = next(s.channel_name for s in resync.local_sockets() if s.user_id == alice.pk)
    await sync_to_async(store.remove_many)([(alice.pk, channel)], time.time(), resync.PROCESS_ID)
    monkeypatch.setattr(presence, "PROCESS_ID", dead)
    await sync_to_async(store.add)(alice.pk, "specific.gone", time.time())
    monkeypatch.undo()
    with _Dropped(monkeypatch):
        lost = await _send(sender, bob.pk, "sent just before the crash")
    monitor = resync.Monitor()
    now = time.time()
    await monitor.redis.zadd(f"{settings.DEPLOYMENT_PREFIX}:processes", {dead: now - 7})
    try:
        await monitor.tick(now)  # its own heartbeat has not been healthy for long enough yet
        assert await receiver.nothing()
        monitor.ok_since = now - 6
        await monitor.tick(now)
        update = await receiver.push("presence.onUpdate")
        assert update["uId"] == alice.pk and update["online"] is False and update["lastSeen"]
        assert (await receiver.push("onMessage"))["messageId"] == lost["messageId"]
        assert await monitor.redis.zscore(f"{settings.DEPLOYMENT_PREFIX}:processes", dead) is None
    finally:
        await monitor.redis.aclose()


@needs_redis
async def test_a_redis_failure_records_a_span_every_process_redelivers(
        connect: Connect, alice: User, bob: User, monkeypatch: pytest.MonkeyPatch) -> None:
    from core import degrade

    sender = await connect(await atoken_for(alice))
    receiver = await connect(await atoken_for(bob))
    with _Dropped(monkeypatch):
        lost = await _send(sender, bob.pk, "during the outage")
        degrade.degraded("pushes", ConnectionError("simulated"))
    monitor, other = resync.Monitor(), resync.Monitor()
    try:
        await monitor.tick(time.time())  # Redis answers again: the span is recorded and replayed
        assert (await receiver.push("onMessage"))["messageId"] == lost["messageId"]
        other.cursor = time.time() - 30  # another process reads the same span: nothing twice here
        await other.tick(time.time())
        assert await receiver.nothing()
    finally:
        await monitor.redis.aclose()
        await other.redis.aclose()
