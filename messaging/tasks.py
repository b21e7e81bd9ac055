"""Celery tasks of messaging (thin: each calls a service)."""
from __future__ import annotations

from celery import shared_task


@shared_task
def desk_close_idle() -> int:
    from messaging.desk.services import conversations_close_idle

    return conversations_close_idle()
