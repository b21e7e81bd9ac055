"""The dashboard on the console's home page: after real actions /admin/ shows the right figures,
kept for DASHBOARD_CACHE_SECONDS, in a bounded number of queries, each only to operators who may
view its model."""
from __future__ import annotations

import html
import re
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.test import Client, override_settings

from accounts import presence
from accounts.models import User
from chats.services import group_create
from core.resync import PROCESS_ID
from redpackets.models import RedPacket
from redpackets.services import redpacket_create
from redpackets.tasks import expire_redpackets
from remittance.services import remit
from tests.conftest import Connect, atoken_for, token_for
from tests.wallet.factories import make_coin
from wallet.cashier import recharge_credit, withdrawal_request
from wallet.models import Wallet
from wallet.passwords import _hash


def operator() -> Client:
    User.objects.create_superuser("root", password="rootpass1")
    client = Client()
    assert client.login(username="root", password="rootpass1")
    return client


def figures(page: Any) -> dict[str, str]:
    """The dashboard's figures by name (the slug of each row's label), as the operator reads them."""
    assert page.status_code == 200
    text = page.content.decode()
    cells = re.findall(r'data-figure="([a-z0-9-]+)">(.*?)</td>', text, re.S)
    return {name: html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for name, cell in cells}


def job_row(page: Any, entry: str) -> str:
    found = re.search(rf'<tr[^>]*data-job="{re.escape(entry)}">(.*?)</tr>', page.content.decode(), re.S)
    assert found, entry
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


def money(alice: User, bob: User) -> None:
    """A red packet, a remittance and a withdrawal: 2 + 3 + 5.5 cny held in escrow."""
    coin = make_coin(name="cny", decimals=2)
    make_coin(name="usdt", decimals=6, is_default=False)
    for user in (alice, bob):
        Wallet.objects.create(user=user, address=f"W{user.pk}", password=_hash("pay123"))
    recharge_credit(operator=bob, user=alice, coin=coin, amount=Decimal("50"), reason="test", idempotency_key="k")
    group = group_create(owner=alice, title="Team", member_ids=[bob.pk])
    redpacket_create(user=alice, chat_wire_id=group.wire_id, type_=2, title="hi", price=None, total_price="2",
                     count=2, password="pay123")
    remit(payer=alice, payee_id=bob.pk, amount="3", password="pay123", type_=1)
    withdrawal_request(user=alice, amount="5.5", password="pay123")


def queue_a_visitor() -> None:
    from tests.jim.conftest import KEY, register, vanke

    with override_settings(DESK_API_KEY=KEY):
        register("agent-1", 1)  # an agent, not online: the visitor waits
        reply = vanke("getReceiver", {"senderId": "v1", "nick": "v1", "terminal": "wx", "token": "token-of-v1",
                                      "type": 0})
    assert reply["data"]["status"] == "queued"


@pytest.mark.django_db(transaction=True)
async def test_the_home_page_shows_what_happened(connect: Connect, alice: User, bob: User,
                                                 settings: Any) -> None:
    settings.DASHBOARD_CACHE_SECONDS = 0
    client = await sync_to_async(operator)()
    get = sync_to_async(client.get)
    before = figures(await get("/admin/"))
    assert before["users"] == "3"  # alice, bob, root
    assert before["users-active-today"] == "0"
    assert before["sockets-online-now"] == "0"
    assert before["red-packets-open"] == "0" and before["withdrawals-pending"] == "0"
    assert before["desk-queue"] == "0"

    await sync_to_async(money)(alice, bob)
    a = await connect(await atoken_for(alice))
    await connect(await atoken_for(bob))
    messages_before = int(figures(await get("/admin/"))["messages-today"])
    for n in range(3):
        await a.ok("messages.send", {"to": bob.pk, "type": 1, "content": {"text": f"m{n}"}, "clientMsgId": f"d{n}"})
    await sync_to_async(queue_a_visitor)()

    page = await get("/admin/")
    shown = figures(page)
    assert shown["users"] == "5"  # and the desk's agent and visitor
    # alice and bob, and the desk agent and visitor (registered with a login token); not root, who
    # logged in to the console only
    assert shown["users-active-today"] == "4"
    assert shown["sockets-online-now"] == "2"
    assert int(shown["messages-today"]) == messages_before + 3
    assert Decimal(shown["messages-per-minute"]) == Decimal(messages_before + 3) / 5  # all within 5 minutes
    assert shown["red-packets-open"] == "1" and "red-packets-past-their-deadline" not in shown
    assert shown["remittances-open"] == "1"
    assert shown["in-escrow-cny"] == "10.50"  # the coin's two decimals
    assert shown["withdrawals-pending"] == "1"
    assert shown["desk-queue"] == "1"
    assert shown["ledger"] == "balanced"
    text = page.content.decode()
    assert "no full verification recorded yet" in text
    scope = ("this process (the embedded default" if not django_settings.CACHE_REDIS_URL
             else "this server process only")  # the tests run without the process heartbeats
    assert scope in text
    # each figure links to its list, filtered
    assert 'href="/admin/redpackets/redpacket/?status__exact=50"' in text
    assert 'href="/admin/wallet/withdrawal/?status__exact=50"' in text
    assert "/admin/wallet/journalentry/verify/" in text
    assert "no run recorded" in job_row(page, "redpackets-expire")

    # a packet past its deadline waits for the expiry job, which then refunds it
    await RedPacket.objects.filter(status=RedPacket.Status.ACTIVE).aupdate(expires_at=time_ago(60))
    overdue = figures(await get("/admin/"))
    assert overdue["red-packets-past-their-deadline"] == "1"
    await sync_to_async(expire_redpackets.delay)()
    assert (await get("/admin/wallet/journalentry/verify/")).status_code == 200  # a full verification
    page = await get("/admin/")
    after = figures(page)
    assert after["red-packets-open"] == "0" and "red-packets-past-their-deadline" not in after
    assert after["in-escrow-cny"] == "8.50"  # the packet's 2 went back to alice
    assert "ok, settled 1" in job_row(page, "redpackets-expire")
    assert "no run recorded" in job_row(page, "remittance-expire")
    assert "OK (Verify ledger runs it)" in page.content.decode()


def time_ago(seconds: int) -> Any:
    from django.utils import timezone

    return timezone.now() - timedelta(seconds=seconds)


@pytest.mark.django_db
def test_a_failed_job_run_shows_its_error(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.DASHBOARD_CACHE_SECONDS = 0
    client = operator()

    def broken(**_: Any) -> int:
        raise RuntimeError("database on fire")

    monkeypatch.setattr("remittance.services.expire_due", broken)
    with pytest.raises(RuntimeError):
        from remittance.tasks import expire_remittances

        expire_remittances.delay()
    row = job_row(client.get("/admin/"), "remittance-expire")
    assert "failed: RuntimeError: database on fire" in row


@pytest.mark.django_db
def test_the_figures_are_kept_for_dashboard_cache_seconds(settings: Any, user_factory: Any) -> None:
    settings.DASHBOARD_CACHE_SECONDS = 60
    client = operator()
    assert figures(client.get("/admin/"))["users"] == "1"
    user_factory(username="newcomer")
    assert figures(client.get("/admin/"))["users"] == "1"  # the cached figures
    settings.DASHBOARD_CACHE_SECONDS = 0  # as if they had expired
    assert figures(client.get("/admin/"))["users"] == "2"


@pytest.mark.django_db
def test_the_dashboard_costs_a_bounded_number_of_queries(alice: User, bob: User, settings: Any,
                                                         django_assert_max_num_queries: Any) -> None:
    settings.DASHBOARD_CACHE_SECONDS = 0
    money(alice, bob)
    for n in range(5):
        token_for(alice, f"device-{n}")
    client = operator()
    client.get("/admin/")  # the session's first load
    # the page itself (session, user, recent actions...) and ten counts and aggregates, whatever the rows
    with django_assert_max_num_queries(17):
        page = client.get("/admin/")
    assert figures(page)["in-escrow-cny"] == "10.50"
    settings.DASHBOARD_CACHE_SECONDS = 5
    client.get("/admin/")
    with django_assert_max_num_queries(7):  # the figures come from the cache
        assert figures(client.get("/admin/"))["in-escrow-cny"] == "10.50"


@pytest.mark.django_db
def test_staff_see_only_the_figures_they_may_view(settings: Any, alice: User, bob: User) -> None:
    settings.DASHBOARD_CACHE_SECONDS = 0
    money(alice, bob)
    staff = User.objects.create_user("clerk", password="clerkpass1", is_staff=True)
    client = Client()
    assert client.login(username="clerk", password="clerkpass1")
    page = client.get("/admin/")
    assert page.status_code == 200 and figures(page) == {} and 'id="dashboard"' not in page.content.decode()

    staff.user_permissions.add(Permission.objects.get(codename="view_redpacket"),
                               Permission.objects.get(codename="view_withdrawal"))
    page = client.get("/admin/")
    assert figures(page) == {"red-packets-open": "1", "withdrawals-pending": "1"}
    text = page.content.decode()
    assert 'data-job="redpackets-expire"' in text and 'data-job="remittance-expire"' not in text


@pytest.mark.django_db
def test_sockets_are_counted_over_every_heartbeating_process(settings: Any) -> None:
    """With Redis, the count adds the sockets each live server process registered."""
    if not django_settings.CACHE_REDIS_URL:
        pytest.skip("the embedded default has one process")
    settings.RESYNC_ENABLED = True
    store = presence.RedisStore(django_settings.CACHE_REDIS_URL)
    now = time.time()
    store.add(1, "here-1", now)  # this process
    redis = store._redis
    processes = f"{django_settings.DEPLOYMENT_PREFIX}:processes"
    redis.zadd(processes, {"other-host:1:x": now, "dead-host:2:y": now - 3600})
    redis.sadd(store.process_key("other-host:1:x"), "2 there-1", "3 there-2")
    redis.sadd(store.process_key("dead-host:2:y"), "4 gone-1")
    try:
        assert store.socket_count(now) == (3, True)  # not the dead process's
        settings.RESYNC_ENABLED = False
        assert store.socket_count(now) == (1, False)
    finally:
        redis.delete(processes, store.process_key("other-host:1:x"), store.process_key("dead-host:2:y"),
                     store.process_key(PROCESS_ID))

