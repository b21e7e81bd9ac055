"""Symbolic error codes of the chats app."""
from __future__ import annotations

from core.exceptions import register_http_statuses

NOT_A_MEMBER = "not_a_member"
ALREADY_MEMBER = "already_member"
NOT_ALLOWED = "chat_permission_denied"
INVALID_INVITE = "invalid_invite"
CHAT_DISSOLVED = "chat_dissolved"

register_http_statuses({NOT_A_MEMBER: 403, ALREADY_MEMBER: 409, NOT_ALLOWED: 403, INVALID_INVITE: 404,
                         CHAT_DISSOLVED: 410})
