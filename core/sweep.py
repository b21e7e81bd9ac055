"""The loop of the expiry jobs (exchange offers, red packets, remittances): settle every due row, one at a time.

Each row is settled by its own service in its own transaction, which claims the row by
compare-and-set, so two overlapping runs of a job never settle a row twice.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

log = logging.getLogger(__name__)


def sweep(due: QuerySet[Any], settle: Callable[[int], bool], *, batch: int = 500) -> int:
    """Call ``settle(pk)`` for every row of ``due``, in primary-key order and batches of
    ``batch``; return how many calls answered True (settled by this run). A row whose
    ``settle`` raises is logged and left for the next run; the others go on."""
    settled = 0
    last_pk = 0
    while True:
        pks = list(due.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch])
        if not pks:
            return settled
        for pk in pks:
            try:
                settled += settle(pk)
            except Exception:  # one broken row must not stop the others; it is retried next run
                log.exception("settling %s %s failed", due.model._meta.label, pk)
        last_pk = pks[-1]
