"""The console's destructive actions ask first (a page with a required reason), then act
through their services and leave an entry with the reason in each object's History; and the
erasure of a user on request."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import is_password_usable
from django.test import Client

from accounts.models import Friendship, User
from accounts.services import auth_login, friend_add_direct
from chats.services import group_create
from core.exceptions import ApplicationError
from tests.conftest import Connect, atoken_for
from tests.wallet.factories import make_coin
from wallet.cashier import recharge_credit, withdrawal_request
from wallet.models import Account, Coin, JournalEntry, Posting, Wallet, Withdrawal
from wallet.passwords import _hash
from wallet.selectors import ledger_verify
from wallet.services import system_account, user_account

USERS = "/admin/accounts/user/"
WITHDRAWALS = "/admin/wallet/withdrawal/"


def operator() -> Client:
    User.objects.create_superuser("root", password="rootpass1")
    client = Client()
    assert client.login(username="root", password="rootpass1")
    return client


def act(client: Client, url: str, action: str, ids: list[int], reason: str | None = None) -> Any:
    """Choose ``action`` on the change list; with ``reason`` (even ""), confirm it on the page."""
    form: dict[str, Any] = {"action": action, "_selected_action": ids}
    if reason is not None:
        form |= {"post": "yes", "reason": reason}
    return client.post(url, form)


def history(client: Client, url: str, pk: int) -> str:
    page = client.get(f"{url}{pk}/history/")
    assert page.status_code == 200
    return page.content.decode()


def books() -> tuple[int, int, dict[int, Decimal]]:
    return (JournalEntry.objects.count(), Posting.objects.count(),
            dict(Account.objects.values_list("pk", "balance")))


# --- ban and unban -------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
async def test_ban_asks_for_a_reason_then_closes_the_socket_and_logs(connect: Connect, alice: User) -> None:
    socket = await connect(await atoken_for(alice))
    client = await sync_to_async(operator)()
    asked = await sync_to_async(act)(client, USERS, "ban_users", [alice.pk])
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Ban these users?" in page and "alice" in page and 'name="reason"' in page
    assert (await User.objects.aget(pk=alice.pk)).is_active  # nothing done yet
    assert await socket.nothing()

    blank = await sync_to_async(act)(client, USERS, "ban_users", [alice.pk], reason="   ")
    assert blank.status_code == 200 and "This field is required." in blank.content.decode()
    assert (await User.objects.aget(pk=alice.pk)).is_active

    done = await sync_to_async(act)(client, USERS, "ban_users", [alice.pk], reason="spam in groups")
    assert done.status_code == 302
    assert not (await User.objects.aget(pk=alice.pk)).is_active
    assert await socket.closed() == 4003
    entry = await LogEntry.objects.select_related("user").aget(object_id=str(alice.pk))
    assert entry.user.username == "root" and entry.get_change_message() == "Banned. Reason: spam in groups"
    assert "Banned. Reason: spam in groups" in await sync_to_async(history)(client, USERS, alice.pk)


@pytest.mark.django_db
def test_unban_lets_the_user_log_in_again_with_the_sessions_still_ended(alice: User) -> None:
    alice.set_password("secret12")
    alice.save()
    _, token = auth_login(username="alice", password="secret12")
    client = operator()
    act(client, USERS, "ban_users", [alice.pk], reason="fraud report")
    with pytest.raises(ApplicationError):
        auth_login(username="alice", password="secret12")

    assert act(client, USERS, "unban_users", [alice.pk]).status_code == 200
    assert not User.objects.get(pk=alice.pk).is_active
    assert act(client, USERS, "unban_users", [alice.pk], reason="report was wrong").status_code == 302
    assert User.objects.get(pk=alice.pk).is_active
    from accounts.selectors import session_authenticate

    assert session_authenticate(token) is None  # the old session stays ended
    auth_login(username="alice", password="secret12")
    page = history(client, USERS, alice.pk)
    assert "Banned. Reason: fraud report" in page and "Unbanned. Reason: report was wrong" in page


# --- withdrawals -----------------------------------------------------------------------------------

def funded(alice: User, bob: User) -> Coin:
    coin = make_coin(name="cny", decimals=2)
    Wallet.objects.create(user=alice, address="Walice", password=_hash("pay123"))
    recharge_credit(operator=bob, user=alice, coin=coin, amount=Decimal("50.00"), reason="bank transfer",
                    idempotency_key="t1")
    return coin


@pytest.mark.django_db
def test_withdrawal_approve_and_reject_go_through_the_confirmation(alice: User, bob: User) -> None:
    coin = funded(alice, bob)
    paid = withdrawal_request(user=alice, amount="10", password="pay123")
    refunded = withdrawal_request(user=alice, amount="5", password="pay123")
    client = operator()

    asked = act(client, WITHDRAWALS, "approve", [paid.pk])
    assert asked.status_code == 200 and "Pay out these withdrawals?" in asked.content.decode()
    assert act(client, WITHDRAWALS, "approve", [paid.pk], reason="").status_code == 200
    assert Withdrawal.objects.get(pk=paid.pk).status == Withdrawal.Status.PENDING

    assert act(client, WITHDRAWALS, "approve", [paid.pk], reason="bank ref 881").status_code == 302
    assert act(client, WITHDRAWALS, "reject", [refunded.pk], reason="wrong IBAN").status_code == 302
    paid.refresh_from_db()
    refunded.refresh_from_db()
    assert (paid.status, paid.note) == (Withdrawal.Status.PAID, "bank ref 881")
    assert (refunded.status, refunded.note) == (Withdrawal.Status.REJECTED, "wrong IBAN")
    assert user_account(user=alice, coin=coin).balance == Decimal("40.00")  # 50 - 10 paid; the 5 came back
    assert system_account(kind=Account.Kind.ESCROW, coin=coin).balance == 0
    assert system_account(kind=Account.Kind.EXTERNAL, coin=coin).balance == Decimal("-40.00")  # 50 in, 10 out
    assert JournalEntry.objects.get(kind=JournalEntry.Kind.WITHDRAW_REFUND).memo == "wrong IBAN"
    assert ledger_verify() == []
    assert "Paid out. Reason: bank ref 881" in history(client, WITHDRAWALS, paid.pk)
    assert "Rejected (refunded). Reason: wrong IBAN" in history(client, WITHDRAWALS, refunded.pk)

    again = act(client, WITHDRAWALS, "reject", [paid.pk], reason="second thoughts")  # already paid: skipped
    assert again.status_code == 302
    assert Withdrawal.objects.get(pk=paid.pk).status == Withdrawal.Status.PAID
    assert LogEntry.objects.filter(object_id=str(paid.pk), change_message__contains="second").count() == 0
    assert ledger_verify() == []


# --- erasure ---------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
async def test_erasure_anonymises_the_user_and_keeps_messages_and_money(
    connect: Connect, alice: User, bob: User, charlie: User,
) -> None:
    def setup() -> tuple[int, int, Coin]:
        User.objects.filter(pk=alice.pk).update(phone="+15550001", first_name="Alice", last_name="Smith",
                                                avatar="https://cdn.example/alice.png")
        alice.set_password("secret12")
        alice.save(update_fields=["password"])
        friend_add_direct(user=alice, friend_id=bob.pk)
        group = group_create(owner=bob, title="Team", member_ids=[alice.pk, charlie.pk])
        coin = funded(alice, bob)
        return group.wire_id, coin.pk, coin

    group_id, _, coin = await sync_to_async(setup)()
    erased = await connect(await atoken_for(alice))
    peer = await connect(await atoken_for(bob))
    private = await erased.ok("messages.send", {"to": bob.pk, "type": 1, "content": {"text": "hi bob"}})
    await erased.ok("messages.send", {"chatId": group_id, "type": 1, "content": {"text": "hi team"}})
    moment = await erased.ok("moment.post", {"text": "my holiday"})
    assert (await peer.ok("moment.feed"))["moments"][0]["momentId"] == moment["momentId"]
    before = await sync_to_async(books)()
    assert await sync_to_async(ledger_verify)() == []

    client = await sync_to_async(operator)()
    asked = await sync_to_async(act)(client, USERS, "erase_users", [alice.pk])
    assert asked.status_code == 200 and "This cannot be undone" in asked.content.decode()
    assert (await User.objects.aget(pk=alice.pk)).username == "alice"
    done = await sync_to_async(act)(client, USERS, "erase_users", [alice.pk], reason="user request by e-mail")
    assert done.status_code == 302
    assert await erased.closed() == 4003

    # The peer still reads the messages, from "deleted user".
    page = await peer.ok("messages.history", {"chatId": private["chatId"], "limit": 20})
    assert [(m["from"], m["content"]["text"]) for m in page["messages"]] == [(alice.pk, "hi bob")]
    chats = {c["chatId"]: c for c in await peer.ok("messages.conversations")}
    assert chats[private["chatId"]]["lastMessage"]["from"] == alice.pk
    assert chats[group_id]["lastMessage"]["from"] == alice.pk
    [info] = await peer.ok("users.info", {"uIds": [alice.pk]})
    assert (info["firstName"], info["lastName"], info["avatar"]) == ("deleted user", "", "")
    assert info["userName"] == f"deleted:{alice.pk}"
    members = await peer.ok("chats.members", {"chatId": group_id})
    [shown] = [m for m in members["members"] if m["uId"] == alice.pk]
    assert (shown["firstName"], shown["avatar"]) == ("deleted user", "")
    assert await peer.push("friends.onRemoved") == {"uId": alice.pk}
    assert await peer.push("moment.onDelete") == {"momentId": moment["momentId"]}
    assert (await peer.ok("moment.feed"))["moments"] == []

    def after() -> None:
        user = User.objects.get(pk=alice.pk)
        assert not user.is_active and not user.has_usable_password()
        assert (user.phone, user.email, user.first_name) == (None, "", "deleted user")
        with pytest.raises(ApplicationError):
            auth_login(username=f"deleted:{alice.pk}", password="secret12")
        with pytest.raises(ApplicationError):
            auth_login(username="alice", password="secret12")
        assert not Friendship.objects.filter(user=bob).exists()
        assert not is_password_usable(Wallet.objects.get(user=alice).password)  # no payment password
        assert books() == before  # every journal entry, posting and balance as it was
        assert user_account(user=alice, coin=coin).balance == Decimal("50.00")
        assert ledger_verify() == []
        # the name and the phone are free again
        User.objects.create_user("alice", phone="+15550001", password="another1")
        page = history(client, USERS, alice.pk)
        assert "Erased on request. Reason: user request by e-mail" in page

    await sync_to_async(after)()
    again = await sync_to_async(act)(client, USERS, "erase_users", [alice.pk], reason="twice")
    assert again.status_code == 302
    assert (await User.objects.aget(pk=alice.pk)).username == f"deleted:{alice.pk}"
    assert await sync_to_async(books)() == before


@pytest.mark.django_db
def test_staff_accounts_cannot_be_erased(alice: User) -> None:
    User.objects.filter(pk=alice.pk).update(is_staff=True)
    client = operator()
    done = act(client, USERS, "erase_users", [alice.pk], reason="asked")
    assert done.status_code == 302
    shown = client.get(USERS).content.decode()
    assert "staff and superuser accounts cannot be erased" in shown
    assert User.objects.get(pk=alice.pk).username == "alice"
    assert not LogEntry.objects.filter(object_id=str(alice.pk)).exists()


@pytest.mark.django_db
def test_back_offices_no_longer_reach_an_erased_account(settings: Any, alice: User) -> None:
    from messaging.desk.services import profile_register
    from tests.hxbridge.conftest import CLIENT_ID, CLIENT_SECRET, Hx, get_token

    settings.HX_CLIENT_ID, settings.HX_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    visitor = profile_register(external_id="openid-77", kind=0, nick="Zhang San", avatar="https://cdn.example/z.png")
    client = operator()
    for user in (alice, visitor.user):
        assert act(client, USERS, "erase_users", [user.pk], reason="asked in the app").status_code == 302
    api = Hx(Client(), get_token(Client()))
    erased = f"deleted:{alice.pk}"
    reply = api("resetPassword", {"username": erased, "newpassword": "brand-new-pass-1"})
    assert reply["code"] == 404  # as for a user who does not exist
    assert not User.objects.get(pk=alice.pk).has_usable_password()
    # The desk's id is free again: registering it makes a new account, the erased one stays anonymous.
    again = profile_register(external_id="openid-77", kind=0, nick="Zhang San")
    assert again.user_id != visitor.user_id
    visitor.refresh_from_db()
    assert (visitor.nick, visitor.avatar, visitor.user.first_name) == ("deleted user", "", "deleted user")
