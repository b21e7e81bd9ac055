"""Remittances over the socket (the native API document remittance.*): what payer, payee and strangers see,
every code, the books after each step, expiry, paging, the REST twins and the admin."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import Block, User
from chats.models import Chat
from chats.services import chat_mute, group_create, private_chat_get_or_create
from core import jsonwire
from core.exceptions import ApplicationError
from messaging.models import Message
from remittance import replies, services
from remittance.models import Remittance
from remittance.tasks import expire_remittances
from tests.accounts.factories import make_user
from tests.conftest import Connect, SocketClient, atoken_for
from tests.wallet.factories import make_coin
from tests.wallet.test_exchange import fund
from wallet.models import Account, Coin, JournalEntry, Wallet
from wallet.passwords import _hash
from wallet.selectors import ledger_verify

RECORD_FIELDS = {"type", "remittanceId", "coinId", "payerUID", "payeeUID", "remittedAt", "receivedAt", "refundedAt",
                 "expireAt", "chatId", "description", "amount", "status"}


def prepare(*payers: User) -> Coin:
    """The default coin cny (2 decimals); each payer has the payment password pay123 and 100 cny."""
    cny = make_coin(name="cny", decimals=2)
    for user in payers:
        Wallet.objects.create(user=user, address=f"W{user.username}", password=_hash("pay123"))
        fund(user, cny, "100")
    return cny


def balances() -> dict[str, Decimal]:
    """Every non-zero user and escrow balance, by username."""
    rows = Account.objects.exclude(kind=Account.Kind.EXTERNAL).exclude(balance=0).select_related("owner")
    return {(a.owner.username if a.owner else a.kind): a.balance for a in rows}


async def books() -> tuple[dict[str, Decimal], list[str]]:
    return await sync_to_async(balances)(), await sync_to_async(ledger_verify)()


async def exact_push(client: SocketClient) -> dict[str, Any]:
    """The next frame of a socket that called nothing: an onMessage push, with its amounts
    read as exact Decimals (the plain client parses them as floats)."""
    raw = await client.comm.receive_from(3)
    frame = jsonwire.loads(raw)
    assert frame.get("event") == "onMessage", frame
    return dict(frame["data"], raw=raw)


def remit_params(payee: User, **extra: object) -> dict[str, object]:
    return {"payee": payee.pk, "amount": 12.5, "password": "pay123", "type": 1, "description": "rent", **extra}


@pytest.mark.django_db(transaction=True)
async def test_private_remittance_is_held_then_received_with_pushes_to_every_device(
    connect: Connect, alice: User, bob: User, charlie: User,
) -> None:
    await sync_to_async(prepare)(alice)
    a1, a2 = await connect(await atoken_for(alice, "phone")), await connect(await atoken_for(alice, "pad"))
    b = await connect(await atoken_for(bob))

    sent = await a1.ok("remittance.remit", remit_params(bob))
    rid = sent["remittanceId"]
    assert set(sent) == RECORD_FIELDS == set(replies.RemittanceRecord().fields)
    assert (sent["type"], sent["payerUID"], sent["payeeUID"], sent["status"]) == (1, alice.pk, bob.pk, 50)
    assert sent["description"] == "rent" and sent["receivedAt"] is None and sent["refundedAt"] is None
    assert sent["expireAt"] - sent["remittedAt"] == 24 * 3600 and sent["chatId"] > 0
    card = {"remittanceId": rid, "payer": alice.pk, "payee": bob.pk, "amount": Decimal("12.50")}
    for device in (a2, b):  # the payer's other device and the payee
        pushed = await exact_push(device)
        assert (pushed["type"], pushed["subType"], pushed["from"], pushed["chatId"]) == (5, 100, alice.pk,
                                                                                         sent["chatId"])
        assert pushed["content"] == card and '"amount":12.50' in pushed["raw"]
        assert set(pushed["content"]) <= set(replies.Card().fields)  # the published content shape
    assert (await a1.push("onMessage"))["subType"] == 100  # the sending device too
    assert await books() == ({"alice": Decimal("87.50"), "escrow": Decimal("12.50")}, [])

    stranger = await connect(await atoken_for(charlie))
    for method in ("remittance.getRecord", "remittance.receive", "remittance.refund", "remittance.remind"):
        assert (await stranger.call(method, {"remittanceId": rid}))["code"] == 404, method  # as a missing id
        assert (await stranger.call(method, {"remittanceId": rid + 1000}))["code"] == 404, method
    assert (await a1.call("remittance.receive", {"remittanceId": rid}))["code"] == 400  # 你不是收款人
    assert (await a1.call("remittance.refund", {"remittanceId": rid}))["code"] == 400
    assert (await b.call("remittance.remind", {"remittanceId": rid}))["code"] == 403  # only the payer reminds

    got = await b.ok("remittance.receive", {"remittanceId": rid})
    assert got["status"] == 100 and got["receivedAt"] is not None and got["refundedAt"] is None
    for device in (a2, b):
        pushed = await exact_push(device)
        assert (pushed["type"], pushed["subType"], pushed["from"]) == (5, 200, bob.pk)
        assert pushed["content"] == card
    assert (await a1.push("onMessage"))["subType"] == 200
    assert await books() == ({"alice": Decimal("87.50"), "bob": Decimal("12.50")}, [])  # escrow back at zero

    assert (await b.call("remittance.receive", {"remittanceId": rid}))["code"] == 409
    assert (await b.call("remittance.refund", {"remittanceId": rid}))["code"] == 409
    assert (await a1.call("remittance.remind", {"remittanceId": rid}))["code"] == 409
    assert await books() == ({"alice": Decimal("87.50"), "bob": Decimal("12.50")}, [])
    await b.send_raw(json.dumps({"id": 99, "method": "remittance.getRecord", "params": {"remittanceId": rid}}))
    assert '"amount":12.50' in await b.comm.receive_from(3)  # exact from the database
    assert [(r["type"], r["amount"]) for r in await b.ok("wallet.records", {})] == [(3, 12.5)]  # kind 3 receive
    assert [(r["type"], r["amount"]) for r in await a1.ok("wallet.records", {})] == [(4, -12.5), (1, 100)]


@pytest.mark.django_db(transaction=True)
async def test_group_remittance_refunded_by_the_payee(connect: Connect, alice: User, bob: User,
                                                     charlie: User) -> None:
    await sync_to_async(prepare)(alice)
    group = await sync_to_async(group_create)(owner=alice, title="flat", member_ids=[bob.pk, charlie.pk])
    a, b, c = (await connect(await atoken_for(alice)), await connect(await atoken_for(bob)),
               await connect(await atoken_for(charlie)))

    sent = await a.ok("remittance.remit", remit_params(bob, type=2, chatId=group.wire_id, amount="0.01"))
    rid = sent["remittanceId"]
    assert (sent["type"], sent["chatId"], sent["amount"]) == (2, group.wire_id, 0.01)
    for device in (b, c):  # posted in the group: every member sees it ...
        pushed = await exact_push(device)
        assert (pushed["subType"], pushed["chatId"], pushed["content"]["amount"]) == (100, -group.pk,
                                                                                      Decimal("0.01"))
    assert (await c.call("remittance.getRecord", {"remittanceId": rid}))["code"] == 404  # ... only two read it
    assert (await c.call("remittance.receive", {"remittanceId": rid}))["code"] == 404

    back = await b.ok("remittance.refund", {"remittanceId": rid})
    assert back["status"] == 300 and back["refundedAt"] is not None and back["receivedAt"] is None
    for device in (b, c):
        pushed = await exact_push(device)
        assert (pushed["type"], pushed["subType"], pushed["from"]) == (5, 300, bob.pk)
        assert pushed["content"] == {"remittanceId": rid, "payer": alice.pk, "payee": bob.pk,
                                     "amount": Decimal("0.01")}
    assert (await a.push("onMessage"))["subType"] == 100
    assert (await a.push("onMessage"))["subType"] == 300
    assert await books() == ({"alice": Decimal("100.00")}, [])
    assert (await b.call("remittance.receive", {"remittanceId": rid}))["code"] == 409
    assert (await a.ok("remittance.getRecord", {"remittanceId": rid}))["status"] == 300
    refund = await JournalEntry.objects.aget(idempotency_key=f"remit:{rid}:refund")
    assert refund.kind == JournalEntry.Kind.REMITTANCE_REFUND == 13
    assert (await a.ok("wallet.records", {}))[0]["type"] == 13


@pytest.mark.django_db(transaction=True)
async def test_remit_codes_and_nothing_moves_on_any_refusal(
    connect: Connect, alice: User, bob: User, charlie: User, settings: Any,
) -> None:
    dave = await sync_to_async(make_user)(username="dave")
    await sync_to_async(prepare)(alice, bob)
    group = await sync_to_async(group_create)(owner=alice, title="flat", member_ids=[bob.pk])
    private = await sync_to_async(group_create)(owner=alice, title="other", member_ids=[charlie.pk])
    a = await connect(await atoken_for(alice))
    before = await books()

    async def code(client: SocketClient = a, **extra: object) -> int:
        reply = await client.call("remittance.remit", {**remit_params(bob), **extra})
        assert reply["code"] != 200, reply
        return int(reply["code"])

    assert await code(amount=100.01) == 400  # more than alice holds
    assert await code(amount="0.009") == 401  # below 0.01 (the native API document)
    assert await code(amount=0) == 401
    assert await code(amount=-5) == 401
    assert await code(amount=50000.01) == 402  # above REMITTANCE_MAX_AMOUNT (50000)
    settings.REMITTANCE_MAX_AMOUNT = 20
    reply = await a.call("remittance.remit", remit_params(bob, amount=20.01))
    assert reply["code"] == 402 and "20" in reply["msg"]
    assert await code(amount="0.015") == 422  # cny has 2 decimals
    assert await code(amount="ten") == 422
    assert await code(password="wrong1") == 403
    assert await code(payee=99999) == 404
    assert await code(chatId=99999) == 404
    assert await code(chatId=group.wire_id) == 422  # type 1 names a group
    assert await code(type=2) == 422  # a group remittance without its chatId
    assert await code(type=3) == 422
    assert await code(payee=alice.pk) == 422  # to yourself
    assert (await a.call("remittance.remit", {"payee": bob.pk}))["code"] == 422  # missing fields
    assert await code(type=2, chatId=group.wire_id, payee=dave.pk) == 407  # the payee is not a member
    assert await code(type=2, chatId=private.wire_id) == 407
    d = await connect(await atoken_for(dave))
    assert await code(d, type=2, chatId=group.wire_id) == 406  # the payer is not a member
    no_wallet = await connect(await atoken_for(charlie))
    assert await code(no_wallet, payee=alice.pk) == 405  # no payment password yet

    await sync_to_async(chat_mute)(actor=alice, wire_id=group.wire_id, user_id=bob.pk, seconds=600)
    b = await connect(await atoken_for(bob))
    assert await code(b, type=2, chatId=group.wire_id, payee=alice.pk) == 460  # muted in the group
    await Block.objects.acreate(user=bob, blocked=alice)
    assert await code() == 501  # bob blacklisted alice
    assert not await Chat.objects.filter(kind=Chat.Kind.PRIVATE).aexists()  # refused: no private chat made
    pair = await sync_to_async(private_chat_get_or_create)(user_id=alice.pk, peer_id=bob.pk)
    assert await code(chatId=pair.wire_id, payee=charlie.pk) == 407  # not the peer of that private chat

    for attempt in range(4):  # the right passwords since cleared the count: 4 wrong ones leave one try
        assert await code(password=f"bad{attempt}xx") == 403
    reply = await a.call("remittance.remit", remit_params(bob, password="bad-last"))
    assert reply["code"] == 429  # the fifth wrong password locks payments ...
    assert await code(amount=1) == 429  # ... even with the right one

    assert await books() == before
    assert await Remittance.objects.acount() == 0
    assert not await Message.objects.filter(type=Message.Type.REMITTANCE).aexists()


@pytest.mark.django_db(transaction=True)
async def test_remind_reaches_both_sides_while_pending(connect: Connect, alice: User, bob: User) -> None:
    await sync_to_async(prepare)(alice)
    a, b = await connect(await atoken_for(alice)), await connect(await atoken_for(bob))
    rid = (await a.ok("remittance.remit", remit_params(bob, amount=3)))["remittanceId"]
    assert (await exact_push(b))["subType"] == 100

    assert (await a.ok("remittance.remind", {"remittanceId": rid}))["status"] == 50
    reminder = await exact_push(b)
    assert (reminder["type"], reminder["subType"], reminder["from"]) == (5, 400, alice.pk)
    assert reminder["content"]["remittanceId"] == rid and reminder["content"]["amount"] == Decimal("3.00")
    assert {(p["subType"], p["content"]["remittanceId"]) for p in [await a.push("onMessage"),
                                                                   await a.push("onMessage")]} == {(100, rid),
                                                                                                   (400, rid)}
    await Block.objects.acreate(user=bob, blocked=alice)
    assert (await a.call("remittance.remind", {"remittanceId": rid}))["code"] == 501  # as a chat message
    await Block.objects.filter(user=bob).adelete()

    await Remittance.objects.filter(pk=rid).aupdate(expires_at=timezone.now() - timedelta(seconds=1))
    assert (await a.call("remittance.remind", {"remittanceId": rid}))["code"] == 410
    assert await Message.objects.filter(type=Message.Type.REMITTANCE, sub_type=400).acount() == 1
    assert await books() == ({"alice": Decimal("97.00"), "escrow": Decimal("3.00")}, [])


@pytest.mark.django_db(transaction=True)
async def test_expired_remittance_is_refunded_once_with_pushes(connect: Connect, alice: User, bob: User) -> None:
    await sync_to_async(prepare)(alice)
    a, b = await connect(await atoken_for(alice, "phone")), await connect(await atoken_for(bob))
    a2 = await connect(await atoken_for(alice, "pad"))
    rid = (await a.ok("remittance.remit", remit_params(bob, amount="7.25")))["remittanceId"]
    for device in (a2, b):
        assert (await exact_push(device))["subType"] == 100
    assert await sync_to_async(services.expire_due)() == 0  # not due yet
    await Remittance.objects.filter(pk=rid).aupdate(expires_at=timezone.now() - timedelta(seconds=1))
    assert (await b.call("remittance.receive", {"remittanceId": rid}))["code"] == 410  # before the job runs
    assert (await b.call("remittance.refund", {"remittanceId": rid}))["code"] == 410

    assert await sync_to_async(lambda: expire_remittances.apply().get())() == 1  # the beat job's task
    assert await sync_to_async(services.expire_due)() == 0  # a second run refunds nothing
    for device in (a2, b):
        notice = await exact_push(device)
        assert (notice["type"], notice["subType"], notice["from"]) == (5, 300, None)
        assert notice["content"] == {"remittanceId": rid, "payer": alice.pk, "payee": bob.pk,
                                     "amount": Decimal("7.25"), "expired": True}
        assert set(notice["content"]) <= set(replies.Card().fields)
    record = await a.ok("remittance.getRecord", {"remittanceId": rid})
    assert record["status"] == 400 and record["refundedAt"] is not None and record["receivedAt"] is None
    assert (await b.call("remittance.receive", {"remittanceId": rid}))["code"] == 410
    assert await books() == ({"alice": Decimal("100.00")}, [])
    assert await JournalEntry.objects.filter(kind=JournalEntry.Kind.REMITTANCE_REFUND).acount() == 1


@pytest.mark.django_db(transaction=True)
async def test_records_page_by_from_id_and_show_only_the_callers(
    connect: Connect, alice: User, bob: User, charlie: User,
) -> None:
    def make() -> list[int]:
        prepare(alice, bob)
        out = [services.remit(payer=alice, payee_id=bob.pk, amount=f"{n}.5", password="pay123", type_=1).pk
               for n in range(1, 6)]
        services.remit(payer=bob, payee_id=alice.pk, amount="2", password="pay123", type_=1)
        return out

    out = await sync_to_async(make)()
    a = await connect(await atoken_for(alice))
    pages, from_id = [], 0
    while True:
        page = await a.ok("remittance.getRecords", {"type": 1, "from_id": from_id, "limit": 2})
        if not page:
            break
        pages.append([r["remittanceId"] for r in page])
        from_id = min(pages[-1])
    assert pages == [out[:2:-1], out[2:0:-1], out[:1]]  # newest first, ids below from_id
    incoming = await a.ok("remittance.getRecords", {"type": 2, "from_id": 0, "limit": 20})
    assert [(r["payerUID"], r["payeeUID"], r["amount"]) for r in incoming] == [(bob.pk, alice.pk, 2)]
    assert set(incoming[0]) == RECORD_FIELDS
    first = await a.ok("remittance.getRecords", {"type": 1})  # from_id 0 and limit 20 by default
    assert [r["remittanceId"] for r in first] == out[::-1]
    c = await connect(await atoken_for(charlie))
    assert await c.ok("remittance.getRecords", {"type": 1}) == []
    assert await c.ok("remittance.getRecords", {"type": 2}) == []
    assert (await a.call("remittance.getRecords", {"type": 3}))["code"] == 422
    assert (await a.call("remittance.getRecords", {"type": 1, "limit": 101}))["code"] == 422
    assert (await a.call("remittance.getRecords", {"type": 1, "from_id": -1}))["code"] == 422


@pytest.mark.django_db
def test_a_retried_remit_with_the_same_client_id_pays_once(alice: User, bob: User) -> None:
    prepare(alice)
    args: dict[str, Any] = {"payer": alice, "payee_id": bob.pk, "amount": "5", "password": "pay123", "type_": 1,
                            "request_id": "c-1"}
    first, second = services.remit(**args), services.remit(**args)
    assert first.pk == second.pk and Remittance.objects.count() == 1
    assert balances() == {"alice": Decimal("95.00"), "escrow": Decimal("5.00")}
    assert Message.objects.filter(type=Message.Type.REMITTANCE).count() == 1


@pytest.mark.django_db
def test_transfer_details_for_the_im_facade(alice: User, bob: User, charlie: User) -> None:
    cny = prepare(alice)
    remittance = services.remit(payer=alice, payee_id=bob.pk, amount="1.2", password="pay123", type_=1,
                                description="test")
    details = services.transfer_details(user=bob, remittance_id=remittance.pk)
    assert (details["from_user"], details["to_user"], details["coin_info"]) == (alice, bob, cny)
    log = details["transfer_log"]
    assert (log["from_user_id"], log["to_user_id"], log["amount"], log["memo"]) == (alice.pk, bob.pk,
                                                                                     Decimal("1.20"), "test")
    assert (log["status"], log["wrap"]) == (50, 2)
    with pytest.raises(ApplicationError) as hidden:
        services.transfer_details(user=charlie, remittance_id=remittance.pk)
    assert hidden.value.code == "not_found"


def test_the_beat_schedule_runs_the_expiry_job() -> None:
    from config.celery import app

    assert "remittance.tasks.expire_remittances" in {entry["task"] for entry in app.conf.beat_schedule.values()}


@pytest.mark.django_db(transaction=True)
async def test_rest_twins(alice: User, bob: User, charlie: User) -> None:
    from django.test import AsyncClient

    await sync_to_async(prepare)(alice)
    client = AsyncClient()

    def auth(user_token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {user_token}"}

    alice_h, bob_h = auth(await atoken_for(alice)), auth(await atoken_for(bob))
    made = await client.post("/api/v1/remittances", jsonwire.dumps(remit_params(bob)),
                             content_type="application/json", headers=alice_h)
    assert made.status_code == 200, made.content
    rid = jsonwire.loads(made.content)["remittanceId"]
    got = await client.get(f"/api/v1/remittances/{rid}", headers=bob_h)
    assert got.status_code == 200 and b'"amount":12.50' in got.content
    hidden = await client.get(f"/api/v1/remittances/{rid}", headers=auth(await atoken_for(charlie)))
    assert hidden.status_code == 404
    not_payee = await client.post(f"/api/v1/remittances/{rid}/receive", headers=alice_h)
    assert not_payee.status_code == 403 and jsonwire.loads(not_payee.content)["code"] == 400
    reminded = await client.post(f"/api/v1/remittances/{rid}/remind", headers=alice_h)
    assert reminded.status_code == 200
    taken = await client.post(f"/api/v1/remittances/{rid}/receive", headers=bob_h)
    assert taken.status_code == 200 and jsonwire.loads(taken.content)["status"] == 100
    again = await client.post(f"/api/v1/remittances/{rid}/refund", headers=bob_h)
    assert again.status_code == 409
    records = await client.get("/api/v1/remittances/records?type=2&from_id=0&limit=5", headers=bob_h)
    assert [r["remittanceId"] for r in jsonwire.loads(records.content)] == [rid]
    short = await client.post("/api/v1/remittances", jsonwire.dumps(remit_params(bob, amount=1000)),
                              content_type="application/json", headers=alice_h)
    assert short.status_code == 409 and jsonwire.loads(short.content)["code"] == 400
    assert await sync_to_async(balances)() == {"alice": Decimal("87.50"), "bob": Decimal("12.50")}


@pytest.mark.django_db
def test_operators_see_remittances_read_only_in_the_admin(alice: User, bob: User) -> None:
    from django.test import Client

    prepare(alice)
    remittance = services.remit(payer=alice, payee_id=bob.pk, amount="5", password="pay123", type_=1,
                                description="for the flowers")
    User.objects.create_superuser("root", password="rootpass1")
    client = Client()
    assert client.login(username="root", password="rootpass1")
    pending = client.get("/admin/remittance/remittance/?status__exact=50&type__exact=1&q=flowers")
    assert pending.status_code == 200 and b"1 remittance" in pending.content
    assert b"0 remittances" in client.get("/admin/remittance/remittance/?status__exact=100").content
    assert b"0 remittances" in client.get("/admin/remittance/remittance/?type__exact=2").content
    assert client.get(f"/admin/remittance/remittance/{remittance.pk}/change/").status_code == 200  # read-only
    assert client.get("/admin/remittance/remittance/add/").status_code == 403
