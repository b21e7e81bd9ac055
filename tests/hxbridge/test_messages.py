"""sendMessages: through messaging.services.message_send to users (their private chat) and groups,
arriving at native sockets as onMessage, with a per-target result; and one scenario run through
/hx/* and through the native protocol ending in the same state."""
from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from accounts.models import Block, User
from messaging.models import Message
from tests.accounts.factories import make_user
from tests.conftest import Connect, SocketClient, atoken_for, set_app_config
from tests.hxbridge.conftest import AHx, Hx, aapi

pytestmark = pytest.mark.django_db(transaction=True)

SEED_SEND = {
    "target_type": "users",
    "target": ["u2", "u3", "stliu"],
    "msg": {"type": "txt", "msg": "HelloWorld"},
    "from": "u1",
}


async def alogin(username: str, password: str = "123456") -> tuple[int, str]:
    reply = await AsyncClient().post("/api/v1/auth/login", {"username": username, "password": password},
                                     content_type="application/json")
    assert reply.status_code == 200, reply.content
    return int(reply.json()["userId"]), str(reply.json()["token"])


async def register(api: AHx, *names: str) -> None:
    await api.ok("registerUser", {"users": [{"username": n, "password": "123456"} for n in names]})


async def test_send_with_the_seed_request_reaches_native_sockets(connect: Connect) -> None:
    api = await aapi()
    await register(api, "u1", "u2", "u3", "stliu")
    (u1_id, u1_token), (_, u2_token) = await alogin("u1"), await alogin("u2")
    u1_socket, u2_socket = await connect(u1_token), await connect(u2_token)
    data = await api.ok("sendMessages", SEED_SEND)
    assert data["data"] == {"u2": "success", "stliu": "success", "u3": "success"}  # the seed's answer
    assert list(data) == ["duration", "path", "application", "data", "organization", "action", "uri",
                          "applicationName", "timestamp"]
    assert (data["path"], data["action"]) == ("/messages", "post")
    pushed = await u2_socket.push("onMessage")
    assert set(pushed) == {"messageId", "chatId", "seq", "from", "type", "subType", "content", "clientMsgId",
                           "createAt"}
    assert (pushed["from"], pushed["type"], pushed["subType"], pushed["content"], pushed["seq"]) == (
        u1_id, 1, 0, {"text": "HelloWorld"}, 1)
    # the sender's own sockets hear of it too (nothing was sent from them), once per message
    echoes = [await u1_socket.push("onMessage") for _ in range(3)]
    assert {e["content"]["text"] for e in echoes} == {"HelloWorld"} and await u1_socket.nothing()
    assert await u2_socket.nothing()
    assert await Message.objects.acount() == 3
    # stored like any message: the receiver syncs it natively
    synced = await u2_socket.ok("messages.sync", {"positions": {}})
    assert synced["chats"][0]["messages"][0] == pushed


EASEMOB_BODIES = [
    ({"type": "txt", "msg": "你好"}, None, 1, {"text": "你好"}),
    ({"type": "img", "url": "https://a1.easemob.com/x/chatfiles/1", "filename": "1.jpg", "secret": "s",
      "size": {"width": 480, "height": 720}}, None, 3,
     {"url": "https://a1.easemob.com/x/chatfiles/1", "name": "1.jpg", "width": 480, "height": 720}),
    ({"type": "loc", "lat": "39.966", "lng": "116.322", "addr": "中国北京市海淀区中关村"}, None, 8,
     {"lat": 39.966, "lng": 116.322, "addr": "中国北京市海淀区中关村"}),
    ({"type": "audio", "url": "https://example.com/a.amr", "filename": "a.amr", "length": 10}, None, 4,
     {"url": "https://example.com/a.amr", "name": "a.amr", "duration": 10}),
    ({"type": "video", "url": "https://example.com/v.mp4", "filename": "v.mp4", "thumb": "https://example.com/t",
      "length": 10, "file_length": 58103}, None, 6,
     {"url": "https://example.com/v.mp4", "name": "v.mp4", "duration": 10, "size": 58103,
      "thumb": "https://example.com/t"}),
    ({"type": "file", "url": "https://example.com/f.pdf", "filename": "f.pdf"}, None, 7,
     {"url": "https://example.com/f.pdf", "name": "f.pdf"}),
    ({"type": "cmd", "action": "action1"}, None, 9, {"hxType": "cmd", "action": "action1"}),
    ({"type": "custom", "customEvent": "gift", "customExts": {"name": "flower", "count": "1"}}, None, 9,
     {"hxType": "custom", "customEvent": "gift", "customExts": {"name": "flower", "count": "1"}}),
    ({"type": "txt", "msg": "with ext"}, {"attr1": "v1", "n": 2}, 1, {"text": "with ext", "ext": {"attr1": "v1",
                                                                                                 "n": 2}}),
]


@pytest.mark.parametrize(("msg", "ext", "type_", "content"), EASEMOB_BODIES)
async def test_easemob_message_types_become_native_types(connect: Connect, alice: User, bob: User,
                                                         msg: dict[str, Any], ext: Any, type_: int,
                                                         content: dict[str, Any]) -> None:
    bob_socket = await connect(await atoken_for(bob))
    api = await aapi()
    body = {"target_type": "users", "target": ["bob"], "msg": msg, "from": "alice"}
    if ext is not None:
        body["ext"] = ext
    assert (await api.ok("sendMessages", body))["data"] == {"bob": "success"}
    pushed = await bob_socket.push("onMessage")
    assert (pushed["type"], pushed["content"], pushed["from"]) == (type_, content, alice.pk)


async def test_send_to_groups_and_chatrooms_by_chat_id(connect: Connect, alice: User, bob: User,
                                                       charlie: User) -> None:
    alice_socket = await connect(await atoken_for(alice))
    bob_socket, charlie_socket = await connect(await atoken_for(bob)), await connect(await atoken_for(charlie))
    group = await alice_socket.ok("chats.create", {"title": "trip", "uIds": [bob.pk, charlie.pk]})
    room = await alice_socket.ok("chats.create", {"title": "hall", "kind": "supergroup", "uIds": [bob.pk]})
    private = await alice_socket.ok("messages.send", {"to": charlie.pk, "type": 1, "content": "psst"})
    for socket in (bob_socket, charlie_socket):
        await socket.push("onMessage")  # the group's create notice
    await bob_socket.push("onMessage")  # the super-group's
    await charlie_socket.push("onMessage")  # alice's private message
    api = await aapi()
    sent = await api.ok("sendMessages", {
        "target_type": "chatgroups", "target": [str(group["chatId"]), private["chatId"], "abc", -999999],
        "msg": {"type": "txt", "msg": "hello group"}, "from": "alice"})
    assert sent["data"] == {str(group["chatId"]): "success", str(private["chatId"]): "no such group",
                            "abc": "no such group", "-999999": "no such group"}
    for socket in (bob_socket, charlie_socket):
        pushed = await socket.push("onMessage")
        assert (pushed["chatId"], pushed["from"], pushed["content"]) == (group["chatId"], alice.pk,
                                                                          {"text": "hello group"})
    alice_seen = [(await alice_socket.push("onMessage"))["content"] for _ in range(3)]
    assert alice_seen[2] == {"text": "hello group"}  # after the two create notices; her own devices hear it too
    rooms = await api.ok("sendMessages", {
        "target_type": "chatrooms", "target": [room["chatId"]], "msg": {"type": "txt", "msg": "hello room"},
        "from": "bob"})
    assert rooms["data"] == {str(room["chatId"]): "success"}
    for socket in (alice_socket, bob_socket):  # bob sent it through the bridge: his socket hears it too
        assert (await socket.push("onMessage"))["content"] == {"text": "hello room"}
    outsider = await api.ok("sendMessages", {
        "target_type": "chatrooms", "target": [room["chatId"]], "msg": {"type": "txt", "msg": "let me in"},
        "from": "charlie"})
    assert outsider["data"] == {str(room["chatId"]): "you are not a member of this chat"}
    assert await charlie_socket.nothing() and await bob_socket.nothing()


async def test_each_target_gets_its_own_result(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    await Block.objects.acreate(user=charlie, blocked=alice)
    bob_socket, charlie_socket = await connect(await atoken_for(bob)), await connect(await atoken_for(charlie))
    api = await aapi()
    data = await api.ok("sendMessages", {
        "target_type": "users", "target": ["bob", "charlie", "nobody", "alice", "BOB", "bob"],
        "msg": {"type": "txt", "msg": "hi all"}, "from": "alice"})
    assert data["data"] == {"bob": "success", "charlie": "you are on this user's blacklist",
                            "nobody": "no such user", "alice": "you cannot chat with yourself",
                            "BOB": "success"}
    assert [(await bob_socket.push("onMessage"))["content"]["text"] for _ in range(2)] == ["hi all", "hi all"]
    assert await bob_socket.nothing() and await charlie_socket.nothing()
    await sync_to_async(set_app_config)(only_friend_chat=True)
    friends_only = await api.ok("sendMessages", {
        "target_type": "users", "target": ["bob"], "msg": {"type": "txt", "msg": "?"}, "from": "alice"})
    assert friends_only["data"] == {"bob": "only friends can chat"}


async def test_without_from_the_sender_is_admin(connect: Connect, bob: User) -> None:
    api = await aapi()
    body = {"target_type": "users", "target": ["bob"], "msg": {"type": "txt", "msg": "notice"}}
    missing = await api("sendMessages", body)
    assert missing["code"] == 404 and missing["message"] == "no such user: admin"
    operator = await make_admin(is_staff=True, is_superuser=True)
    refused = await api("sendMessages", body)  # an operator's account is never the sender: as if missing
    assert (refused["code"], refused["message"], refused["data"]["error"]) == (
        404, "no such user: admin", missing["data"]["error"])
    await sync_to_async(User.objects.filter(pk=operator.pk).delete)()
    admin = await make_admin()  # an ordinary account named admin: the bridge's system sender
    bob_socket = await connect(await atoken_for(bob))
    assert (await api.ok("sendMessages", body))["data"] == {"bob": "success"}
    assert (await bob_socket.push("onMessage"))["from"] == admin.pk
    assert (await api.ok("sendMessages", {**body, "from": None}))["data"] == {"bob": "success"}


async def make_admin(**fields: bool) -> User:
    return await sync_to_async(make_user)(username="admin", **fields)


@pytest.mark.parametrize(("change", "code", "message"), [
    ({"from": ""}, 400, 'from must be a username (leave it out to send as "admin")'),
    ({"from": "nobody"}, 404, "no such user: nobody"),
    ({"target": "bob"}, 400, "target must be a list"),
    ({"target": []}, 400, "target must be a list"),
    ({"target": [f"u{i}" for i in range(101)]}, 400, "target must be a list of 1-100"),
    ({"target": [True]}, 400, "target must be a list"),
    ({"target": [""]}, 400, "target must be a list"),
    ({"target_type": "groups"}, 400, 'target_type must be "users", "chatgroups" or "chatrooms"'),
    ({"target_type": None}, 400, "target_type is required"),
    ({"msg": None}, 400, "msg must be an object"),
    ({"msg": {"type": "voice", "url": "https://x"}}, 400, "msg.type must be one of txt, img, loc"),
    ({"msg": {"type": "txt", "msg": ""}}, 400, "msg.msg must be a non-empty string"),
    ({"msg": {"type": "txt", "msg": "   "}}, 400, "a text message needs a non-empty content.text"),
    ({"msg": {"type": "img", "filename": "1.jpg"}}, 400, "msg.url must be a non-empty string"),
    ({"msg": {"type": "img", "url": "ftp://x/1.jpg"}}, 400, "content.url must be an http(s) URL"),
    ({"msg": {"type": "img", "url": "https://x/1", "size": {"width": -1}}}, 400,
     "msg.size.width must be a whole number"),
    ({"msg": {"type": "loc", "lat": "north", "lng": "1"}}, 400, "msg.lat must be a number"),
    ({"msg": {"type": "loc", "lat": 91, "lng": 1}}, 400, "content.lat/lng out of range"),
    ({"msg": {"type": "audio", "url": "https://x/a", "length": "ten"}}, 400, "msg.length must be a whole number"),
    ({"msg": {"type": "cmd"}}, 400, "msg.action must be a non-empty string"),
    ({"msg": {"type": "custom", "customExts": ["a"]}}, 400, "msg.customExts must be an object"),
    ({"ext": "attr"}, 400, "ext must be an object"),
    ({"msg": {"type": "txt", "msg": "x" * (128 * 1024 + 1)}}, 400, "content larger than"),  # MESSAGE_MAX_CONTENT_BYTES
])
async def test_bad_requests_send_nothing(connect: Connect, alice: User, bob: User, change: dict[str, Any],
                                         code: int, message: str) -> None:
    bob_socket = await connect(await atoken_for(bob))
    api = await aapi()
    body = {"target_type": "users", "target": ["bob"], "msg": {"type": "txt", "msg": "hi"}, "from": "alice", **change}
    reply = await api("sendMessages", body)
    assert reply["code"] == code and message in reply["message"], reply
    assert await Message.objects.acount() == 0
    assert await bob_socket.nothing()


async def test_form_encoded_send_with_repeated_targets(connect: Connect, alice: User, bob: User,
                                                       charlie: User) -> None:
    bob_socket, charlie_socket = await connect(await atoken_for(bob)), await connect(await atoken_for(charlie))
    api = await aapi()
    reply = await AsyncClient().post("/hx/sendMessages", {
        "target_type": "users", "target": ["bob", "charlie"], "msg": '{"type": "txt", "msg": "by form"}',
        "from": "alice", "token": api.token})
    assert reply.json()["data"]["data"] == {"bob": "success", "charlie": "success"}
    for socket in (bob_socket, charlie_socket):
        assert (await socket.push("onMessage"))["content"] == {"text": "by form"}
    as_json_list = await AsyncClient().post("/hx/sendMessages", {
        "target_type": "users", "target": '["bob"]', "msg": '{"type": "txt", "msg": "listed"}',
        "from": "alice", "token": api.token})
    assert as_json_list.json()["data"]["data"] == {"bob": "success"}


# --- the same scenario through /hx/* and through the native protocol ----------------------------
async def state_of(socket: SocketClient, api: AHx, name: str) -> dict[str, Any]:
    """What a user sees, with ids left out: friends, conversations, unread, the bridge's view."""
    friends = [f["userName"] for f in await socket.ok("friends.list")]
    conversations = [{"kind": c["kind"], "unread": c["unread"], "lastSeq": c["lastSeq"],
                      "last": {k: c["lastMessage"][k] for k in ("type", "subType", "content", "seq")}}
                     for c in await socket.ok("messages.conversations")]
    hx_friends = (await api.ok("getFriends", {"owner_username": name}))["data"]
    unread = (await api.ok("offlineMsgCount", {"owner_username": name}))["data"][name]
    status = (await api.ok("getUserStatus", {"username": name}))["data"][name]
    return {"friends": friends, "conversations": conversations, "hxFriends": hx_friends, "unread": unread,
            "status": status}


async def test_hx_and_native_paths_end_in_the_same_state(connect: Connect) -> None:
    api = await aapi()
    client = AsyncClient()
    # through the bridge: register, befriend, send
    await register(api, "hxa", "hxb")
    (_, hxb_token) = await alogin("hxb")
    hxb_socket = await connect(hxb_token)
    await api.ok("addFriends", {"owner_username": "hxa", "friend_username": "hxb", "type": "post"})
    await api.ok("sendMessages", {"target_type": "users", "target": ["hxb"], "from": "hxa",
                                  "msg": {"type": "txt", "msg": "hello"}})
    # natively: register over REST, befriend and send over the socket
    tokens = {}
    for name in ("nta", "ntb"):
        made = await client.post("/api/v1/auth/register", {"username": name, "password": "123456"},
                                 content_type="application/json")
        assert made.status_code == 201
        tokens[name] = (made.json()["userId"], made.json()["token"])
    nta_socket, ntb_socket = await connect(tokens["nta"][1]), await connect(tokens["ntb"][1])
    # a user asks, the other accepts (the bridge, an operator, needs nobody's approval)
    assert (await nta_socket.ok("friends.add", {"uId": tokens["ntb"][0]}))["pending"] is True
    assert (await ntb_socket.push("friends.onRequest"))["userName"] == "nta"
    await ntb_socket.ok("friends.accept", {"uId": tokens["nta"][0]})
    await nta_socket.ok("messages.send", {"to": tokens["ntb"][0], "type": 1, "content": {"text": "hello"}})
    # the receivers see the same
    for socket in (hxb_socket, ntb_socket):
        assert (await socket.push("friends.onAdded"))["userName"] in ("hxa", "nta")
        assert (await socket.push("onMessage"))["content"] == {"text": "hello"}
    hx_side = await state_of(hxb_socket, api, "hxb")
    native_side = await state_of(ntb_socket, api, "ntb")
    assert hx_side["friends"] == ["hxa"] and native_side["friends"] == ["nta"]
    for side in (hx_side, native_side):
        side.pop("friends")
        side.pop("hxFriends")
    assert hx_side == native_side == {
        "conversations": [{"kind": "private", "unread": 1, "lastSeq": 1,
                           "last": {"type": 1, "subType": 0, "content": {"text": "hello"}, "seq": 1}}],
        "unread": 1, "status": "online"}
    # and each sender's account works both ways: the bridge user logs in, the native one is known to the bridge
    (_, hxa_token) = await alogin("hxa")
    hxa_socket = await connect(hxa_token)
    assert [f["userName"] for f in await hxa_socket.ok("friends.list")] == ["hxb"]
    assert (await api.ok("getFriends", {"owner_username": "nta"}))["data"] == ["ntb"]


def test_a_back_office_may_send_the_token_as_bearer(api: Hx, alice: User, bob: User) -> None:
    import json

    from django.test import Client

    reply = Client().post("/hx/sendMessages", json.dumps({
        "target_type": "users", "target": ["bob"], "msg": {"type": "txt", "msg": "hi"}, "from": "alice"}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {api.token}").json()
    assert reply["code"] == 200 and reply["data"]["data"] == {"bob": "success"}
    assert Message.objects.get().content == {"text": "hi"}
