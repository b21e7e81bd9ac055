"""The double-entry ledger: money is never created or lost, even under concurrency."""
from __future__ import annotations

import contextlib
import random
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from accounts.models import User
from core.exceptions import ApplicationError
from tests.accounts.factories import make_user
from tests.accounts.test_concurrency import run_parallel
from tests.wallet.factories import make_coin
from wallet.models import Account, Coin, JournalEntry, Posting
from wallet.selectors import ledger_verify
from wallet.services import Leg, ledger_post, ledger_transfer, parse_amount, system_account, user_account

K = JournalEntry.Kind


def fund(user: User, coin: Coin, amount: str, key: str) -> Account:
    account = user_account(user=user, coin=coin)
    external = system_account(kind=Account.Kind.EXTERNAL, coin=coin)
    ledger_transfer(kind=K.RECHARGE, source=external, target=account, amount=Decimal(amount), idempotency_key=key)
    account.refresh_from_db()
    return account


@pytest.fixture
def coin(db: None) -> Coin:
    coin = make_coin()
    return coin


def test_recharge_moves_money_in_from_the_external_account(coin: Coin, alice: User) -> None:
    account = fund(alice, coin, "100.50", "r-1")
    assert account.balance == Decimal("100.50")
    assert system_account(kind=Account.Kind.EXTERNAL, coin=coin).balance == Decimal("-100.50")
    assert ledger_verify() == []


def test_insufficient_balance_moves_nothing(coin: Coin, alice: User, bob: User) -> None:
    a, b = fund(alice, coin, "10", "r-a"), user_account(user=bob, coin=coin)
    with pytest.raises(ApplicationError) as refused:
        ledger_transfer(kind=K.TRANSFER, source=a, target=b, amount=Decimal("10.01"), idempotency_key="t-1")
    assert refused.value.code == "insufficient_balance"
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.balance, b.balance) == (Decimal("10"), Decimal("0"))
    assert not JournalEntry.objects.filter(idempotency_key="t-1").exists()
    assert ledger_verify() == []


def test_a_repeated_idempotency_key_moves_money_once(coin: Coin, alice: User, bob: User) -> None:
    a, b = fund(alice, coin, "50", "r-a"), user_account(user=bob, coin=coin)
    first = ledger_transfer(kind=K.TRANSFER, source=a, target=b, amount=Decimal("20"), idempotency_key="pay-1")
    again = ledger_transfer(kind=K.TRANSFER, source=a, target=b, amount=Decimal("20"), idempotency_key="pay-1")
    assert again.pk == first.pk
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.balance, b.balance) == (Decimal("30"), Decimal("20"))
    assert Posting.objects.filter(entry=first).count() == 2


def test_unbalanced_or_over_precise_entries_are_refused(coin: Coin, alice: User, bob: User) -> None:
    a, b = fund(alice, coin, "50", "r-a"), user_account(user=bob, coin=coin)
    with pytest.raises(ValueError, match="unbalanced"):
        ledger_post(kind=K.ADJUSTMENT, legs=[Leg(a.pk, Decimal("-5")), Leg(b.pk, Decimal("4"))], idempotency_key="x")
    with pytest.raises(ValueError, match="decimals"):
        ledger_transfer(kind=K.TRANSFER, source=a, target=b, amount=Decimal("0.001"), idempotency_key="y")
    assert JournalEntry.objects.count() == 1  # the recharge only


def test_amounts_are_parsed_exactly(coin: Coin) -> None:
    assert parse_amount("0.10", coin) == Decimal("0.10")
    assert parse_amount(3, coin) == Decimal("3")
    for bad in (0.1, "-1", "0", "abc", "1.001", "NaN", "Infinity"):
        with pytest.raises(ApplicationError):
            parse_amount(bad, coin)


def test_the_database_refuses_a_negative_wallet(coin: Coin, alice: User) -> None:
    account = user_account(user=alice, coin=coin)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance=Decimal("-1"))


def test_ledger_check_command_reports_differences(coin: Coin, alice: User) -> None:
    account = fund(alice, coin, "5", "r-a")
    out = StringIO()
    call_command("ledger_check", stdout=out)
    assert "ledger ok" in out.getvalue()
    Account.objects.filter(pk=account.pk).update(balance=Decimal("6"))  # money out of thin air
    out = StringIO()
    with pytest.raises(CommandError, match="problem"):
        call_command("ledger_check", stdout=out)
    assert f"account {account.pk}" in out.getvalue() and "postings sum to 5" in out.getvalue()


@pytest.mark.postgres
def test_hundred_parallel_workers_never_create_or_lose_money() -> None:
    """100 workers move random amounts between the same 5 wallets at once: every balance
    stays non-negative, the total is unchanged, and the books balance."""
    coin = make_coin()
    users = [make_user() for _ in range(5)]
    accounts = [fund(u, coin, "100.00", f"seed-{i}") for i, u in enumerate(users)]
    ids = [a.pk for a in accounts]

    def worker(index: int) -> tuple[int, int]:
        rng = random.Random(index)
        moved = refused = 0
        for step in range(5):
            src, dst = rng.sample(ids, 2)
            amount = Decimal(rng.randint(1, 6000)) / 100
            try:
                ledger_post(kind=K.TRANSFER, legs=[Leg(src, -amount), Leg(dst, amount)],
                            idempotency_key=f"w{index}-{step}")
                moved += 1
            except ApplicationError as error:
                assert error.code == "insufficient_balance"
                refused += 1
        return moved, refused

    results = run_parallel(100, worker)
    assert all(isinstance(r, tuple) for r in results), [r for r in results if not isinstance(r, tuple)]
    balances = list(Account.objects.filter(pk__in=ids).values_list("balance", flat=True))
    assert all(b >= 0 for b in balances)
    assert sum(balances) == Decimal("500.00")
    assert JournalEntry.objects.filter(kind=K.TRANSFER).count() == sum(m for m, _ in results)
    assert ledger_verify() == []


@pytest.mark.postgres
def test_concurrent_posts_with_one_key_move_money_once() -> None:
    coin = make_coin()
    a, b = fund(make_user(), coin, "100", "seed-a"), user_account(user=make_user(), coin=coin)
    results = run_parallel(10, lambda i: ledger_transfer(kind=K.TRANSFER, source=a, target=b, amount=Decimal("7"),
                                                         idempotency_key="same-key").pk)
    assert len(set(results)) == 1, results
    b.refresh_from_db()
    assert b.balance == Decimal("7")
    assert ledger_verify() == []


def test_admin_verify_page_reports_the_books(coin: Coin, alice: User) -> None:
    from django.test import Client

    User.objects.create_superuser("root", password="rootpass1")
    client = Client()
    assert client.login(username="root", password="rootpass1")
    account = fund(alice, coin, "5", "r-a")
    assert client.get("/admin/wallet/journalentry/").status_code == 200
    assert client.get("/admin/wallet/account/").status_code == 200
    assert client.get("/admin/wallet/coin/").status_code == 200
    assert b"Ledger OK" in client.get("/admin/wallet/journalentry/verify/").content
    Account.objects.filter(pk=account.pk).update(balance=Decimal("6"))
    page = client.get("/admin/wallet/journalentry/verify/").content.decode()
    assert "problem" in page and f"account {account.pk}" in page
    assert client.post(f"/admin/wallet/account/{account.pk}/change/", {"balance": "1000"}).status_code == 403


@pytest.mark.django_db
def test_the_books_balance_after_every_kind_of_operation(alice: User, bob: User) -> None:
    """Each money operation the wallet offers, refusals included, followed by the full check."""
    from datetime import timedelta

    from django.utils import timezone

    from wallet.cashier import recharge_credit, withdrawal_request, withdrawal_review
    from wallet.exchange import exchange_accept, exchange_expire_due, exchange_publish
    from wallet.models import ExchangeOffer, Wallet
    from wallet.passwords import _hash

    cny = make_coin(name="cny", decimals=2)
    usdt = make_coin(name="usdt", decimals=6, is_default=False)
    for user in (alice, bob):
        Wallet.objects.create(user=user, address=f"W{user.username}", password=_hash("pay123"))
    checked: list[str] = []

    def step(name: str, operation: object) -> None:
        with contextlib.suppress(ApplicationError):  # a refusal must leave the books as they were
            operation()  # type: ignore[operator]
        out = StringIO()
        call_command("ledger_check", stdout=out)  # raises CommandError (exit 1) on any problem
        assert ledger_verify() == [], name
        checked.append(name)

    offer: dict[str, ExchangeOffer] = {}
    step("recharge", lambda: recharge_credit(operator=bob, user=alice, coin=cny, amount=Decimal("80"), reason="in",
                                             idempotency_key="k1"))
    step("recharge again (same key)", lambda: recharge_credit(operator=bob, user=alice, coin=cny,
                                                              amount=Decimal("80"), reason="in", idempotency_key="k1"))
    step("recharge usdt", lambda: recharge_credit(operator=bob, user=bob, coin=usdt, amount=Decimal("3"),
                                                  reason="in", idempotency_key="k2"))
    step("transfer", lambda: ledger_transfer(kind=JournalEntry.Kind.TRANSFER, source=user_account(user=alice, coin=cny),
                                             target=user_account(user=bob, coin=cny), amount=Decimal("5"),
                                             idempotency_key="t1"))
    step("transfer refused", lambda: ledger_transfer(kind=JournalEntry.Kind.TRANSFER,
                                                     source=user_account(user=bob, coin=cny),
                                                     target=user_account(user=alice, coin=cny),
                                                     amount=Decimal("500"), idempotency_key="t2"))
    withdrawals = []
    step("withdraw", lambda: withdrawals.append(withdrawal_request(user=alice, amount="10", password="pay123")))
    step("withdraw again", lambda: withdrawals.append(withdrawal_request(user=alice, amount="7", password="pay123")))
    step("withdraw wrong password", lambda: withdrawal_request(user=alice, amount="1", password="nope99"))
    step("withdraw approved", lambda: withdrawal_review(withdrawal_id=withdrawals[0].pk, operator=bob, approve=True))
    step("withdraw rejected", lambda: withdrawal_review(withdrawal_id=withdrawals[1].pk, operator=bob,
                                                        approve=False))
    step("exchange offered", lambda: offer.setdefault("a", exchange_publish(
        user=alice, to_user_id=bob.pk, from_coin_id=cny.pk, from_amount="20", to_coin_id=usdt.pk, to_amount="1",
        password="pay123")))
    step("exchange offered (b)", lambda: offer.setdefault("b", exchange_publish(
        user=alice, to_user_id=bob.pk, from_coin_id=cny.pk, from_amount="30", to_coin_id=usdt.pk, to_amount="5",
        password="pay123")))
    step("exchange accept refused (short)", lambda: exchange_accept(user=bob, exchange_id=offer["b"].pk,
                                                                    password="pay123"))
    step("exchange accepted", lambda: exchange_accept(user=bob, exchange_id=offer["a"].pk, password="pay123"))
    ExchangeOffer.objects.filter(pk=offer["b"].pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    step("exchange expired", exchange_expire_due)
    step("exchange expiry again", exchange_expire_due)
    assert len(checked) == 16
    assert user_account(user=alice, coin=cny).balance == Decimal("45")  # 80 - 5 - 10 - 20
    assert user_account(user=alice, coin=usdt).balance == Decimal("1")
    assert user_account(user=bob, coin=cny).balance == Decimal("25")
    assert system_account(kind=Account.Kind.ESCROW, coin=cny).balance == 0
