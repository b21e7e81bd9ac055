from __future__ import annotations

from celery import shared_task


@shared_task(name="calls.tasks.end_ringing")
def end_ringing() -> int:
    """Invitees who have not answered within CALL_RING_SECONDS missed the call; calls that
    reached CALL_MAX_SECONDS close."""
    from calls.services import call_ring_due

    return call_ring_due()
