"""Every password check is limited per account and per address, counted before the hash runs,
and no password is hashed while a transaction is open: changing the login password (socket and
REST), logging in, payment passwords, the bridge's client credentials, registration."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import hashers
from django.db import connection, transaction
from rest_framework.test import APIClient

from accounts.models import User
from accounts.passwords import canonical_password
from tests.accounts.factories import PASSWORD, make_user
from tests.accounts.test_concurrency import run_parallel
from tests.conftest import Connect, atoken_for, token_for

MAX = 5  # LOGIN_MAX_FAILURES and PAYMENT_PASSWORD_MAX_FAILURES (defaults)


def rest(user: User, address: str = "10.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return client


def change(client: APIClient, old: str, new: str = "brand-new-1") -> Any:
    return client.post("/api/v1/me/password", {"old_password": old, "new_password": new}, format="json")


def outcome(client: APIClient, old: str) -> tuple[int, str]:
    """(HTTP status, symbolic error) of a change of password; (200, "") when it worked."""
    reply = change(client, old)
    return reply.status_code, reply.json().get("error", "")


WRONG, LIMITED = (403, "wrong_password"), (429, "rate_limited")


@pytest.mark.django_db
def test_change_password_over_rest_is_limited_then_refuses_even_the_right_one() -> None:
    user = make_user(username="dora")
    client = rest(user)
    assert [outcome(client, f"guess-{n}") for n in range(MAX)] == [WRONG] * MAX
    assert outcome(client, PASSWORD) == LIMITED
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # the right password, guessed too late, changed nothing


@pytest.mark.django_db
def test_change_password_limit_per_address_spans_users(settings: Any) -> None:
    settings.PASSWORD_ATTEMPTS_PER_IP = 3
    users = [make_user(username=f"u{n}") for n in range(4)]
    assert [outcome(rest(u, "10.0.0.7"), "wrong-one") for u in users] == [WRONG, WRONG, WRONG, LIMITED]
    assert outcome(rest(users[3], "10.0.0.8"), "wrong-one") == WRONG  # another address


async def test_change_password_over_the_socket_answers_429(connect: Connect) -> None:
    from asgiref.sync import sync_to_async

    user = await sync_to_async(make_user)(username="erin")
    socket = await connect(await atoken_for(user))
    params = {"old_password": "nope-nope", "new_password": "brand-new-1"}
    codes = [(await socket.call("web.account.setPassword", params))["code"] for _ in range(MAX + 1)]
    assert codes == [401] * MAX + [429]


@pytest.fixture
def hashing_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Records, for each password hashed or checked, whether a transaction was open then or
    (PostgreSQL) a pooled database connection was held."""
    seen: list[bool] = []
    real_check, real_make = hashers.check_password, hashers.make_password

    def holding() -> bool:
        held = connection.vendor == "postgresql" and connection.connection is not None
        return bool(transaction.get_connection().in_atomic_block or held)

    def check(*args: Any, **kwargs: Any) -> Any:
        seen.append(holding())
        return real_check(*args, **kwargs)

    def make(*args: Any, **kwargs: Any) -> Any:
        seen.append(holding())
        return real_make(*args, **kwargs)

    import django.contrib.auth.base_user as base_user

    import accounts.passwords as account_passwords
    import wallet.passwords as wallet_passwords

    for module in (base_user, account_passwords, wallet_passwords):
        if hasattr(module, "check_password"):
            monkeypatch.setattr(module, "check_password", check)
        monkeypatch.setattr(module, "make_password", make)
    yield seen


@pytest.mark.django_db(transaction=True)
def test_no_password_is_hashed_inside_a_transaction_or_holding_a_connection(hashing_log: list[bool]) -> None:
    anonymous = APIClient(REMOTE_ADDR="10.0.0.2")
    registered = anonymous.post("/api/v1/auth/register", {"username": "fay", "password": "secret99"}, format="json")
    assert registered.status_code == 201
    assert anonymous.post("/api/v1/auth/login", {"username": "fay", "password": "secret99"},
                          format="json").status_code == 200
    user = User.objects.get(username="fay")
    client = rest(user)
    assert outcome(client, "wrong-old") == WRONG
    assert outcome(client, "secret99") == (200, "")
    assert hashing_log and not any(hashing_log), hashing_log


@pytest.mark.django_db(transaction=True)
def test_an_old_hash_is_upgraded_outside_any_transaction(settings: Any, hashing_log: list[bool]) -> None:
    """A login with a PBKDF2 hash re-hashes it with Argon2id: that hash and its write run with
    no transaction open and (PostgreSQL) no connection held while hashing."""
    settings.PASSWORD_HASHERS = ["accounts.hashers.Argon2idPasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user = make_user(username="pia")
    pbkdf2 = hashers.PBKDF2PasswordHasher()
    User.objects.filter(pk=user.pk).update(
        password=pbkdf2.encode(canonical_password(PASSWORD), pbkdf2.salt(), iterations=1000))
    hashing_log.clear()
    reply = APIClient(REMOTE_ADDR="10.0.0.3").post("/api/v1/auth/login", {"username": "pia", "password": PASSWORD},
                                                   format="json")
    assert reply.status_code == 200
    assert User.objects.get(pk=user.pk).password.startswith("argon2$argon2id$")
    assert len(hashing_log) == 2 and not any(hashing_log), hashing_log  # the check, then the new hash


class SlowMD5Hasher(hashers.MD5PasswordHasher):
    """A hasher as slow as a real one under load (PBKDF2 on a busy server)."""

    def encode(self, password: str, salt: str) -> str:
        time.sleep(0.4)
        return super().encode(password, salt)


@pytest.mark.django_db(transaction=True)
def test_eight_simultaneous_registrations_all_succeed(settings: Any) -> None:
    """Before, each registration held the database's write lock while hashing: on SQLite the
    others waited past the busy timeout and failed with 500 "database is locked". The busy
    timeout is shortened here in proportion to the hash's time on a loaded server."""
    settings.PASSWORD_HASHERS = [f"{__name__}.SlowMD5Hasher"]  # the hashers' caches follow the setting
    options = connection.settings_dict.setdefault("OPTIONS", {})
    saved = options.get("timeout")
    if connection.vendor == "sqlite":
        options["timeout"] = 1
    try:
        results = run_parallel(8, join_seconds=60, fn=lambda n: APIClient(REMOTE_ADDR=f"10.1.0.{n}").post(
            "/api/v1/auth/register", {"username": f"reg{n}", "password": "secret99"}, format="json").status_code)
    finally:
        if saved is None:
            options.pop("timeout", None)
        else:
            options["timeout"] = saved
    assert results == [201] * 8
    assert User.objects.filter(username__startswith="reg").count() == 8


@pytest.mark.postgres
def test_forty_parallel_wrong_guesses_hash_at_most_the_limit(settings: Any) -> None:
    """One user's parallel guesses: only LOGIN_MAX_FAILURES of them are ever checked; the rest
    are refused at once (429), and the right password is refused afterwards too."""
    settings.PASSWORD_HASHERS = [f"{__name__}.SlowMD5Hasher"]  # the hashers' caches follow the setting
    user = make_user(username="gus")
    token = token_for(user)

    def guess(n: int) -> tuple[int, str]:
        client = APIClient(REMOTE_ADDR="10.2.0.1")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return outcome(client, f"guess-{n}")

    started = time.monotonic()
    results = run_parallel(40, guess, join_seconds=60)
    elapsed = time.monotonic() - started
    other = make_user(username="hal")
    assert rest(other, "10.2.0.2").get("/api/v1/me").status_code == 200
    assert sorted(results) == [WRONG] * MAX + [LIMITED] * (40 - MAX), results
    assert elapsed < 10
