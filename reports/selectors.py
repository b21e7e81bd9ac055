"""Reads of reports for the console."""
from __future__ import annotations

from typing import Any

from messaging.models import Message
from reports.models import Report

EXCERPT_CHARS = 80


def message_context(report: Report, *, around: int = 3) -> list[Message]:
    """The reported message and up to ``around`` messages either side of it in its chat, by seq."""
    msg = report.message
    if msg is None:
        return []
    return list(Message.objects.filter(chat_id=msg.chat_id, seq__gte=msg.seq - around, seq__lte=msg.seq + around)
                .select_related("sender").order_by("seq"))


def content_excerpt(content: Any, type_label: str = "", limit: int = EXCERPT_CHARS) -> str:
    """A one-line preview of a message's content: its text, else its type and keys."""
    text = content.get("text") if isinstance(content, dict) else None
    if isinstance(text, str):
        line = " ".join(text.split())
    elif isinstance(content, dict) and content:
        line = f"[{type_label or 'message'}] " + ", ".join(sorted(map(str, content)))
    else:
        line = f"[{type_label or 'message'}]"
    return line if len(line) <= limit else line[: limit - 1] + "…"
