"""Operators manage the desk in the admin: agents listed with filters and search, a native
account linked as an agent, the routing switch, the queue, and closing conversations."""
from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from messaging.desk.models import Conversation, DeskProfile, QueueEntry
from tests.jim.conftest import online, register, vanke

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(username="root", password="rootpass1"))
    return client


def test_operator_lists_links_switches_and_closes(operator: Client, alice: User) -> None:
    register("agent-1", 1, nick="小李")
    register("consultant-1", 2, nick="王顾问")
    page = operator.get("/admin/messaging/deskprofile/", {"kind__exact": "1", "q": "小李"})
    assert page.status_code == 200 and b"agent-1" in page.content and b"consultant-1" not in page.content
    # link the native account alice as an agent, online with room for one
    added = operator.post("/admin/messaging/deskprofile/add/", {
        "user": alice.pk, "external_id": "alice-desk", "kind": 1, "nick": "Alice", "avatar": "", "terminal": "app",
        "is_enabled": "on", "max_open": 1, "conversations-TOTAL_FORMS": 0, "conversations-INITIAL_FORMS": 0})
    assert added.status_code == 302, added.content
    linked = DeskProfile.objects.get(external_id="alice-desk")
    assert (linked.user_id, linked.kind, linked.max_open) == (alice.pk, 1, 1)
    # disable agent-1: visitors go to alice only; the second waits
    agent = DeskProfile.objects.get(external_id="agent-1")
    online(agent)
    online(linked)
    operator.post("/admin/messaging/deskprofile/", {"action": "disable", "_selected_action": [agent.pk]})
    assert not DeskProfile.objects.get(pk=agent.pk).is_enabled
    body = {"type": 0, "token": "token-of-visitor"}
    assert vanke("getReceiver", {**body, "senderId": "v1"})["data"]["id"] == "alice-desk"
    assert vanke("getReceiver", {**body, "senderId": "v2", "token": "token-of-v2"})["data"]["status"] == "queued"
    assert operator.get("/admin/messaging/queueentry/").status_code == 200
    assert operator.get(f"/admin/messaging/deskprofile/{linked.pk}/change/").status_code == 200
    # closing alice's conversation gives her the waiting visitor
    conversation = Conversation.objects.get()
    operator.post("/admin/messaging/conversation/", {"action": "close", "_selected_action": [conversation.pk]})
    assert Conversation.objects.get(pk=conversation.pk).close_reason == "operator"
    assert not QueueEntry.objects.exists()
    assert Conversation.objects.get(status=1).visitor.external_id == "v2"
