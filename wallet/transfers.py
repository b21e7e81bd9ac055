"""Plain transfers: one user pays another from wallet to wallet, at once (docs/im.md).

The RongCloud-era ``im/*`` API lists them in its transfer details (``transfer_log.wrap`` 0,
"普通转账交易"), beside red packets (1) and transfer messages (2). Unlike a remittance, the
money does not wait in escrow and no chat message is posted: the payee is paid in the same
transaction, and the transfer is shown by ``im/msg_get_transfer``.

One call, one payment: an optional key (the client's ``clientMsgId``, or the key the facade
derives from the request) makes a retry answer with the first transfer (wallet.idempotency).
Lock order: the key row, then the two accounts in pk order (the ledger).
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.selectors import has_blocked
from core.exceptions import BLACKLISTED, INVALID, NOT_FOUND, ApplicationError
from wallet import exceptions as codes
from wallet import idempotency
from wallet.models import JournalEntry as Entry
from wallet.models import Transfer
from wallet.passwords import payment_password_check
from wallet.services import active_coin, active_user, ledger_transfer, parse_amount, user_account

MEMO_MAX = 225  # the im/* API's note (vchar(225))


def transfer_send(
    *, payer: User, payee_id: int, coin_id: int, amount: Any, password: str, memo: str = "",
    request_id: str | None = None,
) -> Transfer:
    """Pay ``amount`` of the active coin ``coin_id`` to ``payee_id`` now. Refusals move nothing:
    ``invalid`` (yourself, a memo over 225 characters), ``not_found`` (no such active user or
    coin), ``bad_amount``/``amount_too_large`` (above ``REMITTANCE_MAX_AMOUNT``), ``blacklisted``
    (the payee blocked the payer), the payment password's codes, ``insufficient_balance``."""
    if len(memo) > MEMO_MAX:
        raise ApplicationError(INVALID, f"the note has at most {MEMO_MAX} characters")
    request = idempotency.keyed(user_id=payer.pk, method="wallet.transfer", key=request_id, params={
        "payee": payee_id, "coinId": coin_id, "amount": idempotency.amount_text(amount), "memo": memo})
    return idempotency.run_once(
        request, replay=lambda pk: Transfer.objects.select_related("coin").get(pk=pk),
        perform=lambda: _send(payer=payer, payee_id=payee_id, coin_id=coin_id, amount=amount, password=password,
                              memo=memo, request=request))


def _send(
    *, payer: User, payee_id: int, coin_id: int, amount: Any, password: str, memo: str,
    request: idempotency.KeyedRequest | None,
) -> Transfer:
    if payee_id == payer.pk:
        raise ApplicationError(INVALID, "you cannot transfer to yourself")
    payee = active_user(payee_id)
    coin = active_coin(coin_id)
    value = parse_amount(amount, coin)
    if value > settings.REMITTANCE_MAX_AMOUNT:
        raise ApplicationError(codes.BAD_AMOUNT, f"a transfer is at most {settings.REMITTANCE_MAX_AMOUNT}")
    if has_blocked(payee.pk, payer.pk):
        raise ApplicationError(BLACKLISTED, "this user does not accept your transfers")
    payment_password_check(user=payer, password=password)  # hashing is slow: no locks held yet
    with transaction.atomic():
        transfer = Transfer.objects.create(payer=payer, payee=payee, coin=coin, amount=value, memo=memo,
                                           created_at=timezone.now())
        # Before the ledger: a concurrent call with the same key waits here, then fails.
        idempotency.remember(request, transfer.pk)
        entry = ledger_transfer(kind=Entry.Kind.TRANSFER, source=user_account(user=payer, coin=coin),
                                target=user_account(user=payee, coin=coin), amount=value,
                                idempotency_key=f"transfer:{transfer.pk}", memo=memo or "transfer",
                                created_by=payer)
        Transfer.objects.filter(pk=transfer.pk).update(entry=entry)
        transfer.entry = entry
    return transfer


def transfer_for_reader(*, user: User, transfer_id: int) -> Transfer:
    """Only the payer and the payee see a transfer; to anyone else it does not exist."""
    transfer = Transfer.objects.select_related("coin").filter(pk=transfer_id).first()
    if transfer is None or user.pk not in (transfer.payer_id, transfer.payee_id):
        raise ApplicationError(NOT_FOUND, f"no transfer {transfer_id}")
    return transfer
