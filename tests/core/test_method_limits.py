"""Per-user limits of single methods, over the native socket (and the protocols sharing them):
call.create, remittance.remind, exchange.publish."""
from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import User
from chats.services import private_chat_get_or_create
from tests.conftest import Connect, atoken_for
from tests.remittance.test_remittance import prepare as prepare_remit
from tests.remittance.test_remittance import remit_params
from tests.wallet.test_exchange import offer_params
from tests.wallet.test_exchange import prepare as prepare_exchange

pytestmark = pytest.mark.django_db(transaction=True)


@override_settings(CALL_CREATE_PER_MINUTE=2)
async def test_call_create_is_limited_per_user(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    chat = await sync_to_async(private_chat_get_or_create)(user_id=alice.pk, peer_id=bob.pk)
    a = await connect(await atoken_for(alice, "phone"))
    pc = await connect(await atoken_for(alice, "pc"))
    codes = []
    for client in (a, pc, a):
        made = await client.call("call.create", {"to": [bob.pk], "chatId": chat.wire_id})
        codes.append(made["code"])
        if made["code"] == 200:
            await client.ok("call.cancel", {"callId": made["data"]["callId"]})
    assert codes == [200, 200, 429]
    assert (await a.call("call.create", {"to": [], "chatId": chat.wire_id}))["code"] == 422  # checked first
    other = await sync_to_async(private_chat_get_or_create)(user_id=charlie.pk, peer_id=bob.pk)
    c = await connect(await atoken_for(charlie))
    assert (await c.call("call.create", {"to": [bob.pk], "chatId": other.wire_id}))["code"] == 200


@override_settings(REMITTANCE_REMIND_PER_HOUR=2)
async def test_remittance_remind_is_limited_per_user_on_socket_and_rest(
    connect: Connect, alice: User, bob: User
) -> None:
    await sync_to_async(prepare_remit)(alice)
    a = await connect(await atoken_for(alice))
    rid = (await a.ok("remittance.remit", remit_params(bob, amount=3)))["remittanceId"]
    assert (await a.call("remittance.remind", {"remittanceId": rid}))["code"] == 200
    assert (await a.call("remittance.remind", {"remittanceId": rid}))["code"] == 200
    assert (await a.call("remittance.remind", {"remittanceId": rid}))["code"] == 429
    rest = APIClient()
    rest.credentials(HTTP_AUTHORIZATION=f"Bearer {await atoken_for(alice, 'web')}")
    response = await sync_to_async(rest.post)(f"/api/v1/remittances/{rid}/remind", {}, format="json")
    assert response.status_code == 429


@override_settings(EXCHANGE_PUBLISH_PER_HOUR=2)
async def test_exchange_publish_is_limited_per_user_with_the_im_facade(
    connect: Connect, alice: User, bob: User
) -> None:
    cny, usdt = await sync_to_async(prepare_exchange)(alice, bob)
    a = await connect(await atoken_for(alice))
    first = await a.call("exchange.publish", offer_params(cny, usdt, bob, fromAmount=1))
    token = await atoken_for(alice, "im")
    im = await sync_to_async(APIClient().post)("/im/msg_exchange_publish", {
        "session_key": token, "toUserId": bob.pk, "from_coin_id": cny.pk, "from_coin_amount": "1",
        "to_coin_id": usdt.pk, "to_coin_amount": "1", "wallet_pwd": "pay123"})
    third = await a.call("exchange.publish", offer_params(cny, usdt, bob, fromAmount=1))
    assert first["code"] == 200 and im.json()["status"] == 1  # the older generation's success
    assert third["code"] == 429
    refused = await sync_to_async(APIClient().post)("/im/msg_exchange_publish", {
        "session_key": token, "toUserId": bob.pk, "from_coin_id": cny.pk, "from_coin_amount": "1",
        "to_coin_id": usdt.pk, "to_coin_amount": "1", "wallet_pwd": "pay123"})
    assert refused.json()["status"] == 3 and "exchange.publish" in refused.json()["msg"]
