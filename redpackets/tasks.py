from __future__ import annotations

from celery import shared_task


@shared_task(name="redpackets.tasks.expire_redpackets")
def expire_redpackets() -> int:
    """Return what is left of red packets past their deadline to their senders (status 50 -> 400)."""
    from redpackets.services import redpacket_expire_due

    return redpacket_expire_due()
