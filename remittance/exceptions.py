"""Symbolic error codes of the remittance app. The wallet's own codes (insufficient balance,
payment password, bad amount) are reused; remittance/rpc.py maps both to the native API document's numbers."""
from __future__ import annotations

from core.exceptions import register_http_statuses

AMOUNT_TOO_SMALL = "remittance_amount_too_small"
AMOUNT_TOO_LARGE = "remittance_amount_too_large"
PAYEE_NOT_IN_CHAT = "payee_not_in_chat"
NOT_PAYEE = "not_payee"
REMITTANCE_EXPIRED = "remittance_expired"

register_http_statuses({AMOUNT_TOO_SMALL: 400, AMOUNT_TOO_LARGE: 400, PAYEE_NOT_IN_CHAT: 400, NOT_PAYEE: 403,
                        REMITTANCE_EXPIRED: 410})
