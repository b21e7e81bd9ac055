from __future__ import annotations

from celery import shared_task


@shared_task(name="accounts.tasks.purge_expired")
def purge_expired() -> dict[str, int]:
    from accounts.services import purge_expired as run

    return run()
