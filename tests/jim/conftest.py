"""Helpers of the J-IM and desk tests: the /im/vanke/* calls with the desk key, registered desk
users, and a J-IM socket client over the shared ``connect`` fixture (path "/")."""
from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client, override_settings

from accounts import presence
from messaging.desk.models import DeskProfile
from messaging.desk.services import profile_register
from tests.conftest import Connect, SocketClient

KEY = "test-desk-key"
SEED_VISITOR = "oqRgw5U2o6siu0viOo2MQJIBafcw"
SEED_OTHER = "asdfghjkl"


@pytest.fixture(autouse=True)
def _desk_key() -> Any:
    with override_settings(DESK_API_KEY=KEY):
        yield


def vanke(name: str, body: dict[str, Any], *, key: str | None = KEY, status: int = 200) -> dict[str, Any]:
    """A call of the property app's server: JSON body, the desk key in X-Desk-Key."""
    headers = {"X-Desk-Key": key} if key is not None else {}
    reply = Client().post(f"/im/vanke/{name}", json.dumps(body), content_type="application/json", headers=headers)
    assert reply.status_code == status, reply.content
    return dict(reply.json())


avanke = sync_to_async(vanke)


def register(external_id: str, kind: int = 0, *, token: str | None = None, nick: str = "") -> DeskProfile:
    return profile_register(external_id=external_id, kind=kind, nick=nick, terminal="pc",
                            token=token if token is not None else f"token-of-{external_id}")


aregister = sync_to_async(register)


def online(profile: DeskProfile) -> None:
    """Count a user online as a live socket would (and fire the came-online signal)."""
    presence.socket_connected(user_id=profile.user_id, socket=f"test-{profile.user_id}")


def offline(profile: DeskProfile) -> None:
    presence.socket_disconnected(user_id=profile.user_id, socket=f"test-{profile.user_id}")


class JimClient:
    """A J-IM socket: ``await c.ask(frame, command)`` answers the reply; chat pushes are kept."""

    def __init__(self, socket: SocketClient) -> None:
        self.socket = socket
        self.pushes: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.socket.send_raw(frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False))

    async def ask(self, frame: dict[str, Any] | str, command: int | None = None, timeout: float = 3) -> Any:
        await self.send(frame)
        while True:
            reply = await self.socket.frame(timeout)
            if "cmd" in reply or reply.get("msg") == "assigned":
                self.pushes.append(reply)
                continue
            if command is not None:
                assert reply.get("command") == command, reply
            return reply

    async def push(self, timeout: float = 3) -> dict[str, Any]:
        if self.pushes:
            return self.pushes.pop(0)
        return await self.socket.frame(timeout)

    async def nothing(self, timeout: float = 0.3) -> bool:
        return not self.pushes and await self.socket.nothing(timeout)


async def jim(connect: Connect, token: str) -> JimClient:
    return JimClient(await connect(token, path="/"))
