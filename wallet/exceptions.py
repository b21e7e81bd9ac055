"""Symbolic error codes of the wallet app."""
from __future__ import annotations

from core.exceptions import register_http_statuses

INSUFFICIENT_BALANCE = "insufficient_balance"
BAD_AMOUNT = "bad_amount"
NO_WALLET = "no_wallet"
WRONG_PAYMENT_PASSWORD = "wrong_payment_password"
PAYMENT_LOCKED = "payment_locked"
EXCHANGE_EXPIRED = "exchange_expired"
# A clientMsgId already used for a money request with other parameters (wallet.idempotency).
IDEMPOTENCY_CONFLICT = "idempotency_conflict"

register_http_statuses({INSUFFICIENT_BALANCE: 409, BAD_AMOUNT: 400, NO_WALLET: 404,
                        WRONG_PAYMENT_PASSWORD: 403, PAYMENT_LOCKED: 429, EXCHANGE_EXPIRED: 410,
                        IDEMPOTENCY_CONFLICT: 409})
