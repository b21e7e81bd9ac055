"""Remittances (remittance.* of the native API document; MSG:Transfer ``wrap`` 2 of the older
im/* document). docs/remittance.md.

* **remit**: the payer's payment password is checked, the amount of the default coin moves
  from the payer's wallet to escrow (entry kind 4), and the remittance is posted in the chat
  as message 5/100 with the checks of a client message.
* **receive**: the payee takes it: escrow pays the payee (kind 3). Message 5/200.
* **refund**: the payee sends it back: escrow pays the payer (kind 13). Message 5/300.
* **expire**: a beat job refunds remittances past their deadline (kind 13), message 5/300
  with ``"expired": true`` and no sender.
* **remind**: the payer nudges the payee while it is pending. Message 5/400.

Receive, refund and expire each claim the remittance by compare-and-set on its status
(``UPDATE ... WHERE status = 50``) inside the transaction that moves the money, so exactly
one of them wins and the others move nothing; the ledger's idempotency keys
(``remit:<id>:hold|receive|refund``) are a second guard. Lock order everywhere: the
remittance row, then the accounts (in pk order, by the ledger), then the chat row (the
message is posted last).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from chats.exceptions import NOT_A_MEMBER
from chats.models import Chat, ChatMember
from chats.selectors import chat_from_wire
from chats.services import private_chat_get_or_create
from core.exceptions import CONFLICT, INVALID, NOT_FOUND, PERMISSION_DENIED, ApplicationError
from core.sweep import sweep
from messaging.models import Message
from messaging.services import service_message_post, service_message_send
from remittance import events
from remittance import exceptions as codes
from remittance.models import Remittance
from wallet import idempotency
from wallet.models import Account, Coin
from wallet.models import JournalEntry as Entry
from wallet.passwords import payment_password_check
from wallet.services import (
    active_coin,
    active_user,
    ledger_transfer,
    parse_amount,
    system_account,
    user_account,
    wire_decimal,
)

MIN_AMOUNT = Decimal("0.01")  # the native API document remittance.remit 401
Status = Remittance.Status


def _amount(raw: Any, coin: Coin) -> Decimal:
    """the native API document: below 0.01 (zero and negatives included) is 401, above REMITTANCE_MAX_AMOUNT
    is 402; anything else the ledger refuses (a float, not a number, more decimals than
    the coin) is ``bad_amount``."""
    try:
        value: Decimal | None = wire_decimal(raw)
    except ApplicationError:
        value = None  # parse_amount below says why
    if value is not None:
        if value < MIN_AMOUNT:
            raise ApplicationError(codes.AMOUNT_TOO_SMALL, f"the amount must be at least {MIN_AMOUNT}")
        if value > settings.REMITTANCE_MAX_AMOUNT:
            raise ApplicationError(codes.AMOUNT_TOO_LARGE,
                                   f"the amount must be at most {settings.REMITTANCE_MAX_AMOUNT}")
    return parse_amount(raw, coin)


def _chat(payer: User, payee: User, type_: int, chat_wire_id: int | None) -> Chat | None:
    """The chat named by ``chat_wire_id``, checked before the payment password is asked: the
    payer is in it, the payee is in it (the peer of a private chat, a member of a group),
    and its kind matches ``type_``. None: a private remittance without a chatId, posted in
    the private chat with the payee (created with the remittance if need be)."""
    if not chat_wire_id:
        if type_ != Remittance.Type.PRIVATE:
            raise ApplicationError(INVALID, "a group remittance needs the group's chatId")
        return None
    chat = chat_from_wire(chat_wire_id)
    if chat.kind == Chat.Kind.PRIVATE:  # the pair is the membership, as for messages
        present = {chat.user_low_id, chat.user_high_id}
    else:
        present = set(ChatMember.objects.filter(chat=chat, user_id__in=(payer.pk, payee.pk))
                      .values_list("user_id", flat=True))
    if payer.pk not in present:
        raise ApplicationError(NOT_A_MEMBER, "you are not a member of this chat")
    if payee.pk not in present:
        raise ApplicationError(codes.PAYEE_NOT_IN_CHAT, "the payee is not in this chat")
    if chat.is_group != (type_ == Remittance.Type.GROUP):
        raise ApplicationError(INVALID, "type 1 is for a private chat, type 2 for a group")
    return chat


def remit(
    *, payer: User, payee_id: int, amount: Any, password: str, type_: int, chat_wire_id: int | None = None,
    description: str = "", request_id: str | None = None, coin_id: int | None = None,
) -> Remittance:
    """Send ``amount`` of the default coin (or of the active coin ``coin_id``: the im/* facade's
    transfers) to ``payee_id`` in a chat; it waits in escrow.

    A repeated ``request_id`` (the client's clientMsgId, a client retrying) returns the first
    remittance and moves nothing; the same id with other parameters is refused with
    ``idempotency_conflict`` (wallet.idempotency). Nothing is stored and nothing moves on any
    refusal.
    """
    request = idempotency.keyed(user_id=payer.pk, method="remittance.remit", key=request_id, params={
        "payee": payee_id, "amount": idempotency.amount_text(amount), "type": type_, "chatId": chat_wire_id or None,
        "description": description[:225], **({"coinId": coin_id} if coin_id is not None else {})})
    return idempotency.run_once(
        request, replay=lambda pk: Remittance.objects.select_related("coin", "chat").get(pk=pk),
        perform=lambda: _remit(payer=payer, payee_id=payee_id, amount=amount, password=password, type_=type_,
                               chat_wire_id=chat_wire_id, description=description, request=request,
                               coin_id=coin_id))


def _remit(
    *, payer: User, payee_id: int, amount: Any, password: str, type_: int, chat_wire_id: int | None,
    description: str, request: idempotency.KeyedRequest | None, coin_id: int | None = None,
) -> Remittance:
    if payee_id == payer.pk:
        raise ApplicationError(INVALID, "you cannot remit to yourself")
    coin = active_coin(coin_id)
    value = _amount(amount, coin)
    payee = active_user(payee_id)
    chat = _chat(payer, payee, type_, chat_wire_id)
    payment_password_check(user=payer, password=password)  # hashing is slow: no locks held yet
    now = timezone.now()
    with transaction.atomic():
        if chat is None:
            chat = private_chat_get_or_create(user_id=payer.pk, peer_id=payee.pk)
        remittance = Remittance.objects.create(
            payer=payer, payee=payee, coin=coin, amount=value, description=description[:225], type=type_,
            chat=chat, request_id=request.key if request else None, remitted_at=now,
            expires_at=now + timedelta(seconds=settings.REMITTANCE_EXPIRE_SECONDS))
        # Before the ledger: a concurrent call with the same key waits here, then fails.
        idempotency.remember(request, remittance.pk)
        ledger_transfer(kind=Entry.Kind.TRANSFER, source=user_account(user=payer, coin=coin),
                        target=system_account(kind=Account.Kind.ESCROW, coin=coin), amount=value,
                        idempotency_key=f"remit:{remittance.pk}:hold", memo=description or "remittance")
        # Last: the chat's row lock is held until commit. Membership, mute, blacklist and
        # friends-only are checked again under it, as for a client message.
        service_message_send(sender=payer, type_=Message.Type.REMITTANCE, sub_type=events.REMITTED,
                             content=events.card(remittance), chat_wire_id=chat.wire_id)
    return remittance


def get_record(*, user: User, remittance_id: int, lock: bool = False) -> Remittance:
    """Only the payer and the payee see a remittance; to anyone else it does not exist.
    ``lock`` takes its row lock (inside the caller's transaction)."""
    rows = Remittance.objects.select_related("coin", "chat")
    if lock:
        rows = rows.select_for_update(of=("self",))
    remittance = rows.filter(pk=remittance_id).first()
    if remittance is None or user.pk not in (remittance.payer_id, remittance.payee_id):
        raise ApplicationError(NOT_FOUND, f"no remittance {remittance_id}")
    return remittance


OUT, IN = 1, 2  # remittance.getRecords type: 1 paid out (payer), 2 paid in (payee)


def get_records(*, user: User, type_: int, from_id: int = 0, limit: int = 20) -> QuerySet[Remittance]:
    """The user's remittances out or in, newest first: ``from_id`` 0 starts at the newest,
    otherwise the page holds the ids below ``from_id`` (the smallest id of the last page)."""
    rows = Remittance.objects.select_related("coin", "chat")
    rows = rows.filter(payer=user) if type_ == OUT else rows.filter(payee=user)
    if from_id:
        rows = rows.filter(pk__lt=from_id)
    return rows.order_by("-pk")[:limit]


def _refuse_unless_pending(remittance: Remittance, now: datetime) -> None:
    if remittance.status == Status.RECEIVED:
        raise ApplicationError(CONFLICT, "this remittance was already received")
    if remittance.status == Status.REFUNDED:
        raise ApplicationError(CONFLICT, "this remittance was already refunded")
    if remittance.status == Status.EXPIRED or remittance.expires_at <= now:
        raise ApplicationError(codes.REMITTANCE_EXPIRED, "this remittance has expired")


def _settle(*, user: User, remittance_id: int, to_payee: bool) -> Remittance:
    """Receive (``to_payee``) or refund a pending remittance, as its payee."""
    remittance = get_record(user=user, remittance_id=remittance_id)
    if remittance.payee_id != user.pk:
        raise ApplicationError(codes.NOT_PAYEE, "you are not the payee of this remittance")
    now = timezone.now()
    _refuse_unless_pending(remittance, now)
    status, stamp = (Status.RECEIVED, "received_at") if to_payee else (Status.REFUNDED, "refunded_at")
    with transaction.atomic():
        # Compare-and-set from pending: receive, refund and the expiry job race for this row;
        # the first UPDATE holds its lock until commit, the others then match nothing.
        claimed = (Remittance.objects.filter(pk=remittance.pk, status=Status.PENDING, expires_at__gt=now)
                   .update(status=status, updated_at=now, **{stamp: now}))
        if not claimed:
            remittance.refresh_from_db(fields=["status", "expires_at"])
            _refuse_unless_pending(remittance, now)
            raise ApplicationError(CONFLICT, "this remittance is no longer pending")  # unreachable in practice
        if to_payee:
            _release(remittance, to=user, kind=Entry.Kind.RECEIVE, step="receive",
                     memo=remittance.description or "remittance received")
        else:
            _release(remittance, to=remittance.payer, kind=Entry.Kind.REMITTANCE_REFUND, step="refund",
                     memo="remittance refunded by the payee")
        remittance.status = status
        setattr(remittance, stamp, now)
        service_message_post(chat=remittance.chat, sender_id=user.pk, type_=Message.Type.REMITTANCE,
                             sub_type=events.RECEIVED if to_payee else events.REFUNDED,
                             content=events.card(remittance))
    return remittance


def _release(remittance: Remittance, *, to: User, kind: int, step: str, memo: str) -> None:
    """Escrow pays the amount to ``to``: the payee on receive (kind 3, key ``remit:<id>:receive``),
    the payer on a refund or expiry (kind 13, one key ``remit:<id>:refund`` for both)."""
    ledger_transfer(kind=kind, source=system_account(kind=Account.Kind.ESCROW, coin=remittance.coin),
                    target=user_account(user=to, coin=remittance.coin), amount=remittance.amount,
                    idempotency_key=f"remit:{remittance.pk}:{step}", memo=memo)


def receive(*, user: User, remittance_id: int) -> Remittance:
    """The payee takes the money (status 100)."""
    return _settle(user=user, remittance_id=remittance_id, to_payee=True)


def refund(*, user: User, remittance_id: int) -> Remittance:
    """The payee sends the money back to the payer (status 300)."""
    return _settle(user=user, remittance_id=remittance_id, to_payee=False)


def remind(*, user: User, remittance_id: int) -> Remittance:
    """The payer reminds the payee of a pending remittance (message 5/400, as a chat message
    of the payer's: it is refused where the payer could not write)."""
    with transaction.atomic():
        # The remittance row first, as every path locks it: a receive cannot commit between
        # the check and the post, so a settled remittance is never reminded of.
        remittance = get_record(user=user, remittance_id=remittance_id, lock=True)
        if remittance.payer_id != user.pk:
            raise ApplicationError(PERMISSION_DENIED, "only the payer can send a reminder")
        _refuse_unless_pending(remittance, timezone.now())
        service_message_send(sender=user, type_=Message.Type.REMITTANCE, sub_type=events.REMINDED,
                             content=events.card(remittance), chat_wire_id=remittance.chat.wire_id)
    return remittance


def expire(*, remittance_id: int, now: datetime | None = None) -> bool:
    """Refund one remittance past its deadline (status 400). True if this call refunded it;
    False if it was not due, or a receive, a refund or another run of the job came first."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = (Remittance.objects.filter(pk=remittance_id, status=Status.PENDING, expires_at__lte=now)
                   .update(status=Status.EXPIRED, refunded_at=now, updated_at=now))
        if not claimed:
            return False
        remittance = Remittance.objects.select_related("coin", "chat", "payer").get(pk=remittance_id)
        _release(remittance, to=remittance.payer, kind=Entry.Kind.REMITTANCE_REFUND, step="refund",
                 memo="remittance expired")
        service_message_post(chat=remittance.chat, sender_id=None, type_=Message.Type.REMITTANCE,
                             sub_type=events.REFUNDED, content=events.card(remittance, expired=True))
    return True


def expire_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """The beat job: refund every pending remittance past its deadline; returns how many this
    run refunded. Safe to run twice at once: each remittance is claimed by compare-and-set."""
    now = now or timezone.now()
    due = Remittance.objects.filter(status=Status.PENDING, expires_at__lte=now)
    return sweep(due, lambda pk: expire(remittance_id=pk, now=now), batch=batch)


WRAP_TRANSFER = 2  # the older im/* document transfer_log.wrap: 2 a transfer message


def transfer_details(*, user: User, remittance_id: int) -> dict[str, Any]:
    """What the older im/* document's ``im/msg_get_transfer`` shows of a remittance (for the im/* facade):
    the two users, the coin and the ``transfer_log``. Only the payer and the payee may see
    it. ``status`` is ours: 50, 100, 400 as the older im/* document, and 300 refunded by the payee, which
    the facade translates."""
    remittance = get_record(user=user, remittance_id=remittance_id)
    users = User.objects.in_bulk([remittance.payer_id, remittance.payee_id])
    return {
        "from_user": users[remittance.payer_id],
        "to_user": users[remittance.payee_id],
        "coin_info": remittance.coin,
        "transfer_log": {
            "id": remittance.pk, "from_user_id": remittance.payer_id, "to_user_id": remittance.payee_id,
            "coin_id": remittance.coin_id, "amount": remittance.amount.quantize(remittance.coin.quantum),
            "memo": remittance.description, "status": remittance.status, "wrap": WRAP_TRANSFER,
            "update_time": int(remittance.updated_at.timestamp()),
            "created_time": int(remittance.remitted_at.timestamp()),
        },
    }
