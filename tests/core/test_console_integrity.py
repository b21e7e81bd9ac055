"""The operators' console never bypasses the services: what an operator does there reaches the
users as the users' own calls would (both directions of a friendship, the pushes, sockets
closed at once), what only a service may write is not offered, and amounts read with their
coin's decimals."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AuthSession, Block, Friendship, SmsCode, User
from accounts.services import auth_login, blacklist_add, friend_add_direct
from core.exceptions import ApplicationError
from remittance import services as remittance_services
from tests.accounts.factories import PASSWORD
from tests.conftest import Connect, SocketClient, atoken_for
from tests.core.test_admin_pages import operator, some_data
from tests.wallet.factories import make_coin
from wallet.cashier import recharge_credit
from wallet.models import Account, JournalEntry, Wallet
from wallet.passwords import _hash


async def online(connect: Connect, user: User, device: str = "test") -> SocketClient:
    socket = await connect(await atoken_for(user, device))
    assert (await socket.call("web.account.myInfo"))["code"] == 200
    return socket


async def friend_ids(socket: SocketClient) -> list[int]:
    return [row["uId"] for row in await socket.ok("friends.list")]


# --- friendships ------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
async def test_adding_a_friendship_makes_both_users_friends_and_tells_both(connect: Connect, alice: User,
                                                                          bob: User) -> None:
    alice_socket, bob_socket = await online(connect, alice), await online(connect, bob)
    client = await sync_to_async(operator)()
    page = await sync_to_async(client.post)("/admin/accounts/friendship/add/", {"user": alice.pk, "friend": bob.pk})
    assert page.status_code == 302, page.content[:2000]
    assert (await alice_socket.push("friends.onAdded"))["uId"] == bob.pk
    assert (await bob_socket.push("friends.onAdded"))["uId"] == alice.pk
    assert await friend_ids(alice_socket) == [bob.pk]
    assert await friend_ids(bob_socket) == [alice.pk]


@pytest.mark.django_db
def test_a_friendship_the_service_refuses_is_a_form_error(alice: User, bob: User) -> None:
    blacklist_add(user=bob, target_id=alice.pk)
    client = operator()
    page = client.post("/admin/accounts/friendship/add/", {"user": alice.pk, "friend": bob.pk})
    assert page.status_code == 200
    assert "you are on this user&#x27;s blacklist" in page.content.decode()
    assert not Friendship.objects.exists()
    page = client.post("/admin/accounts/friendship/add/", {"user": alice.pk, "friend": alice.pk})
    assert page.status_code == 200 and not Friendship.objects.exists()


@pytest.mark.django_db
def test_adding_friends_twice_answers_already_friends(alice: User, bob: User) -> None:
    friend_add_direct(user=alice, friend_id=bob.pk)
    page = operator().post("/admin/accounts/friendship/add/", {"user": bob.pk, "friend": alice.pk})
    assert page.status_code == 200
    assert "already friends" in page.content.decode()
    assert Friendship.objects.count() == 2


@pytest.mark.django_db(transaction=True)
async def test_deleting_a_friendship_removes_both_directions_and_tells_both(connect: Connect, alice: User,
                                                                            bob: User) -> None:
    await sync_to_async(friend_add_direct)(user=alice, friend_id=bob.pk)
    alice_socket, bob_socket = await online(connect, alice), await online(connect, bob)
    row = await Friendship.objects.aget(user=bob, friend=alice)  # either direction will do
    client = await sync_to_async(operator)()
    page = await sync_to_async(client.post)(f"/admin/accounts/friendship/{row.pk}/delete/", {"post": "yes"})
    assert page.status_code == 302
    assert (await alice_socket.push("friends.onRemoved"))["uId"] == bob.pk
    assert (await bob_socket.push("friends.onRemoved"))["uId"] == alice.pk
    assert await friend_ids(alice_socket) == [] and await friend_ids(bob_socket) == []


@pytest.mark.django_db(transaction=True)
async def test_bulk_deleting_both_rows_of_a_friendship_tells_each_user_once(connect: Connect, alice: User,
                                                                             bob: User) -> None:
    await sync_to_async(friend_add_direct)(user=alice, friend_id=bob.pk)
    alice_socket = await online(connect, alice)
    rows = [pk async for pk in Friendship.objects.values_list("pk", flat=True)]
    client = await sync_to_async(operator)()
    page = await sync_to_async(client.post)("/admin/accounts/friendship/", {
        "action": "delete_selected", "_selected_action": rows, "post": "yes"})
    assert page.status_code == 302
    assert (await alice_socket.push("friends.onRemoved"))["uId"] == bob.pk
    assert await alice_socket.nothing()
    assert not await Friendship.objects.aexists()


@pytest.mark.django_db
def test_a_friendship_is_never_edited_in_the_console(alice: User, bob: User) -> None:
    friend_add_direct(user=alice, friend_id=bob.pk)
    row = Friendship.objects.get(user=alice)
    client = operator()
    assert client.get(f"/admin/accounts/friendship/{row.pk}/change/").status_code == 200  # seen
    page = client.post(f"/admin/accounts/friendship/{row.pk}/change/", {"user": alice.pk, "friend": alice.pk})
    assert page.status_code == 403
    assert Friendship.objects.filter(user=alice, friend=bob).exists()


@pytest.mark.django_db
def test_blocks_are_only_seen_in_the_console(alice: User, bob: User) -> None:
    blacklist_add(user=alice, target_id=bob.pk)
    block = Block.objects.get()
    client = operator()
    assert client.get("/admin/accounts/block/").status_code == 200
    assert client.get("/admin/accounts/block/add/").status_code == 403
    assert client.post("/admin/accounts/block/add/", {"user": bob.pk, "blocked": alice.pk}).status_code == 403
    assert client.post(f"/admin/accounts/block/{block.pk}/delete/", {"post": "yes"}).status_code == 403
    assert list(Block.objects.values_list("user_id", "blocked_id")) == [(alice.pk, bob.pk)]


# --- SMS codes ------------------------------------------------------------------------
@pytest.mark.django_db
def test_sms_codes_are_seen_not_added_and_their_hash_never_shown(alice: User) -> None:
    code = SmsCode.objects.create(user=alice, phone="13800000001", purpose=1, code_hash="f00dfeedcafe" * 4,
                                  expires_at=timezone.now())
    client = operator()
    assert client.get("/admin/accounts/smscode/add/").status_code == 403
    assert client.post("/admin/accounts/smscode/add/", {}).status_code == 403
    page = client.get(f"/admin/accounts/smscode/{code.pk}/change/")
    assert page.status_code == 200
    assert "f00dfeedcafe" not in page.content.decode()
    assert "f00dfeedcafe" not in client.get("/admin/accounts/smscode/").content.decode()
    assert client.post(f"/admin/accounts/smscode/{code.pk}/change/", {"phone": "1"}).status_code == 403


# --- sessions and accounts -----------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
async def test_deleting_a_session_in_the_console_closes_its_socket(connect: Connect, alice: User) -> None:
    doomed, kept = await online(connect, alice, "phone"), await online(connect, alice, "pad")
    session = await AuthSession.objects.aget(user=alice, device="phone")
    client = await sync_to_async(operator)()
    page = await sync_to_async(client.post)(f"/admin/accounts/authsession/{session.pk}/delete/", {"post": "yes"})
    assert page.status_code == 302
    assert await doomed.closed() == 4003
    assert (await kept.call("web.account.myInfo"))["code"] == 200
    assert not await AuthSession.objects.filter(pk=session.pk).aexists()


@pytest.mark.django_db(transaction=True)
async def test_bulk_deleting_sessions_closes_every_socket(connect: Connect, alice: User, bob: User) -> None:
    sockets = [await online(connect, alice, "phone"), await online(connect, bob, "phone")]
    ids = [pk async for pk in AuthSession.objects.values_list("pk", flat=True)]
    client = await sync_to_async(operator)()
    page = await sync_to_async(client.post)("/admin/accounts/authsession/", {
        "action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert page.status_code == 302
    for socket in sockets:
        assert await socket.closed() == 4003


@pytest.mark.django_db
def test_a_session_is_not_edited_in_the_console(alice: User) -> None:
    from tests.conftest import token_for

    token_for(alice)
    session = AuthSession.objects.get(user=alice)
    client = operator()
    page = client.get(f"/admin/accounts/authsession/{session.pk}/change/")
    assert page.status_code == 200 and session.key_hash not in page.content.decode()
    assert client.post(f"/admin/accounts/authsession/{session.pk}/change/", {}).status_code == 403


def change_form_data(client: Client, user: User, **changes: Any) -> dict[str, Any]:
    """What the user's change page posts back unchanged, with ``changes`` applied (a missing
    checkbox is unticked)."""
    form = client.get(f"/admin/accounts/user/{user.pk}/change/").context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if name in ("date_joined", "last_login"):
            data[f"{name}_0"] = value.strftime("%Y-%m-%d") if value else ""
            data[f"{name}_1"] = value.strftime("%H:%M:%S") if value else ""
        elif name in ("groups", "user_permissions"):
            data[name] = [g.pk for g in value] if value else []
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None and name != "password":
            data[name] = value
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return data


def post_change(user: User, **changes: Any) -> int:
    if User.objects.filter(username="root").exists():
        client = Client()
        client.force_login(User.objects.get(username="root"))
    else:
        client = operator()
    return client.post(f"/admin/accounts/user/{user.pk}/change/", change_form_data(client, user, **changes)).status_code


@pytest.mark.django_db(transaction=True)
async def test_unticking_active_bans_and_ticking_it_back_lets_the_user_in(connect: Connect, alice: User) -> None:
    phone, pad = await online(connect, alice, "phone"), await online(connect, alice, "pad")
    assert await sync_to_async(post_change)(alice, is_active=False, first_name="Alicia") == 302
    assert await phone.closed() == 4003
    assert await pad.closed() == 4003
    fresh = await User.objects.aget(pk=alice.pk)
    assert not fresh.is_active and fresh.first_name == "Alicia"  # the other field was saved too
    assert not await AuthSession.objects.filter(user=alice, revoked_at__isnull=True).aexists()
    assert set([r async for r in AuthSession.objects.values_list("revoked_reason", flat=True)]) == {"banned"}
    with pytest.raises(ApplicationError):
        await sync_to_async(auth_login)(username="alice", password=PASSWORD)

    assert await sync_to_async(post_change)(fresh, is_active=True) == 302
    user, token = await sync_to_async(auth_login)(username="alice", password=PASSWORD)
    assert user.pk == alice.pk
    back = await connect(token)
    assert (await back.call("web.account.myInfo"))["code"] == 200


@pytest.mark.django_db(transaction=True)
async def test_other_edits_of_a_user_leave_the_sockets_open(connect: Connect, alice: User) -> None:
    socket = await online(connect, alice)
    assert await sync_to_async(post_change)(alice, last_name="Liddell") == 302
    assert (await User.objects.aget(pk=alice.pk)).last_name == "Liddell"
    assert (await socket.call("web.account.myInfo"))["code"] == 200


@pytest.mark.django_db(transaction=True)
async def test_a_password_set_in_the_console_logs_the_user_out(connect: Connect, alice: User) -> None:
    socket = await online(connect, alice)
    client = await sync_to_async(operator)()
    page = await sync_to_async(client.post)(f"/admin/accounts/user/{alice.pk}/password/", {
        "password1": "brandnew99", "password2": "brandnew99", "usable_password": "true"})
    assert page.status_code == 302
    assert await socket.closed() == 4003
    user, _ = await sync_to_async(auth_login)(username="alice", password="brandnew99")
    assert user.pk == alice.pk


# --- amounts ----------------------------------------------------------------------------
def funded(alice: User, bob: User) -> None:
    coin = make_coin(name="cny", decimals=2)
    for user in (alice, bob):
        Wallet.objects.create(user=user, address=f"W{user.pk}", password=_hash("pay123"))
    recharge_credit(operator=bob, user=alice, coin=coin, amount=Decimal("12.5"), reason="test", idempotency_key="r1")


@pytest.mark.django_db
def test_amounts_show_with_their_coins_decimals(alice: User, bob: User) -> None:
    funded(alice, bob)
    remittance_services.remit(payer=alice, payee_id=bob.pk, amount="1.5", password="pay123", type_=1)
    client = operator()
    pages = {
        "/admin/wallet/recharge/": "12.50",
        "/admin/wallet/account/": "11.00",
        "/admin/wallet/wallet/": "11.00 cny",
        "/admin/remittance/remittance/": "1.50",
        "/admin/wallet/coin/": "0.01",
    }
    for url, shown in pages.items():
        html = client.get(url).content.decode()
        assert shown in html, url
        assert "000000000000" not in html, url
    account = Account.objects.get(owner=alice)
    html = client.get(f"/admin/wallet/account/{account.pk}/change/").content.decode()
    assert "11.00" in html and "000000000000" not in html
    recharge_page = client.get(f"/admin/wallet/recharge/{alice.recharges.get().pk}/change/").content.decode()
    assert "12.50" in recharge_page and "000000000000" not in recharge_page
    coin_page = client.get(f"/admin/wallet/coin/{account.coin_id}/change/").content.decode()
    assert 'value="0.01"' in coin_page and "000000000000" not in coin_page  # the edit form too


@pytest.mark.django_db
def test_a_coins_decimals_are_fixed_once_money_is_held_in_it(alice: User, bob: User) -> None:
    unused = make_coin(name="usd", decimals=2, is_default=False)
    funded(alice, bob)
    coin = Account.objects.get(owner=alice).coin
    client = operator()
    for held, expected in ((coin, 2), (unused, 6)):
        page = client.get(f"/admin/wallet/coin/{held.pk}/change/")
        data = {key: value for key, value in page.context["adminform"].form.initial.items() if value is not None}
        data.update({"decimals": 6, "price": "1", "min_amount": "0.01", "description": "", "explorer": "",
                     "contract": "", "sort_id": 0})
        done = client.post(f"/admin/wallet/coin/{held.pk}/change/", data)
        assert done.status_code == 302, done.content.decode()[-2000:]
        held.refresh_from_db()
        assert held.decimals == expected  # a coin in use keeps its decimals; an unused one may change


@pytest.mark.django_db
def test_red_packets_and_exchanges_show_with_their_coins_decimals(alice: User, bob: User) -> None:
    some_data(alice, bob)  # a 2-decimal cny red packet of 2, an offer of 1 cny for 1 usdt (6 decimals)
    client = operator()
    packets = client.get("/admin/redpackets/redpacket/").content.decode()
    assert "2.00" in packets and "000000000000" not in packets
    from redpackets.models import RedPacket

    packet = client.get(f"/admin/redpackets/redpacket/{RedPacket.objects.get().pk}/change/").content.decode()
    assert "2.00" in packet and "000000000000" not in packet
    offers = client.get("/admin/wallet/exchangeoffer/").content.decode()
    assert "1.00" in offers and "1.000000" in offers and "000000000000" not in offers


@pytest.mark.django_db
def test_the_journal_lists_each_entrys_amount_and_users(alice: User, bob: User) -> None:
    funded(alice, bob)
    client = operator()
    html = client.get("/admin/wallet/journalentry/").content.decode()
    assert "12.50 cny" in html and "alice" in html and "000000000000" not in html
    entry = JournalEntry.objects.get()
    page = client.get(f"/admin/wallet/journalentry/{entry.pk}/change/").content.decode()
    assert "+12.50" in page and "alice · cny wallet" in page and "000000000000" not in page
    assert "12.50 cny" in client.get("/admin/wallet/journalentry/", {"q": "alice"}).content.decode()
    assert "12.50 cny" not in client.get("/admin/wallet/journalentry/", {"q": "nobody"}).content.decode()


@pytest.mark.django_db
def test_the_journal_list_reads_a_page_in_a_fixed_number_of_queries(alice: User, bob: User) -> None:
    funded(alice, bob)
    client = operator()
    client.get("/admin/wallet/journalentry/")  # warm: sessions, content types

    def queries() -> int:
        with CaptureQueriesContext(connection) as done:
            assert client.get("/admin/wallet/journalentry/").status_code == 200
        return len(done.captured_queries)

    one = queries()
    coin = make_coin(name="usd", decimals=2, is_default=False)
    for n in range(4):
        recharge_credit(operator=bob, user=bob if n % 2 else alice, coin=coin, amount=Decimal("1"), reason="t",
                        idempotency_key=f"more{n}")
    assert queries() == one


@pytest.mark.django_db
def test_desk_profiles_are_disabled_not_deleted(alice: User) -> None:
    from messaging.desk.models import DeskProfile
    from messaging.desk.services import profile_link

    profile = profile_link(user=alice, external_id="agent-1", kind=DeskProfile.Kind.AGENT, nick="A")
    client = operator()
    assert client.post(f"/admin/messaging/deskprofile/{profile.pk}/delete/", {"post": "yes"}).status_code == 403
    assert DeskProfile.objects.filter(pk=profile.pk).exists()


@pytest.mark.django_db
def test_ticking_active_leaves_an_erased_account_inactive(alice: User) -> None:
    from accounts.services import user_erase

    root = User.objects.create_superuser("root", password="rootpass1")
    erased = user_erase(user_id=alice.pk, operator=root, reason="asked")
    assert post_change(erased, is_active=True) in (200, 302)  # refused on the form, or saved with a message
    assert not User.objects.get(pk=alice.pk).is_active
    from accounts.services import user_reactivate

    with pytest.raises(ApplicationError, match="erased account"):  # the service itself refuses, whoever asks
        user_reactivate(user_id=alice.pk)
    assert not User.objects.get(pk=alice.pk).is_active
