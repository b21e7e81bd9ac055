"""registerUser (single and batch), resetPassword and getUser, with the seed's own requests; users
registered here are native users: they log in over REST and open a socket."""
from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from django.test import AsyncClient, Client
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.factories import make_user
from tests.conftest import Connect, atoken_for
from tests.hxbridge.conftest import Hx, aapi

pytestmark = pytest.mark.django_db

ENTITY_KEYS = {"created", "modified", "type", "uuid", "username", "activated"}


def assert_entity(entity: dict[str, Any], username: str, *, activated: bool = True) -> None:
    assert set(entity) == ENTITY_KEYS
    assert entity["username"] == username and entity["type"] == "user" and entity["activated"] is activated
    assert str(uuid.UUID(entity["uuid"])) == entity["uuid"]
    assert len(str(entity["created"])) == 13 and entity["modified"] == entity["created"]  # milliseconds


def login(username: str, password: str) -> Any:
    return APIClient().post("/api/v1/auth/login", {"username": username, "password": password}, format="json")


# --- registerUser -----------------------------------------------------------------------------
def test_register_one_user_with_the_seed_request(api: Hx) -> None:
    data = api.ok("registerUser", {"username": "jliu", "password": "123456"})
    assert set(data) == {"duration", "path", "application", "entities", "organization", "action", "uri",
                         "applicationName", "timestamp"}
    assert (data["path"], data["action"], data["organization"], data["applicationName"]) == (
        "/users", "post", "im", "im")
    assert data["uri"] == "http://testserver/hx/registerUser"
    (entity,) = data["entities"]
    assert_entity(entity, "jliu")
    user = User.objects.get(username="jliu")
    assert user.is_active and user.check_password("123456")
    assert len(str(data["timestamp"])) == 13 and data["duration"] >= 0


def test_a_bridge_user_logs_in_natively_with_plain_or_md5_password(api: Hx) -> None:
    api.ok("registerUser", {"username": "jliu", "password": "123456"})
    plain = login("jliu", "123456")
    assert plain.status_code == 200 and plain.json()["userId"] == User.objects.get(username="jliu").pk
    assert login("jliu", hashlib.md5(b"123456").hexdigest()).status_code == 200
    assert login("JLIU", "123456").status_code == 200  # names are case-insensitive on both sides
    assert login("jliu", "1234567").status_code == 401


async def test_a_bridge_user_opens_a_socket_with_the_native_login(connect: Connect) -> None:
    api = await aapi()
    await api.ok("registerUser", {"users": [{"username": "u3", "password": "p1"}]})
    client = AsyncClient()
    logged_in = await client.post("/api/v1/auth/login", {"username": "u3", "password": "p1"},
                                  content_type="application/json")
    assert logged_in.status_code == 200
    socket = await connect(logged_in.json()["token"])
    me = await socket.ok("web.account.myInfo")
    assert me["userName"] == "u3" and me["uId"] == logged_in.json()["userId"]


def test_register_a_batch_with_the_seed_request(api: Hx) -> None:
    data = api.ok("registerUser", {"users": [{"username": "u3", "password": "p1"},
                                             {"username": "u4", "password": "p2"}]})
    assert [e["username"] for e in data["entities"]] == ["u3", "u4"]
    for entity, name in zip(data["entities"], ["u3", "u4"], strict=True):
        assert_entity(entity, name)
    assert data["data"] == [] and data["path"] == "/users" and data["action"] == "post"
    assert login("u3", "p1").status_code == 200 and login("u4", "p2").status_code == 200


def test_a_batch_registers_each_user_on_its_own(api: Hx, alice: User) -> None:
    data = api.ok("registerUser", {"users": [
        {"username": "u5", "password": "p5"}, {"username": "ALICE", "password": "p6"},
        {"username": "bad name", "password": "p7"}, {"username": "u8", "password": "x" * 65},
        {"username": "u5", "password": "again"}, {"username": "U9", "password": "p9"},
    ]})
    assert [e["username"] for e in data["entities"]] == ["u5", "u9"]  # stored lower-cased, as Easemob
    reasons = {f["username"]: f["registerUserFailReason"] for f in data["data"]}
    assert list(reasons) == ["ALICE", "bad name", "u8", "u5"]
    assert reasons["ALICE"] == "that username is taken"
    assert "1-64 letters a-z" in reasons["bad name"]
    assert "1-64 characters" in reasons["u8"]
    assert set(User.objects.values_list("username", flat=True)) == {"alice", "u5", "u9"}


@pytest.mark.parametrize(("body", "code", "error", "message"), [
    ({"username": "jliu", "password": "123456"}, 400, "duplicate_unique_property_exists", "taken"),
    ({"username": "JLiu", "password": "123456"}, 400, "duplicate_unique_property_exists", "taken"),
    ({"username": "j liu", "password": "123456"}, 400, "illegal_argument", "username must be 1-64"),
    ({"username": "x" * 65, "password": "123456"}, 400, "illegal_argument", "username must be 1-64"),
    ({"username": "张三", "password": "123456"}, 400, "illegal_argument", "username must be 1-64"),
    ({"password": "123456"}, 400, "illegal_argument", "username is required"),
    ({"username": "dave"}, 400, "illegal_argument", "password is required"),
    ({"username": "dave", "password": "p" * 65}, 400, "illegal_argument", "1-64 characters"),
    ({"users": []}, 400, "illegal_argument", "users must be a list of 1-60"),
    ({"users": [{"username": f"n{i}", "password": "p"} for i in range(61)]}, 400, "illegal_argument", "1-60"),
    ({"users": ["u1"]}, 400, "illegal_argument", "users must be a list"),
    ({"users": {"username": "u1"}}, 400, "illegal_argument", "users must be a list"),
])
def test_register_refusals(api: Hx, body: dict[str, Any], code: int, error: str, message: str) -> None:
    make_user(username="jliu")
    reply = api("registerUser", body)
    assert reply["code"] == code and reply["data"]["error"] == error and message in reply["message"], reply
    assert User.objects.count() == 1


def test_short_names_and_passwords_follow_easemob_not_the_native_rules(api: Hx) -> None:
    """Native registration wants 3-32 character names and 6+ character passwords; the bridge
    keeps Easemob's promise (1-64 and up to 64), and those users still log in natively."""
    api.ok("registerUser", {"username": "q", "password": "1"})
    assert login("q", "1").status_code == 200
    native = APIClient().post("/api/v1/auth/register", {"username": "qq", "password": "1"}, format="json")
    assert native.status_code == 400


# --- resetPassword ----------------------------------------------------------------------------
def test_reset_password_with_the_seed_request(api: Hx) -> None:
    api.ok("registerUser", {"username": "u1", "password": "old-pass"})
    data = api.ok("resetPassword", {"username": "u1", "newpassword": "123456"})
    assert data["data"] == {"u1": "success"}
    assert (data["path"], data["action"]) == ("/users/u1/password", "set user password")
    assert {"application", "organization", "applicationName", "uri", "duration", "timestamp"} <= set(data)
    assert login("u1", "old-pass").status_code == 401
    assert login("u1", "123456").status_code == 200


async def test_reset_password_closes_the_users_sockets(connect: Connect, bob: User) -> None:
    socket = await connect(await atoken_for(bob))
    api = await aapi()
    await api.ok("resetPassword", {"username": "bob", "newpassword": "brand-new"})
    assert await socket.closed() == 4003


@pytest.mark.parametrize(("body", "code", "message"), [
    ({"username": "nobody", "newpassword": "123456"}, 404, "no such user: nobody"),
    ({"newpassword": "123456"}, 400, "username is required"),
    ({"username": "bob"}, 400, "password is required"),
    ({"username": "bob", "newpassword": "p" * 65}, 400, "1-64 characters"),
])
def test_reset_password_refusals(api: Hx, bob: User, body: dict[str, Any], code: int, message: str) -> None:
    reply = api("resetPassword", body)
    assert reply["code"] == code and message in reply["message"]
    bob.refresh_from_db()
    assert bob.check_password("secret123")


# --- getUser ----------------------------------------------------------------------------------
def test_get_one_user_with_the_seed_request(api: Hx) -> None:
    api.ok("registerUser", {"username": "u1", "password": "123456"})
    reply = api("getUser", {"username": "u1"})
    assert reply["code"] == 200 and reply["msg"] == reply["message"] == "请求成功"  # the seed says "msg" here
    data = reply["data"]
    assert list(data) == ["duration", "path", "entities", "count", "action", "uri", "timestamp"]
    assert (data["path"], data["count"], data["action"]) == ("/users", 1, "get")
    assert_entity(data["entities"][0], "u1")
    again = api("registerUser", {"username": "u2", "password": "123456"})["data"]["entities"][0]
    assert again["uuid"] != data["entities"][0]["uuid"]
    assert api.ok("getUser", {"username": "U1"})["entities"][0]["uuid"] == data["entities"][0]["uuid"]


def test_get_a_deactivated_user_and_an_unknown_one(api: Hx) -> None:
    make_user(username="gone", is_active=False)
    assert_entity(api.ok("getUser", {"username": "gone"})["entities"][0], "gone", activated=False)
    missing = api("getUser", {"username": "nobody"})
    assert missing["code"] == 404 and missing["msg"] == "no such user: nobody"
    assert missing["data"]["error"] == "service_resource_not_found"


def test_get_many_users_pages_with_limit_and_cursor(api: Hx) -> None:
    names = [f"user{i:02d}" for i in range(23)]
    for name in names:
        make_user(username=name)
    data = api.ok("getUser", {"limit": 10})
    assert list(data) == ["duration", "cursor", "path", "entities", "count", "action", "params", "uri", "timestamp"]
    assert data["count"] == 10 and data["params"] == {"limit": ["10"]}
    seen = [e["username"] for e in data["entities"]]
    second = api.ok("getUser", {"limit": 10, "cursor": data["cursor"]})
    assert second["params"] == {"limit": ["10"], "cursor": [data["cursor"]]}
    seen += [e["username"] for e in second["entities"]]
    last = api.ok("getUser", {"limit": 10, "cursor": second["cursor"]})
    assert last["count"] == 3 and "cursor" not in last  # the last page has no cursor
    seen += [e["username"] for e in last["entities"]]
    assert seen == names  # every user once, in registration order
    assert api.ok("getUser")["count"] == 10  # default limit
    assert api.ok("getUser", {"limit": "20"})["count"] == 20


@pytest.mark.parametrize(("body", "message"), [
    ({"limit": 21}, "limit must be 1-20"),
    ({"limit": 0}, "limit must be 1-20"),
    ({"limit": "ten"}, "limit must be 1-20"),
    ({"limit": True}, "limit must be 1-20"),
    ({"limit": 5, "cursor": "not-a-cursor"}, "cursor must be the cursor of a previous answer"),
    ({"limit": 5, "cursor": 12}, "cursor must be the cursor of a previous answer"),
])
def test_get_many_refusals(api: Hx, body: dict[str, Any], message: str) -> None:
    reply = api("getUser", body)
    assert reply["code"] == 400 and reply["msg"] == message


def test_form_bodies_are_accepted(token: str) -> None:
    client = Client()
    made = client.post("/hx/registerUser", {"username": "formuser", "password": "123456", "token": token}).json()
    assert made["code"] == 200 and made["data"]["entities"][0]["username"] == "formuser"
    batch = client.post("/hx/registerUser", {
        "users": '[{"username": "f1", "password": "p1"}, {"username": "f2", "password": "p2"}]', "token": token,
    }).json()
    assert [e["username"] for e in batch["data"]["entities"]] == ["f1", "f2"]
    page = client.post("/hx/getUser", {"limit": "2", "token": token}).json()
    assert page["code"] == 200 and page["data"]["count"] == 2
    broken = client.post("/hx/registerUser", {"users": "[{oops", "token": token}).json()
    assert broken["code"] == 400 and broken["message"] == "users is not valid JSON"


def test_native_users_with_non_ascii_names_are_found(api: Hx) -> None:
    """Native names may hold any letters; the bridge finds them as written (also on SQLite,
    whose LOWER() folds ASCII only)."""
    make_user(username="Ärger")
    make_user(username="张三")
    assert api.ok("getUser", {"username": "Ärger"})["entities"][0]["username"] == "Ärger"
    assert api.ok("getUser", {"username": "张三"})["entities"][0]["username"] == "张三"
    assert api.ok("getUserStatus", {"username": "Ärger"})["data"] == {"Ärger": "offline"}
