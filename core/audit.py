"""The operators' audit trail: what an operator did, recorded in the admin log (``LogEntry``),
which the console shows under each object's *History* and which Django keeps with who and when.

Operator services call ``operator_log`` inside their own transaction, so an action and its record
commit together whichever page (the console, a reports queue) called the service."""
from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import Model

from accounts.models import User


def operator_log(*, operator: User, obj: Model, message: str, flag: int = CHANGE) -> None:
    """Record ``message`` against ``obj`` as done now by ``operator``."""
    LogEntry.objects.log_actions(operator.pk, [obj], flag, message, single_object=True)
