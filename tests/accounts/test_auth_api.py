"""POST /api/v1/auth/register, /login, /logout and token transport (DESIGN.md contract)."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuthSession, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def register(api: APIClient, username: str = "dave", password: str = "secret123", **extra: str) -> dict:
    response = api.post("/api/v1/auth/register", {"username": username, "password": password, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_register_answers_user_id_and_token(api: APIClient) -> None:
    body = register(api, phone="13911112222")
    assert set(body) == {"userId", "token"}
    user = User.objects.get(pk=body["userId"])
    assert user.username == "dave" and user.phone == "13911112222"
    assert "secret123" not in user.password
    assert AuthSession.objects.get(user=user).key_hash != body["token"]  # stored hashed


def test_register_refusals(api: APIClient, alice: User) -> None:
    cases = [
        ({"username": "ALICE", "password": "secret123"}, 409, "username_taken"),
        ({"username": "x", "password": "secret123"}, 400, "invalid"),
        ({"username": "erin", "password": "123"}, 400, "invalid_password"),
        ({"username": "erin", "password": "secret123", "phone": alice.phone}, 409, "phone_taken"),
        ({"username": "erin", "password": "secret123", "phone": "12ab"}, 400, "invalid"),
        ({"password": "secret123"}, 400, "invalid"),
    ]
    for payload, status, error in cases:
        response = api.post("/api/v1/auth/register", payload, format="json")
        assert (response.status_code, response.json()["error"]) == (status, error), payload
    assert not User.objects.filter(username="erin").exists()


@override_settings(REGISTER_PER_IP_PER_HOUR=2)
def test_register_is_rate_limited_per_address(api: APIClient) -> None:
    register(api, "user1")
    register(api, "user2")
    response = api.post("/api/v1/auth/register", {"username": "user3", "password": "secret123"}, format="json")
    assert response.status_code == 429


def test_login_with_plain_or_md5_password(api: APIClient, alice: User) -> None:
    plain = api.post("/api/v1/auth/login", {"username": "alice", "password": "secret123"}, format="json")
    md5 = api.post("/api/v1/auth/login", {"username": "Alice", "password": hashlib.md5(b"secret123").hexdigest()},
                   format="json")
    assert plain.status_code == md5.status_code == 200
    assert plain.json()["userId"] == md5.json()["userId"] == alice.pk
    assert plain.json()["token"] != md5.json()["token"]  # one session per login


def test_login_form_body_works(api: APIClient, alice: User) -> None:
    response = api.post("/api/v1/auth/login", {"username": "alice", "password": "secret123"})
    assert response.status_code == 200


def test_wrong_password_is_401_then_locked_out(api: APIClient, alice: User) -> None:
    for _ in range(5):
        wrong = api.post("/api/v1/auth/login", {"username": "alice", "password": "nope!!"}, format="json")
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "invalid_credentials"
    locked = api.post("/api/v1/auth/login", {"username": "alice", "password": "secret123"}, format="json")
    assert locked.status_code == 429 and "minutes" in locked.json()["msg"]


def test_unknown_user_and_wrong_password_look_alike(api: APIClient, alice: User) -> None:
    a = api.post("/api/v1/auth/login", {"username": "nobody", "password": "secret123"}, format="json").json()
    b = api.post("/api/v1/auth/login", {"username": "alice", "password": "wrong12"}, format="json").json()
    assert a == b


def test_inactive_user_cannot_log_in(api: APIClient, alice: User) -> None:
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert api.post("/api/v1/auth/login", {"username": "alice", "password": "secret123"}).status_code == 401


def test_token_is_accepted_as_bearer_and_session_key(api: APIClient, alice: User) -> None:
    token = api.post("/api/v1/auth/login", {"username": "alice", "password": "secret123"}).json()["token"]
    assert api.get("/api/v1/me").status_code == 401
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").json()["uId"] == alice.pk
    assert api.get(f"/api/v1/me?session_key={token}").json()["uId"] == alice.pk
    posted = api.post("/api/v1/system/relay", {"session_key": token, "action": "a", "to": [alice.pk]}, format="json")
    assert posted.status_code == 200
    form = api.post("/api/v1/system/relay", {"session_key": token, "action": "a", "to": str(alice.pk)})
    assert form.status_code == 200
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401


def test_expired_token_is_refused(api: APIClient, alice: User) -> None:
    token = api.post("/api/v1/auth/login", {"username": "alice", "password": "secret123"}).json()["token"]
    AuthSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_logout_ends_only_that_session(api: APIClient, alice: User) -> None:
    first = api.post("/api/v1/auth/login", {"username": "alice", "password": "secret123"}).json()["token"]
    second = api.post("/api/v1/auth/login", {"username": "alice", "password": "secret123"}).json()["token"]
    assert api.post("/api/v1/auth/logout", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 200
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 401
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 200
    assert api.post("/api/v1/auth/logout").status_code == 401
