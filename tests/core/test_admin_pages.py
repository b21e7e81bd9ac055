"""The operators' console: every admin page loads, and the actions act through the services."""
from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from accounts.models import AuthSession, User
from chats.models import Chat
from chats.services import group_create
from tests.conftest import Connect, atoken_for, token_for
from tests.wallet.factories import make_coin
from wallet.cashier import recharge_credit
from wallet.models import Wallet
from wallet.passwords import _hash
from wallet.selectors import ledger_verify


def operator() -> Client:
    User.objects.create_superuser("root", password="rootpass1")
    client = Client()
    assert client.login(username="root", password="rootpass1")
    return client


def some_data(alice: User, bob: User) -> None:
    """One row of most models, so change pages have something to show."""
    from calls.services import call_create
    from chats.services import private_chat_get_or_create
    from redpackets.services import redpacket_create
    from wallet.exchange import exchange_publish

    coin = make_coin(name="cny", decimals=2)
    usdt = make_coin(name="usdt", decimals=6, is_default=False)
    for user in (alice, bob):
        Wallet.objects.create(user=user, address=f"W{user.pk}", password=_hash("pay123"))
    recharge_credit(operator=bob, user=alice, coin=coin, amount=Decimal("50"), reason="test", idempotency_key="k")
    group = group_create(owner=alice, title="Team", member_ids=[bob.pk])
    redpacket_create(user=alice, chat_wire_id=group.wire_id, type_=2, title="hi", price=None, total_price="2",
                     count=2, password="pay123")
    exchange_publish(user=alice, to_user_id=bob.pk, from_coin_id=coin.pk, from_amount="1", to_coin_id=usdt.pk,
                     to_amount="1", password="pay123")
    chat = private_chat_get_or_create(user_id=alice.pk, peer_id=bob.pk)
    call_create(user=alice, to=[bob.pk], chat_wire_id=chat.wire_id, is_meeting=False,
                is_video=False)
    token_for(alice)


@pytest.mark.django_db
def test_every_admin_page_loads(alice: User, bob: User) -> None:
    some_data(alice, bob)
    client = operator()
    assert client.get("/admin/").status_code == 200
    checked = 0
    for model, _model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code == 200, info
        search = client.get(reverse("admin:{}_{}_changelist".format(*info)), {"q": "a"})
        assert search.status_code == 200, info  # every search_fields path is valid
        add = client.get(reverse("admin:{}_{}_add".format(*info)))
        assert add.status_code in (200, 403), info
        first = model._default_manager.first()
        if first is not None:
            change = client.get(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
            assert change.status_code == 200, info
        checked += 1
    assert checked >= 24  # every model the console manages (more come with later apps)


@pytest.mark.django_db
def test_reset_sessions_logs_a_user_out_everywhere(alice: User) -> None:
    token_for(alice, "phone")
    token_for(alice, "pad")
    client = operator()
    done = client.post("/admin/accounts/user/", {"action": "end_sessions", "_selected_action": [alice.pk]})
    assert done.status_code == 302
    assert not AuthSession.objects.filter(user=alice, revoked_at__isnull=True).exists()
    alice.refresh_from_db()
    assert alice.is_active  # unlike a ban


@pytest.mark.django_db(transaction=True)
async def test_group_rights_and_keywords_from_the_admin_reach_members(connect: Connect, alice: User,
                                                                       bob: User) -> None:
    group = await sync_to_async(group_create)(owner=alice, title="Team", member_ids=[bob.pk])
    member = await connect(await atoken_for(bob))
    client = await sync_to_async(operator)()
    page = await sync_to_async(client.post)(f"/admin/chats/chat/{group.pk}/change/", {
        "ban_send_web_link": "on", "ban_send_keyword": "on", "keywords": "spam\nscam\n", "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0", "members-MIN_NUM_FORMS": "0", "members-MAX_NUM_FORMS": "1000"})
    assert page.status_code == 302
    rights = await member.push("chats.rights.onUpdate")
    assert rights["banSendWebLink"] is True
    assert (await member.push("chats.keywords.onUpdate"))["keywords"] == ["spam", "scam"]
    chat = await Chat.objects.aget(pk=group.pk)
    assert chat.ban_send_web_link and chat.filter_keywords == ["spam", "scam"]
    sent = await member.call("messages.send", {"chatId": group.wire_id, "type": 1, "content": {"text": "a scam"}})
    assert sent["code"] == 462


@pytest.mark.django_db
def test_operator_money_actions_keep_the_books(alice: User, bob: User) -> None:
    some_data(alice, bob)
    client = operator()
    assert client.get("/admin/wallet/journalentry/verify/").status_code == 200
    assert ledger_verify() == []
