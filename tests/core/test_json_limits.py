"""Hostile JSON on the native socket and the REST API: refused as a bad request, fast, before
anything is built from it; the socket stays open and the server keeps answering."""
from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from accounts.models import User
from messaging.models import Message
from tests.conftest import Connect, SocketClient, atoken_for, token_for

DEEP = "[" * 30_000  # a 30 KB frame: the decoder's recursion failed on it


async def _refused(client: SocketClient, text: str) -> dict[str, Any]:
    started = time.monotonic()
    await client.send_raw(text)
    reply = await client.frame(timeout=3)
    assert time.monotonic() - started < 1, "refusing a frame must not take time"
    return reply


async def test_a_huge_exponent_on_the_socket_is_refused_and_the_socket_keeps_working(
    connect: Connect, alice: User, bob: User
) -> None:
    client = await connect(await atoken_for(alice))
    frame = ('{"id":1,"method":"system.relayData","params":{"action":"x","to":[' + str(bob.pk)
             + '],"data":{"n":1e400000}}}')
    reply = await _refused(client, frame)
    assert reply["code"] == 400 and reply["id"] is None
    assert "malformed JSON" in str(reply["msg"]) and "exponent" in str(reply["msg"])
    assert (await client.call("system.heartbeat"))["code"] == 200


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (DEEP, "nested deeper"),
        ('{"id":1,"method":"system.heartbeat","params":{"n":' + "9" * 5000 + "}}", "digits"),
        ('{"id":1,"method":"system.heartbeat","params":{"n":0.' + "1" * 100 + "}}", "digits"),
        ('{"id":1,"method":"system.heartbeat","params":{"n":1e-999999}}', "exponent"),
        ('{"id":1,"method":"system.heartbeat","params":{"s":"a\\u0000b"}}', "NUL"),
        ('{"id":1,"method":"system.heartbeat","params":{"s":"\\ud800"}}', "surrogate"),
        ('{"id":1,"method":"system.heartbeat","params":{"\\udc00":1}}', "surrogate"),
    ],
)
async def test_bounds_on_the_socket_answer_400_and_keep_it_open(connect: Connect, text: str, why: str) -> None:
    client = await connect()
    reply = await _refused(client, text)
    assert reply["code"] == 400 and why in str(reply["msg"]), reply
    assert (await client.call("system.heartbeat"))["code"] == 200


async def test_a_nul_in_a_message_is_refused_and_nothing_is_stored(
    connect: Connect, alice: User, bob: User
) -> None:
    client = await connect(await atoken_for(alice))
    await client.send_raw(json.dumps({"id": 1, "method": "messages.send",
                                      "params": {"to": bob.pk, "type": 1, "content": {"text": "a\x00b"}}}))
    assert (await client.frame())["code"] == 400
    assert not await Message.objects.filter(sender=alice).aexists()


async def test_what_the_bounds_allow_still_passes(connect: Connect, alice: User, bob: User) -> None:
    client = await connect(await atoken_for(alice))
    bob_socket = await connect(await atoken_for(bob))
    nested: object = 1
    for _ in range(28):  # with the frame's own three levels: 31 of the 32 allowed
        nested = [nested]
    data = {"n": 1.5, "big": 10**40, "e": 1e60, "emoji": "\U0001f600", "deep": nested, "lit": "\\u0000"}
    await client.ok("system.relayData", {"action": "x", "to": [bob.pk], "data": data})
    pushed = (await bob_socket.push("on_event"))["data"]
    assert pushed == {**data, "e": 10**60}  # written without a fraction: an integer, as before


# --- REST ------------------------------------------------------------------------------------

@pytest.fixture
def alice_api(alice: User) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(alice)}")
    return api


def _post(api: APIClient, body: str) -> tuple[int, dict[str, object], float]:
    started = time.monotonic()
    response = api.post("/api/v1/messages/send", body, content_type="application/json")
    return response.status_code, response.json(), time.monotonic() - started


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"n":1e1000000}', "exponent"),
        ('{"n":' + "1" * 70 + "}", "digits"),
        ('{"text":"hi","n":' + DEEP + "}", "nested deeper"),
        ('{"text":"a\\u0000"}', "NUL"),
        ('{"text":"\\udbff x"}', "surrogate"),
    ],
)
def test_rest_refuses_hostile_json_with_400(alice_api: APIClient, bob: User, content: str, why: str) -> None:
    status, body, took = _post(alice_api, f'{{"to":{bob.pk},"type":9,"content":{content}}}')
    assert status == 400 and body["error"] == "malformed" and why in str(body["msg"]), body
    assert took < 1
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_rest_keeps_fractions_and_large_allowed_numbers(alice_api: APIClient, bob: User) -> None:
    status, body, _ = _post(alice_api, f'{{"to":{bob.pk},"type":9,"content":{{"n":1.25,"m":1e20,"k":{"7" * 60}}}}}')
    assert status == 200, body
    assert Message.objects.get().content == {"n": 1.25, "m": 100000000000000000000, "k": int("7" * 60)}


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=4096)
def test_rest_answers_413_to_a_body_over_the_upload_limit(alice_api: APIClient, bob: User) -> None:
    text = json.dumps({"to": bob.pk, "type": 1, "content": {"text": "x" * 5000}})
    response = alice_api.post("/api/v1/messages/send", text, content_type="application/json")
    assert response.status_code == 413 and response.json()["error"] == "request_too_large"
    form = alice_api.post("/api/v1/messages/send", {"to": bob.pk, "type": 1, "content": "x" * 5000})
    assert form.status_code == 413
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_rest_answers_400_to_too_many_form_or_query_fields(alice_api: APIClient, bob: User) -> None:
    fields = "&".join(f"f{i}=1" for i in range(1100))
    form = alice_api.post("/api/v1/messages/send", fields, content_type="application/x-www-form-urlencoded")
    assert form.status_code == 400 and form.json()["error"] == "malformed"
    query = alice_api.get(f"/api/v1/users?uIds=1&{fields}")
    assert query.status_code == 400
    nul = alice_api.post("/api/v1/messages/send", f"to={bob.pk}&type=1&content=a%00b",
                         content_type="application/x-www-form-urlencoded")
    assert nul.status_code == 400
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_a_body_with_many_escaped_strings_is_checked_fast(alice: User) -> None:
    """Many strings full of escaped quotes and backslashes: the checks stay linear in the text."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(alice)}")
    body = json.dumps({"uIds": [1], "pad": ['"\\' * 50] * 2000})
    started = time.monotonic()
    response = api.post("/api/v1/messages/send", body, content_type="application/json")
    assert response.status_code in (400, 422)  # no "to": refused by the method, not by the parser
    assert time.monotonic() - started < 2
    assert Client().get("/healthz").status_code == 200
