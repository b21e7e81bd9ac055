"""Helpers shared by the chats socket tests (groups, moderation)."""
from __future__ import annotations

from typing import Any, cast

from asgiref.sync import sync_to_async

from accounts.models import User
from tests.accounts.factories import UserFactory
from tests.conftest import Connect, SocketClient, atoken_for


async def make_user(name: str, phone: str) -> User:
    return cast(User, await sync_to_async(UserFactory)(username=name, phone=phone))


async def online(connect: Connect, user: User, device: str = "test") -> SocketClient:
    """A logged-in socket of ``user``."""
    return await connect(await atoken_for(user, device))


async def create_group(owner: SocketClient, *members: User, kind: str = "group", title: str = "Team") -> int:
    """Create a group (or ``kind="supergroup"``) and return its wire chatId."""
    data = await owner.ok("chats.create", {"title": title, "kind": kind, "uIds": [m.pk for m in members]})
    return int(data["chatId"])


async def message_in(client: SocketClient, chat_id: int, op: str | None = None,
                     timeout: float = 3) -> dict[str, Any]:
    """The next onMessage push of ``chat_id`` (a system message with ``content.op == op`` when
    given); earlier onMessage pushes that do not match are dropped."""
    while True:
        data = await client.push("onMessage", timeout)
        if data["chatId"] == chat_id and (op is None or data["content"].get("op") == op):
            return data


async def say(client: SocketClient, chat_id: int, text: str) -> dict[str, Any]:
    """Send a text message to a chat; the reply must be 200."""
    return await client.ok("messages.send", {"chatId": chat_id, "type": 1, "content": {"text": text}})


async def send(client: SocketClient, chat_id: int, content: Any, type_: int = 1) -> dict[str, Any]:
    """Send to a chat; return the whole reply (code and data or msg)."""
    return await client.call("messages.send", {"chatId": chat_id, "type": type_, "content": content})


async def history(client: SocketClient, chat_id: int) -> list[dict[str, Any]]:
    return list((await client.ok("messages.history", {"chatId": chat_id}))["messages"])


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["content"].get("text", "") for m in messages if m["type"] == 1]


__all__ = ["create_group", "history", "make_user", "message_in", "online", "say", "send", "texts"]
