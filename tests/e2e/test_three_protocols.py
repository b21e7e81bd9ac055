"""One scenario (befriend, then send a text), driven through the native socket, the im/*
facade and the Easemob bridge, ends in the same state: the same friendships, one message of
the same type and content in the same kind of chat, the same unread count, and the receiver's
socket gets the same push."""
from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from accounts.models import Friendship, User
from chats.models import Chat
from messaging.models import Message
from messaging.selectors import conversations
from tests.accounts.factories import make_user
from tests.conftest import Connect, atoken_for
from tests.hxbridge.conftest import AHx, aget_token, hx_credentials  # noqa: F401  (the bridge configured)

pytestmark = pytest.mark.django_db(transaction=True)


async def state(sender: User, receiver: User) -> dict[str, Any]:
    chat = await Chat.objects.aget(kind=Chat.Kind.PRIVATE, user_low_id=min(sender.pk, receiver.pk),
                                   user_high_id=max(sender.pk, receiver.pk))
    messages = [(m.sender_id == sender.pk, m.type, m.content) async for m in
                Message.objects.filter(chat=chat).order_by("seq")]
    unread = {c["chatId"]: c["unread"] for c in await sync_to_async(conversations)(user_id=receiver.pk)}
    friends = await Friendship.objects.filter(user__in=[sender, receiver], friend__in=[sender, receiver]).acount()
    return {"messages": messages, "unread": unread[chat.wire_id], "friendships": friends}


async def test_native_im_and_hx_end_in_the_same_state(connect: Connect) -> None:
    pairs = []
    for name in ("native", "im", "hx"):
        a = await sync_to_async(make_user)(username=f"{name}a")
        b = await sync_to_async(make_user)(username=f"{name}b")
        pairs.append((a, b))
    states, pushes = [], []
    for (a, b), protocol in zip(pairs, ("native", "im", "hx"), strict=True):
        receiver = await connect(await atoken_for(b))
        if protocol == "native":
            sender = await connect(await atoken_for(a))
            assert (await sender.ok("friends.add", {"uId": b.pk}))["pending"] is True
            await receiver.ok("friends.accept", {"uId": a.pk})  # b approves (the default setting)
            await sender.ok("messages.send", {"to": b.pk, "type": 1, "content": {"text": "hello"}})
        elif protocol == "im":
            client, key = AsyncClient(), await atoken_for(a)
            added = await client.post("/im/friend_add", {"session_key": key, "user_id": b.pk})
            assert added.json()["status"] == 0 and added.json()["data"]["pending"] is True
            await receiver.ok("friends.accept", {"uId": a.pk})
            sent = await client.post("/im/msg_private_publish", {"session_key": key, "toUserId": b.pk,
                                                                 "objectName": "RC:TxtMsg",
                                                                 "content": '{"content": "hello"}'})
            assert sent.json()["status"] == 0
        else:
            api = AHx(AsyncClient(), await aget_token(AsyncClient()))
            await api.ok("addFriends", {"owner_username": a.username, "friend_username": b.username, "type": "post"})
            sent = await api.ok("sendMessages", {"target_type": "users", "target": [b.username],
                                                 "msg": {"type": "txt", "msg": "hello"}, "from": a.username})
            assert sent["data"] == {b.username: "success"}
        push = await receiver.push("onMessage")
        pushes.append((push["type"], push["content"], push["from"] == a.pk))
        states.append(await state(a, b))
    assert states[0] == states[1] == states[2] == {"messages": [(True, 1, {"text": "hello"})], "unread": 1,
                                                   "friendships": 2}
    assert pushes[0] == pushes[1] == pushes[2] == (1, {"text": "hello"}, True)
