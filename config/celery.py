"""The Celery app and the whole beat schedule, in one place.

With ``REDIS_URL`` set, run ``celery -A config worker`` and ``celery -A config beat``.
Without it (the embedded default) tasks run eagerly and ``core.embedded_beat`` runs this
same schedule inside the server process.
"""
from __future__ import annotations

import os
from typing import Any

from celery import Celery

from config.env import env_int

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("im")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# How often the expiry jobs look for due offers, packets and transfers (seconds).
EXPIRY_SWEEP = float(env_int("EXPIRY_SWEEP_SECONDS", 60, minimum=5))
CALL_RING_SWEEP = float(env_int("CALL_RING_SWEEP_SECONDS", 10, minimum=1))

_schedule: dict[str, dict[str, Any]] = {
    # every 10 minutes: delete expired and long-revoked login sessions and SMS codes
    "accounts-purge-expired": {
        "task": "accounts.tasks.purge_expired",
        "schedule": 600.0,
    },
    # refund coin exchange offers nobody accepted in time (status 50 -> 400); safe to overlap
    "wallet-expire-exchanges": {
        "task": "wallet.tasks.expire_exchanges",
        "schedule": EXPIRY_SWEEP,
    },
    # return what is left of red packets past their deadline (status 50 -> 400); safe to overlap
    "redpackets-expire": {
        "task": "redpackets.tasks.expire_redpackets",
        "schedule": EXPIRY_SWEEP,
    },
    # invitees who have not answered in CALL_RING_SECONDS missed the call, calls longer than
    # CALL_MAX_SECONDS close; safe to overlap
    "calls-end-ringing": {
        "task": "calls.tasks.end_ringing",
        "schedule": CALL_RING_SWEEP,
    },
    # close desk conversations without a message for DESK_IDLE_CLOSE_SECONDS, freeing their
    # agents for waiting visitors; safe to overlap (each close re-checks under the routing lock)
    "messaging-desk-close-idle": {
        "task": "messaging.tasks.desk_close_idle",
        "schedule": EXPIRY_SWEEP,
    },
    # refund remittances their payee neither received nor refunded in time (status 50 -> 400);
    # safe to overlap
    "remittance-expire": {
        "task": "remittance.tasks.expire_remittances",
        "schedule": EXPIRY_SWEEP,
    },
}

# Every run expires after its own interval: while no worker consumes the queue (a worker down
# or restarting), beat's runs do not pile up to be replayed all at once; the next run due
# does the same work.
for _entry in _schedule.values():
    _entry.setdefault("options", {})["expires"] = _entry["schedule"]
app.conf.beat_schedule = _schedule
