"""Phone numbers and e-mails in the ``im/*`` user objects follow the owner's privacy."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from accounts.models import Block, Friendship, User
from tests.conftest import token_for
from tests.messaging.test_im_facade import fund, im
from tests.wallet.factories import make_coin


def offer_a_millionth(alice: User, bob: User) -> str:
    usdt = make_coin(name="usdt", decimals=6)
    eth = make_coin(name="eth", decimals=18, is_default=False)
    fund(alice, usdt, "1")
    made = im(Client(), "msg_exchange_publish", token_for(alice), from_coin_id=usdt.pk, from_coin_amount="0.000001",
              toUserId=bob.pk, to_coin_id=eth.pk, to_coin_amount="1", wallet_pwd="pay123")
    assert made["status"] == 1, made  # success is 1 for the older generation's methods
    return str(made["data"]["exchange_id"])


def contact(data: dict[str, Any], side: str) -> tuple[Any, Any]:
    return data[side]["phone"], data[side]["email"]


@pytest.mark.django_db
def test_a_stranger_reading_an_exchange_sees_no_phone_or_email(alice: User, bob: User) -> None:
    User.objects.filter(pk__in=[alice.pk, bob.pk]).update(email="secret@example.com")
    eid = offer_a_millionth(alice, bob)
    client = Client()
    for searchable in (False, True):  # phone search on or off, a stranger sees neither
        User.objects.filter(pk=alice.pk).update(phone_searchable=searchable)
        seen = im(client, "msg_get_exchange", token_for(bob), exchange_id=eid)["data"]
        assert contact(seen, "from_user") == (None, None), seen["from_user"]
        assert seen["from_user"]["fomo_id"] == "alice"
        assert contact(seen, "to_user") == ("13800000002", "secret@example.com")  # bob's own
    own = im(client, "msg_get_exchange", token_for(alice), exchange_id=eid)["data"]
    assert contact(own, "from_user") == ("13800000001", "secret@example.com")
    assert contact(own, "to_user") == (None, None)


@pytest.mark.django_db
def test_a_friend_sees_the_phone_only_while_phone_search_is_on(alice: User, bob: User) -> None:
    User.objects.filter(pk=alice.pk).update(email="alice@example.com")
    eid = offer_a_millionth(alice, bob)
    Friendship.objects.bulk_create([Friendship(user=alice, friend=bob), Friendship(user=bob, friend=alice)])
    client, bob_key = Client(), token_for(bob)
    seen = im(client, "msg_get_exchange", bob_key, exchange_id=eid)["data"]
    assert contact(seen, "from_user") == ("13800000001", None)  # never the e-mail
    User.objects.filter(pk=alice.pk).update(phone_searchable=False)
    assert contact(im(client, "msg_get_exchange", bob_key, exchange_id=eid)["data"], "from_user") == (None, None)
    User.objects.filter(pk=alice.pk).update(phone_searchable=True)
    Block.objects.create(user=alice, blocked=bob)
    assert contact(im(client, "msg_get_exchange", bob_key, exchange_id=eid)["data"], "from_user") == (None, None)


@pytest.mark.django_db
def test_a_red_packets_sender_is_shown_without_contact_details(alice: User, bob: User) -> None:
    cny = make_coin(name="cny", decimals=2)
    fund(alice, cny, "10")
    client = Client()
    made = im(client, "msg_redpack_publish", token_for(alice), toUserId=bob.pk, coin_id=cny.pk, amount="1",
              wallet_pwd="pay123")
    assert made["status"] == 0, made
    tid = made["data"]["transfer_id"]
    seen = im(client, "msg_get_transfer", token_for(bob), transfer_id=tid)["data"]
    assert contact(seen, "from_user") == (None, None)
    sent = im(client, "msg_redpack_publish", token_for(alice), toUserId=bob.pk, coin_id=cny.pk, amount="2", wrap=2,
              wallet_pwd="pay123")
    assert sent["status"] == 0, sent
    seen = im(client, "msg_get_transfer", token_for(bob), transfer_id=sent["data"]["transfer_id"])["data"]
    assert contact(seen, "from_user") == (None, None)
    own = im(client, "msg_get_transfer", token_for(alice), transfer_id=tid)["data"]
    assert own["from_user"]["phone"] == "13800000001"
    assert Decimal(seen["transfer_log"]["amount"]) == Decimal("2")
