"""Symbolic error codes of the messaging app; the socket numbers are in messaging/rpc.py."""
from __future__ import annotations

from core.exceptions import register_http_statuses

MUTED = "muted"
NOT_FRIENDS = "not_friends"
BANNED_WEB_LINK = "banned_web_link"
BANNED_KEYWORD = "banned_keyword"
BANNED_QRCODE = "banned_qrcode"
BANNED_WHISPER = "banned_whisper"
BANNED_MENTION = "banned_mention"
RECALL_TOO_LATE = "recall_too_late"
NOT_RECALLABLE = "not_recallable"
MEDIA_LINK_EXPIRED = "media_link_expired"

register_http_statuses({
    MUTED: 403, NOT_FRIENDS: 403, BANNED_WEB_LINK: 403, BANNED_KEYWORD: 403, BANNED_QRCODE: 403,
    BANNED_WHISPER: 403, BANNED_MENTION: 403, RECALL_TOO_LATE: 403, NOT_RECALLABLE: 403, MEDIA_LINK_EXPIRED: 410,
})
