"""Ledger reads, among them the invariant check."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from wallet.models import Account, Posting


def ledger_verify() -> list[str]:
    """Every way the books could be wrong, as sentences; an empty list means they balance.

    * each entry's postings sum to zero per coin;
    * each account's balance equals the sum of its postings;
    * each coin's balances sum to zero (external accounts hold the other side);
    * no user or escrow balance is negative.
    """
    problems: list[str] = []
    unbalanced = (Posting.objects.values("entry_id", "account__coin_id").annotate(total=Sum("amount"))
                  .exclude(total=0).order_by("entry_id"))
    for row in unbalanced:
        problems.append(f"entry {row['entry_id']} does not balance for coin {row['account__coin_id']}: "
                        f"postings sum to {row['total']}")
    sums = dict(Posting.objects.values_list("account_id").annotate(total=Sum("amount")).values_list(
        "account_id", "total"))
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
