"""Every money-moving call is idempotent: a retry with the same clientMsgId (a reply lost, the
call sent again) answers the first result and moves nothing, the same key with other
parameters answers 409, and parallel duplicates move money once (PostgreSQL).

Covers redpacket.create, remittance.remit, exchange.publish and web.withdraw over the native
socket and their REST twins, and the im/* facade's derived keys."""
from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.apps import apps
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from chats.models import Chat
from chats.services import private_chat_get_or_create
from core import jsonwire
from messaging.models import Message
from redpackets.models import RedPacket
from remittance.models import Remittance
from tests.accounts.test_concurrency import run_parallel
from tests.conftest import Connect, atoken_for, token_for
from tests.wallet.test_exchange import prepare as exchange_prepare
from wallet.models import Account, Coin, ExchangeOffer, IdempotencyKey, Withdrawal
from wallet.selectors import ledger_verify
from wallet.services import system_account, user_account

MONEY_TYPES = (Message.Type.RED_PACKET, Message.Type.REMITTANCE, Message.Type.EXCHANGE)


def prepare(alice: User, bob: User) -> tuple[Coin, Coin, Chat]:
    """alice holds 100 cny (the default coin), bob 10 usdt; both pay with pay123; their private chat."""
    cny, usdt = exchange_prepare(alice, bob)
    return cny, usdt, private_chat_get_or_create(user_id=alice.pk, peer_id=bob.pk)


def books(user: User, coin: Coin) -> dict[str, Any]:
    """What moved: the user's balance, escrow, the rows each method makes, the money messages."""
    return {
        "balance": user_account(user=user, coin=coin).balance,
        "escrow": system_account(kind=Account.Kind.ESCROW, coin=coin).balance,
        "packets": RedPacket.objects.count(), "remittances": Remittance.objects.count(),
        "offers": ExchangeOffer.objects.count(), "withdrawals": Withdrawal.objects.count(),
        "messages": Message.objects.filter(type__in=MONEY_TYPES).count(),
        "ledger": ledger_verify(),
    }


def rest_client(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


# --- the native socket (both backends) ------------------------------------------------------

@pytest.mark.django_db(transaction=True)
async def test_retried_red_packet_creates_charge_once_over_the_socket(connect: Connect, alice: User,
                                                                      bob: User) -> None:
    cny, _, chat = await sync_to_async(prepare)(alice, bob)
    a, b = await connect(await atoken_for(alice)), await connect(await atoken_for(bob))

    made = []
    for n in range(3):  # three packets whose replies were lost: each sent twice
        params = {"chatId": chat.wire_id, "type": 1, "price": 9, "password": "pay123", "clientMsgId": f"rp-{n}"}
        first = await a.ok("redpacket.create", params)
        assert await a.ok("redpacket.create", params) == first  # the retry answers the first packet
        made.append(first["redPacketId"])
    assert len(set(made)) == 3
    for pid in made:  # bob is shown three packets, not six
        assert (await b.push("onMessage"))["content"]["redPacketId"] == pid
    assert await b.nothing()
    after = await sync_to_async(books)(alice, cny)
    assert after == {"balance": Decimal("73"), "escrow": Decimal("27"), "packets": 3, "remittances": 0,
                     "offers": 0, "withdrawals": 0, "messages": 3, "ledger": []}

    # The same key with other parameters is refused, not answered with the first packet.
    refused = await a.call("redpacket.create", {"chatId": chat.wire_id, "type": 1, "price": 10,
                                                "password": "pay123", "clientMsgId": "rp-0"})
    assert refused["code"] == 409 and "clientMsgId" in refused["msg"], refused
    # A retry is answered without the password being checked again: nothing moves either way.
    assert (await a.ok("redpacket.create", {"chatId": chat.wire_id, "type": 1, "price": "9.00",
                                            "password": "wrong!", "clientMsgId": "rp-1"}))["redPacketId"] == made[1]
    assert (await a.call("redpacket.create", {"chatId": chat.wire_id, "type": 1, "price": 9, "password": "pay123",
                                              "clientMsgId": "x" * 65}))["code"] == 422
    assert await sync_to_async(books)(alice, cny) == after


@pytest.mark.django_db(transaction=True)
async def test_retried_remittance_and_exchange_offer_move_once_over_the_socket(connect: Connect, alice: User,
                                                                               bob: User) -> None:
    cny, usdt, _ = await sync_to_async(prepare)(alice, bob)
    a, b = await connect(await atoken_for(alice)), await connect(await atoken_for(bob))

    remit = {"payee": bob.pk, "type": 1, "amount": 20, "password": "pay123", "description": "rent",
             "clientMsgId": "remit-1"}
    first = await a.ok("remittance.remit", remit)
    assert await a.ok("remittance.remit", remit) == first
    assert (await b.push("onMessage"))["content"]["remittanceId"] == first["remittanceId"]
    assert await b.nothing()
    refused = await a.call("remittance.remit", {**remit, "amount": 25})
    assert refused["code"] == 409, refused

    offer = {"to": bob.pk, "fromCoinId": cny.pk, "fromAmount": 12.5, "toCoinId": usdt.pk, "toAmount": 1.75,
             "password": "pay123", "memo": "swap", "clientMsgId": "ex-1"}
    published = await a.ok("exchange.publish", offer)
    assert await a.ok("exchange.publish", {**offer, "fromAmount": "12.50"}) == published  # the same amount
    assert (await b.push("onMessage"))["content"]["exchangeId"] == published["exchangeId"]
    assert await b.nothing()
    assert (await a.call("exchange.publish", {**offer, "toAmount": 2}))["code"] == 409
    # Keys are per method: the remittance's key names a new offer, not a conflict.
    other = await a.ok("exchange.publish", {**offer, "clientMsgId": "remit-1"})
    assert other["exchangeId"] != published["exchangeId"]

    assert await sync_to_async(books)(alice, cny) == {
        "balance": Decimal("55"), "escrow": Decimal("45"), "packets": 0, "remittances": 1, "offers": 2,
        "withdrawals": 0, "messages": 3, "ledger": []}


# --- the REST twins (both backends) ---------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_rest_twins_answer_a_retry_with_the_first_result(alice: User, bob: User) -> None:
    cny, usdt, chat = prepare(alice, bob)
    api = rest_client(token_for(alice))
    calls = [
        ("/api/v1/redpackets", {"chatId": chat.wire_id, "type": 1, "price": "9", "password": "pay123",
                                "clientMsgId": "k"}),
        ("/api/v1/remittances", {"payee": bob.pk, "type": 1, "amount": "20", "password": "pay123",
                                 "clientMsgId": "k"}),
        ("/api/v1/wallet/exchanges", {"to": bob.pk, "fromCoinId": cny.pk, "fromAmount": "10", "toCoinId": usdt.pk,
                                      "toAmount": "1", "password": "pay123", "clientMsgId": "k"}),
        ("/api/v1/wallet/withdraw", {"amount": "5", "password": "pay123", "clientMsgId": "k"}),
    ]
    for path, body in calls:
        first = api.post(path, body, format="json")
        assert first.status_code == 200, first.content
        again = api.post(path, body, format="json")
        assert again.status_code == 200 and again.json() == first.json(), path
    assert books(alice, cny) == {"balance": Decimal("56"), "escrow": Decimal("44"), "packets": 1,
                                 "remittances": 1, "offers": 1, "withdrawals": 1, "messages": 3, "ledger": []}
    conflict = api.post("/api/v1/wallet/withdraw", {"amount": "6", "password": "pay123", "clientMsgId": "k"},
                        format="json")
    assert conflict.status_code == 409
    assert conflict.json() == {"code": 409, "error": "idempotency_conflict", "msg": conflict.json()["msg"]}
    without_key = api.post("/api/v1/wallet/withdraw", {"amount": "5", "password": "pay123"}, format="json")
    assert without_key.status_code == 200  # no key: a second withdrawal, as before
    assert books(alice, cny)["withdrawals"] == 2 and books(alice, cny)["balance"] == Decimal("51")


# --- the im/* facade: a key derived from the request ----------------------------------------

def im(client: Client, method: str, key: str, **params: Any) -> dict[str, Any]:
    reply = client.post(f"/im/{method}", {**params, "session_key": key})
    assert reply.status_code == 200, reply.content
    return dict(jsonwire.loads(reply.content))


@pytest.mark.django_db(transaction=True)
def test_im_facade_retry_within_the_window_moves_money_once(alice: User, bob: User, settings: Any) -> None:
    cny, usdt, _ = prepare(alice, bob)
    client, key = Client(), token_for(alice)
    packet = {"toUserId": bob.pk, "coin_id": cny.pk, "amount": "9", "wallet_pwd": "pay123", "content": "hi"}
    first = im(client, "msg_redpack_publish", key, **packet)
    assert first["status"] == 0
    assert im(client, "msg_redpack_publish", key, **packet) == first  # the app retried a lost reply
    transfer = im(client, "msg_redpack_publish", key, **packet, wrap=2)
    assert transfer["status"] == 0 and im(client, "msg_redpack_publish", key, **packet, wrap=2) == transfer
    offer = {"toUserId": bob.pk, "from_coin_id": cny.pk, "from_coin_amount": "10", "to_coin_id": usdt.pk,
             "to_coin_amount": "1", "wallet_pwd": "pay123"}
    published = im(client, "msg_exchange_publish", key, **offer)
    assert published["status"] == 1 and im(client, "msg_exchange_publish", key, **offer) == published
    assert books(alice, cny) == {"balance": Decimal("72"), "escrow": Decimal("28"), "packets": 1,
                                 "remittances": 1, "offers": 1, "withdrawals": 0, "messages": 3, "ledger": []}

    # Another amount is another request; so is the same one with the app's own clientMsgId.
    assert im(client, "msg_redpack_publish", key, **{**packet, "amount": "8"})["status"] == 0
    mine = im(client, "msg_redpack_publish", key, **packet, clientMsgId="app-1")
    assert mine["status"] == 0 and mine["data"]["transfer_id"] != first["data"]["transfer_id"]
    assert im(client, "msg_redpack_publish", key, **{**packet, "amount": "7"}, clientMsgId="app-1")["status"] == 10
    for bad in ("x" * 65, "nul\x00"):  # bounded like the socket's clientMsgId; never a 500
        assert im(client, "msg_redpack_publish", key, **packet, clientMsgId=bad)["status"] == 1
    assert books(alice, cny)["packets"] == 3

    # A retry just after a window boundary still finds the first call (the previous window).
    # (Moved to the window before the current one, not before the stored one: the clock may
    # have crossed a boundary while the test ran.)
    current = int(time.time()) // settings.IM_MONEY_RETRY_SECONDS
    for row in IdempotencyKey.objects.filter(method="redpacket.create", key__startswith="~"):
        digest, _ = row.key.split("@")
        IdempotencyKey.objects.filter(pk=row.pk).update(key=f"{digest}@{current - 1}")
    assert im(client, "msg_redpack_publish", key, **packet) == first

    settings.IM_MONEY_RETRY_SECONDS = 0  # turned off: every call moves money
    assert im(client, "msg_redpack_publish", key, **packet)["data"] != first["data"]
    assert books(alice, cny)["packets"] == 4 and ledger_verify() == []



# --- keys kept from before the upgrade, and the operator's view -----------------------------

@pytest.mark.django_db(transaction=True)
def test_a_remittance_or_offer_keyed_before_the_upgrade_still_answers_its_retry(alice: User, bob: User) -> None:
    cny, usdt, chat = prepare(alice, bob)
    api = rest_client(token_for(alice))
    # Rows as the previous version stored them: the key on the row, no key row.
    now = timezone.now()
    old_remit = Remittance.objects.create(payer=alice, payee=bob, coin=cny, amount=Decimal("20"), type=1, chat=chat,
                                          request_id="old-1", remitted_at=now, expires_at=now)
    old_offer = ExchangeOffer.objects.create(from_user=alice, from_coin=cny, from_amount=Decimal("10"), to_user=bob,
                                             to_coin=usdt, to_amount=Decimal("1"), request_id="old-2", chat=chat,
                                             expires_at=now)
    IdempotencyKey.objects.all().delete()
    importlib.import_module("remittance.migrations.0004_request_keys").keys_of_earlier_remittances(apps, None)
    importlib.import_module("wallet.migrations.0008_idempotency_key").keys_of_earlier_offers(apps, None)

    retried = api.post("/api/v1/remittances", {"payee": bob.pk, "type": 1, "amount": "20", "password": "pay123",
                                               "clientMsgId": "old-1"}, format="json")
    assert retried.status_code == 200 and retried.json()["remittanceId"] == old_remit.pk, retried.content
    offered = api.post("/api/v1/wallet/exchanges", {"to": bob.pk, "fromCoinId": cny.pk, "fromAmount": "10",
                                                    "toCoinId": usdt.pk, "toAmount": "1", "password": "pay123",
                                                    "clientMsgId": "old-2"}, format="json")
    assert offered.status_code == 200 and offered.json()["exchangeId"] == old_offer.pk, offered.content
    assert Remittance.objects.count() == 1 and ExchangeOffer.objects.count() == 1
    assert user_account(user=alice, coin=cny).balance == Decimal("100")  # nothing moved again


@pytest.mark.django_db
def test_operators_find_a_payments_key_in_the_admin(alice: User, bob: User) -> None:
    _, _, chat = prepare(alice, bob)
    made = rest_client(token_for(alice)).post("/api/v1/redpackets", {
        "chatId": chat.wire_id, "type": 1, "price": "9", "password": "pay123", "clientMsgId": "find-me"},
        format="json")
    assert made.status_code == 200
    User.objects.create_superuser("root", password="rootpass1")
    client = Client()
    assert client.login(username="root", password="rootpass1")
    page = client.get("/admin/wallet/idempotencykey/?q=find-me")
    assert page.status_code == 200 and b"find-me" in page.content and b"redpacket.create" in page.content
    assert client.get("/admin/wallet/idempotencykey/add/").status_code == 403  # read-only


# --- parallel duplicates (PostgreSQL: real concurrent transactions) -------------------------

PARALLEL = 4


def _parallel_rest(token: str, path: str, body: dict[str, Any]) -> list[Any]:
    def call(_: int) -> Any:
        reply = rest_client(token).post(path, body, format="json")
        return reply.status_code, reply.json()
    return run_parallel(PARALLEL, call)


Body = Callable[[Coin, Coin, Chat, User], dict[str, Any]]
CASES: dict[str, tuple[str, Body, str, Decimal]] = {
    "redpacket.create": ("/api/v1/redpackets", lambda cny, usdt, chat, bob: {
        "chatId": chat.wire_id, "type": 1, "price": "9", "password": "pay123", "clientMsgId": "same"},
        "packets", Decimal("9")),
    "remittance.remit": ("/api/v1/remittances", lambda cny, usdt, chat, bob: {
        "payee": bob.pk, "type": 1, "amount": "20", "password": "pay123", "clientMsgId": "same"},
        "remittances", Decimal("20")),
    "exchange.publish": ("/api/v1/wallet/exchanges", lambda cny, usdt, chat, bob: {
        "to": bob.pk, "fromCoinId": cny.pk, "fromAmount": "10", "toCoinId": usdt.pk, "toAmount": "1",
        "password": "pay123", "clientMsgId": "same"}, "offers", Decimal("10")),
    "web.withdraw": ("/api/v1/wallet/withdraw", lambda cny, usdt, chat, bob: {
        "amount": "5", "password": "pay123", "clientMsgId": "same"}, "withdrawals", Decimal("5")),
}


@pytest.mark.postgres
@pytest.mark.parametrize("method", list(CASES))
def test_parallel_identical_calls_move_money_once(method: str, alice: User, bob: User) -> None:
    cny, usdt, chat = prepare(alice, bob)
    path, body, rows, amount = CASES[method]
    token = token_for(alice)
    for round_ in range(3):
        results = _parallel_rest(token, path, {**body(cny, usdt, chat, bob), "clientMsgId": f"same-{round_}"})
        assert all(not isinstance(r, Exception) and r[0] == 200 for r in results), results
        assert len({jsonwire.dumps(r[1]) for r in results}) == 1, results  # every caller got the first answer
        state = books(alice, cny)
        assert state[rows] == round_ + 1, (round_, state)
        assert state["balance"] == Decimal("100") - amount * (round_ + 1) and state["ledger"] == [], state
        assert state["messages"] == (0 if method == "web.withdraw" else round_ + 1), state


@pytest.mark.postgres
def test_parallel_im_facade_retries_make_one_packet(alice: User, bob: User) -> None:
    cny, _, _ = prepare(alice, bob)
    key = token_for(alice)
    packet = {"toUserId": bob.pk, "coin_id": cny.pk, "amount": "9", "wallet_pwd": "pay123"}
    results = run_parallel(PARALLEL, lambda _: im(Client(), "msg_redpack_publish", key, **packet))
    assert all(isinstance(r, dict) and r["status"] == 0 for r in results), results
    assert len({r["data"]["transfer_id"] for r in results}) == 1
    assert books(alice, cny) == {"balance": Decimal("91"), "escrow": Decimal("9"), "packets": 1, "remittances": 0,
                                 "offers": 0, "withdrawals": 0, "messages": 1, "ledger": []}


@pytest.mark.postgres
async def test_two_devices_sending_one_payment_at_once_move_money_once(connect: Connect, alice: User,
                                                                       bob: User) -> None:
    cny, usdt, chat = await sync_to_async(prepare)(alice, bob)
    phone, tablet = [await connect(await atoken_for(alice, device)) for device in ("phone", "tablet")]
    for round_ in range(3):
        calls = {
            "redpacket.create": {"chatId": chat.wire_id, "type": 1, "price": 9, "password": "pay123"},
            "remittance.remit": {"payee": bob.pk, "type": 1, "amount": 20, "password": "pay123"},
            "exchange.publish": {"to": bob.pk, "fromCoinId": cny.pk, "fromAmount": 1, "toCoinId": usdt.pk,
                                 "toAmount": 1, "password": "pay123"},
        }
        for method, params in calls.items():
            frame = jsonwire.dumps({"id": 1, "method": method, "params": {**params, "clientMsgId": f"k{round_}"}})
            await phone.send_raw(frame)  # both in flight before either answers: the gateway's threads race
            await tablet.send_raw(frame)
            answers = []
            for side in (phone, tablet):
                while True:
                    reply = await side.frame(10)
                    if reply.get("id") == 1:
                        answers.append(reply)
                        break
            assert answers[0]["code"] == 200 and answers[0] == answers[1], answers
    state = await sync_to_async(books)(alice, cny)
    assert state == {"balance": Decimal("100") - 3 * (9 + 20 + 1), "escrow": Decimal(3 * 30), "packets": 3,
                     "remittances": 3, "offers": 3, "withdrawals": 0, "messages": 9, "ledger": []}, state
