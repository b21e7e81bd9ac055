"""wallet.setPassword, web.account.setWalletPassword and web.account.checkWalletPassword over the socket."""
from __future__ import annotations

import hashlib
import re

import pytest
from django.test import override_settings

from accounts.models import User
from accounts.sms import LocmemBackend
from tests.conftest import Connect, SocketClient, atoken_for
from wallet.models import Wallet

pytestmark = pytest.mark.django_db(transaction=True)
PAY = hashlib.md5(b"123456").hexdigest()  # what a the native API document client sends


async def sms_code(client: SocketClient) -> str:
    await client.ok("system.sendSmsCode", {"type": 1})
    match = re.search(r"\b(\d{6})\b", LocmemBackend.outbox[-1][1])
    assert match
    return match.group(1)


async def with_wallet(connect: Connect, user: User) -> SocketClient:
    client = await connect(await atoken_for(user))
    code = await sms_code(client)
    data = await client.ok("wallet.setPassword", {"smsCode": code, "password": PAY})
    assert re.fullmatch(r"W[0-9a-f]{40}", data["address"])
    return client


async def test_set_password_creates_the_wallet_with_a_hashed_password(connect: Connect, alice: User) -> None:
    client = await with_wallet(connect, alice)
    wallet = await Wallet.objects.aget(user=alice)
    assert PAY not in wallet.password and "123456" not in wallet.password
    assert await client.ok("web.account.checkWalletPassword", {"password": PAY}) == {}


async def test_set_password_with_a_wrong_sms_code_is_400(connect: Connect, alice: User) -> None:
    client = await connect(await atoken_for(alice))
    code = await sms_code(client)
    wrong = "000000" if code != "000000" else "111111"
    assert (await client.call("wallet.setPassword", {"smsCode": wrong, "password": PAY}))["code"] == 400
    assert not await Wallet.objects.filter(user=alice).aexists()


async def test_set_password_again_keeps_the_address(connect: Connect, alice: User) -> None:
    client = await with_wallet(connect, alice)
    address = (await Wallet.objects.aget(user=alice)).address
    with override_settings(SMS_RESEND_SECONDS=0):
        code = await sms_code(client)
    data = await client.ok("wallet.setPassword", {"smsCode": code, "password": "654321"})
    assert data["address"] == address
    assert (await client.call("web.account.checkWalletPassword", {"password": PAY}))["code"] == 401
    assert await client.ok("web.account.checkWalletPassword", {"password": "654321"}) == {}


async def test_check_codes(connect: Connect, alice: User, bob: User) -> None:
    client = await with_wallet(connect, alice)
    assert (await client.call("web.account.checkWalletPassword", {"password": ""}))["code"] == 400
    assert (await client.call("web.account.checkWalletPassword", {"password": "nope123"}))["code"] == 401
    no_wallet = await connect(await atoken_for(bob))
    assert (await no_wallet.call("web.account.checkWalletPassword", {"password": PAY}))["code"] == 401


async def test_change_wallet_password_codes(connect: Connect, alice: User) -> None:
    client = await with_wallet(connect, alice)

    async def change(old: str, new: str) -> int:
        reply = await client.call("web.account.setWalletPassword", {"old_password": old, "new_password": new})
        return int(reply["code"])

    assert await change(PAY, "") == 400
    assert await change(PAY, "abc") == 400
    assert await change("wrong-old", "newpay1") == 401
    assert await change(PAY, "newpay1") == 200
    assert await client.ok("web.account.checkWalletPassword", {"password": "newpay1"}) == {}


async def test_five_wrong_payment_passwords_lock_payments(connect: Connect, alice: User) -> None:
    client = await with_wallet(connect, alice)
    replies = [await client.call("web.account.checkWalletPassword", {"password": f"bad{i}xx"}) for i in range(5)]
    assert [r["code"] for r in replies[:4]] == [401] * 4
    assert "tries left" in replies[0]["msg"]
    assert replies[4]["code"] == 429 and "locked" in replies[4]["msg"]
    # even the right password is refused while locked
    locked = await client.call("web.account.checkWalletPassword", {"password": PAY})
    assert locked["code"] == 429 and "15 minutes" in locked["msg"]


async def test_wallet_methods_need_login(connect: Connect) -> None:
    client = await connect()
    for method in ("wallet.setPassword", "web.account.setWalletPassword", "web.account.checkWalletPassword"):
        assert (await client.call(method, {}))["code"] == 401


def test_payment_lock_survives_a_rolled_back_transaction(alice: User) -> None:
    """The failures count outside the database: rolling back the caller does not unlock."""
    from django.db import transaction

    from core.exceptions import ApplicationError
    from wallet.passwords import payment_password_check

    Wallet.objects.create(user=alice, address="Wtest", password="!")
    for _ in range(5):
        with pytest.raises(ApplicationError), transaction.atomic():
            payment_password_check(user=alice, password="wrong1")
    with pytest.raises(ApplicationError) as locked:
        payment_password_check(user=alice, password="wrong1")
    assert locked.value.code == "payment_locked"
