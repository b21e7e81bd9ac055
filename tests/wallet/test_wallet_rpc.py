"""wallet.info and wallet.records over the socket, with exact decimal amounts on the wire."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from accounts.models import User
from core import jsonwire
from tests.conftest import Connect, atoken_for
from tests.wallet.factories import make_coin
from wallet.models import Account, JournalEntry, Wallet
from wallet.services import ledger_transfer, system_account, user_account

pytestmark = pytest.mark.django_db(transaction=True)


def setup_wallets(alice: User, bob: User) -> None:
    coin = make_coin(name="cny", decimals=2)
    make_coin(name="usdt", decimals=6, is_default=False)
    Wallet.objects.create(user=alice, address="Walice", password="!")
    a, b = user_account(user=alice, coin=coin), user_account(user=bob, coin=coin)
    external = system_account(kind=Account.Kind.EXTERNAL, coin=coin)
    ledger_transfer(kind=JournalEntry.Kind.RECHARGE, source=external, target=a, amount=Decimal("100.50"),
                    idempotency_key="r1", memo="top-up")
    ledger_transfer(kind=JournalEntry.Kind.TRANSFER, source=a, target=b, amount=Decimal("0.25"),
                    idempotency_key="t1", memo="coffee")


async def test_wallet_info_shows_exact_balances(connect: Connect, alice: User, bob: User) -> None:
    await sync_to_async(setup_wallets)(alice, bob)
    client = await connect(await atoken_for(alice))
    await client.send_raw(json.dumps({"id": 1, "method": "wallet.info"}))
    raw = await client.comm.receive_from(3)
    assert '"balance":100.25' in raw  # a JSON number with the exact digits, not a string or a float
    data = jsonwire.loads(raw)["data"]
    assert data["address"] == "Walice" and data["hasPaymentPassword"] is True
    assert {b["coin"]: b["balance"] for b in data["balances"]} == {"cny": Decimal("100.25"),
                                                                    "usdt": Decimal("0.000000")}


async def test_wallet_info_without_a_wallet_is_400(connect: Connect, bob: User) -> None:
    client = await connect(await atoken_for(bob))
    assert (await client.call("wallet.info"))["code"] == 400


async def test_wallet_records_list_signed_changes_newest_first(connect: Connect, alice: User, bob: User) -> None:
    await sync_to_async(setup_wallets)(alice, bob)
    client = await connect(await atoken_for(alice))
    await client.send_raw(json.dumps({"id": 2, "method": "wallet.records", "params": {"count": 10, "page": 1}}))
    raw = await client.comm.receive_from(3)
    assert '"amount":-0.25' in raw and '"amount":100.50' in raw
    records = jsonwire.loads(raw)["data"]
    assert [(r["type"], r["amount"], r["remarks"]) for r in records] == [
        (4, Decimal("-0.25"), "coffee"), (1, Decimal("100.50"), "top-up")]
    page_two = await client.ok("wallet.records", {"count": 1, "page": 2})
    assert len(page_two) == 1 and page_two[0]["remarks"] == "top-up"


def test_wire_numbers_round_trip_exactly() -> None:
    payload = {"tiny": Decimal("0.000000000000000001"), "neg": Decimal("-12.50"), "text": "x\u0000y", "n": 3}
    text = jsonwire.dumps(payload)
    assert text == '{"tiny":0.000000000000000001,"neg":-12.50,"text":"x\\u0000y","n":3}'
    assert jsonwire.loads_own(text) == payload  # our own frames keep a NUL in a string
    with pytest.raises(ValueError):
        jsonwire.loads(text)  # a client's may not
    assert jsonwire.plain(jsonwire.loads('{"lat": 31.2, "n": 2}')) == {"lat": 31.2, "n": 2}
    with pytest.raises(ValueError):
        jsonwire.loads('{"x": NaN}')


def test_rest_twins_render_exact_numbers(alice: User, bob: User) -> None:
    from rest_framework.test import APIClient

    from tests.conftest import token_for

    setup_wallets(alice, bob)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(alice)}")
    info = api.get("/api/v1/wallet")
    assert info.status_code == 200 and b'"balance":100.25' in info.content
    records = api.get("/api/v1/wallet/records?count=1")
    assert records.status_code == 200 and b'"amount":-0.25' in records.content
    check = api.post("/api/v1/wallet/password/check", {"password": "wrong12"}, format="json")
    assert check.status_code == 403 and check.json()["code"] == 401
