"""/hx/getToken and the admin token every other /hx endpoint needs: issued for the configured
client credentials only, stored hashed, refused when missing, wrong, expired or revoked."""
from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from hxbridge.models import HxToken
from tests.hxbridge.conftest import CLIENT_ID, CLIENT_SECRET, CREDENTIALS, get_token, hx

pytestmark = pytest.mark.django_db

SEED_TOKEN = ("YWMtyaXSZrJlEeiKKhlnZGJWpQAAAAAAAAAAAAAAAAAAAAEkfycAnqcR6LF7AUVfW6SDAgMAAAFlsq48vABPGgB36BTYHDgIdOLDh"
              "DbNG3vnO73rjVKMeYsNTNdRAimkaQ")


def refused(reply: dict[str, Any], code: int, error: str) -> str:
    assert reply["code"] == code, reply
    assert reply["data"]["error"] == error and reply["data"]["error_description"] == reply["message"]
    return str(reply["message"])


def test_get_token_answers_the_seed_shape() -> None:
    reply = hx(Client(), "getToken", CREDENTIALS)
    assert reply["code"] == 200 and reply["message"] == "请求成功"
    data = reply["data"]
    assert set(data) == {"access_token", "application", "expires_in"}
    assert data["expires_in"] == 7 * 86400  # HX_TOKEN_EXPIRE_SECONDS default
    assert str(uuid.UUID(data["application"])) == data["application"]
    assert len(data["access_token"]) >= 40
    # stored only as its hash, with its expiry
    row = HxToken.objects.get()
    assert data["access_token"] not in (row.key_hash, row.credentials_hash)
    assert abs((row.expires_at - timezone.now()).total_seconds() - 7 * 86400) < 60


def test_credentials_as_http_basic_and_without_grant_type(settings: Any) -> None:
    settings.HX_TOKEN_EXPIRE_SECONDS = 3600
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    reply = hx(Client(), "getToken", None, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert reply["code"] == 200 and reply["data"]["expires_in"] == 3600
    plain = hx(Client(), "getToken", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    assert plain["code"] == 200


def test_the_token_works_in_the_body_and_as_bearer(bob: Any) -> None:
    token = get_token(Client())
    in_body = hx(Client(), "getUser", {"username": "bob", "token": token})
    as_header = hx(Client(), "getUser", {"username": "bob"}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert in_body["code"] == as_header["code"] == 200
    assert in_body["data"]["entities"] == as_header["data"]["entities"] and in_body["data"]["count"] == 1


@pytest.mark.parametrize("body", [
    {"client_id": CLIENT_ID, "client_secret": "YXA6bNlbOqkLsI-wrong-secret"},
    {"client_id": "someone-else", "client_secret": CLIENT_SECRET},
    {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET + "x"},
    {"client_id": "客户", "client_secret": "密钥"},
])
def test_wrong_credentials_are_refused_with_401(body: dict[str, str]) -> None:
    message = refused(hx(Client(), "getToken", body), 401, "unauthorized")
    assert message == "wrong client_id or client_secret"
    assert not HxToken.objects.exists()


def test_the_seed_request_without_credentials_is_refused() -> None:
    """Seed 003 sends no parameters: its bridge held the credentials. Ours is the bridge, so the
    caller must present them (docs/hxbridge.md)."""
    message = refused(hx(Client(), "getToken"), 401, "unauthorized")
    assert "client_id and client_secret are required" in message
    bad_basic = hx(Client(), "getToken", None, HTTP_AUTHORIZATION="Basic !!!")
    refused(bad_basic, 401, "unauthorized")


def test_bad_grant_type_is_400() -> None:
    refused(hx(Client(), "getToken", {**CREDENTIALS, "grant_type": "password"}), 400, "illegal_argument")


def test_unconfigured_bridge_refuses_with_503(settings: Any) -> None:
    settings.HX_CLIENT_ID = settings.HX_CLIENT_SECRET = ""
    message = refused(hx(Client(), "getToken", CREDENTIALS), 503, "service_unavailable")
    assert "HX_CLIENT_ID and HX_CLIENT_SECRET" in message


def test_get_token_is_rate_limited_per_address(settings: Any) -> None:
    settings.HX_TOKEN_PER_IP_PER_HOUR = 3
    client = Client()
    assert hx(client, "getToken", {**CREDENTIALS, "client_secret": "wrong-but-counted"})["code"] == 401
    assert hx(client, "getToken", CREDENTIALS)["code"] == 200
    assert hx(client, "getToken", CREDENTIALS)["code"] == 200
    refused(hx(client, "getToken", CREDENTIALS), 429, "too_many_requests")
    # another address is not affected
    assert hx(client, "getToken", CREDENTIALS, REMOTE_ADDR="10.0.0.9")["code"] == 200


@pytest.mark.parametrize(("token", "message"), [
    (None, "an admin token from /hx/getToken is required"),
    ("", "an admin token from /hx/getToken is required"),
    (SEED_TOKEN, "invalid or expired token"),
    ("x" * 500, "invalid or expired token"),
])
def test_missing_or_unknown_admin_token_is_401(token: str | None, message: str) -> None:
    body = {"username": "u1"} if token is None else {"username": "u1", "token": token}
    assert message in refused(hx(Client(), "getUser", body), 401, "unauthorized")


def test_bearer_with_a_bad_token_is_401_even_with_a_good_one_in_the_body() -> None:
    token = get_token(Client())
    reply = hx(Client(), "getUserStatus", {"username": "u1", "token": token}, HTTP_AUTHORIZATION="Bearer nope")
    refused(reply, 401, "unauthorized")


def test_expired_token_is_401(bob: Any) -> None:
    token = get_token(Client())
    assert hx(Client(), "getUser", {"username": "bob", "token": token})["code"] == 200
    HxToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "invalid or expired" in refused(hx(Client(), "getUser", {"username": "bob", "token": token}), 401,
                                           "unauthorized")


def test_changing_the_credentials_revokes_every_token(settings: Any, bob: Any) -> None:
    token = get_token(Client())
    settings.HX_CLIENT_SECRET = "YXA6-a-brand-new-secret"
    refused(hx(Client(), "getUser", {"username": "bob", "token": token}), 401, "unauthorized")
    settings.HX_CLIENT_ID = settings.HX_CLIENT_SECRET = ""
    refused(hx(Client(), "getUser", {"username": "bob", "token": token}), 401, "unauthorized")


def test_a_new_token_leaves_earlier_ones_working_and_purges_long_expired_ones(bob: Any) -> None:
    first = get_token(Client())
    HxToken.objects.update(expires_at=timezone.now() - timedelta(days=2))
    stale = HxToken.objects.get().pk
    second, third = get_token(Client()), get_token(Client())
    assert not HxToken.objects.filter(pk=stale).exists()
    assert hx(Client(), "getUser", {"username": "bob", "token": first})["code"] == 401
    for token in (second, third):
        assert hx(Client(), "getUser", {"username": "bob", "token": token})["code"] == 200


def test_wrong_method_unknown_path_and_bad_bodies(token: str) -> None:
    client = Client()
    got = client.get("/hx/getUser").json()
    assert got["code"] == 405 and got["data"]["error"] == "method_not_allowed"
    unknown = client.post("/hx/deleteUser", "{}", content_type="application/json").json()
    assert unknown["code"] == 404 and "no such method" in unknown["message"]
    broken = client.post("/hx/getUser", "{not json", content_type="application/json").json()
    assert broken["code"] == 400 and broken["data"]["error"] == "illegal_argument"
    listed = client.post("/hx/getUser", "[1, 2]", content_type="application/json").json()
    assert listed["code"] == 400 and "JSON object" in listed["message"]
    slash = hx(client, "getUser/", {"token": token})
    assert slash["code"] == 200


def test_a_body_over_the_upload_limit_is_413(token: str, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    reply = hx(Client(), "registerUser", {"username": "big", "password": "x" * 2000, "token": token})
    assert reply["code"] == 413 and reply["data"]["error"] == "request_entity_too_large"


def test_an_unexpected_error_answers_500_without_details(token: str, monkeypatch: Any) -> None:
    from hxbridge import views

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(views.account_selectors, "users_after", boom)
    reply = hx(Client(), "getUser", {"token": token})
    assert reply["code"] == 500 and reply["message"] == "internal error"
    assert "secret detail" not in str(reply)



def test_wrong_client_secrets_are_limited_per_client_id_from_any_address() -> None:
    """The client secret is a password: LOGIN_MAX_FAILURES wrong ones lock that client_id for the
    window, from every address, even with the right secret (the per-hour limit is far higher)."""
    wrong = {**CREDENTIALS, "client_secret": "wrong-secret-value"}
    assert [hx(Client(), "getToken", wrong, REMOTE_ADDR=f"10.6.0.{n}")["code"] for n in range(5)] == [401] * 5
    refused(hx(Client(), "getToken", CREDENTIALS, REMOTE_ADDR="10.6.1.1"), 429, "too_many_requests")
