"""The money methods' published reply shapes (core.contract): every one is declared, amounts are
exact JSON numbers, and the branches the other tests do not reach (operator settings left empty,
no default coin, nothing created yet) answer within their shapes (the test settings check
every reply against its schema, so a reply outside it would be a 500 here)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from core import contract
from core.gateway import registry
from tests.conftest import token_for
from tests.wallet.factories import make_coin
from wallet.models import Wallet

MONEY_METHODS = [
    "wallet.setPassword", "wallet.info", "wallet.records", "web.account.setWalletPassword",
    "web.account.checkWalletPassword", "web.recharge", "web.withdraw",
    "exchange.publish", "exchange.accept", "exchange.get",
    "redpacket.create", "redpacket.get", "redpacket.detail", "redpacket.record", "redpacket.statistics",
    "remittance.remit", "remittance.receive", "remittance.refund", "remittance.remind", "remittance.getRecord",
    "remittance.getRecords",
]


@pytest.fixture
def alice_api(alice: User) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(alice)}")
    return api


def test_every_money_method_declares_its_reply() -> None:
    methods = registry.all_methods()
    prefixes = ("wallet.", "exchange.", "redpacket.", "remittance.")
    registered = {name for name in methods if name.startswith(prefixes)}
    assert registered <= set(MONEY_METHODS)
    assert [name for name in MONEY_METHODS if methods[name].reply is None] == []


def test_amounts_are_published_as_exact_numbers() -> None:
    cny = {"coinId": 1, "coin": "cny", "isDefault": True, "balance": Decimal("12.50")}
    info = {"address": "W1", "balance": Decimal("12.50"), "hasPaymentPassword": True, "balances": [cny]}
    assert contract.reply_errors("wallet.info", info) == []
    as_text = {**info, "balance": "12.50"}
    assert contract.reply_errors("wallet.info", as_text) == ["balance: '12.50' is not of type 'number', 'null'"]
    negative = {**info, "balances": [{**cny, "balance": Decimal("-1")}]}
    assert contract.reply_errors("wallet.info", negative) == ["balances/0/balance: -1 is less than the minimum of 0"]
    record = {"type": 4, "amount": Decimal("-0.25"), "remarks": "coffee", "coinId": 1, "createAt": 1700000000}
    assert contract.reply_errors("wallet.records", [record]) == []  # a change of balance may be negative
    schema = contract.document()["components"]["schemas"]["RedpacketDetailReply"]["properties"]["total_price"]
    assert (schema["type"], schema["format"]) == ("number", "decimal")


@pytest.mark.django_db
def test_desk_without_operator_settings_answers_nulls(alice_api: APIClient, alice: User) -> None:
    make_coin(name="cny", decimals=2)
    assert alice_api.get("/api/v1/wallet/recharge").json() == {"csUserId": None, "payUrl": None}


@pytest.mark.django_db
def test_wallet_info_without_a_default_coin(alice_api: APIClient, alice: User) -> None:
    usdt = make_coin(name="usdt", decimals=6, is_default=False)
    Wallet.objects.create(user=alice, address="Walice", password="!")
    reply = alice_api.get("/api/v1/wallet")
    assert reply.status_code == 200
    assert reply.content.decode() == (
        '{"address":"Walice","balance":null,"hasPaymentPassword":true,'
        f'"balances":[{{"coinId":{usdt.pk},"coin":"usdt","isDefault":false,"balance":0.000000}}]}}')


@pytest.mark.django_db
def test_nothing_yet_answers_empty_shapes(alice_api: APIClient, alice: User) -> None:
    make_coin(name="cny", decimals=2)
    for kind in (1, 2):
        stats = alice_api.get(f"/api/v1/redpackets/statistics?type={kind}&year=0")
        assert stats.content.decode() == '{"total_price":0.00,"count":0,"top_price_count":0}'
        assert alice_api.get(f"/api/v1/redpackets/record?type={kind}").json() == []
        assert alice_api.get(f"/api/v1/remittances/records?type={kind}").json() == []
    assert alice_api.get("/api/v1/wallet/records").json() == []
