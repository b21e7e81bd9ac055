"""Amounts are stored exactly on every backend, 18-decimal coins included."""
from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from accounts.models import User
from core import jsonwire
from tests.conftest import Connect, atoken_for
from tests.wallet.factories import make_coin
from wallet.models import Account, JournalEntry, Wallet
from wallet.selectors import ledger_verify
from wallet.services import ledger_transfer, system_account, user_account

pytestmark = pytest.mark.django_db(transaction=True)

BIG = Decimal("123456789.123456789012345678")


def fund_eth(alice: User) -> None:
    coin = make_coin(name="eth", decimals=18)
    Wallet.objects.create(user=alice, address="Walice", password="!")
    ledger_transfer(kind=JournalEntry.Kind.RECHARGE, source=system_account(kind=Account.Kind.EXTERNAL, coin=coin),
                    target=user_account(user=alice, coin=coin), amount=BIG, idempotency_key="r-eth", memo="in")


async def test_an_18_decimal_amount_round_trips_exactly(connect: Connect, alice: User) -> None:
    await sync_to_async(fund_eth)(alice)
    client = await connect(await atoken_for(alice))
    await client.send_raw(json.dumps({"id": 1, "method": "wallet.info"}))
    raw = await client.comm.receive_from(3)
    assert '"balance":123456789.123456789012345678' in raw, raw
    await client.send_raw(json.dumps({"id": 2, "method": "wallet.records", "params": {"count": 10, "page": 1}}))
    raw = await client.comm.receive_from(3)
    assert '"amount":123456789.123456789012345678' in raw, raw
    assert jsonwire.loads(raw)["data"][0]["amount"] == BIG
    out = StringIO()
    await sync_to_async(call_command)("ledger_check", stdout=out)
    assert "ledger ok" in out.getvalue()
    assert await sync_to_async(ledger_verify)() == []


def test_a_38_digit_balance_stays_exact(alice: User) -> None:
    """The largest amounts the column holds (20 integer digits, 18 decimals) add exactly."""
    coin = make_coin(name="eth", decimals=18)
    external = system_account(kind=Account.Kind.EXTERNAL, coin=coin)
    account = user_account(user=alice, coin=coin)
    big = Decimal("12345678901234567890.123456789012345678")
    ledger_transfer(kind=JournalEntry.Kind.RECHARGE, source=external, target=account, amount=big, idempotency_key="a")
    ledger_transfer(kind=JournalEntry.Kind.RECHARGE, source=external, target=account,
                    amount=Decimal("0.000000000000000001"), idempotency_key="b")
    account.refresh_from_db()
    assert account.balance == Decimal("12345678901234567890.123456789012345679")
    assert ledger_verify() == []


def test_amounts_compare_with_zero_in_sql_and_nothing_else_on_sqlite(alice: User) -> None:
    """The CHECK constraints' comparisons with zero are exact on every backend; on SQLite any
    other comparison in SQL is refused rather than answered by comparing text."""
    from django.db import IntegrityError, NotSupportedError, connection, transaction

    coin = make_coin(name="eth", decimals=18)
    account = user_account(user=alice, coin=coin)
    ledger_transfer(kind=JournalEntry.Kind.RECHARGE, source=system_account(kind=Account.Kind.EXTERNAL, coin=coin),
                    target=account, amount=Decimal("9.5"), idempotency_key="a")
    assert list(Account.objects.filter(balance__gt=0).values_list("pk", flat=True)) == [account.pk]
    assert Account.objects.filter(balance__lt=0).count() == 1  # the external account
    assert Account.objects.filter(balance=Decimal("9.500")).count() == 1
    for tiny in ("-0.000000000000000001", "-10"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Account.objects.filter(pk=account.pk).update(balance=Decimal(tiny))
    if connection.vendor == "sqlite":
        with pytest.raises(NotSupportedError):
            list(Account.objects.filter(balance__gt=Decimal("10")))
    else:
        assert not Account.objects.filter(balance__gt=Decimal("10")).exists()


def test_the_migration_converts_stored_amounts_exactly() -> None:
    """Rows written before amounts became exact keep the value they showed; on SQLite each is
    rewritten in its canonical text."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = ("wallet", "0006_alter_exchangeoffer_created_at"), ("wallet", "0007_exact_amounts")
    # The accounts app goes back too: a later accounts migration's columns (NOT NULL without a
    # database default) would refuse rows made from the old historical models.
    executor = MigrationExecutor(connection)
    executor.migrate([before, ("accounts", "0002_moments")])
    try:
        old = executor.loader.project_state([before]).apps
        coin = old.get_model("wallet", "Coin").objects.create(name="old", decimals=6, price=Decimal("6.5"))
        user = old.get_model("accounts", "User").objects.create(username="olduser", password="!")
        accounts = old.get_model("wallet", "Account").objects
        values = {"user": Decimal("100.50"), "escrow": Decimal("0.00001"), "fees": Decimal("0"),
                  "external": Decimal("-100.50001")}
        for kind, balance in values.items():
            accounts.create(kind=kind, owner=user if kind == "user" else None, coin=coin, balance=balance)
        executor = MigrationExecutor(connection)
        executor.migrate([after])
        new = executor.loader.project_state([after]).apps
        got = dict(new.get_model("wallet", "Account").objects.values_list("kind", "balance"))
        assert got == values
        assert new.get_model("wallet", "Coin").objects.get(pk=coin.pk).price == Decimal("6.5")
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("SELECT kind, balance, typeof(balance) FROM wallet_account")
                raw = {kind: (text, kind_of) for kind, text, kind_of in cursor.fetchall()}
            assert raw == {"user": ("100.5", "text"), "escrow": ("0.00001", "text"), "fees": ("0", "text"),
                           "external": ("-100.50001", "text")}
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


async def test_a_balance_of_38_digits_is_shown_exactly(connect: Connect, alice: User) -> None:
    """Decimal's default 28 digits cannot quantize such a balance to 18 places (it raised, and
    wallet.info answered 500): every thread of the server computes with room for 38 digits."""
    big = Decimal("98765432109876543210.123456789012345678")

    def fund() -> None:
        coin = make_coin(name="eth", decimals=18)
        Wallet.objects.create(user=alice, address="Walice", password="!")
        ledger_transfer(kind=JournalEntry.Kind.RECHARGE,
                        source=system_account(kind=Account.Kind.EXTERNAL, coin=coin),
                        target=user_account(user=alice, coin=coin), amount=big, idempotency_key="r-big", memo="in")

    await sync_to_async(fund)()
    client = await connect(await atoken_for(alice))
    raw = await client.raw("wallet.info")
    assert f'"balance":{big}' in raw, raw
    raw = await client.raw("wallet.records", {"count": 10, "page": 1})
    assert jsonwire.loads(raw)["data"][0]["amount"] == big
