"""The bridge never acts on an operator's account (staff or superuser), on an internal account,
nor on the desk's accounts: every such call answers exactly as for a user who does not exist."""
from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import Friendship, User
from messaging.desk.services import profile_register
from tests.accounts.factories import PASSWORD, make_user
from tests.hxbridge.conftest import Hx

pytestmark = pytest.mark.django_db

NEW = "brand-new-pass-1"


def admin_login(username: str, password: str) -> bool:
    """Whether the operator console's login form lets ``username`` in."""
    client = Client()
    client.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    return client.get("/admin/").status_code == 200


@pytest.mark.parametrize("fields", [
    {"username": "admin", "is_staff": True, "is_superuser": True},
    {"username": "operator", "is_staff": True},
    {"username": "root", "is_superuser": True},
    {"username": "agentx", "is_internal": True},
])
def test_reset_password_does_not_reach_an_operator_or_internal_account(api: Hx, fields: dict[str, object]) -> None:
    user = make_user(**fields)
    reply = api("resetPassword", {"username": user.username, "newpassword": NEW})
    missing = api("resetPassword", {"username": "nobody", "newpassword": NEW})
    assert (reply["code"], reply["message"], reply["data"]["error"]) == (
        404, f"no such user: {user.username}", missing["data"]["error"])  # exactly as a missing user
    user.refresh_from_db()
    assert user.check_password(PASSWORD) and not user.check_password(NEW)
    if user.is_staff:
        assert not admin_login(user.username, NEW) and admin_login(user.username, PASSWORD)


def test_an_ordinary_user_is_still_reset(api: Hx) -> None:
    user = make_user(username="jliu")
    api.ok("resetPassword", {"username": "jliu", "newpassword": NEW})
    user.refresh_from_db()
    assert user.check_password(NEW)


def test_every_bridge_method_treats_an_operator_as_missing(api: Hx) -> None:
    make_user(username="admin", is_staff=True, is_superuser=True)
    make_user(username="bob")
    calls: list[tuple[str, dict[str, Any]]] = [
        ("addFriends", {"owner_username": "admin", "friend_username": "bob", "type": "post"}),
        ("addFriends", {"owner_username": "bob", "friend_username": "admin", "type": "post"}),
        ("getFriends", {"owner_username": "admin"}),
        ("getUserStatus", {"username": "admin"}),
        ("offlineMsgCount", {"owner_username": "admin"}),
        ("getUser", {"username": "admin"}),
        ("sendMessages", {"target_type": "users", "target": ["bob"], "msg": {"type": "txt", "msg": "x"},
                          "from": "admin"}),
    ]
    for method, body in calls:
        reply = api(method, body)
        assert reply["code"] == 404 and reply["message"] == "no such user: admin", (method, reply)
    sent = api.ok("sendMessages", {"target_type": "users", "target": ["admin"], "msg": {"type": "txt", "msg": "x"},
                                   "from": "bob"})
    assert sent["data"] == {"admin": "no such user"}
    listed = api.ok("getUser", {"limit": 20})
    assert [e["username"] for e in listed["entities"]] == ["bob"]
    admin = User.objects.get(username="admin")
    bob = User.objects.get(username="bob")
    Friendship.objects.bulk_create([Friendship(user=bob, friend=admin), Friendship(user=admin, friend=bob)])
    assert api.ok("getFriends", {"owner_username": "bob"})["data"] == []


def test_the_desks_accounts_are_not_the_bridges(api: Hx) -> None:
    desk_user = profile_register(external_id="agent-1", kind=1, token="token-of-agent-1").user
    reply = api("resetPassword", {"username": desk_user.username, "newpassword": NEW})
    assert reply["code"] == 404
    assert not User.objects.get(pk=desk_user.pk).has_usable_password()
