"""getReceiver's routing: returning visitors, agents going offline, the queue and its drain
when an agent comes online or has room again, fairness across agents, and the agents' methods."""
from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.test import override_settings

from messaging.desk import services
from messaging.desk.models import Conversation, DeskProfile, QueueEntry
from tests.conftest import Connect
from tests.jim.conftest import avanke, jim, offline, online, register, vanke

pytestmark = pytest.mark.django_db(transaction=True)


def visit(external_id: str, receiver: str = "") -> dict[str, Any]:
    """A visitor's getReceiver, as the property app's server calls it."""
    return vanke("getReceiver", {"senderId": external_id, "receiverId": receiver, "nick": external_id,
                                 "terminal": "wx", "token": f"token-of-{external_id}", "type": 0})


def queued_at(reply: dict[str, Any]) -> int:
    """The place in the queue of a getReceiver answer that says "queued" (in the document's shape)."""
    data = reply["data"]
    assert reply["code"] == 200 and data["status"] == "queued" and data["extras"]["queued"], reply
    assert data["extras"]["position"] == data["position"]
    return int(data["position"])


def agents(*names: str, live: bool = True) -> list[DeskProfile]:
    out = [register(name, 1) for name in names]
    for agent in out if live else []:
        online(agent)
    return out


def served_by(external_id: str) -> str | None:
    conv = Conversation.objects.filter(visitor__external_id=external_id, status=1).select_related("agent").first()
    return conv.agent.external_id if conv else None


def test_a_returning_visitor_gets_the_same_agent_while_online() -> None:
    agents("a1", "a2")
    first = visit("v1")["data"]["id"]
    assert visit("v1")["data"]["id"] == first  # the open conversation goes on
    services.conversation_close(conversation_id=Conversation.objects.get().pk, actor=None)
    for n in range(3):  # load the other agent less than the first: still the first, who knows them
        visit(f"other-{n}")
    assert visit("v1")["data"]["id"] == first
    assert Conversation.objects.filter(visitor__external_id="v1").count() == 2


def test_agent_offline_sends_the_visitor_to_the_least_loaded_online_agent() -> None:
    a1, _, _ = agents("a1", "a2", "a3")
    visit("v1")  # a1 (all idle: the oldest profile first)
    visit("x1")  # a2
    visit("x2")  # a3
    visit("x3")  # a1 again
    assert served_by("v1") == "a1" and served_by("x3") == "a1"
    visit("x4")  # a2 (2 open)
    offline(a1)
    assert visit("v1")["data"]["id"] == "a3"  # a1 is gone; a3 has fewer open than a2
    assert Conversation.objects.get(visitor__external_id="v1", agent=a1).close_reason == "agent_offline"


def test_nobody_online_queues_then_an_agent_coming_online_takes_the_queue_in_order() -> None:
    (a1,) = agents("a1", live=False)
    replies = [visit(f"v{n}") for n in range(3)]
    assert [(r["code"], r["data"]["status"], r["data"]["id"]) for r in replies] == [(200, "queued", "")] * 3
    assert [r["data"]["position"] for r in replies] == [1, 2, 3]
    assert queued_at(visit("v1")) == 2  # asking again keeps the place
    online(a1)  # the came_online signal drains the queue
    assert QueueEntry.objects.count() == 0
    assert [c.visitor.external_id for c in Conversation.objects.select_related("visitor").order_by("pk")] == [
        "v0", "v1", "v2"]
    assert visit("v2")["data"]["id"] == "a1"


@override_settings(DESK_AGENT_MAX_OPEN=2)
def test_full_agents_queue_visitors_until_a_conversation_closes() -> None:
    agents("a1", "a2")
    for n in range(4):
        assert visit(f"v{n}")["code"] == 200
    assert Counter(served_by(f"v{n}") for n in range(4)) == {"a1": 2, "a2": 2}
    assert queued_at(visit("late-1")) == 1
    assert queued_at(visit("late-2")) == 2
    freed = Conversation.objects.get(visitor__external_id="v1")
    services.conversation_close(conversation_id=freed.pk, actor=freed.agent.user)
    assert served_by("late-1") == freed.agent.external_id and served_by("late-2") is None
    assert queued_at(visit("late-2")) == 1
    assert queued_at(visit("newcomer")) == 2  # no jumping the queue


def test_fairness_spreads_visitors_evenly_and_rotates_ties() -> None:
    agents("a1", "a2", "a3")
    order = [visit(f"v{n}")["data"]["id"] for n in range(9)]
    assert order == ["a1", "a2", "a3"] * 3
    disabled = DeskProfile.objects.get(external_id="a2")
    services.profile_update(profile_id=disabled.pk, is_enabled=False)
    assert {visit(f"w{n}")["data"]["id"] for n in range(4)} == {"a1", "a3"}


def test_a_visitor_may_choose_a_consultant_even_offline() -> None:
    agents("a1")
    register("consultant-7", 2, nick="王顾问")
    assert visit("v1")["data"]["id"] == "a1"
    chosen = visit("v1", receiver="consultant-7")
    assert chosen["data"]["id"] == "consultant-7" and chosen["data"]["status"] == "offline"
    assert served_by("v1") == "consultant-7"
    assert visit("v1")["data"]["id"] == "consultant-7"  # a chosen consultant stays, online or not
    missing = vanke("getReceiver", {"senderId": "v1", "receiverId": "nobody", "type": 0}, status=404)
    assert missing == {"code": 404, "msg": "receiverId 'nobody' is not registered", "data": None}
    assert vanke("getReceiver", {"senderId": "v1", "receiverId": "v2", "type": 0}, status=404)["code"] == 404
    register("v2", 0)
    assert vanke("getReceiver", {"senderId": "v1", "receiverId": "v2", "type": 0}, status=400)["code"] == 400


def test_idle_conversations_close_and_free_their_agent() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from chats.models import Chat

    with override_settings(DESK_AGENT_MAX_OPEN=1):
        agents("a1")
        visit("v1")
        assert queued_at(visit("v2")) == 1
        old = timezone.now() - timedelta(hours=2)
        Conversation.objects.update(created_at=old)
        Chat.objects.update(updated_at=old)
        assert services.conversations_close_idle() == 1
        assert served_by("v2") == "a1"


async def test_the_queued_visitor_and_the_agent_are_told_on_their_sockets(connect: Connect) -> None:
    await avanke("initUser", {"senderId": "a1", "type": 1, "nick": "小李", "token": "token-of-agent-a1"})
    reply = await avanke("getReceiver", {"senderId": "v1", "type": 0, "nick": "访客", "token": "token-of-visitor-v1"})
    assert (reply["code"], reply["data"]["status"], reply["data"]["position"]) == (200, "queued", 1)
    visitor = await jim(connect, "token-of-visitor-v1")
    agent = await jim(connect, "token-of-agent-a1")  # comes online: takes v1
    told = await visitor.push()
    assert told == {"code": 200, "command": 101, "data": [{"id": "a1", "nick": "小李", "terminal": "ws"}],
                    "msg": "assigned"}
    assert (await agent.push())["data"] == [{"id": "v1", "nick": "访客", "terminal": "ws"}]
    friends = await agent.ask({"cmd": 17, "type": 1}, 18)
    assert [f["id"] for f in friends["data"]] == ["v1"]  # the new visitor is in the agent's list at once


async def test_agents_see_their_queue_and_conversations(connect: Connect) -> None:
    from asgiref.sync import sync_to_async

    await sync_to_async(register)("a1", 1)
    await avanke("getReceiver", {"senderId": "v1", "type": 0, "token": "token-of-visitor-v1"})  # nobody online: queued
    native = await connect("token-of-a1")  # the agent on the native socket, with the same token
    await native.push("desk.onAssigned")
    conversations = await native.ok("desk.conversations")
    assert [c["visitor"]["id"] for c in conversations] == ["v1"]
    assert await native.ok("desk.queue") == []
    await native.ok("desk.close", {"conversationId": conversations[0]["conversationId"]})
    assert await native.ok("desk.conversations") == []
    visitor_native = await connect("token-of-visitor-v1")
    assert (await visitor_native.call("desk.queue"))["code"] == 403


@override_settings(DESK_AGENT_MAX_OPEN=1)
async def test_an_agent_with_no_room_sees_who_waits(connect: Connect) -> None:
    from asgiref.sync import sync_to_async

    agent = await sync_to_async(register)("a1", 1, nick="小李")
    native = await connect("token-of-a1")  # online, with room for one
    await avanke("getReceiver", {"senderId": "v1", "type": 0, "nick": "一", "token": "token-of-visitor-v1"})
    assigned = await native.push("desk.onAssigned")
    assert assigned["visitor"]["id"] == "v1" and assigned["agent"] == {
        "id": "a1", "uId": agent.user_id, "kind": 1, "nick": "小李", "avatar": "", "terminal": "pc"}
    reply = await avanke("getReceiver", {"senderId": "v2", "type": 0, "nick": "二", "token": "token-of-visitor-v2"})
    assert queued_at(reply) == 1
    (waiting,) = await native.ok("desk.queue")
    assert (waiting["position"], waiting["id"], waiting["kind"], waiting["nick"]) == (1, "v2", 0, "二")
    assert isinstance(waiting["since"], int) and waiting["since"] > 10**12  # milliseconds
    await native.ok("desk.close", {"conversationId": assigned["conversationId"]})
    assert (await native.push("desk.onClosed")) == {"conversationId": assigned["conversationId"], "reason": "closed"}
    assert (await native.push("desk.onAssigned"))["visitor"]["id"] == "v2"  # the queue moves on
    assert await native.ok("desk.queue") == []
