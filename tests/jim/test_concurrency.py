"""Races that only real parallel transactions show (PostgreSQL): simultaneous getReceiver calls
are assigned once each and spread evenly; agents coming online together share the queue; the
chat-list counts stay exact under concurrent messages and reads."""
from __future__ import annotations

from collections import Counter

import pytest
from django.test import override_settings

from messaging.desk import selectors, services
from messaging.desk.models import Conversation, DeskProfile, QueueEntry
from messaging.services import message_send
from tests.accounts.test_concurrency import run_parallel
from tests.jim.conftest import online, register

pytestmark = pytest.mark.postgres


def _visitors(count: int) -> list[DeskProfile]:
    return [register(f"visitor-{n}", 0) for n in range(count)]


def test_simultaneous_visitors_are_each_assigned_once_and_evenly() -> None:
    for name in ("a1", "a2", "a3", "a4"):
        online(register(name, 1))
    visitors = _visitors(20)
    results = run_parallel(20, lambda i: services.visitor_route(visitor=visitors[i]))
    assert all(isinstance(r, services.Routed) and r.receiver is not None for r in results), results
    open_ = Conversation.objects.filter(status=Conversation.Status.OPEN)
    assert open_.count() == 20 and open_.values("visitor").distinct().count() == 20
    assert Counter(open_.values_list("agent__external_id", flat=True)) == {"a1": 5, "a2": 5, "a3": 5, "a4": 5}
    # and the same visitors asking again, all at once, keep their agents
    again = run_parallel(20, lambda i: services.visitor_route(visitor=visitors[i]).receiver.pk)  # type: ignore[union-attr]
    assert again == [r.receiver.pk for r in results]
    assert Conversation.objects.count() == 20


@override_settings(DESK_AGENT_MAX_OPEN=5)
def test_agents_coming_online_together_share_the_queue_first_come_first_served() -> None:
    agents = [register(f"a{n}", 1) for n in range(3)]
    visitors = _visitors(12)
    queued = run_parallel(12, lambda i: services.visitor_route(visitor=visitors[i]).position)
    assert sorted(queued) == list(range(1, 13))  # twelve distinct places
    order = list(QueueEntry.objects.order_by("pk").values_list("visitor_id", flat=True))
    run_parallel(3, lambda i: online(agents[i]))
    conversations = Conversation.objects.filter(status=Conversation.Status.OPEN)
    assert conversations.count() == 12 and conversations.values("visitor").distinct().count() == 12
    loads = Counter(conversations.values_list("agent_id", flat=True))
    # who drained first depends on timing; nobody is over capacity and every visitor is served once
    assert max(loads.values()) <= 5 and sum(loads.values()) == 12
    # nobody lower in the queue was served before a visitor above them
    served = list(conversations.order_by("pk").values_list("visitor_id", flat=True))
    assert served == order
    assert not QueueEntry.objects.exists()


def test_counts_stay_exact_under_concurrent_messages_and_reads() -> None:
    agent = register("agent-1", 1)
    visitors = _visitors(10)
    # 10 visitors x 4 messages, all at once
    run_parallel(40, lambda i: message_send(sender=visitors[i % 10].user, type_=1, content={"text": f"m{i}"},
                                            to=agent.user_id))
    counts = selectors.chat_counts(user_id=agent.user_id, peer_id=visitors[3].user_id)
    assert counts == {"pendingReplyNum": 10, "lastedContactsNum": 10, "allContactsNum": 10, "unReadNum": 4}
    assert sum(c.unread for c in selectors.contacts(user_id=agent.user_id)) == 40

    # at once: the agent opens every chat (op 2), answers the first five, and each visitor sends one more
    def step(i: int) -> None:
        visitor = visitors[i % 10]
        if i < 10:
            services.chat_list_mark(owner=agent.user, other=visitor.user, op=2, is_concurrent=False)
        elif i < 15:
            message_send(sender=agent.user, type_=1, content={"text": "answer"}, to=visitor.user_id)

    run_parallel(15, step)
    rows = {c.peer_id: c for c in selectors.contacts(user_id=agent.user_id)}
    assert all(rows[v.user_id].unread == 0 for v in visitors)
    assert selectors.chat_counts(user_id=agent.user_id, peer_id=None)["pendingReplyNum"] == 5
    # a new message from each of the ten, concurrently: exactly one unread each, ten pending
    run_parallel(10, lambda i: message_send(sender=visitors[i].user, type_=1, content={"text": "again"},
                                            to=agent.user_id))
    final = selectors.chat_counts(user_id=agent.user_id, peer_id=visitors[0].user_id)
    assert final == {"pendingReplyNum": 10, "lastedContactsNum": 10, "allContactsNum": 10, "unReadNum": 1}
    assert sum(c.unread for c in selectors.contacts(user_id=agent.user_id)) == 10
