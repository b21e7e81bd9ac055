"""Payment passwords are limited per user and per address, like every password check."""
from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.factories import make_user
from tests.conftest import token_for
from wallet.models import Wallet
from wallet.passwords import _hash

pytestmark = pytest.mark.django_db


def with_wallet(name: str) -> User:
    user = make_user(username=name)
    Wallet.objects.create(user=user, address=f"W{user.pk:040d}", password=_hash("123456"))
    return user


def check(user: User, password: str, address: str) -> tuple[int, str]:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    reply = client.post("/api/v1/wallet/password/check", {"password": password}, format="json")
    if reply.status_code == 200:
        return 200, ""
    return reply.json()["code"], reply.json()["error"]


def test_wrong_payment_passwords_from_one_address_are_limited_across_users(settings: Any) -> None:
    settings.PASSWORD_ATTEMPTS_PER_IP = 3
    users = [with_wallet(f"payer{n}") for n in range(4)]
    outcomes = [check(user, "wrong-1", "10.5.0.1") for user in users]
    assert outcomes == [(401, "wrong_payment_password")] * 3 + [(429, "payment_locked")]
    assert check(users[3], "123456", "10.5.0.1") == (429, "payment_locked")  # even the right one
    assert check(users[3], "123456", "10.5.0.2") == (200, "")  # the user is not locked: the address is
