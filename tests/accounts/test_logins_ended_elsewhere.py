"""A login that ends outside the services (the admin's change form, a script, a session row
deleted or expired) closes its open sockets at once, and money methods re-check the login at
call time, so even a socket that was not told moves no money."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from accounts.models import AuthSession, User
from tests.accounts.factories import make_user
from tests.conftest import Connect, SocketClient, atoken_for
from tests.wallet.factories import make_coin
from wallet.cashier import recharge_credit
from wallet.models import Wallet, Withdrawal
from wallet.passwords import _hash
from wallet.services import user_account

pytestmark = pytest.mark.django_db(transaction=True)


async def socket_of(connect: Connect, user: User) -> SocketClient:
    socket = await connect(await atoken_for(user))
    assert (await socket.call("web.account.myInfo"))["code"] == 200
    return socket


def deactivate_by_save(user: User) -> None:
    fresh = User.objects.get(pk=user.pk)
    fresh.is_active = False
    fresh.save()


async def test_deactivating_by_a_plain_save_closes_the_sockets(connect: Connect, alice: User) -> None:
    socket = await socket_of(connect, alice)
    await sync_to_async(deactivate_by_save)(alice)
    assert await socket.closed() == 4003


async def test_the_admin_change_form_unticking_active_closes_the_sockets(connect: Connect, alice: User) -> None:
    socket = await socket_of(connect, alice)

    def untick() -> int:
        make_user(username="op", is_staff=True, is_superuser=True)
        operator = Client()
        operator.force_login(User.objects.get(username="op"))
        form = operator.get(f"/admin/accounts/user/{alice.pk}/change/").context["adminform"].form
        data = {key: value for key, value in form.initial.items() if value is not None and key != "is_active"}
        data.update({"date_joined_0": timezone.now().strftime("%Y-%m-%d"), "date_joined_1": "00:00:00",
                     "last_login_0": "", "last_login_1": ""})
        data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()
                if not isinstance(v, (list, tuple, set)) and k not in ("date_joined", "last_login")}
        for inline in ("auth_sessions", "friendships", "blocks"):
            data.update({f"{inline}-TOTAL_FORMS": "0", f"{inline}-INITIAL_FORMS": "0"})
        return operator.post(f"/admin/accounts/user/{alice.pk}/change/", data).status_code

    assert await sync_to_async(untick)() == 302
    assert not (await User.objects.aget(pk=alice.pk)).is_active
    assert await socket.closed() == 4003


@pytest.mark.parametrize("end", ["delete", "revoke", "expire"])
async def test_a_session_row_ended_outside_the_services_closes_its_socket(
    connect: Connect, alice: User, end: str,
) -> None:
    socket = await socket_of(connect, alice)
    other = await socket_of(connect, alice)  # another session of the same user stays

    def act() -> None:
        session = AuthSession.objects.filter(user=alice).order_by("pk").first()
        assert session is not None
        if end == "delete":
            session.delete()
        elif end == "revoke":
            session.revoked_at = timezone.now()
            session.save()
        else:
            session.expires_at = timezone.now() - timedelta(seconds=1)
            session.save()

    await sync_to_async(act)()
    assert await socket.closed() == (4001 if end == "expire" else 4003)
    assert (await other.call("web.account.myInfo"))["code"] == 200


def funded(user: User) -> None:
    coin = make_coin(name="cny", decimals=2)
    Wallet.objects.create(user=user, address="Walice", password=_hash("pay123"))
    recharge_credit(operator=user, user=user, coin=coin, amount=Decimal("50.00"), reason="test", idempotency_key="f1")


def balance(user: User) -> Decimal:
    return user_account(user=user, coin=make_coin(name="cny", decimals=2)).balance


@pytest.mark.parametrize("silently", [
    lambda user: User.objects.filter(pk=user.pk).update(is_active=False),
    lambda user: AuthSession.objects.filter(user=user).update(revoked_at=timezone.now()),
    lambda user: AuthSession.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1)),
], ids=["deactivated", "revoked", "expired"])
async def test_money_methods_recheck_the_login_at_call_time(connect: Connect, alice: User, silently: Any) -> None:
    """Rows updated directly (no signal, no message to the socket): the money still stays."""
    await sync_to_async(funded)(alice)
    socket = await socket_of(connect, alice)
    await sync_to_async(silently)(alice)
    reply = await socket.call("web.withdraw", {"amount": 10, "password": "pay123"})
    assert (reply["code"], reply["msg"]) == (401, "this login has ended; log in again")
    reply = await socket.call("remittance.remit", {"payee": alice.pk + 1, "amount": 1, "password": "pay123",
                                                   "type": 1})
    assert (reply["code"], reply["msg"]) == (401, "this login has ended; log in again")
    assert await sync_to_async(balance)(alice) == Decimal("50.00")
    assert not await Withdrawal.objects.filter(user=alice).aexists()
