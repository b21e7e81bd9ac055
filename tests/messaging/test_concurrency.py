"""Parallel senders on PostgreSQL: seqs stay gap-free, resends stay single."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from accounts.models import User
from chats.models import Chat
from chats.services import group_create
from messaging.models import Message
from messaging.services import message_send
from tests.accounts.factories import make_user
from tests.accounts.test_concurrency import run_parallel

pytestmark = pytest.mark.postgres


def test_fifty_concurrent_senders_into_one_group_get_gap_free_seqs() -> None:
    users: list[User] = [make_user() for _ in range(50)]
    chat = group_create(owner=users[0], title="busy", member_ids=[u.pk for u in users[1:]])

    def send(i: int) -> int:
        msg, _, created = message_send(sender=users[i], type_=1, content={"text": f"n{i}"},
                                       chat_wire_id=chat.wire_id, client_msg_id=f"m-{i}")
        assert created
        return msg.seq

    results = run_parallel(50, send)
    assert all(isinstance(r, int) for r in results), results
    seqs = sorted(Message.objects.filter(chat=chat).values_list("seq", flat=True))
    assert seqs == list(range(1, 52))  # the create notice is seq 1
    assert sorted(results) == list(range(2, 52))
    assert Chat.objects.get(pk=chat.pk).last_seq == 51


def test_concurrent_resends_of_one_client_msg_id_store_one_message() -> None:
    alice, bob = make_user(), make_user()

    def send(i: int) -> tuple[int, int]:
        msg, _, _ = message_send(sender=alice, type_=1, content={"text": "dup"}, to=bob.pk, client_msg_id="same")
        return msg.pk, msg.seq

    results = run_parallel(10, send)
    assert all(isinstance(r, tuple) for r in results), results
    assert len(set(results)) == 1
    assert Message.objects.filter(sender=alice).count() == 1
    assert Chat.objects.get(kind=Chat.Kind.PRIVATE).last_seq == 1  # no seq was burnt by the losers


@pytest.mark.postgres
async def test_fifty_sockets_sending_at_once_into_one_group_see_gap_free_seqs(connect: Any) -> None:
    """The same over real sockets: 50 members each send once at the same moment; every
    reply has a distinct seq, together 2..51, and every member receives all 50 (each once; the
    arrival order is best effort, docs/messaging.md#seq)."""
    from asgiref.sync import sync_to_async

    from tests.conftest import atoken_for

    users = [await sync_to_async(make_user)() for _ in range(50)]
    chat = await sync_to_async(group_create)(owner=users[0], title="stampede", member_ids=[u.pk for u in users[1:]])
    sockets = [await connect(await atoken_for(u)) for u in users]
    replies = await asyncio.gather(*(s.ok("messages.send", {"chatId": chat.wire_id, "type": 1,
                                                             "content": {"text": f"from {i}"}, "clientMsgId": f"s{i}"})
                                      for i, s in enumerate(sockets)))
    assert sorted(r["seq"] for r in replies) == list(range(2, 52))
    watcher = sockets[7]
    received = [(await watcher.push("onMessage", timeout=10))["seq"] for _ in range(49)]  # all but its own
    assert len(set(received)) == 49 and set(received) < set(range(2, 52))
    history = await watcher.ok("messages.history", {"chatId": chat.wire_id, "limit": 100})
    assert [m["seq"] for m in history["messages"]] == list(range(1, 52))
