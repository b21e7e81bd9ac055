"""Symbolic error codes of the wallet app."""
from __future__ import annotations

from core.exceptions import register_http_statuses

INSUFFICIENT_BALANCE = "insufficient_balance"
BAD_AMOUNT = "bad_amount"

register_http_statuses({INSUFFICIENT_BALANCE: 409, BAD_AMOUNT: 400})
