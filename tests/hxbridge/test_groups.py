"""/hx/sendMessages to groups end to end: users registered through the bridge with the Easemob
document's requests, a group made natively by one of them, the document's sendMessages request
with ``target_type: chatgroups`` naming it; every member hears it on their sockets (native and
J-IM), it is in the chat's history and in the members' unread counts."""
from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Connect
from tests.hxbridge.conftest import AHx, aapi
from tests.hxbridge.test_messages import alogin

pytestmark = pytest.mark.django_db(transaction=True)

# The document's batch registration and its sendMessages body, target_type switched to groups
# ("chatgroups: 给群发消息 ... 给群组发送时数组元素是groupid").
SEED_REGISTER = {"users": [{"username": "u1", "password": "p1"}, {"username": "u2", "password": "p2"},
                           {"username": "u3", "password": "p3"}, {"username": "u4", "password": "p4"}]}
SEED_GROUP_SEND = {"target_type": "chatgroups", "target": ["<groupid>"], "msg": {"type": "txt", "msg": "HelloWorld"},
                   "from": "u1"}


async def members_and_group(connect: Connect) -> tuple[AHx, dict[str, Any], dict[str, Any]]:
    api = await aapi()
    await api.ok("registerUser", SEED_REGISTER)
    logins = {name: await alogin(name, f"p{name[1]}") for name in ("u1", "u2", "u3", "u4")}
    sockets = {"u1": await connect(logins["u1"][1]), "u2": await connect(logins["u2"][1]),
               "u3": await connect(logins["u3"][1], path="/"),  # u3 uses a J-IM client
               "u4": await connect(logins["u4"][1])}
    group = await sockets["u1"].ok("chats.create", {"title": "楼盘群", "uIds": [logins["u2"][0], logins["u3"][0]]})
    for name in ("u1", "u2"):
        await sockets[name].push("onMessage")  # the group's create notice (J-IM shows no system notice)
    return api, {"logins": logins, "sockets": sockets}, group


async def test_a_group_message_from_the_bridge_reaches_every_member(connect: Connect) -> None:
    api, users, group = await members_and_group(connect)
    sockets, logins = users["sockets"], users["logins"]
    target = str(group["chatId"])
    data = await api.ok("sendMessages", {**SEED_GROUP_SEND, "target": [target]})
    assert data["data"] == {target: "success"}  # the document's per-target answer
    for name in ("u1", "u2"):  # native members, the sender's own socket included
        pushed = await sockets[name].push("onMessage")
        assert (pushed["chatId"], pushed["from"], pushed["type"], pushed["content"]) == (
            group["chatId"], logins["u1"][0], 1, {"text": "HelloWorld"})
    body = await sockets["u3"].frame()  # the J-IM member: a cmd 11 group body
    assert (body["cmd"], body["chatType"], body["groupId"], body["from"], body["content"], body["msgType"]) == (
        11, 1, target, f"uid:{logins['u1'][0]}", "HelloWorld", 0)
    assert await sockets["u4"].nothing()  # not a member
    history = await sockets["u2"].ok("messages.history", {"chatId": group["chatId"]})
    assert [m["content"] for m in history["messages"]][-1] == {"text": "HelloWorld"}
    assert (await api.ok("offlineMsgCount", {"owner_username": "u2"}))["data"] == {"u2": 1}
    await sockets["u3"].send_raw(json.dumps({"cmd": 19, "type": 1, "groupId": target}))
    reply = await sockets["u3"].frame()
    assert (reply["code"], reply["command"]) == (10018, 20)
    assert [m["content"] for m in reply["data"]["groups"][target]] == ["HelloWorld"]


async def test_group_targets_as_numbers_and_the_refusals_per_target(connect: Connect) -> None:
    api, users, group = await members_and_group(connect)
    sockets = users["sockets"]
    wire = group["chatId"]
    data = await api.ok("sendMessages", {
        **SEED_GROUP_SEND, "from": "u2",
        "target": [wire, f" {wire} ", "1_0", "٣", "99999999999999999999999", str(-wire + 10**6), "-0", "+5"]})
    assert data["data"] == {str(wire): "success", f" {wire} ": "no such group", "1_0": "no such group",
                            "٣": "no such group", "99999999999999999999999": "no such group",
                            str(-wire + 10**6): "no such group", "-0": "no such group", "+5": "no such group"}
    for name in ("u1", "u2"):
        assert (await sockets[name].push("onMessage"))["content"] == {"text": "HelloWorld"}
    assert await sockets["u2"].nothing()  # sent once, whatever the spelling
    outsider = await api.ok("sendMessages", {**SEED_GROUP_SEND, "target": [str(wire)], "from": "u4"})
    assert outsider["data"] == {str(wire): "you are not a member of this chat"}
    unnamed = await api("sendMessages", {**SEED_GROUP_SEND, "target": [str(wire)], "from": None})
    assert (unnamed["code"], unnamed["message"]) == (404, "no such user: admin")  # Easemob's default sender
