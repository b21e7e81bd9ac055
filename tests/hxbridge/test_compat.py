"""The Easemob document's parameter-less /hx/getToken: refused by default (the bridge wants its
client credentials), served to back offices on ``HX_TRUSTED_NETWORKS``. The client address is
REMOTE_ADDR (what daphne saw): an X-Forwarded-For a client writes gets nobody in, credentials
that are sent are still checked, the per-address limit still counts, and a token got this way
reaches no operator's account."""
from __future__ import annotations

import base64
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from config.env import env_networks
from hxbridge.models import HxToken
from tests.accounts.factories import PASSWORD, make_user
from tests.hxbridge.conftest import CLIENT_ID, hx

pytestmark = pytest.mark.django_db

# The document's request: "请求类型：POST  请求参数：无" (no parameters at all).
SEED_GET_TOKEN: dict[str, Any] = {}
SEED_REGISTER = {"username": "jliu", "password": "123456"}  # + the document's "token"
BACK_OFFICE = "10.20.0.7"


@pytest.fixture
def trusted(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """HX_TRUSTED_NETWORKS as an operator writes it (parsed as at start-up)."""
    monkeypatch.setenv("HX_TRUSTED_NETWORKS", " 10.20.0.0/16, 192.168.7.9 ")
    settings.HX_TRUSTED_NETWORKS = env_networks("HX_TRUSTED_NETWORKS")


def seed_get_token(**extra: Any) -> dict[str, Any]:
    """POST /hx/getToken exactly as the document does: an empty body."""
    response = Client().post("/hx/getToken", "", content_type="application/json", **extra)
    assert response.status_code == 200, response.content
    return dict(response.json())


def test_the_documents_get_token_is_refused_by_default() -> None:
    reply = seed_get_token(REMOTE_ADDR=BACK_OFFICE)
    assert (reply["code"], reply["message"], reply["data"]["error"]) == (
        401, "client_id and client_secret are required", "unauthorized")
    assert hx(Client(), "getToken", SEED_GET_TOKEN, REMOTE_ADDR=BACK_OFFICE)["code"] == 401  # "{}" alike
    assert not HxToken.objects.exists()


@pytest.mark.usefixtures("trusted")
@pytest.mark.parametrize("address", [BACK_OFFICE, "192.168.7.9", "::ffff:10.20.3.4"])
def test_the_documents_get_token_is_served_on_a_trusted_network(address: str) -> None:
    reply = seed_get_token(REMOTE_ADDR=address)
    assert reply["code"] == 200 and reply["message"] == "请求成功", reply
    assert set(reply["data"]) == {"access_token", "application", "expires_in"}  # the document's three fields
    assert reply["data"]["expires_in"] == 7 * 86400
    # and the token works for the document's next request
    registered = hx(Client(), "registerUser", {**SEED_REGISTER, "token": reply["data"]["access_token"]})
    assert registered["code"] == 200 and registered["data"]["entities"][0]["username"] == "jliu"
    assert HxToken.objects.get().ip == address


@pytest.mark.usefixtures("trusted")
@pytest.mark.parametrize("address", ["10.21.0.1", "192.168.7.10", "127.0.0.1", "203.0.113.5", "::1"])
def test_other_addresses_still_need_the_credentials(address: str) -> None:
    assert seed_get_token(REMOTE_ADDR=address)["code"] == 401


@pytest.mark.usefixtures("trusted")
@pytest.mark.parametrize("headers", [
    {"HTTP_X_FORWARDED_FOR": BACK_OFFICE},
    {"HTTP_X_FORWARDED_FOR": f"{BACK_OFFICE}, 203.0.113.5"},
    {"HTTP_X_REAL_IP": BACK_OFFICE},
    {"HTTP_FORWARDED": f"for={BACK_OFFICE}"},
])
def test_a_spoofed_forwarding_header_gets_nobody_in(headers: dict[str, str]) -> None:
    reply = seed_get_token(REMOTE_ADDR="203.0.113.5", **headers)
    assert reply["code"] == 401 and not HxToken.objects.exists()


@pytest.mark.usefixtures("trusted")
@pytest.mark.parametrize("sent", [
    {"body": {"client_id": CLIENT_ID, "client_secret": "YXA6-wrong-secret-000"}},
    {"body": {"client_id": CLIENT_ID}},
    {"body": {"client_secret": ""}},
    {"extra": {"HTTP_AUTHORIZATION": "Basic !!not-base64!!"}},
    {"extra": {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{CLIENT_ID}:nope".encode()).decode()}},
])
def test_credentials_that_are_sent_are_checked_even_on_a_trusted_network(sent: dict[str, Any]) -> None:
    reply = hx(Client(), "getToken", sent.get("body"), REMOTE_ADDR=BACK_OFFICE, **sent.get("extra", {}))
    assert reply["code"] == 401 and not HxToken.objects.exists()


@pytest.mark.usefixtures("trusted")
def test_the_per_address_limit_still_counts(settings: Any) -> None:
    settings.HX_TOKEN_PER_IP_PER_HOUR = 2
    assert [seed_get_token(REMOTE_ADDR=BACK_OFFICE)["code"] for _ in range(3)] == [200, 200, 429]


@pytest.mark.usefixtures("trusted")
def test_an_unconfigured_bridge_stays_off_on_a_trusted_network(settings: Any) -> None:
    settings.HX_CLIENT_ID = settings.HX_CLIENT_SECRET = ""
    assert seed_get_token(REMOTE_ADDR=BACK_OFFICE)["code"] == 503


@pytest.mark.usefixtures("trusted")
def test_a_trusted_token_reaches_no_operator_account() -> None:
    admin = make_user(username="admin", is_staff=True, is_superuser=True)
    make_user(username="bob")
    token = seed_get_token(REMOTE_ADDR=BACK_OFFICE)["data"]["access_token"]
    reset = hx(Client(), "resetPassword", {"username": "admin", "newpassword": "123456", "token": token})
    assert (reset["code"], reset["message"]) == (404, "no such user: admin")
    sent = hx(Client(), "sendMessages", {"target_type": "users", "target": ["bob"],
                                         "msg": {"type": "txt", "msg": "HelloWorld"}, "token": token})
    assert (sent["code"], sent["message"]) == (404, "no such user: admin")  # no "from": never the operator
    listed = hx(Client(), "getUser", {"limit": 20, "token": token})["data"]["entities"]
    assert [e["username"] for e in listed] == ["bob"]
    admin.refresh_from_db()
    assert admin.check_password(PASSWORD)


@pytest.mark.parametrize(("value", "message"), [
    ("10.0.0.1/8", "HX_TRUSTED_NETWORKS: '10.0.0.1/8' is not a network in CIDR notation"),
    ("10.0.0.0/33", "HX_TRUSTED_NETWORKS: '10.0.0.0/33' is not a network in CIDR notation"),
    ("intranet", "HX_TRUSTED_NETWORKS: 'intranet' is not a network in CIDR notation"),
    ("0.0.0.0/0", "HX_TRUSTED_NETWORKS: '0.0.0.0/0' is every address"),
    ("10.0.0.0/8, ::/0", "HX_TRUSTED_NETWORKS: '::/0' is every address"),
])
def test_a_bad_network_is_refused_by_the_parser(monkeypatch: pytest.MonkeyPatch, value: str, message: str) -> None:
    monkeypatch.setenv("HX_TRUSTED_NETWORKS", value)
    with pytest.raises(ImproperlyConfigured, match="^" + message.replace(".", r"\.").replace("/", "/")):
        env_networks("HX_TRUSTED_NETWORKS")


def test_unset_or_empty_means_no_network(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setenv("HX_TRUSTED_NETWORKS", " , ")
    assert env_networks("HX_TRUSTED_NETWORKS") == ()
    assert settings.HX_TRUSTED_NETWORKS == () and settings.DESK_TRUSTED_NETWORKS == ()  # the defaults
