"""Symbolic error codes of the calls; socket numbers in calls/rpc.py."""
from __future__ import annotations

from core.exceptions import register_http_statuses

CHANNEL_BUSY = "call_channel_busy"
CLOSED = "call_closed"
NOT_CONFIGURED = "calls_not_configured"

register_http_statuses({CHANNEL_BUSY: 409, CLOSED: 410, NOT_CONFIGURED: 503})
