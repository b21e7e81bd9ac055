"""The operators' audit trail: what an operator did, recorded in the admin log (``LogEntry``),
which the console shows under each object's *History* and which Django keeps with who and when.

Operator services call ``operator_log`` inside their own transaction, so an action and its record
commit together whichever page (the console, a reports queue) called the service. The console's
confirmation page (``core.admin.confirmed_action`` with ``logs=False``) passes the operator's reason
down, so the one entry carries it."""
from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import Model

from accounts.models import User


def operator_log(*, operator: User, obj: Model, message: str, reason: str = "", flag: int = CHANGE) -> None:
    """Record ``message`` against ``obj`` as done now by ``operator``, with ``reason`` if given
    ("removed bob (user 7). Reason: spam")."""
    reason = reason.strip()
    if reason:
        message = f"{message}. Reason: {reason}"
    LogEntry.objects.log_actions(operator.pk, [obj], flag, message, single_object=True)
