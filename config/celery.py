"""The Celery app and the whole beat schedule, in one place.

With ``REDIS_URL`` set, run ``celery -A config worker`` and ``celery -A config beat``.
Without it (the embedded default) tasks run eagerly and ``core.embedded_beat`` runs this
same schedule inside the server process.
"""
from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("im")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # every 10 minutes: delete expired and long-revoked login sessions and SMS codes
    "accounts-purge-expired": {
        "task": "accounts.tasks.purge_expired",
        "schedule": 600.0,
    },
}
