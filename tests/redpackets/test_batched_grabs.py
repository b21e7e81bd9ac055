"""redpacket.get paid in batches on the native socket (redpackets.fastgrab, PostgreSQL): the
same replies, refusals, pushes and ledger as the ordinary grab, many grabs per transaction."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import AuthSession, User
from accounts.services import session_start
from core.exceptions import ApplicationError
from redpackets import fastgrab
from redpackets.models import RedPacket, RedPacketShare
from tests.accounts.factories import make_user
from tests.conftest import Connect, SocketClient, atoken_for
from tests.redpackets.test_redpackets import balance, escrow, fund, group_of
from tests.wallet.factories import make_coin
from wallet.models import Coin
from wallet.selectors import ledger_verify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@dataclass
class Scene:
    coin: Coin
    users: list[User]
    owner: SocketClient
    sockets: list[SocketClient]
    pid: int


async def setup(connect: Connect, members: int, shares: int, total: str = "10") -> Scene:
    coin = await sync_to_async(make_coin)(name="cny", decimals=2)
    sender = await sync_to_async(make_user)(username="sender")
    users = [await sync_to_async(make_user)(username=f"m{i}") for i in range(members)]
    await sync_to_async(fund)(sender, coin, "100")
    chat = await sync_to_async(group_of)(sender, *users)
    owner = await connect(await atoken_for(sender))
    sockets = [await connect(await atoken_for(u)) for u in users]
    pid = (await owner.ok("redpacket.create", {"chatId": chat.wire_id, "type": 2, "total_price": total,
                                               "count": shares, "password": "pay123"}))["redPacketId"]
    for side in (owner, *sockets):
        await side.push("onMessage")  # the packet itself
    return Scene(coin, users, owner, sockets, pid)


async def grab_all(sockets: list[SocketClient], pid: int) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(s.call("redpacket.get", {"redPacketId": pid}) for s in sockets)))


async def test_members_tapping_at_once_share_batches_and_the_ledger_holds(connect: Connect) -> None:
    sc = await setup(connect, members=12, shares=5)
    coin, users, owner, sockets, pid = sc.coin, sc.users, sc.owner, sc.sockets, sc.pid
    before = dict(fastgrab.BATCHES.stats)
    fastgrab.BATCHES.stats["largest"] = 0
    replies = await grab_all(sockets, pid)
    codes = sorted(r["code"] for r in replies)
    assert codes == [200] * 5 + [402] * 7
    assert fastgrab.BATCHES.stats["done"] > before["done"]
    assert fastgrab.BATCHES.stats["largest"] > 1  # twelve taps at once: more than one per transaction
    fastgrab.BATCHES.stats["largest"] = max(before["largest"], fastgrab.BATCHES.stats["largest"])
    winners = {u.pk for u, r in zip(users, replies, strict=True) if r["code"] == 200}
    shares = [s async for s in RedPacketShare.objects.filter(packet_id=pid, user__isnull=False)]
    assert {s.user_id for s in shares} == winners and len(shares) == 5
    assert sum(s.amount for s in shares) == Decimal("10")
    for user, reply in zip(users, replies, strict=True):
        if reply["code"] == 200:  # who got what, the caller included
            listed = {u["userId"]: u["price"] for u in reply["data"]["users"]}
            assert user.pk in listed and set(listed) <= winners
            assert Decimal(str(listed[user.pk])) == await sync_to_async(balance)(user, coin)
        else:
            assert reply["msg"] == "all shares of this red packet have been taken"
    packet = await RedPacket.objects.aget(pk=pid)
    assert (packet.status, packet.remaining_count) == (RedPacket.Status.TAKEN, 0) and packet.finished_at
    assert await sync_to_async(escrow)(coin) == 0
    assert await sync_to_async(ledger_verify)() == []
    # The sender hears of every grab; every member hears of the last one, once.
    notices = [await owner.push("onMessage") for _ in range(5)]
    assert sorted(n["from"] for n in notices) == sorted(winners)
    assert [n["content"]["isLast"] for n in notices].count(True) == 1
    for user, socket in zip(users, sockets, strict=True):
        seen = []
        while not await socket.nothing(0.2):
            seen.append(await socket.push("onMessage"))
        last = [n for n in seen if n["content"]["isLast"]]
        assert len(last) == 1
        mine = [n for n in seen if n["from"] == user.pk]
        assert len(mine) == (1 if user.pk in winners else 0)


async def test_a_double_tap_in_one_batch_is_paid_once(connect: Connect) -> None:
    sc = await setup(connect, members=2, shares=2)
    users, sockets, pid = sc.users, sc.sockets, sc.pid
    second_device = await connect(await atoken_for(users[0], "pc"))
    replies = await grab_all([sockets[0], second_device, sockets[0]], pid)
    assert [r["code"] for r in replies] == [200, 200, 200]
    assert replies[0]["data"] == replies[1]["data"] == replies[2]["data"]
    assert await RedPacketShare.objects.filter(packet_id=pid, user=users[0]).acount() == 1
    assert (await sockets[1].ok("redpacket.get", {"redPacketId": pid}))["users"][-1]["userId"] == users[1].pk
    assert await sync_to_async(ledger_verify)() == []


async def test_refusals_come_from_the_batch_with_the_ordinary_codes(connect: Connect) -> None:
    sc = await setup(connect, members=2, shares=2)
    owner, sockets, pid = sc.owner, sc.sockets, sc.pid
    stranger = await sync_to_async(make_user)(username="stranger")
    outsider = await connect(await atoken_for(stranger))
    replies = await asyncio.gather(
        outsider.call("redpacket.get", {"redPacketId": pid}),
        owner.call("redpacket.get", {"redPacketId": pid}),
        sockets[0].call("redpacket.get", {"redPacketId": pid + 1000}),
    )
    assert [r["code"] for r in replies] == [401, 400, 404]
    await RedPacket.objects.filter(pk=pid).aupdate(expires_at=timezone.now() - timedelta(seconds=1))
    assert (await sockets[1].call("redpacket.get", {"redPacketId": pid}))["code"] == 410
    assert await RedPacketShare.objects.filter(packet_id=pid, user__isnull=False).acount() == 0
    assert await sync_to_async(ledger_verify)() == []


async def test_a_login_ended_behind_the_sockets_back_takes_nothing(connect: Connect) -> None:
    sc = await setup(connect, members=2, shares=2)
    users, sockets, pid = sc.users, sc.sockets, sc.pid
    # Revoked by a bulk update, which tells no socket: the money re-check still refuses it.
    await AuthSession.objects.filter(user=users[0]).aupdate(revoked_at=timezone.now())
    replies = await grab_all(sockets, pid)
    assert [r["code"] for r in replies] == [401, 200]
    assert await RedPacketShare.objects.filter(packet_id=pid, user=users[0]).acount() == 0
    assert await User.objects.filter(pk=users[1].pk).aexists()
    assert await sync_to_async(ledger_verify)() == []


async def test_a_failed_batch_pays_each_grab_the_ordinary_way(connect: Connect,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    sc = await setup(connect, members=4, shares=3)
    coin, sockets, pid = sc.coin, sc.sockets, sc.pid
    real, calls = fastgrab._post, []

    def failing(*args: Any) -> None:
        calls.append(1)
        real(*args)  # written, then the transaction fails and is rolled back
        raise RuntimeError("connection lost")

    monkeypatch.setattr(fastgrab, "_post", failing)
    replies = await grab_all(sockets, pid)
    assert calls
    assert sorted(r["code"] for r in replies) == [200, 200, 200, 402]
    assert await RedPacketShare.objects.filter(packet_id=pid, user__isnull=False).acount() == 3
    assert await sync_to_async(escrow)(coin) == 0
    assert await sync_to_async(ledger_verify)() == []


async def test_switched_off_every_grab_goes_the_ordinary_way(connect: Connect, settings: Any) -> None:
    settings.REDPACKET_GRABS_BATCHED = False
    sc = await setup(connect, members=3, shares=2)
    sockets, pid = sc.sockets, sc.pid
    before = fastgrab.BATCHES.stats["batches"]
    assert sorted(r["code"] for r in await grab_all(sockets, pid)) == [200, 200, 402]
    assert fastgrab.BATCHES.stats["batches"] == before
    assert await sync_to_async(ledger_verify)() == []


@pytest.mark.django_db(transaction=True)
def test_batches_racing_for_the_last_shares_pay_each_once_and_answer_everyone() -> None:
    """Two batches in the database at once on one packet: the second waits for the first's
    shares instead of refusing early, and every grab is answered by a batch."""
    from chats.services import group_create
    from core.gateway.registry import RpcContext
    from redpackets.services import redpacket_create
    from tests.accounts.test_concurrency import run_parallel

    coin = make_coin(name="cny", decimals=2)
    sender = make_user(username="sender")
    users = [make_user(username=f"r{i}") for i in range(8)]
    fund(sender, coin, "100")
    chat = group_create(owner=sender, title="Race", member_ids=[u.pk for u in users])
    packet = redpacket_create(user=sender, chat_wire_id=chat.wire_id, type_=2, title="", price=None,
                              total_price="3", count=3, password="pay123")
    sessions = [session_start(user=u, device="race")[0].pk for u in users]
    calls = [fastgrab._Grab(RpcContext(user=u, session_id=sid), packet.pk)
             for u, sid in zip(users, sessions, strict=True)]
    results = run_parallel(2, lambda i: fastgrab._store(calls[i * 4:(i + 1) * 4]))
    assert results == [None, None]
    paid = [c for c in calls if isinstance(c.reply, dict)]
    refused = [c.reply for c in calls if isinstance(c.reply, ApplicationError)]
    assert len(paid) == 3 and len(refused) == 5  # nobody left to the ordinary way
    assert {r.code for r in refused} == {"redpacket_all_taken"}
    shares = list(RedPacketShare.objects.filter(packet=packet, user__isnull=False))
    assert {s.user_id for s in shares} == {c.ctx.user.pk for c in paid}
    assert escrow(coin) == 0 and ledger_verify() == []
