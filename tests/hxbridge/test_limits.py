"""Hostile input on /hx/*: every answer is HTTP 200 JSON with the bridge's code (400 bad request,
413 too large), never a 500 or an HTML error page."""
from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import User
from tests.hxbridge.conftest import Hx

pytestmark = pytest.mark.django_db


def post(body: str, content_type: str = "application/json") -> dict[str, object]:
    reply = Client().post("/hx/registerUser", body, content_type=content_type)
    assert reply.status_code == 200, reply.content
    return dict(reply.json())


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ('{"username":"u1","password":"p","n":1e400000}', "exponent"),
        ('{"username":"u1","password":"p","n":' + "[" * 30_000 + "}", "nested deeper"),
        ('{"username":"u1\\u0000","password":"p"}', "NUL"),
        ('{"username":"\\udfff","password":"p"}', "surrogate"),
    ],
)
def test_hostile_json_bodies_answer_code_400(api: Hx, body: str, why: str) -> None:
    reply = post(body.replace("{", f'{{"token":"{api.token}",', 1))
    assert reply["code"] == 400 and why in str(reply["message"]), reply
    assert not User.objects.filter(username__startswith="u1").exists()


def test_json_form_fields_are_bounded_too(api: Hx) -> None:
    for users in ('[{"username":"u1","password":"p","n":1e400000}]', "[" * 5000, '[{"username":"u1\\u0000"}]'):
        reply = Client().post("/hx/registerUser", {"token": api.token, "users": users})
        assert reply.status_code == 200 and reply.json()["code"] == 400, reply.content
    nul = Client().post("/hx/registerUser", {"token": api.token, "username": "u1\x00", "password": "p"})
    assert nul.json()["code"] == 400
    assert not User.objects.filter(username__startswith="u1").exists()


def test_too_many_form_fields_answer_code_400(api: Hx) -> None:
    fields = f"token={api.token}&" + "&".join(f"f{i}=1" for i in range(1100))
    reply = post(fields, "application/x-www-form-urlencoded")
    assert reply["code"] == 400


def test_a_body_over_the_upload_limit_answers_code_413(api: Hx, settings: object) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048  # type: ignore[attr-defined]
    reply = post(json.dumps({"token": api.token, "username": "u1", "password": "p" * 4000}))
    assert reply["code"] == 413
