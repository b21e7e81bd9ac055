from __future__ import annotations

from celery import shared_task


@shared_task(name="wallet.tasks.expire_exchanges")
def expire_exchanges() -> int:
    """Refund coin exchange offers past their deadline (status 50 -> 400)."""
    from wallet.exchange import exchange_expire_due

    return exchange_expire_due()
