"""Amounts as clients write them: ASCII decimal text or a JSON number, within what the coin can
hold exactly; anything else is the method's bad-amount refusal and moves no money."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from core import jsonwire
from redpackets.models import RedPacket
from tests.conftest import token_for
from tests.wallet.factories import make_coin
from wallet.models import Account, Coin, ExchangeOffer, JournalEntry, Wallet, Withdrawal
from wallet.passwords import _hash
from wallet.selectors import ledger_verify
from wallet.services import ledger_transfer, system_account, user_account

pytestmark = pytest.mark.django_db


def fund(user: User, coin: Coin, amount: str) -> None:
    Wallet.objects.get_or_create(user=user, defaults={"address": f"W{user.pk}", "password": _hash("pay123")})
    ledger_transfer(kind=JournalEntry.Kind.RECHARGE, source=system_account(kind=Account.Kind.EXTERNAL, coin=coin),
                    target=user_account(user=user, coin=coin), amount=Decimal(amount),
                    idempotency_key=f"fund:{user.pk}:{coin.pk}:{amount}")


def im_publish(user: User, **params: Any) -> dict[str, Any]:
    reply = Client().post("/im/msg_redpack_publish", {"session_key": token_for(user), "wallet_pwd": "pay123",
                                                      **params})
    assert reply.status_code == 200, reply.content
    return dict(jsonwire.loads(reply.content))


@pytest.mark.parametrize("amount", ["١٢", "１２", "1_2", "1e1", " 12", "12.", "+12", "12\u00a0"])
def test_im_refuses_amounts_that_are_not_ascii_decimal_text(alice: User, bob: User, amount: str) -> None:
    cny = make_coin(name="cny", decimals=2)
    fund(alice, cny, "100")
    reply = im_publish(alice, toUserId=bob.pk, coin_id=cny.pk, amount=amount)
    assert reply["status"] == 6, reply  # a bad amount (the newer im/* document)
    assert user_account(user=alice, coin=cny).balance == Decimal("100")
    assert not RedPacket.objects.exists()
    assert im_publish(alice, toUserId=bob.pk, coin_id=cny.pk, amount="12")["status"] == 0


def test_an_18_decimal_coin_refuses_amounts_it_cannot_hold_exactly(alice: User, bob: User) -> None:
    make_coin(name="cny", decimals=2)
    eth = make_coin(name="eth", decimals=18, is_default=False)
    fund(alice, eth, "5")
    for amount in ("12345678901", "99999999999999999999", "0.0000000000000000001"):
        reply = im_publish(alice, toUserId=bob.pk, coin_id=eth.pk, amount=amount)
        assert reply["status"] == 6, (amount, reply)
    assert im_publish(alice, toUserId=bob.pk, coin_id=eth.pk, amount="1.000000000000000001")["status"] == 0
    assert user_account(user=alice, coin=eth).balance == Decimal("3.999999999999999999")
    assert ledger_verify() == []


def test_rest_refuses_large_and_non_ascii_amounts_with_the_bad_amount_code(alice: User, bob: User) -> None:
    cny = make_coin(name="cny", decimals=2)
    eth = make_coin(name="eth", decimals=18, is_default=False)
    fund(alice, cny, "100")
    fund(alice, eth, "5")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(alice)}")

    def offer(from_amount: Any, coin: Coin = eth) -> Any:
        return api.post("/api/v1/wallet/exchanges", {"to": bob.pk, "fromCoinId": coin.pk, "fromAmount": from_amount,
                                                      "toCoinId": cny.pk, "toAmount": "1", "password": "pay123"},
                        format="json")

    big = offer("999999999999999999999")  # 21 digits before the point: beyond NUMERIC(38, 18)
    assert big.status_code == 400 and big.json()["error"] == "invalid", big.content
    assert "20 digits before the decimal point" in big.json()["msg"]
    # 20 digits with all 18 decimals fit the columns and the arithmetic: a valid amount, which
    # alice cannot cover.
    largest = offer("99999999999999999999.999999999999999999")
    assert largest.status_code == 409 and largest.json()["error"] == "insufficient_balance", largest.content
    for text in ("١", "１", "1_0", "1e0"):
        refused = offer(text, cny)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid", (text, refused.content)
    withdraw = api.post("/api/v1/wallet/withdraw", {"amount": "٥", "password": "pay123"}, format="json")
    assert withdraw.status_code == 400
    assert not ExchangeOffer.objects.exists() and not Withdrawal.objects.exists()
    assert user_account(user=alice, coin=cny).balance == Decimal("100")
    assert offer("0.5").status_code == 200
