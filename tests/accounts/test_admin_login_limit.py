"""The operator console's login form is limited like every login: per username and per address."""
from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.accounts.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def attempt(client: Client, username: str, password: str) -> Any:
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password,
                                                      "next": "/admin/"})


def logged_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_sixty_wrong_passwords_then_the_right_one_does_not_log_in() -> None:
    make_user(username="op", is_staff=True, is_superuser=True)
    client = Client(REMOTE_ADDR="10.4.0.1")
    for n in range(60):
        attempt(client, "op", f"wrong-{n}")
    page = attempt(client, "op", PASSWORD)
    assert page.status_code == 200 and b"Too many failed logins" in page.content
    assert not logged_in(client)
    # from another address too: the lock is the account's
    other = Client(REMOTE_ADDR="10.4.0.2")
    attempt(other, "OP", PASSWORD)
    assert not logged_in(other)


def test_the_limit_per_address_spans_usernames(settings: Any) -> None:
    settings.PASSWORD_ATTEMPTS_PER_IP = 3
    make_user(username="op", is_staff=True)
    client = Client(REMOTE_ADDR="10.4.0.3")
    for name in ("x1", "x2", "x3"):
        attempt(client, name, "wrong")
    assert b"Too many failed logins" in attempt(client, "op", PASSWORD).content
    assert not logged_in(client)
    fresh = Client(REMOTE_ADDR="10.4.0.4")
    attempt(fresh, "op", PASSWORD)
    assert logged_in(fresh)


def test_a_right_password_logs_in_and_clears_the_failures() -> None:
    make_user(username="op", is_staff=True)
    client = Client(REMOTE_ADDR="10.4.0.5")
    for n in range(4):
        attempt(client, "op", f"wrong-{n}")
    attempt(client, "op", PASSWORD)
    assert logged_in(client)
