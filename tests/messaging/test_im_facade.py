"""The im/* facade of the RongCloud-era im/* documents: every method, with its seed's statuses, against the
same services (and the same end state) as the native socket."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import AsyncClient, Client
from django.utils import timezone

from accounts.models import Block, Friendship, User
from chats.models import Chat, ChatMember
from core import jsonwire
from messaging.models import Message
from redpackets.models import RedPacket
from remittance.models import Remittance
from tests.conftest import Connect, atoken_for, token_for
from tests.wallet.factories import make_coin
from wallet.exchange import exchange_expire_due
from wallet.models import Account, Coin, ExchangeOffer, JournalEntry, Wallet
from wallet.passwords import _hash
from wallet.selectors import ledger_verify
from wallet.services import ledger_transfer, system_account, user_account


def im(client: Client, method: str, session_key: str | None, /, **params: Any) -> dict[str, Any]:
    """A form POST, as the RongCloud-era apps send it."""
    body = {**params, **({"session_key": session_key} if session_key is not None else {})}
    reply = client.post(f"/im/{method}", body)
    assert reply.status_code == 200, reply.content
    return dict(jsonwire.loads(reply.content))


def fund(user: User, coin: Coin, amount: str) -> None:
    Wallet.objects.get_or_create(user=user, defaults={"address": f"W{user.pk}", "password": _hash("pay123")})
    ledger_transfer(kind=JournalEntry.Kind.RECHARGE, source=system_account(kind=Account.Kind.EXTERNAL, coin=coin),
                    target=user_account(user=user, coin=coin), amount=Decimal(amount),
                    idempotency_key=f"fund:{user.pk}:{coin.pk}:{amount}")


@pytest.mark.django_db
def test_every_method_answers_2_without_a_valid_session(alice: User) -> None:
    from messaging.im.views import METHODS

    client = Client()
    for name in METHODS:
        assert im(client, name, None)["status"] == 2, name
        assert im(client, name, "not-a-token")["status"] == 2, name
    assert len(METHODS) == 15


@pytest.mark.django_db
def test_token_profile_and_user_info(alice: User) -> None:
    client, key = Client(), token_for(alice)
    got = im(client, "get_token", key)
    assert got == {"status": 0, "msg": "成功", "data": key}  # the token our sockets take
    assert im(client, "user_info", key)["data"]["user_id"] == str(alice.pk)
    refreshed = im(client, "refresh", key, name="Alice Liddell", portraitUri="https://img.example/a.png")
    assert refreshed["status"] == 0 and refreshed["data"]["portraitUri"] == "https://img.example/a.png"
    info = client.get(f"/im/user_info?session_key={key}").json()  # GET with the key in the query works too
    assert info["data"] == {"user_id": str(alice.pk), "name": "Alice Liddell",
                            "portraitUri": "https://img.example/a.png"}
    assert im(client, "refresh", key, name="x" * 151)["status"] == 1


@pytest.mark.django_db(transaction=True)
async def test_private_message_reaches_the_native_socket(connect: Connect, alice: User, bob: User) -> None:
    client = AsyncClient()
    key = await atoken_for(alice)
    b = await connect(await atoken_for(bob))

    async def send(**params: Any) -> dict[str, Any]:
        reply = await client.post("/im/msg_private_publish", {"session_key": key, **params})
        return dict(jsonwire.loads(reply.content))

    sent = await send(toUserId=bob.pk, objectName="RC:TxtMsg", content='{"content":"hello","extra":""}')
    assert sent["status"] == 0
    pushed = await b.push("onMessage")
    assert pushed["type"] == 1 and pushed["content"] == {"text": "hello"} and pushed["from"] == alice.pk
    assert pushed["messageId"] == sent["data"]["messageId"]
    image = await send(toUserId=bob.pk, objectName="RC:ImgMsg",
                       content='{"content":"/9j/thumb","imageUri":"https://img.example/1.jpg"}')
    assert image["status"] == 0 and (await b.push("onMessage"))["content"]["url"] == "https://img.example/1.jpg"
    where = await send(toUserId=bob.pk, objectName="RC:LBSMsg",
                       content='{"latitude":31.23,"longitude":121.47,"poi":"Bund"}')
    assert where["status"] == 0
    assert (await b.push("onMessage"))["content"] == {"lat": 31.23, "lng": 121.47, "name": "Bund"}
    custom = await send(toUserId=bob.pk, objectName="APP:Poke", content='{"n":1}')
    assert (await b.push("onMessage"))["content"] == {"objectName": "APP:Poke", "n": 1} and custom["status"] == 0
    assert (await send(toUserId=bob.pk, objectName="MSG:RedPacket", content="{}"))["status"] == 1
    assert (await send(toUserId=bob.pk, objectName="RC:ImgMsg", content='{"content":"x"}'))["status"] == 1
    assert (await send(objectName="RC:TxtMsg", content="hi"))["status"] == 1
    assert (await send(toUserId=bob.pk, objectName="RC:TxtMsg"))["status"] == 1
    await Block.objects.acreate(user=bob, blocked=alice)
    assert (await send(toUserId=bob.pk, objectName="RC:TxtMsg", content="hi"))["status"] == 3


@pytest.mark.django_db
def test_groups_create_and_join_with_seed_001_statuses(alice: User, bob: User) -> None:
    client = Client()
    made = im(client, "group_create", token_for(alice), group_name="Readers", memo="books")
    assert made["status"] == 0 and made["data"]["group_name"] == "Readers"
    group_id = made["data"]["group_id"]
    assert im(client, "group_create", token_for(alice), group_name="  ")["status"] == 1
    assert im(client, "group_create", token_for(alice))["status"] == 1
    bob_key = token_for(bob)
    assert im(client, "group_join", bob_key, group_id=group_id)["status"] == 0
    assert im(client, "group_join", bob_key, group_id=group_id)["status"] == 5  # already in
    assert im(client, "group_join", bob_key, group_id="999999")["status"] == 4
    assert im(client, "group_join", bob_key)["status"] == 1
    chat = Chat.objects.get(pk=int(group_id))
    assert set(ChatMember.objects.filter(chat=chat).values_list("user_id", flat=True)) == {alice.pk, bob.pk}


@pytest.mark.django_db
def test_friends_add_and_list(alice: User, bob: User, charlie: User) -> None:
    client, key = Client(), token_for(alice)
    assert im(client, "friend_list", key)["status"] == 1  # empty list
    assert im(client, "friend_add", key)["status"] == 1
    assert im(client, "friend_add", key, user_id=999999)["status"] == 3
    User.objects.filter(pk=bob.pk).update(friend_policy=User.FriendPolicy.ANYONE)  # added at once
    added = im(client, "friend_add", key, user_id=bob.pk)
    assert added["status"] == 0 and added["data"]["pending"] is False
    assert im(client, "friend_add", key, user_id=bob.pk)["status"] == 4
    Block.objects.create(user=charlie, blocked=alice)
    assert im(client, "friend_add", key, user_id=charlie.pk)["status"] == 5
    assert im(client, "friend_add", key, user_id=alice.pk)["status"] == 6
    listed = im(client, "friend_list", key)
    assert listed["status"] == 0 and [f["uId"] for f in listed["data"]] == [bob.pk]
    assert Friendship.objects.filter(user=bob, friend=alice).exists()  # native state: mutual friends


@pytest.mark.django_db
def test_red_packet_and_transfer_through_the_facade(alice: User, bob: User, charlie: User) -> None:
    cny = make_coin(name="cny", decimals=2)
    usdt = make_coin(name="usdt", decimals=6, is_default=False)
    fund(alice, cny, "100")
    fund(alice, usdt, "5")
    fund(bob, cny, "0.01")
    client, key, bob_key = Client(), token_for(alice), token_for(bob)

    def publish(**params: Any) -> dict[str, Any]:
        return im(client, "msg_redpack_publish", key, **{"toUserId": bob.pk, "coin_id": cny.pk, "amount": "8.88",
                                                          "wallet_pwd": "pay123", **params})

    assert publish(toUserId="")["status"] == 1
    assert publish(coin_id="")["status"] == 4
    assert publish(amount="")["status"] == 4
    assert publish(coin_id=999)["status"] == 5
    assert publish(amount="0.001")["status"] == 6
    assert publish(amount="150")["status"] == 7
    assert publish(wallet_pwd="nope12")["status"] == 8
    packet = publish(content="lucky you")
    assert packet["status"] == 0 and packet["data"]["transfer_id"].endswith("1")
    in_usdt = publish(coin_id=usdt.pk, amount="1.5")
    assert in_usdt["status"] == 0
    transfer = publish(wrap=2, amount="20")
    assert transfer["status"] == 0 and transfer["data"]["transfer_id"].endswith("2")
    assert publish(wrap=2, coin_id=usdt.pk)["status"] == 7  # any active coin; alice has 5 - 1.5 usdt
    assert publish(wrap=2, coin_id=999)["status"] == 5
    assert publish(wrap=3)["status"] == 1

    tid = packet["data"]["transfer_id"]
    detail = im(client, "msg_get_transfer", bob_key, transfer_id=tid)["data"]
    assert detail["transfer_log"]["status"] == "50" and detail["transfer_log"]["wrap"] == "1"
    assert detail["transfer_log"]["amount"] == "8.88" and detail["transfer_log"]["memo"] == "lucky you"
    assert detail["from_user"]["id"] == str(alice.pk) and detail["to_user"]["id"] == str(bob.pk)
    assert detail["coin_info"]["name"] == "cny" and set(detail["to_user"]) == {"id", "name", "icon", "extra"}
    assert im(client, "msg_get_transfer", token_for(charlie), transfer_id=tid)["status"] == 4  # not yours
    assert im(client, "msg_get_transfer", bob_key, transfer_id="abc")["status"] == 4  # 1 is this method's success

    assert im(client, "msg_redpack_accept", key, transfer_id=tid)["status"] == 5  # own packet
    assert im(client, "msg_redpack_accept", token_for(charlie), transfer_id=tid)["status"] == 5
    accepted = im(client, "msg_redpack_accept", bob_key, transfer_id=tid)
    assert accepted["status"] == 0 and accepted["data"]["amount"] == "8.88"
    assert im(client, "msg_get_transfer", bob_key, transfer_id=tid)["data"]["transfer_log"]["status"] == "100"
    assert im(client, "msg_redpack_accept", bob_key, transfer_id="9991")["status"] == 4
    assert im(client, "msg_redpack_accept", bob_key)["status"] == 1

    ttid = transfer["data"]["transfer_id"]
    assert im(client, "msg_redpack_accept", token_for(charlie), transfer_id=ttid)["status"] == 4  # not a party
    assert im(client, "msg_redpack_accept", bob_key, transfer_id=ttid)["status"] == 0
    assert im(client, "msg_redpack_accept", bob_key, transfer_id=ttid)["status"] == 4  # nothing left to take
    log = im(client, "msg_get_transfer", key, transfer_id=ttid)["data"]["transfer_log"]
    assert log["status"] == "100" and log["wrap"] == "2" and log["amount"] == "20.00"
    # the same state as the native services see
    assert RedPacket.objects.get(pk=int(tid) // 10).status == RedPacket.Status.TAKEN
    assert Remittance.objects.get(pk=int(ttid) // 10).status == Remittance.Status.RECEIVED
    assert user_account(user=bob, coin=cny).balance == Decimal("28.89")
    assert Message.objects.filter(type__in=[2, 5]).count() >= 3
    assert ledger_verify() == []


@pytest.mark.django_db
def test_exchange_through_the_facade_matches_seed_000(alice: User, bob: User, charlie: User) -> None:
    usdt = make_coin(name="usdt", decimals=6)
    eth = make_coin(name="eth", decimals=18, is_default=False)
    fund(alice, usdt, "100")
    fund(bob, eth, "60")
    client, key, bob_key = Client(), token_for(alice), token_for(bob)

    def publish(**params: Any) -> dict[str, Any]:
        return im(client, "msg_exchange_publish", key, **{
            "from_coin_id": usdt.pk, "from_coin_amount": "100", "toUserId": bob.pk, "to_coin_id": eth.pk,
            "to_coin_amount": "50", "wallet_pwd": "pay123", "content": "兑换红包", **params})

    assert publish(from_coin_id="")["status"] == 4
    assert publish(to_coin_id=999)["status"] == 5
    assert publish(from_coin_amount="100.0000001")["status"] == 6
    assert publish(from_coin_amount="101")["status"] == 7
    assert publish(wallet_pwd="nope12")["status"] == 8
    made = publish()
    assert made["status"] == 1  # the older generation's success, as its document says
    eid = made["data"]["exchange_id"]
    assert im(client, "msg_exchange_accept", key, exchange_id=eid, wallet_pwd="pay123")["status"] == 5
    assert im(client, "msg_exchange_accept", bob_key, exchange_id=eid, wallet_pwd="pay123")["status"] == 1
    assert im(client, "msg_exchange_accept", bob_key, exchange_id=eid, wallet_pwd="pay123")["status"] == 4
    shown = im(client, "msg_get_exchange", bob_key, exchange_id=eid)
    assert shown["status"] == 1
    data = shown["data"]
    assert set(data) == {"from_user", "to_user", "from_coin_info", "to_coin_info", "exchange_log"}
    assert data["exchange_log"] == {
        "id": eid, "from_user_id": str(alice.pk), "from_coin_id": str(usdt.pk), "from_coin_amount": "100.000000",
        "to_user_id": str(bob.pk), "to_coin_id": str(eth.pk), "to_coin_amount": "50.000000000000000000",
        "memo": "兑换红包", "status": "100", "update_time": data["exchange_log"]["update_time"],
        "create_time": data["exchange_log"]["create_time"]}
    assert data["from_user"]["fomo_id"] == "alice" and data["to_coin_info"]["decimals"] == "18"
    assert im(client, "msg_get_exchange", token_for(charlie), exchange_id=eid)["status"] == 4
    assert im(client, "msg_get_exchange", bob_key)["status"] == 4
    # an offer nobody takes expires and reads 400
    other = publish(from_coin_amount="0", to_coin_amount="1")
    assert other["status"] == 6
    fund(alice, usdt, "7")
    late = publish(from_coin_amount="7", to_coin_amount="1")["data"]["exchange_id"]
    ExchangeOffer.objects.filter(pk=int(late)).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert im(client, "msg_exchange_accept", bob_key, exchange_id=late, wallet_pwd="pay123")["status"] == 4
    exchange_expire_due()
    assert im(client, "msg_get_exchange", key, exchange_id=late)["data"]["exchange_log"]["status"] == "400"
    assert user_account(user=alice, coin=usdt).balance == Decimal("7")
    assert ledger_verify() == []
