"""web.recharge, web.withdraw with operator review, and operator recharges in the admin."""
from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from accounts.models import User
from core.exceptions import ApplicationError
from tests.conftest import Connect, atoken_for
from tests.wallet.factories import make_coin
from wallet.cashier import recharge_credit, withdrawal_review
from wallet.models import Account, Coin, PaymentDesk, Recharge, Wallet, Withdrawal
from wallet.passwords import _hash
from wallet.selectors import ledger_verify
from wallet.services import system_account, user_account


def prepare(alice: User, bob: User) -> Coin:
    coin = make_coin(name="cny", decimals=2)
    Wallet.objects.create(user=alice, address="Walice", password=_hash("pay123"))
    desk = PaymentDesk.current()
    desk.cs_user, desk.pay_url, desk.checkout_url = bob, "https://pay.example/in", "https://pay.example/out"
    desk.save()
    recharge_credit(operator=bob, user=alice, coin=coin, amount=Decimal("50.00"), reason="bank transfer #1",
                    idempotency_key="t1")
    return coin


def balance(user: User, coin: Coin) -> Decimal:
    return user_account(user=user, coin=coin).balance


@pytest.mark.django_db(transaction=True)
async def test_recharge_page_and_withdraw_codes(connect: Connect, alice: User, bob: User) -> None:
    coin = await sync_to_async(prepare)(alice, bob)
    client = await connect(await atoken_for(alice))
    assert await client.ok("web.recharge") == {"csUserId": bob.pk, "payUrl": "https://pay.example/in"}
    assert (await client.call("web.withdraw", {"amount": 60, "password": "pay123"}))["code"] == 400
    assert (await client.call("web.withdraw", {"amount": 10, "password": "nope12"}))["code"] == 401
    assert (await client.call("web.withdraw", {"amount": "0.001", "password": "pay123"}))["code"] == 422
    no_wallet = await connect(await atoken_for(bob))
    assert (await no_wallet.call("web.withdraw", {"amount": 1, "password": "x"}))["code"] == 402
    reply = await client.ok("web.withdraw", {"amount": 20.5, "password": "pay123"})
    assert reply == {"csUserId": bob.pk, "checkoutUrl": "https://pay.example/out"}
    assert await sync_to_async(balance)(alice, coin) == Decimal("29.50")
    pending = await Withdrawal.objects.aget(user=alice)
    assert pending.status == Withdrawal.Status.PENDING and pending.amount == Decimal("20.5")
    assert await Withdrawal.objects.acount() == 1  # refused requests left nothing behind


@pytest.mark.django_db
def test_approve_pays_out_and_reject_refunds_exactly_once(alice: User, bob: User) -> None:
    from wallet.cashier import withdrawal_request

    coin = prepare(alice, bob)
    first = withdrawal_request(user=alice, amount="10", password="pay123")
    second = withdrawal_request(user=alice, amount="5", password="pay123")
    escrow = system_account(kind=Account.Kind.ESCROW, coin=coin)
    escrow.refresh_from_db()
    assert escrow.balance == Decimal("15")
    withdrawal_review(withdrawal_id=first.pk, operator=bob, approve=True)
    withdrawal_review(withdrawal_id=second.pk, operator=bob, approve=False, note="wrong bank account")
    with pytest.raises(ApplicationError, match="already"):
        withdrawal_review(withdrawal_id=second.pk, operator=bob, approve=True)
    escrow.refresh_from_db()
    assert escrow.balance == 0
    assert balance(alice, coin) == Decimal("40.00")  # 50 - 10 paid out; the 5 came back
    assert system_account(kind=Account.Kind.EXTERNAL, coin=coin).balance == Decimal("-40.00")
    assert ledger_verify() == []


@pytest.mark.django_db
def test_operator_recharge_in_the_admin_records_who_and_why_and_credits_once(alice: User, bob: User) -> None:
    coin = make_coin(name="cny", decimals=2)
    User.objects.create_superuser("root", password="rootpass1")
    client = Client()
    assert client.login(username="root", password="rootpass1")
    form = {"user": alice.pk, "coin": coin.pk, "amount": "12.34", "reason": "cash at the desk", "token": "tok-1"}
    assert client.post("/admin/wallet/recharge/add/", form).status_code == 302
    assert client.post("/admin/wallet/recharge/add/", form).status_code == 302  # double submit
    recharge = Recharge.objects.get()
    assert recharge.operator is not None and recharge.operator.username == "root"
    assert recharge.reason == "cash at the desk"
    assert balance(alice, coin) == Decimal("12.34")
    assert recharge.entry.created_by == recharge.operator
    assert ledger_verify() == []


@pytest.mark.django_db
def test_admin_withdrawal_actions(alice: User, bob: User) -> None:
    from wallet.cashier import withdrawal_request

    coin = prepare(alice, bob)
    withdrawal = withdrawal_request(user=alice, amount="7", password="pay123")
    User.objects.create_superuser("root", password="rootpass1")
    client = Client()
    client.login(username="root", password="rootpass1")
    assert client.get("/admin/wallet/withdrawal/").status_code == 200
    asked = client.post("/admin/wallet/withdrawal/", {"action": "reject", "_selected_action": [withdrawal.pk]})
    assert asked.status_code == 200  # the confirmation page first
    response = client.post("/admin/wallet/withdrawal/", {"action": "reject", "_selected_action": [withdrawal.pk],
                                                         "post": "yes", "reason": "wrong bank account"})
    assert response.status_code == 302
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.REJECTED
    assert withdrawal.reviewed_by is not None and withdrawal.reviewed_by.username == "root"
    assert withdrawal.note == "wrong bank account"
    assert balance(alice, coin) == Decimal("50.00")
    assert client.get("/admin/wallet/paymentdesk/").status_code == 200
