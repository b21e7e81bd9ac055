"""The one chokepoint that sends events to users.

An event is ``{"event": name, "data": {...}}``. It goes to the channel-layer group
``user.<id>`` of every recipient, so every socket of every device of that user gets it;
each socket adapter turns it into its own frame. Only services call these functions, and
the caller names the recipients explicitly: a wrong list is a security bug.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def _message(name: str, data: dict[str, Any], exclude_channel: str | None) -> dict[str, Any]:
    return {"type": "realtime.event", "event": {"event": name, "data": data}, "exclude": exclude_channel}


async def asend_event(
    name: str, data: dict[str, Any], user_ids: Iterable[int], *, exclude_channel: str | None = None
) -> None:
    layer = get_channel_layer()
    message = _message(name, data, exclude_channel)
    await asyncio.gather(*(layer.group_send(user_group(uid), message) for uid in set(user_ids)))


def send_event(
    name: str, data: dict[str, Any], user_ids: Iterable[int], *, exclude_channel: str | None = None
) -> None:
    """Send now. Inside a transaction use ``send_event_on_commit`` instead."""
    ids = set(user_ids)
    if ids:
        async_to_sync(asend_event)(name, data, ids, exclude_channel=exclude_channel)


def send_event_on_commit(
    name: str, data: dict[str, Any], user_ids: Iterable[int], *, exclude_channel: str | None = None
) -> None:
    # After commit: a client must never see an event for a write that was rolled back.
    ids = set(user_ids)
    transaction.on_commit(lambda: send_event(name, data, ids, exclude_channel=exclude_channel))


def end_sessions_on_commit(
    user_id: int, session_ids: Iterable[int], *, close_code: int, event: dict[str, Any] | None = None
) -> None:
    """Close the sockets of the given login sessions (after commit), pushing ``event`` first."""
    ids = sorted(set(session_ids))
    if not ids:
        return
    message = {"type": "session.end", "sessions": ids, "close_code": close_code, "event": event}

    def _send() -> None:
        async_to_sync(get_channel_layer().group_send)(user_group(user_id), message)

    transaction.on_commit(_send)
