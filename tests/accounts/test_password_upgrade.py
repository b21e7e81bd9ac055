"""Passwords stored with an older hasher (PBKDF2) or older Argon2 parameters are re-hashed with
Argon2id and the configured cost at their next right check, on every path that checks one:
REST login, the admin's login form, changing the login password, payment passwords."""
from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, identify_hasher
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.passwords import canonical_password
from tests.accounts.factories import PASSWORD, make_user
from tests.conftest import token_for
from wallet.models import Wallet
from wallet.passwords import payment_password_check

ARGON2 = "accounts.hashers.Argon2idPasswordHasher"
# As production lists them (config/settings/base.py); the suite's own setting is MD5 only.
PRODUCTION_HASHERS = [ARGON2, "django.contrib.auth.hashers.PBKDF2PasswordHasher",
                      "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher"]

pytestmark = pytest.mark.django_db(transaction=True)  # upgrades never run inside a transaction


@pytest.fixture(autouse=True)
def production_hashers(settings: Any) -> Any:
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS  # the hashers' caches follow the setting
    return settings


def pbkdf2(raw: str) -> str:
    """A PBKDF2-SHA256 hash as older deployments stored them (few iterations: the test's speed)."""
    hasher = PBKDF2PasswordHasher()
    return hasher.encode(canonical_password(raw), hasher.salt(), iterations=1000)


def legacy_user(username: str, raw: str = PASSWORD, **fields: Any) -> User:
    user = make_user(username=username, **fields)
    User.objects.filter(pk=user.pk).update(password=pbkdf2(raw))
    return user


def stored(user: User) -> str:
    return User.objects.get(pk=user.pk).password


def argon2_prefix(settings: Any) -> str:
    return (f"argon2$argon2id$v=19$m={settings.ARGON2_MEMORY_KIB},t={settings.ARGON2_TIME_COST},"
            f"p={settings.ARGON2_PARALLELISM}$")


def login(username: str, password: str) -> int:
    reply = APIClient(REMOTE_ADDR="10.6.0.1").post(
        "/api/v1/auth/login", {"username": username, "password": password}, format="json")
    return reply.status_code


def test_production_lists_argon2id_first_then_the_older_hashers() -> None:
    from config.settings import base

    assert base.PASSWORD_HASHERS[:3] == PRODUCTION_HASHERS


def test_a_pbkdf2_user_logs_in_and_is_then_stored_as_argon2id_with_the_configured_cost(settings: Any) -> None:
    user = legacy_user("ivy")
    assert login("ivy", PASSWORD) == 200
    after = stored(user)
    assert after.startswith(argon2_prefix(settings)), after
    assert (settings.ARGON2_MEMORY_KIB, settings.ARGON2_TIME_COST, settings.ARGON2_PARALLELISM) == (12288, 3, 1)
    assert login("ivy", PASSWORD) == 200  # the new hash works
    assert stored(user) == after  # and is current: not hashed again
    assert login("ivy", "not-it") != 200


def test_a_wrong_password_does_not_upgrade() -> None:
    user = legacy_user("jay")
    before = stored(user)
    assert login("jay", "wrong-one") == 401
    assert stored(user) == before


def test_a_changed_cost_applies_at_the_next_login(settings: Any) -> None:
    user = make_user(username="kim")
    user.set_password(PASSWORD)  # Argon2id with the default cost
    user.save(update_fields=["password"])
    settings.ARGON2_TIME_COST, settings.ARGON2_MEMORY_KIB = 4, 9216
    assert login("kim", PASSWORD) == 200
    assert stored(user).startswith("argon2$argon2id$v=19$m=9216,t=4,p=1$"), stored(user)


def test_the_admin_login_form_upgrades(settings: Any) -> None:
    user = legacy_user("op", is_staff=True)
    client = Client(REMOTE_ADDR="10.6.0.2")
    client.post("/admin/login/?next=/admin/", {"username": "op", "password": PASSWORD, "next": "/admin/"})
    assert client.get("/admin/").status_code == 200
    assert stored(user).startswith(argon2_prefix(settings))


def test_a_pbkdf2_user_changes_the_password() -> None:
    """The old password is checked without an upgrade of its hash: the change, applied only if
    the stored hash is still the one checked, then succeeds."""
    user = legacy_user("lou")
    client = APIClient(REMOTE_ADDR="10.6.0.3")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    reply = client.post("/api/v1/me/password", {"old_password": PASSWORD, "new_password": "brand-new-1"},
                        format="json")
    assert reply.status_code == 200, reply.content
    assert identify_hasher(stored(user)).algorithm == "argon2"
    assert login("lou", "brand-new-1") == 200
    assert login("lou", PASSWORD) != 200


def test_an_upgrade_never_overwrites_a_password_changed_meanwhile() -> None:
    """A login that checked the old password while the password was being changed must not
    store the old password again."""
    user = legacy_user("max")
    seen_by_the_login = User.objects.get(pk=user.pk)  # read before the change
    changed = make_user(username="scratch", password="the-new-one")
    User.objects.filter(pk=user.pk).update(password=changed.password)
    assert seen_by_the_login.check_password(PASSWORD)  # the login itself used what it read
    assert login("max", "the-new-one") == 200
    assert login("max", PASSWORD) != 200


def test_no_upgrade_inside_a_transaction(settings: Any) -> None:
    user = legacy_user("ned")
    before = stored(user)
    with transaction.atomic():
        assert User.objects.get(pk=user.pk).check_password(PASSWORD)
    assert stored(user) == before  # left to the next check outside one
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
    assert stored(user).startswith(argon2_prefix(settings))


def test_a_payment_password_upgrades_and_can_then_be_changed(settings: Any) -> None:
    user = make_user(username="ola")
    Wallet.objects.create(user=user, address="Wola", password=pbkdf2("123456"))
    client = APIClient(REMOTE_ADDR="10.6.0.4")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    wrong = client.post("/api/v1/wallet/password/check", {"password": "654321"}, format="json")
    assert wrong.json()["error"] == "wrong_payment_password"
    assert identify_hasher(Wallet.objects.get(user=user).password).algorithm == "pbkdf2_sha256"
    assert client.post("/api/v1/wallet/password/check", {"password": "123456"}, format="json").status_code == 200
    assert Wallet.objects.get(user=user).password.startswith(argon2_prefix(settings))
    # a change right after an upgrade in the same call: the old one's check upgrades it first
    Wallet.objects.filter(user=user).update(password=pbkdf2("123456"))
    reply = client.post("/api/v1/wallet/password/change", {"old_password": "123456", "new_password": "777777"},
                        format="json")
    assert reply.status_code == 200, reply.content
    payment_password_check(user=user, password="777777")
