"""Hostile input on the im/* facade: answered with a status (1: bad parameters), never a 500."""
from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import User
from messaging.models import Message
from tests.conftest import token_for

pytestmark = pytest.mark.django_db


def publish(key: str, body: str, *, status: int = 200) -> dict[str, object]:
    reply = Client().post(f"/im/msg_private_publish?session_key={key}", body, content_type="application/json")
    assert reply.status_code == status, reply.content
    return dict(reply.json())


def test_custom_content_keeps_a_number_with_a_fraction(alice: User, bob: User) -> None:
    body = f'{{"toUserId":{bob.pk},"objectName":"APP:Score","content":{{"score":1.5,"n":2}}}}'
    assert publish(token_for(alice), body)["status"] == 0
    assert Message.objects.get().content == {"objectName": "APP:Score", "score": 1.5, "n": 2}


@pytest.mark.parametrize(
    "content",
    ['{"n":1e1000000}', '{"n":' + "[" * 30_000 + "}", '{"n":"a\\u0000"}', '{"\\ud800":1}', "1" * 100],
)
def test_hostile_json_bodies_answer_status_1(alice: User, bob: User, content: str) -> None:
    body = f'{{"toUserId":{bob.pk},"objectName":"APP:X","content":{content}}}'
    reply = publish(token_for(alice), body)
    assert reply["status"] == 1 and "JSON" in str(reply["msg"]), reply
    assert not Message.objects.exists()


def test_hostile_json_inside_a_content_string_answers_status_1(alice: User, bob: User) -> None:
    for text in ('{"n":1e400000}', '{"a":"\\ud800"}', "[" * 5000):
        reply = Client().post("/im/msg_private_publish", {"session_key": token_for(alice), "toUserId": bob.pk,
                                                          "objectName": "APP:X", "content": text})
        assert reply.status_code == 200 and reply.json()["status"] == 1, reply.content
    assert not Message.objects.exists()


def test_too_many_form_fields_answer_status_1(alice: User, bob: User) -> None:
    fields = "&".join(f"f{i}=1" for i in range(1100))
    reply = Client().post(f"/im/msg_private_publish?session_key={token_for(alice)}", fields,
                          content_type="application/x-www-form-urlencoded")
    assert reply.status_code == 200 and reply.json()["status"] == 1


def test_a_body_over_the_upload_limit_answers_413_with_status_1(alice: User, bob: User, settings: object) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048  # type: ignore[attr-defined]
    body = json.dumps({"toUserId": bob.pk, "objectName": "RC:TxtMsg", "content": {"content": "x" * 4000}})
    assert publish(token_for(alice), body, status=413)["status"] == 1
    assert not Message.objects.exists()


@pytest.mark.parametrize("query", ["objectName=APP:%00X&content=%7B%7D", "name=a%00b", "group_name=a%00b",
                                   "group_name=ok&memo=a%00b", "a%00=1"])
def test_a_nul_in_the_query_string_answers_status_1(alice: User, bob: User, query: str) -> None:
    """Query-string parameters reach the services as text too: a NUL there used to reach
    PostgreSQL, which refuses it (a 500)."""
    name = "refresh" if query.startswith("name") else "group_create" if "group_name" in query else "msg_private_publish"
    reply = Client().get(f"/im/{name}?session_key={token_for(alice)}&toUserId={bob.pk}&{query}")
    assert reply.status_code == 200 and reply.json()["status"] == 1 and "NUL" in reply.json()["msg"], reply.content
    assert not Message.objects.exists()
    assert User.objects.get(pk=alice.pk).first_name == alice.first_name
