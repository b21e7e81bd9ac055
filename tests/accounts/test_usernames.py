"""Usernames are one name in any case, width or compatibility form (NFKC + case folding), for
finding, uniqueness and the failed-login lockout alike; new names are ASCII only."""
from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from accounts.models import User
from accounts.selectors import user_by_login_name
from tests.accounts.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db
LONG_S = "\u017f"  # LATIN SMALL LETTER LONG S: folds to "s"
CYRILLIC_A = "\u0430"


def login(username: str, password: str, address: str = "10.3.0.1") -> Any:
    return APIClient(REMOTE_ADDR=address).post(
        "/api/v1/auth/login", {"username": username, "password": password}, format="json")


def register(username: str) -> Any:
    return APIClient().post("/api/v1/auth/register", {"username": username, "password": "secret99"}, format="json")


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_the_lockout_holds_for_every_spelling_of_the_name() -> None:
    make_user(username="sec11")
    assert [login("sec11", f"wrong-{n}", f"10.3.1.{n}").status_code for n in range(5)] == [401] * 5
    for spelling in (f"{LONG_S}ec11", "SEC11", full_width("sec11"), "Sec11"):
        refused = login(spelling, PASSWORD, "10.3.2.1")
        assert refused.status_code == 429 and refused.json()["error"] == "rate_limited", spelling


def test_a_name_is_found_in_any_form() -> None:
    alice = make_user(username="alice")
    for spelling in ("ALICE", full_width("alice"), "Alice"):
        reply = login(spelling, PASSWORD)
        assert reply.status_code == 200 and reply.json()["userId"] == alice.pk, spelling


@pytest.mark.parametrize("name", [
    f"{CYRILLIC_A}lice",  # Cyrillic a: looks like alice
    full_width("alice"),  # full-width letters
    "\ufb00oo",  # the "ff" ligature
    "bob\u200b",  # a zero-width space
    "名字名字",
])
def test_look_alike_and_non_ascii_names_are_refused(name: str) -> None:
    make_user(username="alice")
    reply = register(name)
    assert reply.status_code == 400 and reply.json()["error"] == "invalid", reply.json()
    assert not User.objects.filter(username=name).exists()


@pytest.mark.parametrize("name", ["ALICE", "Alice"])
def test_a_case_variant_of_a_taken_name_is_taken(name: str) -> None:
    make_user(username="alice")
    assert register(name).status_code == 409


@pytest.mark.parametrize("name", ["dave_99", "d.e-v", "13800000009", "+8613800000009", "dave@example.com"])
def test_the_safe_set_still_registers(name: str) -> None:
    assert register(name).status_code == 201


def test_the_migration_keeps_accounts_that_collide_under_the_new_rule() -> None:
    """Two accounts registered before the rule, one name differing only by a long s: the later
    keeps a distinct key and still logs in by its exact name."""
    first, second = make_user(username="sec"), make_user(username="other")
    User.objects.filter(pk=second.pk).update(username=f"{LONG_S}ec", username_key="placeholder")
    User.objects.filter(pk=first.pk).update(username_key="placeholder-2")
    migration = importlib.import_module("accounts.migrations.0004_username_key")
    migration.backfill(apps, None)
    assert User.objects.get(pk=first.pk).username_key == "sec"
    assert User.objects.get(pk=second.pk).username_key == f"sec#{second.pk}"
    assert user_by_login_name("sec") == first and user_by_login_name("SEC") == first
    assert user_by_login_name(f"{LONG_S}ec") == User.objects.get(pk=second.pk)
    assert login(f"{LONG_S}ec", PASSWORD).json()["userId"] == second.pk
