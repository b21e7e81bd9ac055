"""Red packets over the socket: create, grab, detail, record, statistics, expiry and races."""
from __future__ import annotations

import random
import statistics as stats
from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from chats.models import Chat
from chats.services import group_create, private_chat_get_or_create
from core.exceptions import ApplicationError
from messaging.models import Message
from redpackets import replies
from redpackets.models import RedPacket, RedPacketShare
from redpackets.services import redpacket_create, redpacket_expire_due, redpacket_grab
from redpackets.split import lucky_split
from redpackets.tasks import expire_redpackets
from tests.accounts.factories import make_user
from tests.accounts.test_concurrency import run_parallel
from tests.conftest import Connect, atoken_for
from tests.wallet.factories import make_coin
from wallet.models import Account, Coin, JournalEntry, Wallet
from wallet.passwords import _hash
from wallet.selectors import ledger_verify
from wallet.services import ledger_transfer, system_account, user_account


def fund(user: User, coin: Coin, amount: str) -> None:
    Wallet.objects.get_or_create(user=user, defaults={"address": f"W{user.pk}", "password": _hash("pay123")})
    ledger_transfer(kind=JournalEntry.Kind.RECHARGE, source=system_account(kind=Account.Kind.EXTERNAL, coin=coin),
                    target=user_account(user=user, coin=coin), amount=Decimal(amount),
                    idempotency_key=f"fund:{user.pk}:{amount}")


def balance(user: User, coin: Coin) -> Decimal:
    return user_account(user=user, coin=coin).balance


def escrow(coin: Coin) -> Decimal:
    return system_account(kind=Account.Kind.ESCROW, coin=coin).balance


def group_of(owner: User, *members: User) -> Chat:
    return group_create(owner=owner, title="Team", member_ids=[m.pk for m in members])


# --- the lucky split ------------------------------------------------------------------------

def test_lucky_split_is_exact_bounded_and_fair_whatever_the_position() -> None:
    rng = random.Random(7)
    runs = [lucky_split(10_000, 10, minimum=1, maximum=20_000, rng=rng) for _ in range(4000)]
    assert all(sum(run) == 10_000 and len(run) == 10 and min(run) >= 1 for run in runs)
    means = [stats.fmean(run[i] for run in runs) for i in range(10)]
    assert all(abs(mean - 1000) < 60 for mean in means), means  # nobody gains by grabbing first or last
    spread = stats.pstdev(share for run in runs for share in run)
    assert 700 < spread < 1100, spread  # really random: a uniform split of 10 has sd ~ 900 units
    assert len({tuple(run) for run in runs}) == 4000


def test_lucky_split_respects_the_largest_share() -> None:
    rng = random.Random(3)
    for _ in range(500):
        run = lucky_split(19_000, 100, minimum=1, maximum=200, rng=rng)  # nearly every share at the cap
        assert sum(run) == 19_000 and max(run) <= 200 and min(run) >= 1
    assert lucky_split(200 * 5, 5, minimum=1, maximum=200) == [200] * 5
    with pytest.raises(ValueError):
        lucky_split(1001, 5, minimum=1, maximum=200)


# --- over the socket -------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
async def test_lucky_packet_in_a_group_create_grab_detail_with_pushes(
    connect: Connect, alice: User, bob: User, charlie: User,
) -> None:
    coin = await sync_to_async(make_coin)(name="cny", decimals=2)
    await sync_to_async(fund)(alice, coin, "100")
    chat = await sync_to_async(group_of)(alice, bob, charlie)
    a, b, c = [await connect(await atoken_for(u)) for u in (alice, bob, charlie)]

    made = await a.ok("redpacket.create", {"chatId": chat.wire_id, "type": 2, "title": "Happy new year",
                                          "total_price": 10, "count": 2, "password": "pay123"})
    pid = made["redPacketId"]
    for side in (a, b, c):  # the packet reaches every member as onMessage(2,100)
        posted = await side.push("onMessage")
        assert (posted["type"], posted["subType"], posted["from"]) == (2, 100, alice.pk)
        assert posted["content"] == {"redPacketId": pid, "from": alice.pk, "title": "Happy new year", "type": 2}
        assert set(posted["content"]) == set(replies.CreatedContent().fields)  # the published content shape
    assert await sync_to_async(balance)(alice, coin) == Decimal("90")
    assert await sync_to_async(escrow)(coin) == Decimal("10")

    assert (await a.call("redpacket.get", {"redPacketId": pid}))["code"] == 400  # own packet
    got = await b.ok("redpacket.get", {"redPacketId": pid})
    assert [u["userId"] for u in got["users"]] == [bob.pk]
    for side in (a, b):  # a grab's notice goes to the packet's sender and the grabber
        first = await side.push("onMessage")
        assert (first["type"], first["subType"], first["from"], first["chatId"]) == (2, 200, bob.pk, chat.wire_id)
        assert first["content"]["isLast"] is False and first["content"]["from"] == alice.pk
        assert first["messageId"] is None and first["seq"] is None  # a notification, not a chat message
        assert first["content"]["price"] == got["users"][0]["price"]
        assert set(first["content"]) == set(replies.GrabbedContent().fields)  # the published content shape
    assert await c.nothing()  # the other members are not told of every grab
    assert (await b.ok("redpacket.get", {"redPacketId": pid})) == got  # a second tap takes nothing more
    last = await c.ok("redpacket.get", {"redPacketId": pid})
    assert {u["userId"] for u in last["users"]} == {bob.pk, charlie.pk}
    assert sum((u["price"] for u in last["users"]), 0) == 10
    for side in (a, b, c):  # the last grab's notice reaches every member: the packet is finished
        final = await side.push("onMessage")
        assert final["content"]["isLast"] is True and final["from"] == charlie.pk
    assert await b.nothing()

    assert '"total_price":10.00' in await b.raw("redpacket.detail", {"redPacketId": pid})  # exact JSON numbers
    info = (await b.ok("redpacket.detail", {"redPacketId": pid}))
    assert info["count"] == 2 and info["isExpire"] is False and info["chatId"] == chat.wire_id
    assert info["type"] == 2 and len(info["users"]) == 2 and info["title"] == "Happy new year"
    assert (await c.call("redpacket.get", {"redPacketId": pid + 100}))["code"] == 404
    assert await sync_to_async(escrow)(coin) == 0
    assert await sync_to_async(ledger_verify)() == []
    bob_got = next(u["price"] for u in last["users"] if u["userId"] == bob.pk)
    assert await sync_to_async(balance)(bob, coin) == Decimal(str(bob_got))


@pytest.mark.django_db(transaction=True)
async def test_create_codes_and_nothing_moves_on_refusal(connect: Connect, alice: User, bob: User) -> None:
    coin = await sync_to_async(make_coin)(name="cny", decimals=2)
    await sync_to_async(fund)(alice, coin, "1000")
    chat = await sync_to_async(group_of)(alice, bob)
    stranger_chat = await sync_to_async(group_of)(bob)
    a = await connect(await atoken_for(alice))

    async def code(**params: object) -> int:
        frame = {"chatId": chat.wire_id, "type": 2, "title": "x", "total_price": 10, "count": 5, "password": "pay123",
                 **params}
        frame = {key: value for key, value in frame.items() if value is not None}
        return (await a.call("redpacket.create", frame))["code"]

    assert await code(total_price=1000.01, count=10) == 400  # more than alice holds
    assert await code(count=1001) == 401
    assert await code(total_price=0.04) == 402  # under 0.01 a share
    assert await code(type=3, price=0.001, total_price=None) == 402  # under 0.01 a share (the document's code)
    assert await code(type=3, price=1.001, total_price=None) == 422  # finer than the coin (2 decimals)
    assert await code(type=3, total_price=10, count=3) == 422  # 10 does not divide into 3 equal cents
    assert await code(type=2, total_price=None, price=1) == 422  # a lucky packet needs its total
    assert await code(type=3, price=200.01, total_price=None, count=1) == 403  # over 200 a share
    assert await code(total_price=1001, count=5) == 403
    assert await code(password="wrong1") == 404
    assert await code(chatId=stranger_chat.wire_id) == 405
    assert await code(type=1) == 422  # a single packet belongs in a private chat
    no_wallet = await connect(await atoken_for(bob))
    assert (await no_wallet.call("redpacket.create", {"chatId": chat.wire_id, "type": 2, "total_price": 1,
                                                      "count": 1, "password": "x"}))["code"] == 404
    assert await sync_to_async(balance)(alice, coin) == Decimal("1000")
    assert await RedPacket.objects.acount() == 0
    assert not await Message.objects.filter(type=Message.Type.RED_PACKET).aexists()


@pytest.mark.django_db(transaction=True)
async def test_single_and_equal_packets_and_who_may_grab(
    connect: Connect, alice: User, bob: User, charlie: User,
) -> None:
    coin = await sync_to_async(make_coin)(name="cny", decimals=2)
    await sync_to_async(fund)(alice, coin, "100")
    private = await sync_to_async(private_chat_get_or_create)(user_id=alice.pk, peer_id=bob.pk)
    group = await sync_to_async(group_of)(alice, bob)
    a, b, c = [await connect(await atoken_for(u)) for u in (alice, bob, charlie)]

    single = (await a.ok("redpacket.create", {"chatId": private.wire_id, "type": 1, "price": 8.88,
                                             "password": "pay123"}))["redPacketId"]
    assert (await c.call("redpacket.get", {"redPacketId": single}))["code"] == 401  # not in the chat
    assert (await c.call("redpacket.detail", {"redPacketId": single}))["code"] == 404  # nor may read it
    assert '"price":8.88' in await b.raw("redpacket.get", {"redPacketId": single})
    assert (await a.call("redpacket.get", {"redPacketId": single}))["code"] == 400

    equal = (await a.ok("redpacket.create", {"chatId": group.wire_id, "type": 3, "price": 0.5, "count": 1,
                                            "password": "pay123"}))["redPacketId"]
    assert '"price":0.50' in await b.raw("redpacket.get", {"redPacketId": equal})
    emptied = (await a.ok("redpacket.create", {"chatId": group.wire_id, "type": 3, "total_price": 3, "count": 3,
                                              "password": "pay123"}))["redPacketId"]
    await b.ok("redpacket.get", {"redPacketId": emptied})
    detail = await a.ok("redpacket.detail", {"redPacketId": emptied})
    assert detail["price"] == 1 and detail["total_price"] == 3 and detail["remainCount"] == 2
    assert await sync_to_async(balance)(alice, coin) == Decimal("100") - Decimal("8.88") - Decimal("0.5") - 3
    assert await sync_to_async(ledger_verify)() == []


@pytest.mark.django_db(transaction=True)
async def test_all_taken_is_402(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    coin = await sync_to_async(make_coin)(name="cny", decimals=2)
    await sync_to_async(fund)(alice, coin, "5")
    group = await sync_to_async(group_of)(alice, bob, charlie)
    a, b, c = [await connect(await atoken_for(u)) for u in (alice, bob, charlie)]
    pid = (await a.ok("redpacket.create", {"chatId": group.wire_id, "type": 2, "total_price": 1, "count": 1,
                                          "password": "pay123"}))["redPacketId"]
    await b.ok("redpacket.get", {"redPacketId": pid})
    assert (await c.call("redpacket.get", {"redPacketId": pid}))["code"] == 402


@pytest.mark.django_db(transaction=True)
async def test_records_and_statistics(connect: Connect, alice: User, bob: User) -> None:
    coin = await sync_to_async(make_coin)(name="cny", decimals=2)
    await sync_to_async(fund)(alice, coin, "100")
    group = await sync_to_async(group_of)(alice, bob)
    a, b = await connect(await atoken_for(alice)), await connect(await atoken_for(bob))
    ids = []
    for total in (1, 2, 3):
        made = await a.ok("redpacket.create", {"chatId": group.wire_id, "type": 2, "total_price": total, "count": 1,
                                              "title": f"p{total}", "password": "pay123"})
        ids.append(made["redPacketId"])
    for pid in ids[:2]:
        await b.ok("redpacket.get", {"redPacketId": pid})
    created = await a.ok("redpacket.record", {"type": 1, "count": 2, "page": 1})
    assert [r["title"] for r in created] == ["p3", "p2"]
    assert [r["title"] for r in await a.ok("redpacket.record", {"type": 1, "count": 2, "page": 2})] == ["p1"]
    received = await b.ok("redpacket.record", {"type": 2})
    assert [r["redPacketId"] for r in received] == [ids[1], ids[0]]
    assert received[0]["users"][0]["userId"] == bob.pk
    assert await a.ok("redpacket.statistics", {"type": 1, "year": 0}) == {"total_price": 6, "count": 3,
                                                                          "top_price_count": 0}
    # one-share lucky packets, all taken: each share is its packet's best luck
    assert await b.ok("redpacket.statistics", {"type": 2, "year": timezone.now().year}) == {
        "total_price": 3, "count": 2, "top_price_count": 2}
    assert (await b.ok("redpacket.statistics", {"type": 2, "year": 2001}))["count"] == 0
    assert '"total_price":6.00,' in await a.raw("redpacket.statistics", {"type": 1, "year": 0})  # the coin's places
    # a packet in another coin (the im/* API can make one) is not added to the default coin's sums
    usdt = await sync_to_async(make_coin)(name="usdt", decimals=6, is_default=False)
    await sync_to_async(fund)(alice, usdt, "5")
    await sync_to_async(redpacket_create)(user=alice, chat_wire_id=group.wire_id, type_=2, title="u", price=None,
                                          total_price="4", count=1, password="pay123", coin_id=usdt.pk)
    assert await a.ok("redpacket.statistics", {"type": 1, "year": 0}) == {"total_price": 6, "count": 3,
                                                                          "top_price_count": 0}


@pytest.mark.django_db(transaction=True)
async def test_expiry_returns_the_rest_once(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    coin = await sync_to_async(make_coin)(name="cny", decimals=2)
    await sync_to_async(fund)(alice, coin, "10")
    group = await sync_to_async(group_of)(alice, bob, charlie)
    a, b, c = [await connect(await atoken_for(u)) for u in (alice, bob, charlie)]
    pid = (await a.ok("redpacket.create", {"chatId": group.wire_id, "type": 3, "price": 2, "count": 3,
                                          "password": "pay123"}))["redPacketId"]
    await b.ok("redpacket.get", {"redPacketId": pid})
    assert await sync_to_async(redpacket_expire_due)() == 0
    await RedPacket.objects.filter(pk=pid).aupdate(expires_at=timezone.now() - timedelta(seconds=1))
    assert await sync_to_async(lambda: expire_redpackets.apply().get())() == 1
    assert await sync_to_async(redpacket_expire_due)() == 0
    assert (await c.call("redpacket.get", {"redPacketId": pid}))["code"] == 410
    detail = await b.ok("redpacket.detail", {"redPacketId": pid})
    assert detail["isExpire"] is True and len(detail["users"]) == 1
    assert await sync_to_async(balance)(alice, coin) == Decimal("8")  # 10 - 6 + the 4 nobody took
    assert await sync_to_async(escrow)(coin) == 0
    records = await a.ok("wallet.records", {"count": 5})
    assert [(r["type"], r["amount"]) for r in records[:2]] == [(7, Decimal("4.00")), (5, Decimal("-6.00"))]
    assert await sync_to_async(ledger_verify)() == []


@pytest.mark.django_db(transaction=True)
async def test_rest_twins(alice: User, bob: User) -> None:
    from django.test import AsyncClient

    from core import jsonwire

    coin = await sync_to_async(make_coin)(name="cny", decimals=2)
    await sync_to_async(fund)(alice, coin, "10")
    group = await sync_to_async(group_of)(alice, bob)
    client = AsyncClient()
    made = await client.post("/api/v1/redpackets", {"chatId": group.wire_id, "type": 2, "total_price": "5",
                                                    "count": 2, "password": "pay123"},
                             content_type="application/json",
                             headers={"Authorization": f"Bearer {await atoken_for(alice)}"})
    assert made.status_code == 200, made.content
    pid = jsonwire.loads(made.content)["redPacketId"]
    bob_auth = {"Authorization": f"Bearer {await atoken_for(bob)}"}
    got = await client.post("/api/v1/redpackets/get", {"redPacketId": pid}, content_type="application/json",
                            headers=bob_auth)
    assert got.status_code == 200 and len(jsonwire.loads(got.content)["users"]) == 1
    seen = await client.get(f"/api/v1/redpackets/detail?redPacketId={pid}", headers=bob_auth)
    assert seen.status_code == 200 and jsonwire.loads(seen.content)["remainCount"] == 1


@pytest.mark.django_db(transaction=True)
async def test_a_packet_past_its_deadline_is_expired_before_the_job_runs(
    connect: Connect, alice: User, bob: User, charlie: User,
) -> None:
    """The deadline is checked by the grab itself: 410, nothing paid, even before the sweep."""
    from django.test import AsyncClient

    coin = await sync_to_async(make_coin)(name="cny", decimals=2)
    await sync_to_async(fund)(alice, coin, "10")
    group = await sync_to_async(group_of)(alice, bob, charlie)
    a, b = await connect(await atoken_for(alice)), await connect(await atoken_for(bob))
    pid = (await a.ok("redpacket.create", {"chatId": group.wire_id, "type": 3, "price": 2, "count": 3,
                                          "password": "pay123"}))["redPacketId"]
    await b.ok("redpacket.get", {"redPacketId": pid})
    await RedPacket.objects.filter(pk=pid).aupdate(expires_at=timezone.now() - timedelta(seconds=1))
    c = await connect(await atoken_for(charlie))
    assert (await c.call("redpacket.get", {"redPacketId": pid}))["code"] == 410
    rest = await AsyncClient().post("/api/v1/redpackets/get", {"redPacketId": pid}, content_type="application/json",
                                    headers={"Authorization": f"Bearer {await atoken_for(charlie)}"})
    assert rest.status_code == 410, rest.content
    assert len((await b.ok("redpacket.get", {"redPacketId": pid}))["users"]) == 1  # bob's tap still answers
    assert await sync_to_async(balance)(charlie, coin) == 0
    assert await RedPacketShare.objects.filter(packet_id=pid, user__isnull=False).acount() == 1
    assert await sync_to_async(redpacket_expire_due)() == 1  # the job still refunds the rest, once
    assert await sync_to_async(balance)(alice, coin) == Decimal("8")
    assert await sync_to_async(ledger_verify)() == []


# --- PostgreSQL races ------------------------------------------------------------------------

@pytest.mark.postgres
def test_200_users_grabbing_100_shares_at_once() -> None:
    coin = make_coin(name="cny", decimals=2)
    sender = make_user(username="sender")
    grabbers = [make_user(username=f"g{i}") for i in range(200)]
    fund(sender, coin, "500")
    chat = group_create(owner=sender, title="Big", member_ids=[u.pk for u in grabbers])
    packet = redpacket_create(user=sender, chat_wire_id=chat.wire_id, type_=2, title="race", price=None,
                              total_price="300", count=100, password="pay123")
    total_before = sum(a.balance for a in Account.objects.filter(coin=coin))

    def grab(i: int) -> object:
        # half the users tap twice at once, as if from two devices
        return redpacket_grab(user=grabbers[i % 200], packet_id=packet.pk)

    results = run_parallel(300, grab)
    wins = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert not [r for r in results if not isinstance(r, (tuple, ApplicationError))], results
    assert all(r.code == "redpacket_all_taken" for r in refused)
    shares = list(RedPacketShare.objects.filter(packet=packet, user__isnull=False))
    assert len(shares) == 100 and len({s.user_id for s in shares}) == 100  # exactly 100, nobody twice
    assert sum(s.amount for s in shares) == Decimal("300")
    assert len({(r[1].pk) for r in wins}) == 100  # every winner's reply names a real share
    packet.refresh_from_db()
    assert packet.status == RedPacket.Status.TAKEN and packet.remaining_count == 0
    assert escrow(coin) == 0
    assert sum(balance(u, coin) for u in grabbers) == Decimal("300")
    assert sum(a.balance for a in Account.objects.filter(coin=coin)) == total_before
    assert not Message.objects.filter(type=Message.Type.RED_PACKET, sub_type=200).exists()  # notices only
    assert ledger_verify() == []


@pytest.mark.postgres
@override_settings(REDPACKET_EXPIRE_SECONDS=3600)
def test_a_packet_expiring_while_being_grabbed_is_paid_and_refunded_once() -> None:
    coin = make_coin(name="cny", decimals=2)
    sender = make_user(username="sender")
    grabbers = [make_user(username=f"g{i}") for i in range(40)]
    fund(sender, coin, "100")
    chat = group_create(owner=sender, title="Big", member_ids=[u.pk for u in grabbers])
    packet = redpacket_create(user=sender, chat_wire_id=chat.wire_id, type_=3, title="race", price="1",
                              total_price=None, count=60, password="pay123")

    def contender(i: int) -> object:
        if i % 10 == 0:  # four expiry jobs among the grabs
            return redpacket_expire_due(now=packet.expires_at)
        return redpacket_grab(user=grabbers[i % 40], packet_id=packet.pk)

    results = run_parallel(44, contender)
    assert not [r for r in results if not isinstance(r, (tuple, int, ApplicationError))], results
    assert sum(r for r in results if isinstance(r, int)) == 1  # one job finished it
    packet.refresh_from_db()
    paid = sum(s.amount for s in RedPacketShare.objects.filter(packet=packet, user__isnull=False))
    assert packet.status == RedPacket.Status.EXPIRED and packet.refunded == Decimal("60") - paid
    assert balance(sender, coin) == Decimal("40") + packet.refunded
    assert sum(balance(u, coin) for u in grabbers) == paid
    assert escrow(coin) == 0
    assert JournalEntry.objects.filter(kind=JournalEntry.Kind.REDPACKET_REFUND).count() == (1 if paid < 60 else 0)
    assert ledger_verify() == []


@pytest.mark.postgres
def test_one_user_tapping_five_times_at_once_never_hears_all_taken() -> None:
    """A user's simultaneous taps get one share; the other taps answer with that share, never
    "all taken" while shares remain, whoever else is grabbing."""
    coin = make_coin(name="cny", decimals=2)
    sender = make_user(username="sender")
    tappers = [make_user(username=f"t{i}") for i in range(4)]
    fund(sender, coin, "100")
    chat = group_create(owner=sender, title="Taps", member_ids=[u.pk for u in tappers])
    for round_ in range(3):
        packet = redpacket_create(user=sender, chat_wire_id=chat.wire_id, type_=3, title=f"taps {round_}",
                                  price="1", total_price=None, count=5, password="pay123")
        # four users, five taps each, five shares: each user must get exactly one share
        pid = packet.pk

        def tap(i: int, pid: int = pid) -> object:
            return redpacket_grab(user=tappers[i % 4], packet_id=pid)

        results = run_parallel(20, tap)
        refused = [r for r in results if not isinstance(r, tuple)]
        assert not refused, refused
        shares = [r[1] for r in results if isinstance(r, tuple)]
        for user in tappers:
            got = {share.pk for share in shares if share.user_id == user.pk}
            assert len(got) == 1, (user, got)
        packet.refresh_from_db()
        assert packet.remaining_count == 1
    assert sum(balance(u, coin) for u in tappers) == Decimal("12")
    assert ledger_verify() == []


@pytest.mark.django_db
def test_a_packet_in_another_coin_for_the_legacy_facade(alice: User, bob: User) -> None:
    make_coin(name="cny", decimals=2)
    usdt = make_coin(name="usdt", decimals=6, is_default=False)
    fund(alice, usdt, "3")
    chat = private_chat_get_or_create(user_id=alice.pk, peer_id=bob.pk)
    packet = redpacket_create(user=alice, chat_wire_id=chat.wire_id, type_=1, title="", price="1.234567",
                              total_price=None, count=1, password="pay123", coin_id=usdt.pk)
    redpacket_grab(user=bob, packet_id=packet.pk)
    assert balance(bob, usdt) == Decimal("1.234567") and balance(alice, usdt) == Decimal("1.765433")
    with pytest.raises(ApplicationError, match="no active coin"):
        redpacket_create(user=alice, chat_wire_id=chat.wire_id, type_=1, title="", price="1", total_price=None,
                         count=1, password="pay123", coin_id=999)
    assert ledger_verify() == []


@pytest.mark.django_db
def test_a_grab_rolled_back_to_break_a_deadlock_is_tried_again(alice: User, bob: User,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import OperationalError

    from redpackets import services

    coin = make_coin(name="cny", decimals=2)
    fund(alice, coin, "10")
    packet = redpacket_create(user=alice, chat_wire_id=group_of(alice, bob).wire_id, type_=2, title="", price=None,
                              total_price="2", count=2, password="pay123")
    real, tries = services._claim, []

    class Deadlock(Exception):
        sqlstate = "40P01"

    def deadlocked_once(*args: object) -> RedPacketShare:
        tries.append(1)
        if len(tries) == 1:
            raise OperationalError("deadlock detected") from Deadlock()
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(services, "_claim", deadlocked_once)
    _, share = redpacket_grab(user=bob, packet_id=packet.pk)
    assert share is not None and share.user_id == bob.pk and len(tries) == 2
    assert ledger_verify() == []
