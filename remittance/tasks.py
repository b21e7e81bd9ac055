from __future__ import annotations

from celery import shared_task


@shared_task(name="remittance.tasks.expire_remittances")
def expire_remittances() -> int:
    """Refund remittances past their deadline to the payer (status 50 -> 400)."""
    from remittance.services import expire_due

    return expire_due()
