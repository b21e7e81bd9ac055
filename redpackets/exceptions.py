"""Symbolic error codes of the red packets; the socket numbers (the native API document) are in redpackets/rpc.py."""
from __future__ import annotations

from core.exceptions import register_http_statuses

TOO_MANY = "redpacket_too_many_shares"
SHARE_TOO_SMALL = "redpacket_share_too_small"
SHARE_TOO_LARGE = "redpacket_share_too_large"
OWN_PACKET = "redpacket_own"
NOT_ALLOWED = "redpacket_not_allowed"
ALL_TAKEN = "redpacket_all_taken"
EXPIRED = "redpacket_expired"

register_http_statuses({TOO_MANY: 400, SHARE_TOO_SMALL: 400, SHARE_TOO_LARGE: 400, OWN_PACKET: 403,
                        NOT_ALLOWED: 403, ALL_TAKEN: 409, EXPIRED: 410})
