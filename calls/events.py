"""Payloads of the call methods and pushes (the native API document call.*)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from calls.models import Call, CallParticipant


def _ts(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def call(call: Call, invitees: list[int]) -> dict[str, Any]:
    """The call.create reply and the call.onInvite push."""
    return {"callId": call.pk, "channelName": call.channel_name, "from": call.creator_id, "to": invitees,
            "chatId": call.chat.wire_id, "isMeetingAV": call.is_meeting, "isVideo": call.is_video,
            "createAt": _ts(call.created_at)}


def info(call_: Call, invitees: list[int]) -> dict[str, Any]:
    return {**call(call_, invitees), "isClose": call_.is_closed, "closeAt": _ts(call_.closed_at)}


def cancelled(call: Call, end: str) -> dict[str, Any]:
    """call.onCancel: the call is over for this user's ringing screen. ``reason`` is ours:
    cancelled (by its creator), missed (nobody answered in time), ended."""
    return {"callId": call.pk, "channelName": call.channel_name, "chatId": call.chat.wire_id,
            "createAt": _ts(call.created_at), "reason": end}


def left(call_: Call, user_id: int, invitees: list[int]) -> dict[str, Any]:
    """call.onLeave; ``uId`` (ours) is who left."""
    return {"from": call_.creator_id, "to": invitees, "callId": call_.pk, "channelName": call_.channel_name,
            "chatId": call_.chat.wire_id, "createAt": _ts(call_.created_at), "uId": user_id}


def record(call_: Call, invitees: list[int], me: CallParticipant) -> dict[str, Any]:
    """An item of call.queryOffline / call.queryRecord; enterAt and leaveAt are the user's own."""
    return {"callId": call_.pk, "channelName": call_.channel_name, "chatId": call_.chat.wire_id,
            "from": call_.creator_id, "to": invitees, "createAt": _ts(call_.created_at),
            "closeAt": _ts(call_.closed_at), "isMeetingAV": call_.is_meeting, "isVideo": call_.is_video,
            "enterAt": _ts(me.enter_at), "leaveAt": _ts(me.leave_at), "missed": me.missed, "end": call_.end or None}
