"""The content of a remittance's chat messages (type 5, the native API document onMessage(5, subType)).

subType 100 remitted, 200 received, 300 refunded (by the payee, or on expiry with
``"expired": true``), 400 a reminder from the payer.
"""
from __future__ import annotations

from typing import Any

from remittance.models import Remittance

REMITTED, RECEIVED, REFUNDED, REMINDED = 100, 200, 300, 400


def card(remittance: Remittance, *, expired: bool = False) -> dict[str, Any]:
    """the native API document: ``{"remittanceId", "payer", "payee", "amount"}``; the amount is an exact
    Decimal with the coin's decimals, stored and sent digit for digit (core.jsonwire)."""
    content: dict[str, Any] = {
        "remittanceId": remittance.pk,
        "payer": remittance.payer_id,
        "payee": remittance.payee_id,
        "amount": remittance.amount.quantize(remittance.coin.quantum),
    }
    if not remittance.coin.is_default:  # the im/* facade's transfers may be in another coin
        content["coinId"] = remittance.coin_id
    if expired:
        content["expired"] = True
    return content
