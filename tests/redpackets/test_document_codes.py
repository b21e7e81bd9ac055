"""redpacket.create answers the native document's code 402 ("单个红包金额少于0.01", a share under
0.01) for every amount under the minimum share, zero included (a lucky packet sent with
"price":0), where it used to answer 422; 422 stays for what the document has no code for (an
amount finer than the coin). Nothing is stored and no money moves on any of them."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from accounts.models import User
from messaging.models import Message
from redpackets.models import RedPacket
from tests.conftest import Connect, atoken_for
from tests.redpackets.test_redpackets import balance, fund, group_of
from tests.wallet.factories import make_coin
from wallet.selectors import ledger_verify

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def seed_create(chat_id: int, **fields: Any) -> dict[str, Any]:
    """The document's redpacket.create request: chatId, type, title, price, total_price, count, password."""
    return {"chatId": chat_id, "type": 2, "title": "恭喜发财", "price": 2, "total_price": 10, "count": 5,
            "password": "pay123", **fields}


@pytest.mark.parametrize(("fields", "code"), [
    ({"type": 2, "price": 0}, 402),  # a lucky packet with "price":0
    ({"type": 2, "price": 0, "total_price": 0}, 402),
    ({"type": 2, "price": "0.00", "total_price": "0.04"}, 402),  # five shares of 0.008
    ({"type": 3, "price": 0.001, "total_price": 0.005}, 402),  # an equal share under 0.01
    ({"type": 3, "price": 0.009, "total_price": None}, 402),
    ({"type": 3, "price": -1, "total_price": None}, 402),
    ({"type": 3, "price": 1.001, "total_price": None}, 422),  # finer than the coin: the document has no code
    ({"type": 3, "price": "abc", "total_price": None}, 422),  # not a number
])
async def test_a_share_under_the_minimum_answers_402(connect: Connect, alice: User, bob: User,
                                                     fields: dict[str, Any], code: int) -> None:
    coin = await sync_to_async(make_coin)(name="cny", decimals=2)
    await sync_to_async(fund)(alice, coin, "100")
    chat = await sync_to_async(group_of)(alice, bob)
    socket = await connect(await atoken_for(alice))
    frame = {k: v for k, v in seed_create(chat.wire_id, **fields).items() if v is not None}
    reply = await socket.call("redpacket.create", frame)
    assert reply["code"] == code, reply
    if code == 402:
        assert reply["msg"] == "each share must be at least 0.01"
    assert await sync_to_async(balance)(alice, coin) == Decimal("100")
    assert await RedPacket.objects.acount() == 0
    assert not await Message.objects.filter(type=Message.Type.RED_PACKET).aexists()
    assert await sync_to_async(ledger_verify)() == []


async def test_a_single_packet_of_zero_answers_402(connect: Connect, alice: User, bob: User) -> None:
    from chats.services import private_chat_get_or_create

    coin = await sync_to_async(make_coin)(name="cny", decimals=2)
    await sync_to_async(fund)(alice, coin, "100")
    chat = await sync_to_async(private_chat_get_or_create)(user_id=alice.pk, peer_id=bob.pk)
    socket = await connect(await atoken_for(alice))
    reply = await socket.call("redpacket.create", seed_create(chat.wire_id, type=1, price=0, total_price=0, count=1))
    assert reply["code"] == 402
    ok = await socket.call("redpacket.create", seed_create(chat.wire_id, type=1, price=0.01, total_price=0.01, count=1))
    assert ok["code"] == 200, ok  # the minimum itself is fine
