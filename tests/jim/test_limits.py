"""Hostile JSON on the J-IM socket and the desk's HTTP endpoints: refused with the protocol's
error reply before any value is built; the socket keeps working."""
from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from messaging.models import Message
from tests.conftest import Connect
from tests.jim.conftest import KEY, SEED_OTHER, SEED_VISITOR, aregister, jim

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        (f'{{"cmd":11,"to":"{SEED_VISITOR}","msgType":1,"content":{{"a":1e100000000}}}}', "exponent"),
        (f'{{"cmd":11,"to":"{SEED_VISITOR}","msgType":0,"content":"hi","n":{"9" * 80}}}', "digits"),
        (f'{{"cmd":11,"to":"{SEED_VISITOR}","msgType":0,"content":{"[" * 30_000}}}', "nested deeper"),
        (f'{{"cmd":11,"to":"{SEED_VISITOR}","msgType":0,"content":"a\\u0000"}}', "NUL"),
        (f'{{"cmd":11,"to":"{SEED_VISITOR}","msgType":0,"content":"\\ud83d!"}}', "surrogate"),
    ],
)
async def test_hostile_chat_frames_get_the_error_reply_at_once(connect: Connect, frame: str, why: str) -> None:
    await aregister(SEED_OTHER, 1)
    await aregister(SEED_VISITOR, 0)
    agent = await jim(connect, f"token-of-{SEED_OTHER}")
    started = time.monotonic()
    reply = await agent.ask(frame)
    assert time.monotonic() - started < 1
    assert reply["code"] == 10002 and reply["command"] == 0 and why in reply["msg"], reply  # J-IM: send failed
    assert not await Message.objects.aexists()
    ok = await agent.ask({"cmd": 11, "to": SEED_VISITOR, "msgType": 0, "content": "still here"}, 12)
    assert ok["code"] == 10000


def test_desk_endpoints_answer_400_to_hostile_json() -> None:
    client = Client()
    for body in ('{"senderId":"x","type":0,"nick":' + "[" * 30_000 + "}", '{"senderId":"a\\u0000","type":0}',
                 '{"senderId":"x","type":1e999999}'):
        reply = client.post("/im/vanke/initUser", body, content_type="application/json", headers={"X-Desk-Key": KEY})
        assert reply.status_code == 400, reply.content
        assert reply.json()["code"] == 400 and "JSON" in reply.json()["msg"]


def test_desk_endpoints_answer_400_to_a_nul_in_the_query_string() -> None:
    """Query-string parameters are text the desk stores (a nick): a NUL there used to reach
    PostgreSQL, which refuses it (a 500)."""
    for query in ("senderId=ab&type=0&nick=a%00b", "senderId=ab&type=0&a%00=1"):
        reply = Client().get(f"/im/vanke/initUser?{query}", headers={"X-Desk-Key": KEY})
        assert reply.status_code == 400, reply.content
        assert reply.json()["code"] == 400 and "NUL" in reply.json()["msg"]


def test_desk_endpoints_answer_413_to_a_body_over_the_limit(settings: object) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048  # type: ignore[attr-defined]
    body = json.dumps({"senderId": "x", "type": 0, "nick": "n" * 4000})
    reply = Client().post("/im/vanke/initUser", body, content_type="application/json", headers={"X-Desk-Key": KEY})
    assert reply.status_code == 413 and reply.json()["code"] == 413
