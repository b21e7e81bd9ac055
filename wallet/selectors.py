"""Ledger reads, among them the invariant check."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet, Sum

from wallet.fields import exact_arithmetic
from wallet.models import Account, Posting


def exact_sum(queryset: QuerySet[Any], field: str) -> Decimal:
    """``SUM(field)`` exactly: in SQL on PostgreSQL, in Decimals on SQLite (which adds floats)."""
    if connection.vendor == "postgresql":
        return queryset.aggregate(total=Sum(field))["total"] or Decimal(0)
    with exact_arithmetic():
        return sum(queryset.values_list(field, flat=True).iterator(), Decimal(0))


def exact_sums(queryset: QuerySet[Any], field: str, *keys: str) -> dict[tuple[Any, ...], Decimal]:
    """``SUM(field)`` per ``keys``, exactly: PostgreSQL adds NUMERIC exactly; SQLite (the
    embedded default) would add them as floats, so there each amount is added as a Decimal."""
    if connection.vendor == "postgresql":
        rows = queryset.values_list(*keys).annotate(total=Sum(field)).order_by()
        return {tuple(row[:-1]): row[-1] for row in rows}
    totals: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    with exact_arithmetic():
        for *key, amount in queryset.values_list(*keys, field).iterator():
            totals[tuple(key)] += amount
    return totals


def _posting_sums(*keys: str) -> dict[tuple[Any, ...], Decimal]:
    """Sum of posting amounts per ``keys``."""
    return exact_sums(Posting.objects.all(), "amount", *keys)


def ledger_verify() -> list[str]:
    """Every way the books could be wrong, as sentences; an empty list means they balance.

    * each entry's postings sum to zero per coin;
    * each account's balance equals the sum of its postings;
    * each coin's balances sum to zero (external accounts hold the other side);
    * no user or escrow balance is negative.
    """
    with exact_arithmetic():
        return _ledger_problems()


def _ledger_problems() -> list[str]:
    problems: list[str] = []
    for (entry_id, coin_id), total in sorted(_posting_sums("entry_id", "account__coin_id").items()):
        if total != 0:
            problems.append(f"entry {entry_id} does not balance for coin {coin_id}: postings sum to {total}")
    sums = {key[0]: total for key, total in _posting_sums("account_id").items()}
    per_coin: dict[int, Decimal] = defaultdict(Decimal)
    for account in Account.objects.order_by("pk").iterator():
        posted = sums.get(account.pk) or Decimal("0")
        if account.balance != posted:
            problems.append(f"account {account.pk} ({account}) holds {account.balance} but its postings sum "
                            f"to {posted}")
        if account.balance < 0 and account.kind != Account.Kind.EXTERNAL:
            problems.append(f"account {account.pk} ({account}) is negative")
        per_coin[account.coin_id] += account.balance
    for coin_id, total in sorted(per_coin.items()):
        if total != 0:
            problems.append(f"coin {coin_id}: balances sum to {total}, not 0")
    return problems


def wallet_balances(*, user_id: int) -> list[dict[str, object]]:
    """The user's balance of every active coin (zero where no account exists yet)."""
    from wallet.models import Coin

    held = dict(Account.objects.filter(kind=Account.Kind.USER, owner_id=user_id).values_list("coin_id", "balance"))
    return [{"coinId": coin.pk, "coin": coin.name, "isDefault": coin.is_default,
             "balance": (held.get(coin.pk) or Decimal("0")).quantize(coin.quantum)}
            for coin in Coin.objects.filter(is_active=True)]


def wallet_records(*, user_id: int, page: int, count: int) -> list[dict[str, object]]:
    """wallet.records (the native API document): the user's balance changes, newest first."""
    rows = (Posting.objects.filter(account__kind=Account.Kind.USER, account__owner_id=user_id)
            .select_related("entry", "account__coin").order_by("-entry__created_at", "-pk"))
    start = (page - 1) * count
    return [{"type": p.entry.kind, "amount": p.amount.quantize(p.account.coin.quantum), "remarks": p.entry.memo,
             "coinId": p.account.coin_id, "createAt": int(p.entry.created_at.timestamp())}
            for p in rows[start:start + count]]
