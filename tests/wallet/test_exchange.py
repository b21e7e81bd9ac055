"""Coin exchange offers: exchange.publish / accept / get over the socket, the expiry job, races."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import Block, User
from core import jsonwire
from core.exceptions import ApplicationError
from messaging.models import Message
from tests.accounts.test_concurrency import run_parallel
from tests.conftest import Connect, atoken_for
from tests.wallet.factories import make_coin
from wallet.exchange import exchange_accept, exchange_expire_due, exchange_publish
from wallet.models import Account, Coin, ExchangeOffer, JournalEntry, Wallet
from wallet.passwords import _hash
from wallet.replies import ExchangeCard
from wallet.selectors import ledger_verify
from wallet.services import ledger_transfer, system_account, user_account
from wallet.tasks import expire_exchanges


def fund(user: User, coin: Coin, amount: str) -> None:
    ledger_transfer(kind=JournalEntry.Kind.RECHARGE, source=system_account(kind=Account.Kind.EXTERNAL, coin=coin),
                    target=user_account(user=user, coin=coin), amount=Decimal(amount),
                    idempotency_key=f"fund:{user.pk}:{coin.pk}:{amount}")


def prepare(alice: User, bob: User) -> tuple[Coin, Coin]:
    """alice holds 100 cny, bob 10 usdt; both have the payment password pay123."""
    cny = make_coin(name="cny", decimals=2)
    usdt = make_coin(name="usdt", decimals=6, is_default=False)
    for user in (alice, bob):
        Wallet.objects.create(user=user, address=f"W{user.username}", password=_hash("pay123"))
    fund(alice, cny, "100")
    fund(bob, usdt, "10")
    return cny, usdt


def balances(*users: User) -> dict[tuple[str, str], Decimal]:
    names = {user.pk: user.username for user in users}
    rows = Account.objects.filter(kind=Account.Kind.USER, owner__in=users).select_related("coin")
    return {(names[a.owner_id], a.coin.name): a.balance for a in rows if a.balance and a.owner_id} | {
        ("escrow", a.coin.name): a.balance for a in Account.objects.filter(kind=Account.Kind.ESCROW)
        .select_related("coin") if a.balance}


def offer_params(cny: Coin, usdt: Coin, peer: User, **extra: object) -> dict[str, object]:
    return {"to": peer.pk, "fromCoinId": cny.pk, "fromAmount": 12.5, "toCoinId": usdt.pk, "toAmount": 1.75,
            "password": "pay123", "memo": "lunch money", **extra}


@pytest.mark.django_db(transaction=True)
async def test_offer_escrows_then_accept_swaps_both_sides_with_pushes(
    connect: Connect, alice: User, bob: User, charlie: User,
) -> None:
    cny, usdt = await sync_to_async(prepare)(alice, bob)
    a, b = await connect(await atoken_for(alice)), await connect(await atoken_for(bob))

    offer = await a.ok("exchange.publish", offer_params(cny, usdt, bob))
    assert offer["status"] == 50 and offer["from"] == alice.pk and offer["to"] == bob.pk
    assert offer["chatId"] > 0 and offer["expireAt"] - offer["createAt"] == 24 * 3600
    pushed = await b.push("onMessage")
    assert (pushed["type"], pushed["subType"], pushed["from"]) == (11, 100, alice.pk)
    assert pushed["content"]["exchangeId"] == offer["exchangeId"] and pushed["content"]["memo"] == "lunch money"
    assert set(pushed["content"]) == set(ExchangeCard().fields)  # the published content shape
    assert (await a.push("onMessage"))["content"]["exchangeId"] == offer["exchangeId"]  # the sender's devices too
    assert await sync_to_async(balances)(alice, bob) == {
        ("alice", "cny"): Decimal("87.50"), ("bob", "usdt"): Decimal("10"), ("escrow", "cny"): Decimal("12.50")}
    assert await sync_to_async(ledger_verify)() == []

    # Amounts are exact JSON numbers on the wire, in the reply and in the stored message.
    await b.send_raw(json.dumps({"id": 99, "method": "exchange.get", "params": {"exchangeId": offer["exchangeId"]}}))
    raw = await b.comm.receive_from(3)
    assert '"fromAmount":12.50' in raw and '"toAmount":1.750000' in raw
    await b.send_raw(json.dumps({"id": 98, "method": "messages.history", "params": {"chatId": offer["chatId"]}}))
    assert '"fromAmount":12.50' in await b.comm.receive_from(3)  # read back from the database exactly

    assert (await (await connect(await atoken_for(charlie))).call(
        "exchange.get", {"exchangeId": offer["exchangeId"]}))["code"] == 404  # not a party: no such offer
    assert (await a.call("exchange.accept", {"exchangeId": offer["exchangeId"], "password": "pay123"}))["code"] == 403

    done = await b.ok("exchange.accept", {"exchangeId": offer["exchangeId"], "password": "pay123"})
    assert done["status"] == 100 and done["settledAt"] is not None
    for side in (a, b):
        settled = await side.push("onMessage")
        assert (settled["type"], settled["subType"], settled["from"]) == (11, 200, bob.pk)
        assert settled["content"]["status"] == 100
    assert await sync_to_async(balances)(alice, bob) == {
        ("alice", "cny"): Decimal("87.50"), ("alice", "usdt"): Decimal("1.75"),
        ("bob", "cny"): Decimal("12.50"), ("bob", "usdt"): Decimal("8.25")}
    assert await sync_to_async(ledger_verify)() == []
    again = await b.call("exchange.accept", {"exchangeId": offer["exchangeId"], "password": "pay123"})
    assert again["code"] == 409
    assert (await a.ok("exchange.get", {"exchangeId": offer["exchangeId"]}))["status"] == 100
    entry = await JournalEntry.objects.aget(idempotency_key=f"exchange:{offer['exchangeId']}:settle")
    assert entry.kind == JournalEntry.Kind.EXCHANGE_SETTLE and await entry.postings.acount() == 4
    records = await b.ok("wallet.records", {"count": 10})
    assert {(r["type"], r["coinId"]) for r in records} >= {(9, cny.pk), (9, usdt.pk)}


@pytest.mark.django_db(transaction=True)
async def test_publish_codes_and_nothing_moves_on_refusal(
    connect: Connect, alice: User, bob: User, charlie: User,
) -> None:
    cny, usdt = await sync_to_async(prepare)(alice, bob)
    a = await connect(await atoken_for(alice))
    before = await sync_to_async(balances)(alice, bob)

    async def code(**extra: object) -> int:
        return (await a.call("exchange.publish", offer_params(cny, usdt, bob, **extra)))["code"]

    assert await code(fromAmount=100.01) == 400  # more than alice holds
    assert await code(password="wrong1") == 401
    assert await code(to=99999) == 404
    assert await code(toCoinId=99999) == 404
    assert await code(fromAmount="0.001") == 422  # cny has 2 decimals
    assert await code(fromAmount=0) == 422
    assert await code(toCoinId=cny.pk) == 422  # the same coin on both sides
    assert await code(to=alice.pk) == 422
    assert (await a.call("exchange.publish", {"to": bob.pk}))["code"] == 422  # missing fields
    await Block.objects.acreate(user=bob, blocked=alice)
    assert await code() == 501  # bob blacklisted alice
    no_wallet = await connect(await atoken_for(charlie))
    assert (await no_wallet.call("exchange.publish", offer_params(cny, usdt, bob)))["code"] == 402
    assert await sync_to_async(balances)(alice, bob) == before
    assert await ExchangeOffer.objects.acount() == 0
    assert not await Message.objects.filter(type=Message.Type.EXCHANGE).aexists()


@pytest.mark.django_db(transaction=True)
async def test_accept_codes_leave_the_offer_pending(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    cny, usdt = await sync_to_async(prepare)(alice, bob)
    a, b = await connect(await atoken_for(alice)), await connect(await atoken_for(bob))
    offer = await a.ok("exchange.publish", offer_params(cny, usdt, bob, toAmount=10.5))  # bob holds only 10
    oid = offer["exchangeId"]
    before = await sync_to_async(balances)(alice, bob)
    assert (await b.call("exchange.accept", {"exchangeId": oid, "password": "pay123"}))["code"] == 400
    assert (await b.call("exchange.accept", {"exchangeId": oid, "password": "wrong1"}))["code"] == 401
    assert (await b.call("exchange.accept", {"exchangeId": oid + 1000, "password": "pay123"}))["code"] == 404
    stranger = await connect(await atoken_for(charlie))
    assert (await stranger.call("exchange.accept", {"exchangeId": oid, "password": "pay123"}))["code"] == 404
    assert await sync_to_async(balances)(alice, bob) == before
    assert (await ExchangeOffer.objects.aget(pk=oid)).status == ExchangeOffer.Status.PENDING
    await sync_to_async(fund)(bob, usdt, "0.5")
    assert (await b.ok("exchange.accept", {"exchangeId": oid, "password": "pay123"}))["status"] == 100
    assert await sync_to_async(ledger_verify)() == []


@pytest.mark.django_db
def test_wrong_payment_passwords_never_move_money_and_lock_payments(alice: User, bob: User) -> None:
    cny, usdt = prepare(alice, bob)
    offer = exchange_publish(user=alice, to_user_id=bob.pk, from_coin_id=cny.pk, from_amount="5",
                             to_coin_id=usdt.pk, to_amount="1", password="pay123")
    before = balances(alice, bob)
    for attempt in range(5):
        with pytest.raises(ApplicationError) as wrong:
            exchange_accept(user=bob, exchange_id=offer.pk, password=f"bad{attempt}xx")
        assert wrong.value.code == ("payment_locked" if attempt == 4 else "wrong_payment_password")
    with pytest.raises(ApplicationError, match="locked") as locked:
        exchange_accept(user=bob, exchange_id=offer.pk, password="pay123")  # even the right one, while locked
    assert locked.value.code == "payment_locked"
    assert balances(alice, bob) == before
    assert ExchangeOffer.objects.get(pk=offer.pk).status == ExchangeOffer.Status.PENDING
    assert ledger_verify() == []


@pytest.mark.django_db
def test_a_retried_publish_with_the_same_client_id_escrows_once(alice: User, bob: User) -> None:
    cny, usdt = prepare(alice, bob)
    args = {"user": alice, "to_user_id": bob.pk, "from_coin_id": cny.pk, "from_amount": "5", "to_coin_id": usdt.pk,
            "to_amount": "1", "password": "pay123", "request_id": "c-1"}
    first, second = exchange_publish(**args), exchange_publish(**args)  # type: ignore[arg-type]
    assert first.pk == second.pk and ExchangeOffer.objects.count() == 1
    assert user_account(user=alice, coin=cny).balance == Decimal("95")
    assert Message.objects.filter(type=Message.Type.EXCHANGE).count() == 1


@pytest.mark.django_db(transaction=True)
async def test_expired_offer_is_refunded_once_with_pushes(connect: Connect, alice: User, bob: User) -> None:
    cny, usdt = await sync_to_async(prepare)(alice, bob)
    a, b = await connect(await atoken_for(alice)), await connect(await atoken_for(bob))
    offer = await a.ok("exchange.publish", offer_params(cny, usdt, bob))
    await b.push("onMessage")
    await a.push("onMessage")
    assert await sync_to_async(exchange_expire_due)() == 0  # not due yet
    await ExchangeOffer.objects.filter(pk=offer["exchangeId"]).aupdate(
        expires_at=timezone.now() - timedelta(seconds=1))
    assert (await b.call("exchange.accept", {"exchangeId": offer["exchangeId"], "password": "pay123"}))["code"] == 410
    assert await sync_to_async(lambda: expire_exchanges.apply().get())() == 1  # the beat job's task
    assert await sync_to_async(exchange_expire_due)() == 0  # a second run refunds nothing
    for side in (a, b):
        notice = await side.push("onMessage")
        assert (notice["type"], notice["subType"], notice["from"]) == (11, 400, None)
        assert notice["content"]["status"] == 400
    assert await sync_to_async(balances)(alice, bob) == {("alice", "cny"): Decimal("100"),
                                                         ("bob", "usdt"): Decimal("10")}
    assert (await a.ok("exchange.get", {"exchangeId": offer["exchangeId"]}))["status"] == 400
    assert await JournalEntry.objects.filter(kind=JournalEntry.Kind.EXCHANGE_REFUND).acount() == 1
    assert await sync_to_async(ledger_verify)() == []


def test_the_beat_schedule_runs_the_expiry_job() -> None:
    from config.celery import app

    assert "wallet.tasks.expire_exchanges" in {entry["task"] for entry in app.conf.beat_schedule.values()}


@pytest.mark.postgres
def test_two_expiry_jobs_at_once_refund_each_offer_exactly_once(alice: User, bob: User) -> None:
    cny, usdt = prepare(alice, bob)
    for n in range(20):
        exchange_publish(user=alice, to_user_id=bob.pk, from_coin_id=cny.pk, from_amount="1.25",
                         to_coin_id=usdt.pk, to_amount="1", password="pay123", request_id=f"r{n}")
    assert user_account(user=alice, coin=cny).balance == Decimal("75.00")
    ExchangeOffer.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    results = run_parallel(4, lambda _: exchange_expire_due())
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 20  # every offer refunded by exactly one of the runs
    assert user_account(user=alice, coin=cny).balance == Decimal("100.00")
    assert system_account(kind=Account.Kind.ESCROW, coin=cny).balance == 0
    assert JournalEntry.objects.filter(kind=JournalEntry.Kind.EXCHANGE_REFUND).count() == 20
    assert Message.objects.filter(type=Message.Type.EXCHANGE, sub_type=400).count() == 20
    assert ledger_verify() == []


@pytest.mark.postgres
def test_accept_racing_itself_and_the_expiry_job_settles_once(alice: User, bob: User) -> None:
    cny, usdt = prepare(alice, bob)
    offer = exchange_publish(user=alice, to_user_id=bob.pk, from_coin_id=cny.pk, from_amount="10",
                             to_coin_id=usdt.pk, to_amount="2", password="pay123")

    def contender(i: int) -> object:
        if i % 2:
            return exchange_expire_due(now=offer.expires_at)  # as if the deadline had just passed
        return exchange_accept(user=bob, exchange_id=offer.pk, password="pay123")

    results = run_parallel(8, contender)
    accepted = [r for r in results if isinstance(r, ExchangeOffer)]
    refunded = sum(r for r in results if isinstance(r, int))
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(accepted) + refunded == 1, results  # exactly one outcome won
    assert len(refused) == 4 - len(accepted), results  # the losing accepts; a losing job just finds nothing
    assert all(r.code in ("conflict", "exchange_expired") for r in refused)
    state = ExchangeOffer.objects.get(pk=offer.pk)
    if accepted:
        assert state.status == 100 and user_account(user=bob, coin=cny).balance == Decimal("10")
    else:
        assert state.status == 400 and user_account(user=alice, coin=cny).balance == Decimal("100")
    assert system_account(kind=Account.Kind.ESCROW, coin=cny).balance == 0
    assert JournalEntry.objects.filter(kind__in=[9, 10]).count() == 1
    assert ledger_verify() == []


@pytest.mark.django_db(transaction=True)
async def test_rest_twins(alice: User, bob: User) -> None:
    from django.test import AsyncClient

    cny, usdt = await sync_to_async(prepare)(alice, bob)
    headers = {"Authorization": f"Bearer {await atoken_for(alice)}"}
    client = AsyncClient()
    made = await client.post("/api/v1/wallet/exchanges", jsonwire.dumps(offer_params(cny, usdt, bob)),
                             content_type="application/json", headers=headers)
    assert made.status_code == 200, made.content
    oid = jsonwire.loads(made.content)["exchangeId"]
    got = await client.get(f"/api/v1/wallet/exchanges/get?exchangeId={oid}", headers=headers)
    assert b'"fromAmount":12.50' in got.content
    bob_headers = {"Authorization": f"Bearer {await atoken_for(bob)}"}
    taken = await client.post("/api/v1/wallet/exchanges/accept", {"exchangeId": oid, "password": "pay123"},
                              content_type="application/json", headers=bob_headers)
    assert taken.status_code == 200 and jsonwire.loads(taken.content)["status"] == 100
    again = await client.post("/api/v1/wallet/exchanges/accept", {"exchangeId": oid, "password": "pay123"},
                              content_type="application/json", headers=bob_headers)
    assert again.status_code == 409


@pytest.mark.django_db
def test_operators_see_offers_read_only_in_the_admin(alice: User, bob: User) -> None:
    from django.test import Client

    cny, usdt = prepare(alice, bob)
    offer = exchange_publish(user=alice, to_user_id=bob.pk, from_coin_id=cny.pk, from_amount="5",
                             to_coin_id=usdt.pk, to_amount="1", password="pay123", memo="swap me")
    User.objects.create_superuser("root", password="rootpass1")
    client = Client()
    assert client.login(username="root", password="rootpass1")
    pending = client.get("/admin/wallet/exchangeoffer/?status__exact=50&q=swap")
    assert pending.status_code == 200 and b"1 exchange offer" in pending.content
    assert b"0 exchange offers" in client.get("/admin/wallet/exchangeoffer/?status__exact=100").content
    assert client.get(f"/admin/wallet/exchangeoffer/{offer.pk}/change/").status_code == 200  # a read-only view
    assert client.get("/admin/wallet/exchangeoffer/add/").status_code == 403
