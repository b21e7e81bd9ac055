"""Coin exchange offers (the older im/* document MSG:Exchange; native exchange.publish / accept / get).

* **publish**: the sender's payment password is checked, ``from_amount`` of ``from_coin``
  moves to escrow, and the offer is posted in the private chat with the named user as a
  message of type 11, subType 100.
* **accept**: only the named user, with their payment password, before the deadline. One
  journal entry swaps both sides: escrow pays the sender's coin to the acceptor, and the
  acceptor pays ``to_amount`` of ``to_coin`` to the sender. Message 11/200.
* **expire**: a beat job refunds offers past their deadline (message 11/400).

Accept and expire each claim the offer by compare-and-set on its status (``UPDATE ... WHERE
status = 50``) before the ledger moves, so whichever commits first wins and the other
moves nothing; the ledger's idempotency keys (``exchange:<id>:settle|refund``) are a second
guard. Lock order everywhere: the offer row, then the accounts (in pk order), then the chat.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.exceptions import CONFLICT, INVALID, NOT_FOUND, PERMISSION_DENIED, ApplicationError
from core.sweep import sweep
from messaging.models import Message
from wallet import exceptions as codes
from wallet import idempotency
from wallet.models import Account, Coin, ExchangeOffer
from wallet.models import JournalEntry as Entry
from wallet.passwords import payment_password_check
from wallet.services import (
    Leg,
    active_coin,
    active_user,
    ledger_post,
    ledger_transfer,
    parse_amount,
    system_account,
    user_account,
)

OFFERED, ACCEPTED, EXPIRED = 100, 200, 400  # message subTypes of type 11


def card(offer: ExchangeOffer) -> dict[str, Any]:
    """The offer as the wire shows it: message content and the exchange.get reply."""
    def amount(value: Decimal, coin: Coin) -> Decimal:
        return value.quantize(coin.quantum)

    return {
        "exchangeId": offer.pk,
        "from": offer.from_user_id,
        "to": offer.to_user_id,
        "fromCoinId": offer.from_coin_id,
        "fromCoin": offer.from_coin.name,
        "fromAmount": amount(offer.from_amount, offer.from_coin),
        "toCoinId": offer.to_coin_id,
        "toCoin": offer.to_coin.name,
        "toAmount": amount(offer.to_amount, offer.to_coin),
        "memo": offer.memo,
        "status": offer.status,
        "createAt": int(offer.created_at.timestamp()),
        "expireAt": int(offer.expires_at.timestamp()),
        "settledAt": int(offer.settled_at.timestamp()) if offer.settled_at else None,
    }


def _post(offer: ExchangeOffer, *, sender_id: int | None, sub_type: int) -> None:
    from chats.services import private_chat_get_or_create
    from messaging.services import service_message_post

    chat = offer.chat or private_chat_get_or_create(user_id=offer.from_user_id, peer_id=offer.to_user_id)
    service_message_post(chat=chat, sender_id=sender_id, type_=Message.Type.EXCHANGE, sub_type=sub_type,
                         content=card(offer))


def exchange_publish(
    *, user: User, to_user_id: int, from_coin_id: int, from_amount: Any, to_coin_id: int, to_amount: Any,
    password: str, memo: str = "", request_id: str | None = None,
) -> ExchangeOffer:
    """Offer ``from_amount`` of one coin for ``to_amount`` of another to ``to_user_id``.

    A repeated ``request_id`` (the client's clientMsgId, a client retrying) returns the first
    offer and moves nothing; the same id with other parameters is refused with
    ``idempotency_conflict`` (wallet.idempotency).
    """
    request = idempotency.keyed(user_id=user.pk, method="exchange.publish", key=request_id, params={
        "to": to_user_id, "fromCoinId": from_coin_id, "fromAmount": idempotency.amount_text(from_amount),
        "toCoinId": to_coin_id, "toAmount": idempotency.amount_text(to_amount), "memo": memo[:125]})
    return idempotency.run_once(
        request, replay=lambda pk: ExchangeOffer.objects.select_related("from_coin", "to_coin", "chat").get(pk=pk),
        perform=lambda: _publish(user=user, to_user_id=to_user_id, from_coin_id=from_coin_id, from_amount=from_amount,
                                 to_coin_id=to_coin_id, to_amount=to_amount, password=password, memo=memo,
                                 request=request))


def _publish(
    *, user: User, to_user_id: int, from_coin_id: int, from_amount: Any, to_coin_id: int, to_amount: Any,
    password: str, memo: str, request: idempotency.KeyedRequest | None,
) -> ExchangeOffer:
    if to_user_id == user.pk:
        raise ApplicationError(INVALID, "you cannot offer an exchange to yourself")
    to_user = active_user(to_user_id)
    from_coin, to_coin = active_coin(from_coin_id), active_coin(to_coin_id)
    if from_coin.pk == to_coin.pk:
        raise ApplicationError(INVALID, "an exchange needs two different coins")
    give, take = parse_amount(from_amount, from_coin), parse_amount(to_amount, to_coin)
    payment_password_check(user=user, password=password)  # hashing is slow: no locks held yet
    from messaging.services import service_message_send

    now = timezone.now()
    with transaction.atomic():
        offer = ExchangeOffer.objects.create(
            from_user=user, from_coin=from_coin, from_amount=give, to_user=to_user, to_coin=to_coin,
            to_amount=take, memo=memo[:125], request_id=request.key if request else None, created_at=now,
            expires_at=now + timedelta(seconds=settings.EXCHANGE_EXPIRE_SECONDS))
        # Before the ledger: a concurrent call with the same key waits here, then fails.
        idempotency.remember(request, offer.pk)
        ledger_transfer(kind=Entry.Kind.EXCHANGE_OFFER, source=user_account(user=user, coin=from_coin),
                        target=system_account(kind=Account.Kind.ESCROW, coin=from_coin), amount=give,
                        idempotency_key=f"exchange:{offer.pk}:hold", memo=memo or "exchange offered")
        # Last: the chat's row lock is held until commit. Blacklist and friends-only apply.
        _, chat = service_message_send(sender=user, to=to_user.pk, type_=Message.Type.EXCHANGE,
                                       sub_type=OFFERED, content=card(offer))
        ExchangeOffer.objects.filter(pk=offer.pk).update(chat=chat)
        offer.chat = chat
    return offer


def exchange_get(*, user: User, exchange_id: int) -> ExchangeOffer:
    """Only the two parties see an offer; to anyone else it does not exist."""
    offer = ExchangeOffer.objects.select_related("from_user", "from_coin", "to_coin").filter(pk=exchange_id).first()
    if offer is None or user.pk not in (offer.from_user_id, offer.to_user_id):
        raise ApplicationError(NOT_FOUND, f"no exchange {exchange_id}")
    return offer


def exchange_accept(*, user: User, exchange_id: int, password: str) -> ExchangeOffer:
    """The named user takes the offer: both sides move in one journal entry, or nothing moves."""
    offer = exchange_get(user=user, exchange_id=exchange_id)
    if offer.to_user_id != user.pk:
        raise ApplicationError(PERMISSION_DENIED, "only the user the offer names can accept it")
    _refuse_unless_pending(offer, timezone.now())  # answer a stale tap without asking for the password
    payment_password_check(user=user, password=password)
    now = timezone.now()
    with transaction.atomic():
        claimed = ExchangeOffer.objects.filter(pk=offer.pk, status=ExchangeOffer.Status.PENDING,
                                               expires_at__gt=now).update(status=ExchangeOffer.Status.ACCEPTED,
                                                                          settled_at=now)
        if not claimed:
            offer.refresh_from_db(fields=["status", "settled_at", "expires_at"])
            _refuse_unless_pending(offer, now)
            raise ApplicationError(CONFLICT, "this offer can no longer be accepted")  # unreachable in practice
        escrow = system_account(kind=Account.Kind.ESCROW, coin=offer.from_coin)
        ledger_post(kind=Entry.Kind.EXCHANGE_SETTLE, idempotency_key=f"exchange:{offer.pk}:settle",
                    memo=offer.memo or "exchange settled", legs=[
                        Leg(escrow.pk, offer.from_amount.copy_negate()),
                        Leg(user_account(user=user, coin=offer.from_coin).pk, offer.from_amount),
                        Leg(user_account(user=user, coin=offer.to_coin).pk, offer.to_amount.copy_negate()),
                        Leg(user_account(user=offer.from_user, coin=offer.to_coin).pk, offer.to_amount),
                    ])
        offer.status, offer.settled_at = ExchangeOffer.Status.ACCEPTED, now
        _post(offer, sender_id=user.pk, sub_type=ACCEPTED)
    return offer


def _refuse_unless_pending(offer: ExchangeOffer, now: datetime) -> None:
    if offer.status == ExchangeOffer.Status.ACCEPTED:
        raise ApplicationError(CONFLICT, "this offer was already accepted")
    if offer.status == ExchangeOffer.Status.EXPIRED or offer.expires_at <= now:
        raise ApplicationError(codes.EXCHANGE_EXPIRED, "this offer has expired")


def exchange_expire(*, exchange_id: int, now: datetime | None = None) -> bool:
    """Refund one offer past its deadline. True if this call refunded it; False if it was not
    due, or someone else (an accept, or another run of the job) settled it first."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = ExchangeOffer.objects.filter(pk=exchange_id, status=ExchangeOffer.Status.PENDING,
                                               expires_at__lte=now).update(status=ExchangeOffer.Status.EXPIRED,
                                                                           settled_at=now)
        if not claimed:
            return False
        offer = ExchangeOffer.objects.select_related("from_coin", "to_coin", "from_user", "chat").get(pk=exchange_id)
        ledger_transfer(kind=Entry.Kind.EXCHANGE_REFUND,
                        source=system_account(kind=Account.Kind.ESCROW, coin=offer.from_coin),
                        target=user_account(user=offer.from_user, coin=offer.from_coin), amount=offer.from_amount,
                        idempotency_key=f"exchange:{offer.pk}:refund", memo="exchange expired")
        _post(offer, sender_id=None, sub_type=EXPIRED)
    return True


def exchange_expire_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """The beat job: refund every pending offer past its deadline; returns how many this run
    refunded. Safe to run twice at once: each offer is claimed by compare-and-set."""
    now = now or timezone.now()
    due = ExchangeOffer.objects.filter(status=ExchangeOffer.Status.PENDING, expires_at__lte=now)
    return sweep(due, lambda pk: exchange_expire(exchange_id=pk, now=now), batch=batch)
