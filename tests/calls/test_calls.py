"""Call signalling over the socket: every call.* method, push and refusal."""
from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings
from django.utils import timezone

from accounts.models import Block, User
from calls.models import Call, CallParticipant
from calls.services import call_ring_due
from calls.tasks import end_ringing
from chats.models import Chat
from chats.services import group_create, private_chat_get_or_create
from messaging.models import Message
from tests.conftest import Connect, SocketClient, atoken_for, set_app_config

pytestmark = pytest.mark.django_db(transaction=True)


async def sockets(connect: Connect, *users: User) -> list[SocketClient]:
    return [await connect(await atoken_for(u)) for u in users]


async def private(a: User, b: User) -> Chat:
    return await sync_to_async(private_chat_get_or_create)(user_id=a.pk, peer_id=b.pk)


async def test_private_call_invite_answer_hang_up_leaves_a_record(connect: Connect, alice: User, bob: User) -> None:
    chat = await private(alice, bob)
    a, b = await sockets(connect, alice, bob)
    made = await a.ok("call.create", {"channelName": "room-1", "to": [bob.pk], "chatId": chat.wire_id,
                                      "isVideo": True})
    assert made["from"] == alice.pk and made["to"] == [bob.pk] and made["isVideo"] is True
    assert made["isMeetingAV"] is False and made["chatId"] == chat.wire_id and made["channelName"] == "room-1"
    invite = await b.push("call.onInvite")
    assert invite == made
    assert await a.nothing()  # the creator is not invited to their own call

    info = await b.ok("call.getInfo", {"callId": made["callId"]})
    assert info["isClose"] is False and info["to"] == [bob.pk]
    await b.ok("call.start", {"callId": made["callId"]})
    await b.ok("call.stop", {"callId": made["callId"]})
    left = await a.push("call.onLeave")
    assert left["callId"] == made["callId"] and left["uId"] == bob.pk and left["from"] == alice.pk
    # one person left in a call and nobody ringing: it is over
    assert (await a.ok("call.getInfo", {"callId": made["callId"]}))["isClose"] is True
    record = await a.push("onMessage")
    assert (record["type"], record["from"]) == (12, alice.pk)
    assert record["content"]["callId"] == made["callId"] and record["content"]["end"] == "ended"
    await a.ok("call.stop", {"callId": made["callId"]})  # hanging up again changes nothing
    assert (await a.call("call.start", {"callId": made["callId"]}))["code"] == 410
    assert await Message.objects.filter(type=Message.Type.CALL).acount() == 1

    out = await a.ok("call.queryRecord", {"type": 1})
    assert [r["callId"] for r in out] == [made["callId"]] and out[0]["closeAt"] is not None
    incoming = await b.ok("call.queryRecord", {"type": 2})
    assert incoming[0]["enterAt"] is not None and incoming[0]["leaveAt"] is not None
    assert await b.ok("call.queryRecord", {"type": 1}) == []
    assert len(await b.ok("call.queryRecord", {"type": 0})) == 1
    assert await b.ok("call.queryRecord", {"type": 3}) == []


async def test_only_the_creator_and_invitees_see_or_act(connect: Connect, alice: User, bob: User,
                                                        charlie: User) -> None:
    chat = await private(alice, bob)
    a, b, c = await sockets(connect, alice, bob, charlie)
    made = await a.ok("call.create", {"channelName": "room-2", "to": [bob.pk], "chatId": chat.wire_id})
    for method in ("call.getInfo", "call.start", "call.stop", "call.cancel"):
        assert (await c.call(method, {"callId": made["callId"]}))["code"] == 404, method
    assert (await b.call("call.cancel", {"callId": made["callId"]}))["code"] == 403  # only the creator
    assert (await c.call("call.create", {"to": [bob.pk], "chatId": chat.wire_id}))["code"] == 403  # not in chat
    assert (await a.call("call.create", {"channelName": "room-2", "to": [bob.pk],
                                         "chatId": chat.wire_id}))["code"] == 409  # channel has an open call
    assert (await a.call("call.create", {"to": [charlie.pk], "chatId": chat.wire_id}))["code"] == 422
    assert (await a.call("call.create", {"to": [alice.pk], "chatId": chat.wire_id}))["code"] == 422
    assert (await a.call("call.create", {"to": [], "chatId": chat.wire_id}))["code"] == 422
    assert (await a.call("call.create", {"channelName": "bad/name", "to": [bob.pk],
                                         "chatId": chat.wire_id}))["code"] == 422


async def test_blacklist_and_friends_only_refuse_the_call(connect: Connect, alice: User, bob: User) -> None:
    chat = await private(alice, bob)
    (a,) = await sockets(connect, alice)
    await Block.objects.acreate(user=bob, blocked=alice)
    assert (await a.call("call.create", {"to": [bob.pk], "chatId": chat.wire_id}))["code"] == 501
    await Block.objects.all().adelete()
    await sync_to_async(set_app_config)(only_friend_chat=True)
    assert (await a.call("call.create", {"to": [bob.pk], "chatId": chat.wire_id}))["code"] == 470
    assert not await Call.objects.aexists()


async def test_cancel_pushes_to_invitees_and_counts_as_missed_once(connect: Connect, alice: User, bob: User) -> None:
    chat = await private(alice, bob)
    a, b = await sockets(connect, alice, bob)
    made = await a.ok("call.create", {"to": [bob.pk], "chatId": chat.wire_id})
    assert made["channelName"].startswith("call-")  # the server names the channel when asked to
    await b.push("call.onInvite")
    await a.ok("call.cancel", {"callId": made["callId"]})
    cancelled = await b.push("call.onCancel")
    assert cancelled["callId"] == made["callId"] and cancelled["reason"] == "cancelled"
    assert (await a.call("call.cancel", {"callId": made["callId"]}))["code"] == 410
    offline = await b.ok("call.queryOffline")
    assert offline["count"] == 1 and offline["records"][0]["callId"] == made["callId"]
    assert offline["records"][0]["enterAt"] is None
    assert await b.ok("call.queryOffline") == {"count": 0, "records": []}  # returned once
    record = await b.push("onMessage")
    assert record["type"] == 12 and record["content"]["end"] == "cancelled"


@override_settings(CALL_RING_SECONDS=30)
async def test_unanswered_invite_becomes_a_missed_call(connect: Connect, alice: User, bob: User) -> None:
    chat = await private(alice, bob)
    a, b = await sockets(connect, alice, bob)
    made = await a.ok("call.create", {"to": [bob.pk], "chatId": chat.wire_id})
    await b.push("call.onInvite")
    assert await sync_to_async(call_ring_due)() == 0  # still ringing
    later = timezone.now() + timedelta(seconds=31)
    assert await sync_to_async(call_ring_due)(now=later) == 1
    assert await sync_to_async(call_ring_due)(now=later) == 0  # a second run changes nothing
    missed = await b.push("call.onCancel")
    assert missed["reason"] == "missed"
    assert (await a.ok("call.getInfo", {"callId": made["callId"]}))["isClose"] is True
    assert (await a.push("onMessage"))["content"]["end"] == "missed"
    assert [r["callId"] for r in (await b.ok("call.queryOffline"))["records"]] == [made["callId"]]
    from config.celery import app

    assert "calls.tasks.end_ringing" in {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert await sync_to_async(lambda: end_ringing.apply().get())() == 0


async def test_meeting_goes_on_until_everyone_leaves(connect: Connect, alice: User, bob: User,
                                                     charlie: User) -> None:
    group = await sync_to_async(group_create)(owner=alice, title="Team", member_ids=[bob.pk, charlie.pk])
    a, b, c = await sockets(connect, alice, bob, charlie)
    made = await a.ok("call.create", {"channelName": "standup", "to": [bob.pk, charlie.pk], "chatId": group.wire_id,
                                      "isMeetingAV": True})
    for side in (b, c):
        assert (await side.push("call.onInvite"))["to"] == [bob.pk, charlie.pk]
    await b.ok("call.start", {"callId": made["callId"]})
    # charlie never answers: the ring job marks him missed, the meeting goes on
    assert await sync_to_async(call_ring_due)(now=timezone.now() + timedelta(seconds=61)) == 1
    assert (await c.push("call.onCancel"))["reason"] == "missed"
    await a.ok("call.stop", {"callId": made["callId"]})  # the creator leaves; bob is still in
    assert (await b.push("call.onLeave"))["uId"] == alice.pk
    assert (await b.ok("call.getInfo", {"callId": made["callId"]}))["isClose"] is False
    await b.ok("call.stop", {"callId": made["callId"]})
    assert (await b.ok("call.getInfo", {"callId": made["callId"]}))["isClose"] is True
    meetings = await a.ok("call.queryRecord", {"type": 3})
    assert [m["callId"] for m in meetings] == [made["callId"]] and meetings[0]["isMeetingAV"] is True
    people = {p.user_id: p async for p in CallParticipant.objects.filter(call_id=made["callId"])}
    assert people[charlie.pk].missed and not people[bob.pk].missed and not people[bob.pk].in_call


async def test_declining_a_private_call_ends_it(connect: Connect, alice: User, bob: User) -> None:
    chat = await private(alice, bob)
    a, b = await sockets(connect, alice, bob)
    made = await a.ok("call.create", {"to": [bob.pk], "chatId": chat.wire_id})
    await b.ok("call.stop", {"callId": made["callId"]})  # hang up without answering
    assert (await a.push("call.onLeave"))["uId"] == bob.pk
    assert (await a.ok("call.getInfo", {"callId": made["callId"]}))["isClose"] is True
    assert (await a.push("onMessage"))["content"]["end"] == "declined"
    assert (await b.ok("call.queryOffline"))["count"] == 0  # he declined: not a missed call


async def test_token_needs_configuration(connect: Connect, alice: User, bob: User) -> None:
    chat = await private(alice, bob)
    (a,) = await sockets(connect, alice)
    await a.ok("call.create", {"channelName": "room-9", "to": [bob.pk], "chatId": chat.wire_id})
    with override_settings(AGORA_APP_ID="", AGORA_APP_CERTIFICATE=""):
        reply = await a.call("call.token.create", {"channelName": "room-9", "uid": alice.pk})
    assert reply["code"] == 503 and "AGORA_APP_ID" in reply["msg"]


@override_settings(AGORA_APP_ID="970CA35de60c44645bbae8a215061b33",
                   AGORA_APP_CERTIFICATE="5CFd2fd1755d40ecb72977518be15d3b", AGORA_TOKEN_EXPIRE_SECONDS=1800)
async def test_token_for_a_participant_decodes_and_verifies(connect: Connect, alice: User, bob: User,
                                                            charlie: User) -> None:
    from tests.calls.test_agora_token import decode, verifies

    chat = await private(alice, bob)
    a, b, c = await sockets(connect, alice, bob, charlie)
    made = await a.ok("call.create", {"channelName": "room-7", "to": [bob.pk], "chatId": chat.wire_id})
    before = int(timezone.now().timestamp())
    token = (await b.ok("call.token.create", {"channelName": "room-7", "uid": bob.pk}))["token"]
    decoded = decode(token)
    assert verifies(decoded, "5CFd2fd1755d40ecb72977518be15d3b")
    assert not verifies(decoded, "0" * 32)
    assert decoded.app_id == "970CA35de60c44645bbae8a215061b33"
    assert decoded.channel_name == "room-7" and decoded.uid == str(bob.pk)
    assert decoded.expire == 1800 and before - 1 <= decoded.issue_ts <= before + 5
    assert decoded.services == {1: {1: 1800, 2: 1800, 3: 1800, 4: 1800}}
    assert (await c.call("call.token.create", {"channelName": "room-7", "uid": charlie.pk}))["code"] == 403
    assert (await b.call("call.token.create", {"channelName": "room-7", "uid": alice.pk}))["code"] == 403
    assert (await b.call("call.token.create", {"channelName": "other", "uid": bob.pk}))["code"] == 403
    await a.ok("call.cancel", {"callId": made["callId"]})
    assert (await b.call("call.token.create", {"channelName": "room-7", "uid": bob.pk}))["code"] == 403  # closed
