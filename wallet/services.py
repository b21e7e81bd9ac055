"""The ledger: the one place that changes balances.

``ledger_post`` writes a journal entry whose postings sum to zero per coin, after locking
every account it touches in primary-key order (so two entries over the same accounts can
never deadlock) and re-reading their balances under the lock. An idempotency key makes a
repeated call return the first entry and move nothing.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, getcontext
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import User
from core.exceptions import NOT_FOUND, ApplicationError
from wallet import exceptions as codes
from wallet.fields import exact_arithmetic
from wallet.models import Account, Coin, JournalEntry, Posting


@dataclass(frozen=True, slots=True)
class Leg:
    account_id: int
    amount: Decimal  # + credits the account, - debits it


# Amount text: ASCII digits, an optional sign and fraction. Decimal() alone would also take
# other scripts' digits (Arabic-Indic, full-width), "1_000", " 12 " and "1e3".
AMOUNT_TEXT = re.compile(r"-?[0-9]{1,40}(?:\.[0-9]{1,40})?", re.ASCII)


def wire_decimal(raw: Any) -> Decimal:
    """An amount as a client sent it: a JSON number (an int, or the exact parser's Decimal)
    or ASCII decimal text. Never a float, never other digits; ``bad_amount`` otherwise."""
    if isinstance(raw, float):
        raise ApplicationError(codes.BAD_AMOUNT, "amounts must be sent as exact decimals, not floats")
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = Decimal(raw)
    elif isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, str) and AMOUNT_TEXT.fullmatch(raw):
        value = Decimal(raw)
    else:
        raise ApplicationError(codes.BAD_AMOUNT, "the amount is not a number (ASCII digits, e.g. 12.50)")
    if not value.is_finite():
        raise ApplicationError(codes.BAD_AMOUNT, "the amount is not a number")
    return value


def max_whole_digits(coin: Coin) -> int:
    """Digits an amount of ``coin`` may have before the point: it must fit the money columns
    and, with all of the coin's decimals, the Decimal context's precision (else quantize fails)."""
    return max(1, min(settings.MONEY_MAX_DIGITS - settings.MONEY_DECIMAL_PLACES, getcontext().prec - coin.decimals))


def parse_amount(raw: Any, coin: Coin) -> Decimal:
    """A positive amount with at most ``coin.decimals`` places (see ``wire_decimal`` for what
    is read as a number). Never via float: a JSON number arrives as its exact text."""
    amount = wire_decimal(raw)
    if amount <= 0:
        raise ApplicationError(codes.BAD_AMOUNT, "the amount must be positive")
    whole = max_whole_digits(coin)
    if amount.adjusted() >= whole:
        raise ApplicationError(codes.BAD_AMOUNT, f"{coin.name} amounts have at most {whole} digits before the point")
    try:
        exact = amount == amount.quantize(coin.quantum)
    except InvalidOperation as exc:
        raise ApplicationError(codes.BAD_AMOUNT, f"the amount does not fit {coin.name}'s precision") from exc
    if not exact:
        raise ApplicationError(codes.BAD_AMOUNT, f"{coin.name} amounts have at most {coin.decimals} decimals")
    return amount


def default_coin() -> Coin:
    coin = Coin.objects.filter(is_default=True, is_active=True).first()
    if coin is None:
        raise ApplicationError(NOT_FOUND, "no default coin is configured")
    return coin


def active_coin(coin_id: int | None) -> Coin:
    """The active coin ``coin_id``; None: the default coin."""
    if coin_id is None:
        return default_coin()
    coin = Coin.objects.filter(pk=coin_id, is_active=True).first()
    if coin is None:
        raise ApplicationError(NOT_FOUND, f"no active coin {coin_id}")
    return coin


def active_user(user_id: int) -> User:
    """The active user ``user_id``: the other side of a payment."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ApplicationError(NOT_FOUND, f"no user {user_id}")
    return user


def _account(**lookup: Any) -> Account:
    """The account matching ``lookup``, created on first use; a concurrent creator wins the
    unique constraint and we take its row."""
    account = Account.objects.filter(**lookup).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(**lookup)
    except IntegrityError:
        return Account.objects.get(**lookup)


def user_account(*, user: User, coin: Coin) -> Account:
    """The user's account of ``coin``, created on first use."""
    return _account(kind=Account.Kind.USER, owner=user, coin=coin)


def system_account(*, kind: str, coin: Coin) -> Account:
    assert kind != Account.Kind.USER
    return _account(kind=kind, coin=coin)


def ledger_post(
    *, kind: int, legs: Sequence[Leg], idempotency_key: str, memo: str = "", created_by: User | None = None,
    savepoint: bool = True,
) -> JournalEntry:
    """Post one balanced entry, or return the entry already posted under ``idempotency_key``.

    Raises ``insufficient_balance`` (nothing moves) if a user or escrow account would go
    below zero. Unbalanced or over-precise legs are a programming error (ValueError).

    ``savepoint=False`` (inside a caller's transaction) saves two round trips that would
    otherwise sit inside the caller's hot-row locks; a refusal then aborts the caller's whole
    transaction, which must not be used further.
    """
    with transaction.atomic(savepoint=savepoint), exact_arithmetic():
        if not idempotency_key:
            raise ValueError("an idempotency key is required")
        deltas: dict[int, Decimal] = defaultdict(Decimal)
        for leg in legs:
            deltas[leg.account_id] += leg.amount
        deltas = {pk: amount for pk, amount in deltas.items() if amount != 0}
        if not deltas:
            raise ValueError("an entry must move money")
        # Lock in primary-key order: two entries over the same accounts queue, never deadlock.
        # of=("self",): lock the account rows only, not the joined coin row every entry shares
        # (locking it too deadlocked under 100 parallel workers).
        accounts = list(Account.objects.select_for_update(of=("self",)).filter(pk__in=deltas).order_by("pk")
                        .select_related("coin"))
        if len(accounts) != len(deltas):
            raise ApplicationError(NOT_FOUND, "no such account")
        per_coin: dict[int, Decimal] = defaultdict(Decimal)
        for account in accounts:
            delta = deltas[account.pk]
            if delta != delta.quantize(account.coin.quantum):
                raise ValueError(f"{delta} has more than {account.coin.decimals} decimals")
            per_coin[account.coin_id] += delta
        if any(total != 0 for total in per_coin.values()):
            raise ValueError(f"unbalanced entry: {dict(per_coin)}")
        # Checked under the locks: a concurrent poster with the same key may just have committed.
        first = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
        if first is not None:
            return first
        for account in accounts:
            if account.kind != Account.Kind.EXTERNAL and account.balance + deltas[account.pk] < 0:
                raise ApplicationError(codes.INSUFFICIENT_BALANCE, "insufficient balance")
        entry = JournalEntry.objects.create(kind=kind, idempotency_key=idempotency_key, memo=memo[:255],
                                            created_by=created_by)
        postings = []
        for account in accounts:
            account.balance += deltas[account.pk]
            Account.objects.filter(pk=account.pk).update(balance=account.balance)
            postings.append(Posting(entry=entry, account=account, amount=deltas[account.pk],
                                    balance_after=account.balance))
        Posting.objects.bulk_create(postings)
        return entry


def ledger_transfer(
    *, kind: int, source: Account, target: Account, amount: Decimal, idempotency_key: str, memo: str = "",
    created_by: User | None = None, savepoint: bool = True,
) -> JournalEntry:
    """The common two-leg entry: ``amount`` from ``source`` to ``target``."""
    return ledger_post(kind=kind, legs=[Leg(source.pk, amount.copy_negate()), Leg(target.pk, amount)],
                       idempotency_key=idempotency_key, memo=memo, created_by=created_by, savepoint=savepoint)
