"""The bridge configured with client credentials, and helpers that call /hx/* as a back office does:
POST with a JSON body, the admin token in the body as ``token`` (the seed's way)."""
from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import AsyncClient, Client

CLIENT_ID = "YXA6JH8nAJ6nEeixewFFX1ukgw"
CLIENT_SECRET = "YXA6bNlbOqkLsI-test-secret"


@pytest.fixture(autouse=True)
def hx_credentials(settings: Any) -> None:
    settings.HX_CLIENT_ID = CLIENT_ID
    settings.HX_CLIENT_SECRET = CLIENT_SECRET


def hx(client: Client, method: str, body: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """POST /hx/<method> with a JSON body; every answer is HTTP 200 with the outcome in ``code``."""
    response = client.post(f"/hx/{method}", json.dumps(body or {}), content_type="application/json", **extra)
    assert response.status_code == 200, response.content
    return response.json()


async def ahx(client: AsyncClient, method: str, body: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    response = await client.post(f"/hx/{method}", json.dumps(body or {}), content_type="application/json", **extra)
    assert response.status_code == 200, response.content
    return response.json()


CREDENTIALS = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}


def get_token(client: Client) -> str:
    reply = hx(client, "getToken", CREDENTIALS)
    assert reply["code"] == 200, reply
    return str(reply["data"]["access_token"])


async def aget_token(client: AsyncClient) -> str:
    reply = await ahx(client, "getToken", CREDENTIALS)
    assert reply["code"] == 200, reply
    return str(reply["data"]["access_token"])


@pytest.fixture
def token(db: None) -> str:
    return get_token(Client())


class Hx:
    """A back office: ``api("registerUser", {...})`` adds the token and answers the reply."""

    def __init__(self, client: Client, token: str) -> None:
        self.client, self.token = client, token

    def __call__(self, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return hx(self.client, method, {**(body or {}), "token": self.token})

    def ok(self, method: str, body: dict[str, Any] | None = None) -> Any:
        reply = self(method, body)
        assert reply["code"] == 200 and reply["message"] == "请求成功", reply
        return reply["data"]


class AHx:
    """The same for async tests (with sockets)."""

    def __init__(self, client: AsyncClient, token: str) -> None:
        self.client, self.token = client, token

    async def __call__(self, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return await ahx(self.client, method, {**(body or {}), "token": self.token})

    async def ok(self, method: str, body: dict[str, Any] | None = None) -> Any:
        reply = await self(method, body)
        assert reply["code"] == 200 and reply["message"] == "请求成功", reply
        return reply["data"]


@pytest.fixture
def api(token: str) -> Hx:
    return Hx(Client(), token)


async def aapi() -> AHx:
    client = AsyncClient()
    return AHx(client, await aget_token(client))
