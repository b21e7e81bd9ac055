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
    assert made["isMeetingAV"] is False and made["chatId"] == chat.wire_id
    assert made["channelName"].startswith("call-") and made["channelName"] != "room-1"  # the server names it
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


async def test_an_open_call_is_recorded_without_an_end(connect: Connect, alice: User, bob: User) -> None:
    chat = await private(alice, bob)
    a, b = await sockets(connect, alice, bob)
    made = await a.ok("call.create", {"to": [bob.pk], "chatId": chat.wire_id})
    (mine,) = await a.ok("call.queryRecord", {"type": 1})
    assert mine["callId"] == made["callId"] and mine["end"] is None and mine["closeAt"] is None
    assert abs(mine["enterAt"] - made["createAt"]) <= 1 and mine["leaveAt"] is None and mine["missed"] is False
    (theirs,) = await b.ok("call.queryRecord", {"type": 2})
    assert theirs["enterAt"] is None and theirs["leaveAt"] is None  # still ringing
    assert (await b.ok("call.getInfo", {"callId": made["callId"]}))["closeAt"] is None


async def test_only_the_creator_and_invitees_see_or_act(connect: Connect, alice: User, bob: User,
                                                        charlie: User) -> None:
    chat = await private(alice, bob)
    a, b, c = await sockets(connect, alice, bob, charlie)
    made = await a.ok("call.create", {"channelName": "room-2", "to": [bob.pk], "chatId": chat.wire_id})
    for method in ("call.getInfo", "call.start", "call.stop", "call.cancel"):
        assert (await c.call(method, {"callId": made["callId"]}))["code"] == 404, method
    assert (await b.call("call.cancel", {"callId": made["callId"]}))["code"] == 403  # only the creator
    assert (await c.call("call.create", {"to": [bob.pk], "chatId": chat.wire_id}))["code"] == 403  # not in chat
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
    assert made["channelName"].startswith("call-")  # the server names the channel
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
    made = await a.ok("call.create", {"to": [bob.pk], "chatId": chat.wire_id})
    with override_settings(AGORA_APP_ID="", AGORA_APP_CERTIFICATE=""):
        reply = await a.call("call.token.create", {"channelName": made["channelName"], "uid": alice.pk})
    assert reply["code"] == 503 and "AGORA_APP_ID" in reply["msg"]


@override_settings(AGORA_APP_ID="970CA35de60c44645bbae8a215061b33",
                   AGORA_APP_CERTIFICATE="5CFd2fd1755d40ecb72977518be15d3b", AGORA_TOKEN_EXPIRE_SECONDS=1800)
async def test_token_for_a_participant_decodes_and_verifies(connect: Connect, alice: User, bob: User,
                                                            charlie: User) -> None:
    from tests.calls.test_agora_token import decode, verifies

    chat = await private(alice, bob)
    a, b, c = await sockets(connect, alice, bob, charlie)
    made = await a.ok("call.create", {"to": [bob.pk], "chatId": chat.wire_id})
    channel = made["channelName"]
    await b.ok("call.start", {"callId": made["callId"]})  # answered: the token is not bound by the ringing
    before = int(timezone.now().timestamp())
    token = (await b.ok("call.token.create", {"channelName": channel, "uid": bob.pk}))["token"]
    decoded = decode(token)
    assert verifies(decoded, "5CFd2fd1755d40ecb72977518be15d3b")
    assert not verifies(decoded, "0" * 32)
    assert decoded.app_id == "970CA35de60c44645bbae8a215061b33"
    assert decoded.channel_name == channel and decoded.uid == str(bob.pk)
    assert decoded.expire == 1800 and before - 1 <= decoded.issue_ts <= before + 5
    assert decoded.services == {1: {1: 1800, 2: 1800, 3: 1800, 4: 1800}}
    assert (await c.call("call.token.create", {"channelName": channel, "uid": charlie.pk}))["code"] == 403
    assert (await b.call("call.token.create", {"channelName": channel, "uid": alice.pk}))["code"] == 403
    assert (await b.call("call.token.create", {"channelName": "other", "uid": bob.pk}))["code"] == 403
    await b.ok("call.stop", {"callId": made["callId"]})  # one-to-one: over
    assert (await b.call("call.token.create", {"channelName": channel, "uid": bob.pk}))["code"] == 403  # closed


AGORA = {"AGORA_APP_ID": "970CA35de60c44645bbae8a215061b33",
         "AGORA_APP_CERTIFICATE": "5CFd2fd1755d40ecb72977518be15d3b"}


@override_settings(**AGORA, AGORA_TOKEN_EXPIRE_SECONDS=3600)
async def test_a_squatted_channel_name_gives_no_token_for_the_victims_call(connect: Connect, alice: User, bob: User,
                                                                           charlie: User) -> None:
    """charlie takes a token for "room-20-21" in a call of his own, cancels it, and waits for
    alice to call bob there: the server names every call's channel, so his token is for a
    channel no other call will ever use, and he gets no token for theirs."""
    from tests.calls.test_agora_token import decode

    squat_chat = await private(charlie, bob)
    a, b, c = await sockets(connect, alice, bob, charlie)
    squat = await c.ok("call.create", {"channelName": "room-20-21", "to": [bob.pk], "chatId": squat_chat.wire_id})
    assert squat["channelName"] != "room-20-21"  # the client's name is ignored
    await b.push("call.onInvite")
    stolen = decode((await c.ok("call.token.create",
                                {"channelName": squat["channelName"], "uid": charlie.pk}))["token"])
    assert (await c.call("call.token.create", {"channelName": "room-20-21", "uid": charlie.pk}))["code"] == 403
    await c.ok("call.cancel", {"callId": squat["callId"]})

    chat = await private(alice, bob)
    made = await a.ok("call.create", {"channelName": "room-20-21", "to": [bob.pk], "chatId": chat.wire_id})
    assert made["channelName"] not in ("room-20-21", squat["channelName"], stolen.channel_name)
    assert (await b.push("call.onInvite"))["channelName"] == made["channelName"]
    assert len(made["channelName"]) >= 32  # unguessable
    assert (await c.call("call.token.create", {"channelName": made["channelName"], "uid": charlie.pk}))["code"] == 403
    # a channel is never reused: another call between the same two gets another one
    await a.ok("call.cancel", {"callId": made["callId"]})
    again = await a.ok("call.create", {"to": [bob.pk], "chatId": chat.wire_id})
    assert again["channelName"] != made["channelName"]


@override_settings(**AGORA, AGORA_TOKEN_EXPIRE_SECONDS=3600, CALL_RING_SECONDS=45, CALL_MAX_SECONDS=1200)
async def test_tokens_live_no_longer_than_the_ringing_or_the_call(connect: Connect, alice: User, bob: User) -> None:
    from tests.calls.test_agora_token import decode

    chat = await private(alice, bob)
    a, b = await sockets(connect, alice, bob)
    made = await a.ok("call.create", {"to": [bob.pk], "chatId": chat.wire_id})
    channel = made["channelName"]

    def lifetime(reply: dict) -> int:
        token = decode(reply["token"])
        assert token.services[1][1] <= token.expire
        assert reply["expireAt"] == token.issue_ts + token.expire
        return token.expire

    # ringing: the creator's and the invitee's tokens end with the ring time
    assert 40 <= lifetime(await a.ok("call.token.create", {"channelName": channel, "uid": alice.pk})) <= 45
    assert 40 <= lifetime(await b.ok("call.token.create", {"channelName": channel, "uid": bob.pk})) <= 45
    # answered: at most the longest call
    await b.ok("call.start", {"callId": made["callId"]})
    assert 1190 <= lifetime(await b.ok("call.token.create", {"channelName": channel, "uid": bob.pk})) <= 1200
    assert 1190 <= lifetime(await a.ok("call.token.create", {"channelName": channel, "uid": alice.pk})) <= 1200
    # the longest call is over: the job closes it, everyone inside is told, no more tokens
    # (two runs' worth: its ringing ended, then it closed)
    assert await sync_to_async(call_ring_due)(now=timezone.now() + timedelta(seconds=1201)) == 2
    for side in (a, b):
        assert (await side.push("call.onCancel"))["reason"] == "ended"
    assert (await a.ok("call.getInfo", {"callId": made["callId"]}))["isClose"] is True
    assert (await b.call("call.token.create", {"channelName": channel, "uid": bob.pk}))["code"] == 403


@override_settings(**AGORA, CALL_RING_SECONDS=45)
async def test_no_token_for_an_invitee_who_declined_or_a_ring_time_that_ran_out(connect: Connect, alice: User,
                                                                                 bob: User, charlie: User) -> None:
    group = await sync_to_async(group_create)(owner=alice, title="Team", member_ids=[bob.pk, charlie.pk])
    a, b, c = await sockets(connect, alice, bob, charlie)
    made = await a.ok("call.create", {"to": [bob.pk, charlie.pk], "chatId": group.wire_id, "isMeetingAV": True})
    channel = made["channelName"]
    await c.ok("call.stop", {"callId": made["callId"]})  # charlie declines
    assert (await c.call("call.token.create", {"channelName": channel, "uid": charlie.pk}))["code"] == 403
    await Call.objects.filter(pk=made["callId"]).aupdate(ring_until=timezone.now() - timedelta(seconds=1))
    # the ring time is over (the job has not run yet): bob, still ringing, gets no token
    assert (await b.call("call.token.create", {"channelName": channel, "uid": bob.pk}))["code"] == 410
