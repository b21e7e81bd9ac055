"""The J-IM document's own requests against the desk and the socket:

* /im/vanke/* without X-Desk-Key (the document sends none): 401 by default, served from
  ``DESK_TRUSTED_NETWORKS`` (REMOTE_ADDR; a forwarding header a client writes gets nobody in),
  and still never a way into an account the desk did not make;
* getReceiver for a visitor nobody is free for: code 200 with a receiver object, as the
  document knows no other answer (a queued receiver, or ``DESK_LEAVE_MESSAGE_ID``'s account),
  the place in the queue kept as an extra field;
* the assignment push on its own command (101), never 18, the reply of command 17;
* cmd 19 offline messages paged by ``offset``/``count`` as the document describes, bounded."""
from __future__ import annotations

import json
import os
from typing import Any

import pytest
from django.test import Client, override_settings

from accounts.selectors import session_authenticate
from config.env import env_networks
from messaging.desk.models import DeskProfile
from messaging.desk.services import profile_link
from tests.accounts.factories import make_user
from tests.conftest import Connect
from tests.jim.conftest import KEY, SEED_OTHER, SEED_VISITOR, JimClient, aregister, avanke, jim, register
from tests.jim.test_socket import SEED_OFFLINE, SEED_OFFLINE_KEEP

pytestmark = pytest.mark.django_db(transaction=True)

# The document's requests, verbatim (its initUser body has a full-width colon after "nick" and
# comments: as JSON, with the comments left out).
SEED_INIT_USER = {"senderId": "098f64aa0ac8ad53", "receiverId": "", "avatar": "ggggfff", "nick": "测试",
                  "terminal": "pc", "token": "b92cecbf47a4f04f3", "type": 0}
SEED_GET_RECEIVER = {"senderId": "098f64aa0ac8ad53", "receiverId": "", "nick": "测试客服", "avatar": "ggggfff",
                     "terminal": "pc", "token": "b92cecbf47a4f04f3", "type": 0}
SEED_CHAT_INFO = {"to": "098f64aa0ac8ad53", "from": "098f64aa0ac8ad53", "op": 1, "isNewMember": 1, "isConcurrent": 1}
BACK_END = "172.16.4.20"
RECEIVER_KEYS = ["id", "nick", "avatar", "status", "sign", "terminal", "friends", "groups", "extras"]


def networks(value: str) -> Any:
    """DESK_TRUSTED_NETWORKS as an operator writes it, parsed as at start-up."""
    os.environ["DESK_TRUSTED_NETWORKS"] = value
    try:
        return env_networks("DESK_TRUSTED_NETWORKS")
    finally:
        del os.environ["DESK_TRUSTED_NETWORKS"]


def seed_call(name: str, body: dict[str, Any], address: str = BACK_END, **headers: str) -> tuple[int, dict[str, Any]]:
    """The property app's server as the document shows it: a JSON body and no X-Desk-Key."""
    reply = Client(REMOTE_ADDR=address).post(f"/im/vanke/{name}", json.dumps(body), content_type="application/json",
                                            headers=headers)
    return reply.status_code, dict(reply.json())


# --- 1: the desk API without X-Desk-Key -----------------------------------------------------------
def test_the_documents_calls_without_a_key_are_refused_by_default() -> None:
    for name, body in (("initUser", SEED_INIT_USER), ("getReceiver", SEED_GET_RECEIVER),
                       ("chatInfo", SEED_CHAT_INFO)):
        assert seed_call(name, body) == (401, {"code": 401, "msg": "missing or wrong X-Desk-Key", "data": None})
    assert not DeskProfile.objects.exists()


def test_the_documents_calls_are_served_from_a_trusted_network() -> None:
    with override_settings(DESK_TRUSTED_NETWORKS=networks("172.16.0.0/12")):
        assert seed_call("initUser", SEED_INIT_USER) == (200, {"code": 200, "msg": "success", "data": None})
        status, reply = seed_call("getReceiver", SEED_GET_RECEIVER)
        assert status == 200 and reply["code"] == 200 and list(reply["data"]) == [*RECEIVER_KEYS, "position"]
        register("agent-1", 1)  # the document's chatInfo names one id twice; a pair is two users
        status, info = seed_call("chatInfo", {**SEED_CHAT_INFO, "from": "agent-1"})
        assert status == 200 and info["code"] == 200, info
        assert set(info["data"]) == {"to", "from", "pendingReplyNum", "lastedContactsNum", "allContactsNum",
                                     "unReadNum"}
    assert session_authenticate("b92cecbf47a4f04f3") is not None  # the document's token now opens the socket
    assert DeskProfile.objects.filter(external_id="098f64aa0ac8ad53", kind=0).exists()


@pytest.mark.parametrize(("address", "headers"), [
    ("203.0.113.9", {}),
    ("172.32.0.1", {}),
    ("203.0.113.9", {"X-Forwarded-For": BACK_END}),
    ("203.0.113.9", {"X-Real-IP": BACK_END}),
    ("203.0.113.9", {"Forwarded": f"for={BACK_END}"}),
])
def test_other_addresses_and_spoofed_headers_still_need_the_key(address: str, headers: dict[str, str]) -> None:
    with override_settings(DESK_TRUSTED_NETWORKS=networks("172.16.0.0/12")):
        assert seed_call("initUser", SEED_INIT_USER, address, **headers)[0] == 401
    assert not DeskProfile.objects.exists()


def test_a_key_that_is_sent_is_checked_even_from_a_trusted_network() -> None:
    with override_settings(DESK_TRUSTED_NETWORKS=networks("172.16.0.0/12")):
        assert seed_call("initUser", SEED_INIT_USER, **{"X-Desk-Key": "wrong"})[0] == 401
        assert seed_call("initUser", SEED_INIT_USER, **{"X-Desk-Key": KEY})[0] == 200


def test_without_a_key_configured_only_the_trusted_network_is_served() -> None:
    with override_settings(DESK_API_KEY="", DESK_TRUSTED_NETWORKS=networks("172.16.4.20")):
        assert seed_call("initUser", SEED_INIT_USER)[0] == 200
        assert seed_call("initUser", SEED_INIT_USER, "172.16.4.21")[0] == 401
        assert seed_call("initUser", SEED_INIT_USER, **{"X-Desk-Key": ""})[0] == 401  # a key sent is checked
    with override_settings(DESK_API_KEY=""):
        assert seed_call("initUser", SEED_INIT_USER)[0] == 503  # the default: off


def test_a_trusted_network_reaches_no_account_the_desk_did_not_make() -> None:
    admin = make_user(username="admin", first_name="Admin", is_staff=True, is_superuser=True)
    profile_link(user=admin, external_id="admin-desk", kind=1)
    with override_settings(DESK_TRUSTED_NETWORKS=networks("172.16.0.0/12")):
        for name in ("initUser", "getReceiver"):
            status, reply = seed_call(name, {**SEED_INIT_USER, "senderId": "admin-desk", "type": 1,
                                             "nick": "mallory", "token": "stolen-token-1"})
            assert (status, reply["msg"]) == (409, "admin-desk is not an account the desk manages")
        assert seed_call("chatInfo", {**SEED_CHAT_INFO, "to": f"uid:{admin.pk}"})[0] == 404
    # a desk-made account an operator later made staff is out of reach too
    promoted = register("promoted-1", 1)
    type(admin).objects.filter(pk=promoted.user_id).update(is_staff=True)
    with override_settings(DESK_TRUSTED_NETWORKS=networks("172.16.0.0/12")):
        status, _ = seed_call("initUser", {**SEED_INIT_USER, "senderId": "promoted-1", "type": 1,
                                           "token": "stolen-token-2"})
    assert status == 409
    assert session_authenticate("stolen-token-1") is None and session_authenticate("stolen-token-2") is None
    admin.refresh_from_db()
    assert admin.first_name == "Admin"


# --- 2: getReceiver for a queued visitor ----------------------------------------------------------
def test_a_queued_visitor_gets_the_documents_shape() -> None:
    register("agent-1", 1)  # registered, but not online: nobody is free
    status, reply = seed_call("getReceiver", SEED_GET_RECEIVER, **{"X-Desk-Key": KEY})
    assert status == 200
    assert reply == {"code": 200, "msg": "success", "data": {
        "id": "", "nick": "", "avatar": "", "status": "queued", "sign": None, "terminal": "", "friends": None,
        "groups": None, "extras": {"queued": True, "position": 1}, "position": 1}}
    second = seed_call("getReceiver", {**SEED_GET_RECEIVER, "senderId": "098f64aa0ac8ad54", "token": "t-0000054"},
                       **{"X-Desk-Key": KEY})[1]
    assert (second["code"], second["data"]["position"]) == (200, 2)


@pytest.mark.parametrize(("kind", "enabled"), [(2, True), (1, False)])  # a consultant, or an agent routed nothing
def test_a_queued_visitor_is_shown_the_leave_a_message_account(kind: int, enabled: bool) -> None:
    DeskProfile.objects.filter(pk=register("leave-msg", kind, nick="留言").pk).update(is_enabled=enabled)
    with override_settings(DESK_LEAVE_MESSAGE_ID="leave-msg"):
        status, reply = seed_call("getReceiver", SEED_GET_RECEIVER, **{"X-Desk-Key": KEY})
    assert status == 200 and reply["code"] == 200 and reply["msg"] == "success"
    assert reply["data"] == {"id": "leave-msg", "nick": "留言", "avatar": "", "status": "offline", "sign": None,
                             "terminal": "pc", "friends": None, "groups": None,
                             "extras": {"queued": True, "position": 1, "leaveMessage": True}, "position": 1}


@pytest.mark.parametrize("setting", ["nobody-here", "a-visitor", "banned", "operator-desk"])
def test_a_leave_a_message_id_that_is_no_agent_is_not_shown(setting: str) -> None:
    register("a-visitor", 0)
    type(register("banned", 1).user).objects.filter(desk_profile__external_id="banned").update(is_active=False)
    profile_link(user=make_user(username="boss", is_staff=True), external_id="operator-desk", kind=1)
    with override_settings(DESK_LEAVE_MESSAGE_ID=setting):
        reply = seed_call("getReceiver", SEED_GET_RECEIVER, **{"X-Desk-Key": KEY})[1]
    assert (reply["data"]["id"], reply["data"]["status"]) == ("", "queued")


# --- 3: the assignment push has a command of its own ----------------------------------------------
async def test_the_assignment_push_is_not_command_18(connect: Connect) -> None:
    await avanke("initUser", {"senderId": "a1", "type": 1, "nick": "小李", "token": "token-of-agent-a1"})
    assert (await avanke("getReceiver", {**SEED_GET_RECEIVER, "token": "token-of-visitor"}))["data"]["status"] == (
        "queued")
    visitor = JimClient(await connect("token-of-visitor", path="/"))
    await jim(connect, "token-of-agent-a1")  # comes online: takes the visitor
    told = await visitor.socket.frame(3)
    assert told == {"code": 200, "command": 101, "data": [{"id": "a1", "nick": "小李", "terminal": "ws"}],
                    "msg": "assigned"}
    # a client pairing replies by "command": cmd 17's reply is the next 18, the friends list
    await visitor.send({"cmd": 17, "type": "1", "userId": "098f64aa0ac8ad53"})
    reply = await visitor.socket.frame(3)
    assert (reply["command"], reply["msg"], reply["data"]) == (18, "success ", [{"id": "a1", "nick": "小李",
                                                                                 "terminal": "ws"}])


# --- 4: cmd 19 offline messages paged by offset/count ------------------------------------------------
async def seed_pair_with_unread(connect: Connect, n: int) -> tuple[JimClient, JimClient]:
    await aregister(SEED_OTHER, 1, nick="770e4")
    await aregister(SEED_VISITOR, 0)
    agent, visitor = await jim(connect, f"token-of-{SEED_OTHER}"), await jim(connect, f"token-of-{SEED_VISITOR}")
    for i in range(n):
        await agent.ask({"cmd": 11, "to": SEED_VISITOR, "msgType": 0, "content": f"m{i}"}, 12)
        await visitor.push()
    return agent, visitor


def contents(reply: dict[str, Any]) -> list[str]:
    assert reply["code"] == 10018 and reply["command"] == 20, reply
    return [m["content"] for m in reply["data"]["friends"].get(SEED_OTHER, [])]


async def test_offline_messages_are_paged_as_the_document_describes(connect: Connect) -> None:
    _, visitor = await seed_pair_with_unread(connect, 4)
    # "offset": 1, "count": 2 is "limit 1,2": the second and third unread, oldest first
    assert contents(await visitor.ask(SEED_OFFLINE_KEEP, 20)) == ["m1", "m2"]  # type 2: kept unread
    assert contents(await visitor.ask(SEED_OFFLINE_KEEP, 20)) == ["m1", "m2"]
    # type 0 with the document's offset 1: m0 was skipped, never delivered, so nothing is read
    assert contents(await visitor.ask(SEED_OFFLINE, 20)) == ["m1", "m2"]
    assert contents(await visitor.ask(SEED_OFFLINE_KEEP, 20)) == ["m1", "m2"]
    # from the first unread on, the page is read; what came after it stays unread for the next call
    first_two = {"cmd": 19, "type": "0", "userId": SEED_OTHER, "fromUserId": SEED_VISITOR, "offset": 0, "count": 2}
    assert contents(await visitor.ask(first_two, 20)) == ["m0", "m1"]
    rest = {"cmd": 19, "type": "0", "userId": SEED_OTHER, "fromUserId": SEED_VISITOR}
    assert contents(await visitor.ask(rest, 20)) == ["m2", "m3"]
    assert contents(await visitor.ask(rest, 20)) == []


async def test_offline_paging_is_bounded(connect: Connect) -> None:
    _, visitor = await seed_pair_with_unread(connect, 3)
    keep = {"cmd": 19, "type": 2, "userId": SEED_VISITOR, "fromUserId": SEED_OTHER}
    assert contents(await visitor.ask(keep, 20)) == ["m0", "m1", "m2"]  # no paging: every unread (at most 500)
    assert contents(await visitor.ask({**keep, "count": 0}, 20)) == ["m0"]  # count at least 1
    assert contents(await visitor.ask({**keep, "count": "100000"}, 20)) == ["m0", "m1", "m2"]  # at most 500
    assert contents(await visitor.ask({**keep, "offset": -5, "count": 1}, 20)) == ["m0"]
    assert contents(await visitor.ask({**keep, "offset": 7}, 20)) == []
    too_far = await visitor.ask({**keep, "offset": 1_000_001}, 20)
    assert too_far["code"] == 10015 and "offset must be at most 1000000" in too_far["msg"]
    # every chat at once (no fromUserId) pages each chat alike
    assert contents(await visitor.ask({"cmd": 19, "type": 2, "userId": SEED_VISITOR, "offset": 2}, 20)) == ["m2"]
