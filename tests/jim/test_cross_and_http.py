"""A J-IM client and a native client talk to each other both ways; the /im/vanke/* endpoints:
the desk key, the J-IM document's reply shapes, registration and its token, chatInfo's numbers."""
from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from accounts.models import AuthSession, User
from messaging.desk.models import DeskProfile
from messaging.models import Message
from tests.conftest import Connect, atoken_for
from tests.jim.conftest import SEED_VISITOR, avanke, jim, register, vanke

pytestmark = pytest.mark.django_db(transaction=True)


async def test_jim_and_native_clients_exchange_messages_both_ways(connect: Connect, alice: User) -> None:
    visitor = await sync_to_async(register)(SEED_VISITOR, 0)
    jim_socket = await jim(connect, f"token-of-{SEED_VISITOR}")
    native = await connect(await atoken_for(alice))
    # native -> J-IM: a text message to the visitor's user id arrives as cmd 11 from "uid:<alice>"
    sent = await native.ok("messages.send", {"to": visitor.user_id, "type": 1, "content": {"text": "您好"}})
    body = await jim_socket.push()
    assert body == {"chatType": 2, "cmd": 11, "content": "您好", "createTime": body["createTime"],
                    "from": f"uid:{alice.pk}", "id": str(sent["messageId"]), "msgType": 0, "to": SEED_VISITOR}
    # J-IM -> native: text becomes type 1, a link a custom type 9 that keeps the J-IM fields
    reply = {"cmd": 11, "from": SEED_VISITOR, "to": f"uid:{alice.pk}", "msgType": 0, "content": "看看这套",
             "extras": {"headImg": "http://x/1.png"}}
    assert (await jim_socket.ask(reply, 12))["code"] == 10000
    text = await native.push("onMessage")
    assert (text["from"], text["type"], text["content"]) == (visitor.user_id, 1,
                                                             {"text": "看看这套", "extras": {"headImg": "http://x/1.png"}})
    link = {"cmd": 11, "to": f"uid:{alice.pk}", "msgType": 1, "content": "https://example.com/sandbox/9"}
    assert (await jim_socket.ask(link, 12))["code"] == 10000
    custom = await native.push("onMessage")
    assert custom["type"] == 9 and custom["content"] == {"msgType": 1, "content": "https://example.com/sandbox/9"}
    # the native side reads them in sync like any message, in one private chat
    synced = await native.ok("messages.sync")
    assert [m["seq"] for m in synced["chats"][0]["messages"]] == [1, 2, 3]
    # and the J-IM history shows all three the way J-IM wrote them
    history = await jim_socket.ask({"cmd": 19, "type": 1, "userId": SEED_VISITOR, "fromUserId": f"uid:{alice.pk}"}, 20)
    assert [(m["msgType"], m["content"]) for m in history["data"]["friends"][f"uid:{alice.pk}"]] == [
        (0, "您好"), (0, "看看这套"), (1, "https://example.com/sandbox/9")]


async def test_native_only_types_reach_jim_as_msg_type_100_plus(connect: Connect, alice: User) -> None:
    visitor = await sync_to_async(register)(SEED_VISITOR, 0)
    jim_socket = await jim(connect, f"token-of-{SEED_VISITOR}")
    native = await connect(await atoken_for(alice))
    await native.ok("messages.send", {"to": visitor.user_id, "type": 8, "content": {"lat": 31.2, "lng": 121.5}})
    body = await jim_socket.push()
    assert body["msgType"] == 108 and body["content"] == '{"lat":31.2,"lng":121.5}'


def test_desk_endpoints_need_the_key() -> None:
    body = {"senderId": "v1", "type": 0, "token": "abcdefgh123"}
    assert vanke("initUser", body, key=None, status=401) == {"code": 401, "msg": "missing or wrong X-Desk-Key",
                                                             "data": None}
    assert vanke("initUser", body, key="wrong", status=401)["code"] == 401
    from django.test import override_settings

    with override_settings(DESK_API_KEY=""):
        assert vanke("getReceiver", body, status=503)["code"] == 503
    assert not DeskProfile.objects.exists()


def test_init_user_registers_the_user_and_their_token() -> None:
    seed = {"senderId": "098f64aa0ac8ad53", "receiverId": "", "avatar": "ggggfff", "nick": "测试", "terminal": "pc",
            "token": "b92cecbf47a4f04f3", "type": 0}
    assert vanke("initUser", seed) == {"code": 200, "msg": "success", "data": None}
    profile = DeskProfile.objects.select_related("user").get(external_id="098f64aa0ac8ad53")
    assert (profile.kind, profile.nick, profile.avatar, profile.terminal) == (0, "测试", "ggggfff", "pc")
    assert not profile.user.has_usable_password() and not profile.user.is_internal
    # again, with a new nick and a second token: one user, both tokens live
    assert vanke("initUser", {**seed, "nick": "新", "token": "second-token-1"})["code"] == 200
    assert DeskProfile.objects.get().nick == "新" and User.objects.count() == 1
    assert AuthSession.objects.filter(user=profile.user, revoked_at__isnull=True).count() == 2
    # the token opens REST as well
    from django.test import Client

    assert Client().get("/api/v1/friends", headers={"Authorization": "Bearer b92cecbf47a4f04f3"}).status_code == 200


def test_init_user_refusals() -> None:
    ok = {"senderId": "a1", "type": 0, "token": "token-of-a1"}
    vanke("initUser", ok)
    assert vanke("initUser", {**ok, "type": 1}, status=409)["code"] == 409  # kinds are the operators'
    assert vanke("initUser", {**ok, "senderId": "b1"}, status=409)["msg"] == "this token belongs to another user"
    assert vanke("initUser", {**ok, "senderId": "bad id!"}, status=400)["code"] == 400
    assert vanke("initUser", {**ok, "senderId": "c1", "type": 5}, status=400)["code"] == 400
    assert vanke("initUser", {**ok, "senderId": "c1", "token": "short"}, status=400)["code"] == 400
    assert DeskProfile.objects.count() == 1


async def test_get_receiver_answers_the_seeds_user_object(connect: Connect) -> None:
    await avanke("initUser", {"senderId": "098f64aa0ac8ad55", "nick": "测试客服", "avatar": "ggggfff",
                              "terminal": "pc", "token": "agent-token-55", "type": 1})
    await jim(connect, "agent-token-55")  # the agent is online
    reply = await avanke("getReceiver", {"senderId": "098f64aa0ac8ad53", "receiverId": "", "nick": "访客",
                                         "avatar": "a", "terminal": "pc", "token": "b92cecbf47a4f04f3", "type": 0})
    assert reply == {"code": 200, "msg": "success", "data": {
        "id": "098f64aa0ac8ad55", "nick": "测试客服", "avatar": "ggggfff", "status": "online", "sign": None,
        "terminal": "pc", "friends": None, "groups": None, "extras": None}}


def test_chat_info_counts_and_op_2_reads(alice: User) -> None:
    agent = register("agent-1", 1)
    visitors = [register(f"visitor-{n}", 0) for n in range(3)]
    from messaging.services import message_send

    for n, visitor in enumerate(visitors):
        for k in range(n + 1):
            message_send(sender=visitor.user, type_=1, content={"text": f"{n}.{k}"}, to=agent.user_id)
    message_send(sender=agent.user, type_=1, content={"text": "answer"}, to=visitors[0].user_id)
    query = {"to": "agent-1", "from": "visitor-2", "op": 1, "isNewMember": 1, "isConcurrent": 0}
    assert vanke("chatInfo", query) == {"code": 200, "msg": "success", "data": {
        "to": "agent-1", "from": "visitor-2", "pendingReplyNum": 2, "lastedContactsNum": 3, "allContactsNum": 3,
        "unReadNum": 3}}
    opened = vanke("chatInfo", {**query, "op": 2})["data"]
    assert opened["unReadNum"] == 0 and opened["pendingReplyNum"] == 2  # read is not answered
    # op 1 while that chat is on screen (isConcurrent 1) reads the new message too
    message_send(sender=visitors[1].user, type_=1, content={"text": "more"}, to=agent.user_id)
    shown = vanke("chatInfo", {**query, "from": "visitor-1", "isConcurrent": 1})["data"]
    assert shown["unReadNum"] == 0
    assert vanke("chatInfo", {**query, "from": "visitor-0"})["data"]["unReadNum"] == 1
    # native users take part under their uid: ids
    message_send(sender=alice, type_=1, content={"text": "hi"}, to=agent.user_id)
    assert vanke("chatInfo", {**query, "from": f"uid:{alice.pk}"})["data"]["allContactsNum"] == 4
    assert vanke("chatInfo", {**query, "from": "nobody"}, status=404)["code"] == 404
    assert vanke("chatInfo", {**query, "op": 3}, status=400)["code"] == 400
    assert Message.objects.count() == 9


async def test_a_native_login_opens_the_jim_socket_as_uid(connect: Connect, alice: User, bob: User) -> None:
    socket = await jim(connect, await atoken_for(alice))
    await sync_to_async(register)(SEED_VISITOR, 0)
    assert (await socket.ask({"cmd": 11, "to": SEED_VISITOR, "msgType": 0, "content": "hi"}, 12))["code"] == 10000
    reply = await socket.ask({"cmd": 17, "type": 1, "userId": f"uid:{alice.pk}"}, 18)
    assert reply["data"] == [{"id": SEED_VISITOR, "terminal": "pc"}]
