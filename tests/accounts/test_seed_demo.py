"""``manage.py seed_demo``: demo users, a coin, funded wallets with a payment password, a group;
run twice, nothing is duplicated and nobody is funded twice."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import User
from chats.models import Chat, ChatMember
from wallet.models import Coin, JournalEntry, Recharge, Wallet
from wallet.passwords import payment_password_check
from wallet.selectors import ledger_verify, wallet_balances

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _balance(username: str) -> Decimal:
    user = User.objects.get(username=username)
    [default] = [b for b in wallet_balances(user_id=user.pk) if b["isDefault"]]
    return Decimal(str(default["balance"]))


def test_seed_demo_twice_funds_once_and_duplicates_nothing() -> None:
    first = _seed()
    second = _seed()
    assert "created default coin cny" in first and "exists  default coin cny" in second
    assert "payment password '123456'" in second and "/app/" in second
    assert Coin.objects.filter(is_default=True).count() == 1
    for name in ("alice", "bob", "charlie"):
        assert _balance(name) == Decimal("1000.00")
        assert f"wallet of {name}: balance 1000.00 cny" in second
    assert Recharge.objects.count() == 3
    assert JournalEntry.objects.filter(kind=JournalEntry.Kind.RECHARGE).count() == 3
    assert Wallet.objects.count() == 3
    alice = User.objects.get(username="alice")
    payment_password_check(user=alice, password="123456")  # the demo payment password works
    group = Chat.objects.get(kind=Chat.Kind.GROUP, title="Demo group")
    assert Chat.objects.filter(kind=Chat.Kind.GROUP).count() == 1
    assert group.owner_id == alice.pk
    assert set(ChatMember.objects.filter(chat=group).values_list("user__username", flat=True)) == {
        "alice", "bob", "charlie"}
    assert group.last_seq == 1  # the one "create" notice, not a second one
    assert ledger_verify() == []
    checked = io.StringIO()
    call_command("ledger_check", stdout=checked)  # exits non-zero (SystemExit) on a problem


def test_seed_demo_keeps_an_existing_default_coin() -> None:
    Coin.objects.create(name="usdt", decimals=6, is_default=True)
    _seed()
    assert list(Coin.objects.values_list("name", flat=True)) == ["usdt"]
    assert _balance("bob") == Decimal("1000.000000")
