"""The J-IM socket of the J-IM document replaying the seed's own example frames: the reply shapes (12,
13, 18 type 1 and 2, 20), offline messages removed once read (type 0) or kept (type 2), history
paging, and the failure codes (offline paging and the desk's compatibility: test_compat.py)."""
from __future__ import annotations

from typing import Any

import pytest

from messaging.models import Message
from tests.conftest import Connect
from tests.jim.conftest import SEED_OTHER, SEED_VISITOR, JimClient, aregister, jim

pytestmark = pytest.mark.django_db(transaction=True)

# the J-IM document "1.消息发送": asdfghjkl sends to oqRgw5U2o6siu0viOo2MQJIBafcw.
SEED_CHAT = """{
    "to":"oqRgw5U2o6siu0viOo2MQJIBafcw",
    "from":"asdfghjkl",
    "cmd":"11",
    "createTime":1568012384,
    "msgType":0,
    "chatType":2,
    "extras": {
            "nickName" : "昵称",
            "headImg": "http://jjjj.img"
            },
    "content":{"asd":"hell,你2好"}
}"""
SEED_OFFLINE = {"cmd": 19, "type": "0", "userId": SEED_OTHER, "fromUserId": SEED_VISITOR, "offset": 1, "count": 2}
SEED_OFFLINE_KEEP = {**SEED_OFFLINE, "type": "2"}
SEED_FRIENDS = {"cmd": 17, "type": "1", "userId": SEED_VISITOR}
SEED_DETAILS = {"cmd": 17, "type": "2", "userId": SEED_OTHER, "extras": {"pullType": 1, "searchKey": ""}}
SEED_HEARTBEAT = '{"cmd":13,"hbbyte":"-127"}'
SENT = {"code": 10000, "command": 12, "msg": "ok 发送成功"}
BODY_KEYS = {"chatType", "cmd", "content", "createTime", "from", "id", "msgType", "to"}


async def pair(connect: Connect) -> tuple[JimClient, JimClient]:
    """The seed's two users: asdfghjkl (an agent) and the visitor oqRgw5U2o6siu0viOo2MQJIBafcw."""
    await aregister(SEED_OTHER, 1, nick="770e4")
    await aregister(SEED_VISITOR, 0)
    return await jim(connect, f"token-of-{SEED_OTHER}"), await jim(connect, f"token-of-{SEED_VISITOR}")


async def test_chat_frame_of_the_seed_is_answered_12_and_delivered_as_11(connect: Connect) -> None:
    agent, visitor = await pair(connect)
    assert await agent.ask(SEED_CHAT) == SENT
    body = await visitor.push()
    assert set(body) == BODY_KEYS | {"extras"}
    assert body["cmd"] == 11 and body["chatType"] == 2 and body["msgType"] == 0
    assert body["from"] == SEED_OTHER and body["to"] == SEED_VISITOR
    assert body["content"] == '{"asd":"hell,你2好"}'  # the seed's stored form: the object as JSON text
    assert body["extras"] == {"nickName": "昵称", "headImg": "http://jjjj.img"}
    assert isinstance(body["id"], str) and body["id"] == str(await Message.objects.values_list("pk", flat=True)
                                                            .aget())
    assert body["createTime"] > 10**12  # milliseconds, the server's clock (the frame's seconds are not trusted)
    assert await agent.nothing()  # not echoed to the sending socket


async def test_heartbeat_is_answered_with_the_seeds_frame(connect: Connect) -> None:
    agent, _ = await pair(connect)
    reply = await agent.ask(SEED_HEARTBEAT, 13)
    assert set(reply) == {"command", "data"} and set(reply["data"]) == {"createTime", "hbbyte"}
    assert reply["data"]["hbbyte"] == -128 and reply["data"]["createTime"] > 10**12


async def test_offline_messages_type_0_are_removed_once_read_type_2_are_kept(connect: Connect) -> None:
    agent, visitor = await pair(connect)
    for _ in range(3):
        assert await agent.ask(SEED_CHAT) == SENT
    for _ in range(3):
        await visitor.push()
    # type 2 ("不删除队列"): the same three, twice
    for _ in range(2):
        kept = await visitor.ask(SEED_OFFLINE_KEEP, 20)
        assert len(kept["data"]["friends"][SEED_OTHER]) == 2  # offset 1, count 2
    reply = await visitor.ask(SEED_OFFLINE, 20)
    # The seed's reply: code 10018, friends keyed by the other user, groups, userid.
    assert set(reply) == {"code", "command", "data", "msg"}
    assert reply["code"] == 10018 and reply["msg"] == "get user message ok! 获取历史消息成功!"
    assert set(reply["data"]) == {"friends", "groups", "userid"}
    assert reply["data"]["userid"] == SEED_VISITOR and reply["data"]["groups"] == {}
    messages = reply["data"]["friends"][SEED_OTHER]
    assert len(messages) == 2  # offset 1, count 2: the second and third
    for message in messages:
        assert set(message) == BODY_KEYS | {"extras"}
        assert (message["from"], message["to"], message["cmd"]) == (SEED_OTHER, SEED_VISITOR, 11)
    assert [m["id"] for m in messages] == sorted((m["id"] for m in messages), key=int)
    # offset 1 skipped the first, never delivered: nothing is read until a page starts at it
    assert len((await visitor.ask(SEED_OFFLINE, 20))["data"]["friends"][SEED_OTHER]) == 2
    everything = {"cmd": 19, "type": "0", "userId": SEED_OTHER, "fromUserId": SEED_VISITOR}
    assert len((await visitor.ask(everything, 20))["data"]["friends"][SEED_OTHER]) == 3
    again = await visitor.ask(everything, 20)
    assert again["data"]["friends"] == {}  # removed once read
    assert (await visitor.ask(SEED_OFFLINE_KEEP, 20))["data"]["friends"] == {}


async def test_offline_messages_of_every_friend_without_from_user_id(connect: Connect) -> None:
    agent, visitor = await pair(connect)
    await aregister("consultant-1", 2)
    consultant = await jim(connect, "token-of-consultant-1")
    await agent.ask(SEED_CHAT)
    await consultant.ask({"cmd": 11, "to": SEED_VISITOR, "msgType": 0, "content": "hi"}, 12)
    reply = await visitor.ask({"cmd": 19, "type": 0, "userId": SEED_VISITOR}, 20)
    assert set(reply["data"]["friends"]) == {SEED_OTHER, "consultant-1"}
    assert reply["data"]["friends"]["consultant-1"][0]["content"] == "hi"
    assert (await visitor.ask({"cmd": 19, "type": 0, "userId": SEED_VISITOR}, 20))["data"]["friends"] == {}


async def test_history_pages_back_from_the_newest(connect: Connect) -> None:
    agent, visitor = await pair(connect)
    for n in range(5):
        await agent.ask({"cmd": 11, "from": SEED_OTHER, "to": SEED_VISITOR, "msgType": 0, "content": f"m{n}"}, 12)
    await visitor.ask({"cmd": 11, "to": SEED_OTHER, "msgType": 0, "content": "reply"}, 12)

    async def page(**extra: Any) -> list[str]:
        frame = {"cmd": 19, "type": 1, "userId": SEED_VISITOR, "fromUserId": SEED_OTHER, **extra}
        reply = await visitor.ask(frame, 20)
        return [m["content"] for m in reply["data"]["friends"].get(SEED_OTHER, [])]

    assert await page() == ["m0", "m1", "m2", "m3", "m4", "reply"]
    assert await page(offset=1, count=2) == ["m3", "m4"]
    assert await page(offset=6, count=2) == []
    assert await page(beginTime=0, endTime=1) == []  # a window in 1970
    # History marks nothing read.
    offline = await visitor.ask({"cmd": 19, "type": "2", "userId": SEED_VISITOR, "fromUserId": SEED_OTHER}, 20)
    assert len(offline["data"]["friends"][SEED_OTHER]) == 5


async def test_friends_list_type_1(connect: Connect) -> None:
    agent, visitor = await pair(connect)
    await agent.ask(SEED_CHAT)
    reply = await visitor.ask(SEED_FRIENDS, 18)
    assert reply == {"code": 200, "command": 18, "data": [{"id": SEED_OTHER, "nick": "770e4", "terminal": "pc"}],
                     "msg": "success "}
    # A friend without a nickname has none, as in the seed.
    mine = await agent.ask({"cmd": 17, "type": "1", "userId": SEED_OTHER}, 18)
    assert mine["data"] == [{"id": SEED_VISITOR, "terminal": "pc"}]


async def test_user_details_type_2_with_pull_types_and_search(connect: Connect) -> None:
    agent, visitor = await pair(connect)
    await aregister("oqRgw5YLLbymI6SKG2Mqrpx-1Q0w", 0, nick="栗子")
    chestnut = await jim(connect, "token-of-oqRgw5YLLbymI6SKG2Mqrpx-1Q0w")
    for n in range(12):
        await visitor.ask({"cmd": 11, "to": SEED_OTHER, "msgType": 0, "content": f"v{n}"}, 12)
    await chestnut.ask({"cmd": 11, "to": SEED_OTHER, "msgType": 0, "content": "hello"}, 12)
    await agent.ask({"cmd": 11, "to": "oqRgw5YLLbymI6SKG2Mqrpx-1Q0w", "msgType": 0, "content": "answered"}, 12)

    reply = await agent.ask(SEED_DETAILS, 18)
    assert reply["code"] == 200 and reply["msg"] == "success "
    data = reply["data"]
    assert set(data) == {"avatar", "friends", "nickname", "userId"}
    assert (data["userId"], data["nickname"]) == (SEED_OTHER, "770e4")
    by_id = {f["userId"]: f for f in data["friends"]}
    for friend in data["friends"]:
        assert set(friend) == {"avatar", "historyMessage", "nickname", "unReadNum", "userId"}
    assert data["friends"][0]["userId"] == "oqRgw5YLLbymI6SKG2Mqrpx-1Q0w"  # the latest activity first
    visitor_row = by_id[SEED_VISITOR]
    assert visitor_row["unReadNum"] == 12 and visitor_row["nickname"] == ""
    assert [m["content"] for m in visitor_row["historyMessage"]] == [f"v{n}" for n in range(2, 12)]  # last 10
    assert set(visitor_row["historyMessage"][0]) == BODY_KEYS
    assert by_id["oqRgw5YLLbymI6SKG2Mqrpx-1Q0w"]["nickname"] == "栗子"
    assert by_id["oqRgw5YLLbymI6SKG2Mqrpx-1Q0w"]["unReadNum"] == 1

    async def ids(**extras: Any) -> list[str]:
        frame = {**SEED_DETAILS, "extras": {"pullType": 1, "searchKey": "", **extras}}
        return [f["userId"] for f in (await agent.ask(frame, 18))["data"]["friends"]]

    assert await ids(pullType=2) == [SEED_VISITOR]  # awaiting the agent's reply
    assert sorted(await ids(pullType=3)) == sorted(by_id)  # both within two days
    assert await ids(searchKey="栗") == ["oqRgw5YLLbymI6SKG2Mqrpx-1Q0w"]
    assert await ids(searchKey="OQRGW5U2") == [SEED_VISITOR]  # ids match too, case-insensitively


async def test_link_messages_keep_msg_type_content_and_extras(connect: Connect) -> None:
    agent, visitor = await pair(connect)
    content = '{"title":"楼盘","url":"https://example.com/a/1","price":1.50}'
    frame = f'{{"cmd":11,"to":"{SEED_VISITOR}","msgType":2,"chatType":2,"content":{content},"extras":{{"k":1}}}}'
    assert await agent.ask(frame) == SENT
    body = await visitor.push()
    assert body["msgType"] == 2 and body["extras"] == {"k": 1}
    assert body["content"] == content  # the object as sent, digits included
    stored = await Message.objects.aget()
    assert stored.type == Message.Type.CUSTOM and stored.content["msgType"] == 2


async def test_failures_answer_the_commands_codes(connect: Connect) -> None:
    agent, _ = await pair(connect)
    spoof = await agent.ask({"cmd": 11, "from": SEED_VISITOR, "to": SEED_OTHER, "msgType": 0, "content": "x"}, 12)
    assert spoof["code"] == 10002 and spoof["msg"].startswith("send failed 消息发送失败:")
    nobody = await agent.ask({"cmd": 11, "to": "nobody", "msgType": 0, "content": "x"}, 12)
    assert nobody["code"] == 10002 and "nobody" in nobody["msg"]
    bad_type = await agent.ask({"cmd": 11, "to": SEED_VISITOR, "msgType": 7, "content": "x"}, 12)
    assert bad_type["code"] == 10002
    assert (await agent.ask({"cmd": 17, "type": 1, "userId": SEED_VISITOR}, 18))["code"] == 10004
    assert (await agent.ask({"cmd": 19, "type": 0, "userId": SEED_VISITOR}, 20))["code"] == 10015
    assert await agent.ask({"cmd": 99}) == {"code": 10017, "command": 0, "msg": "cmd failed! 未知的cmd命令!"}
    malformed = await agent.ask("{not json")
    assert malformed["code"] == 10002 and malformed["command"] == 0
    assert await Message.objects.acount() == 0


async def test_socket_without_a_valid_token_is_closed_4001(connect: Connect) -> None:
    for token in (None, "not-a-token"):
        socket = await connect(token, path="/")
        assert await socket.closed() == 4001


def test_http_root_stays_the_index_page(client: Any) -> None:
    reply = client.get("/")
    assert reply.status_code == 200 and b"IM server" in reply.content
