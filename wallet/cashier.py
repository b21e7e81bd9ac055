"""Recharges by operators and withdrawals with operator review (the native API document web.recharge/web.withdraw)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.exceptions import CONFLICT, ApplicationError
from wallet import idempotency
from wallet.models import Account, Coin, JournalEntry, PaymentDesk, Recharge, Withdrawal
from wallet.passwords import payment_password_check
from wallet.services import default_coin, ledger_transfer, parse_amount, system_account, user_account

K = JournalEntry.Kind


def recharge_desk() -> dict[str, Any]:
    desk = PaymentDesk.current()
    return {"csUserId": desk.cs_user_id, "payUrl": desk.pay_url or None}


def withdraw_desk() -> dict[str, Any]:
    desk = PaymentDesk.current()
    return {"csUserId": desk.cs_user_id, "checkoutUrl": desk.checkout_url or None}


@transaction.atomic
def recharge_credit(*, operator: User, user: User, coin: Coin, amount: Decimal, reason: str,
                    idempotency_key: str) -> Recharge:
    """Credit ``amount`` from the outside world to ``user``; the same key credits once."""
    amount = parse_amount(amount, coin)
    if not reason.strip():
        raise ApplicationError("invalid", "say why the recharge is credited")
    entry = ledger_transfer(kind=K.RECHARGE, source=system_account(kind=Account.Kind.EXTERNAL, coin=coin),
                            target=user_account(user=user, coin=coin), amount=amount,
                            idempotency_key=f"recharge:{idempotency_key}", memo=reason, created_by=operator)
    recharge, _ = Recharge.objects.get_or_create(
        entry=entry, defaults={"user": user, "coin": coin, "amount": amount, "reason": reason, "operator": operator})
    return recharge


def withdrawal_request(*, user: User, amount: Any, password: str, client_msg_id: str | None = None) -> Withdrawal:
    """Hold ``amount`` of the default coin in escrow as a pending withdrawal.

    A repeated ``client_msg_id`` returns the first withdrawal and holds nothing more; the same
    key with another amount is refused with ``idempotency_conflict`` (wallet.idempotency)."""
    request = idempotency.keyed(user_id=user.pk, method="web.withdraw", key=client_msg_id,
                                params={"amount": idempotency.amount_text(amount)})
    return idempotency.run_once(request, replay=lambda pk: Withdrawal.objects.get(pk=pk),
                                perform=lambda: _withdrawal_hold(user=user, amount=amount, password=password,
                                                                 request=request))


def _withdrawal_hold(*, user: User, amount: Any, password: str,
                     request: idempotency.KeyedRequest | None) -> Withdrawal:
    coin = default_coin()
    value = parse_amount(amount, coin)
    payment_password_check(user=user, password=password)  # hashing is slow: before the transaction
    with transaction.atomic():
        withdrawal = Withdrawal.objects.create(user=user, coin=coin, amount=value)
        # Before the ledger: a concurrent call with the same key waits here, then fails.
        idempotency.remember(request, withdrawal.pk)
        ledger_transfer(kind=K.WITHDRAW, source=user_account(user=user, coin=coin),
                        target=system_account(kind=Account.Kind.ESCROW, coin=coin), amount=value,
                        idempotency_key=f"withdraw:{withdrawal.pk}:hold", memo="withdrawal requested")
    return withdrawal


@transaction.atomic
def withdrawal_review(*, withdrawal_id: int, operator: User, approve: bool, note: str = "") -> Withdrawal:
    """Pay out (escrow -> outside) or refund (escrow -> user) a pending withdrawal, once.

    Compare-and-set on the status: two operators, or one double click, move it once.
    """
    target = Withdrawal.Status.PAID if approve else Withdrawal.Status.REJECTED
    claimed = Withdrawal.objects.filter(pk=withdrawal_id, status=Withdrawal.Status.PENDING).update(
        status=target, reviewed_by=operator, reviewed_at=timezone.now(), note=note[:255])
    withdrawal = Withdrawal.objects.select_related("coin", "user").get(pk=withdrawal_id)
    if not claimed:
        raise ApplicationError(CONFLICT, f"withdrawal {withdrawal_id} is already {withdrawal.get_status_display()}")
    escrow = system_account(kind=Account.Kind.ESCROW, coin=withdrawal.coin)
    if approve:
        ledger_transfer(kind=K.WITHDRAW, source=escrow, target=system_account(kind=Account.Kind.EXTERNAL,
                        coin=withdrawal.coin), amount=withdrawal.amount,
                        idempotency_key=f"withdraw:{withdrawal.pk}:pay", memo="withdrawal paid out",
                        created_by=operator)
    else:
        ledger_transfer(kind=K.WITHDRAW_REFUND, source=escrow, target=user_account(user=withdrawal.user,
                        coin=withdrawal.coin), amount=withdrawal.amount,
                        idempotency_key=f"withdraw:{withdrawal.pk}:refund", memo=note or "withdrawal rejected",
                        created_by=operator)
    return withdrawal
