"""Reads of reports for the console."""
from __future__ import annotations

from messaging.models import Message
from reports.models import Report


def message_context(report: Report, *, around: int = 3) -> list[Message]:
    """The reported message and up to ``around`` messages either side of it in its chat, by seq."""
    msg = report.message
    if msg is None:
        return []
    return list(Message.objects.filter(chat_id=msg.chat_id, seq__gte=msg.seq - around, seq__lte=msg.seq + around)
                .select_related("sender").order_by("seq"))
