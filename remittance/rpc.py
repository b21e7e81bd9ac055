"""Socket methods of remittances (the native API document remittance.*; docs/remittance.md): remit, receive,
refund, remind, getRecord, getRecords. Amounts are exact JSON numbers (core.jsonwire)."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from chats import exceptions as chat_codes
from core.gateway import registry
from core.gateway.registry import RpcContext
from messaging.rpc import SEND_ERRORS
from remittance import exceptions as codes
from remittance import replies, services
from remittance.models import Remittance
from wallet import exceptions as wallet_codes
from wallet.rpc import amount_field

# Posting in the chat: a client message's codes (460 muted, 464 whisper ban, 470 friends
# only, 501 blacklisted...), except that 403 is the native API document's wrong payment password here.
CHAT_POST_ERRORS = {**SEND_ERRORS, chat_codes.NOT_A_MEMBER: 406, chat_codes.NOT_ALLOWED: 406}
REMIT_ERRORS = {
    **CHAT_POST_ERRORS,
    wallet_codes.INSUFFICIENT_BALANCE: 400, codes.AMOUNT_TOO_SMALL: 401, codes.AMOUNT_TOO_LARGE: 402,
    wallet_codes.WRONG_PAYMENT_PASSWORD: 403, wallet_codes.NO_WALLET: 405, codes.PAYEE_NOT_IN_CHAT: 407,
    wallet_codes.BAD_AMOUNT: 422, wallet_codes.PAYMENT_LOCKED: 429, wallet_codes.IDEMPOTENCY_CONFLICT: 409,
}
SETTLE_ERRORS = {codes.NOT_PAYEE: 400, codes.REMITTANCE_EXPIRED: 410}
REMIND_ERRORS = {**CHAT_POST_ERRORS, codes.REMITTANCE_EXPIRED: 410}


def _time(value: Any) -> int | None:
    return int(value.timestamp()) if value else None


def record(remittance: Remittance) -> dict[str, Any]:
    """the native API document's remittance record (getRecord, getRecords, and the reply of every method)."""
    return {
        "type": remittance.type,
        "remittanceId": remittance.pk,
        "payerUID": remittance.payer_id,
        "payeeUID": remittance.payee_id,
        "remittedAt": _time(remittance.remitted_at),
        "receivedAt": _time(remittance.received_at),
        "refundedAt": _time(remittance.refunded_at),
        "expireAt": _time(remittance.expires_at),
        "chatId": remittance.chat.wire_id,
        "description": remittance.description,
        "amount": remittance.amount.quantize(remittance.coin.quantum),
        "coinId": remittance.coin_id,
        "status": remittance.status,
    }


class RemitParams(serializers.Serializer):
    # Optional for type 1: the private chat with the payee, created if need be.
    chatId = serializers.IntegerField(required=False, allow_null=True, default=None)
    description = serializers.CharField(max_length=225, required=False, allow_blank=True, default="")
    amount = amount_field()
    password = serializers.CharField(max_length=256, allow_blank=True)
    type = serializers.ChoiceField(choices=Remittance.Type.values)
    payee = serializers.IntegerField(min_value=1)
    # A retry with the same id returns the first remittance and moves nothing (docs/remittance.md).
    clientMsgId = serializers.CharField(max_length=64, required=False, allow_null=True)


class RemittanceIdParams(serializers.Serializer):
    remittanceId = serializers.IntegerField(min_value=1)


class RecordsParams(serializers.Serializer):
    type = serializers.ChoiceField(choices=[services.OUT, services.IN])
    from_id = serializers.IntegerField(min_value=0, max_value=2**63 - 1, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)


@registry.method("remittance.remit", money=True, params=RemitParams, reply=replies.RemittanceRecord,
                 errors=REMIT_ERRORS)
def remit(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """Send money to ``payee`` in a chat; it waits in escrow (onMessage 5/100 to the chat).
    400 insufficient, 401 below 0.01, 402 above the maximum, 403 wrong payment password."""
    remittance = services.remit(
        payer=ctx.user, payee_id=p["payee"], amount=p["amount"], password=p["password"], type_=p["type"],
        chat_wire_id=p["chatId"], description=p["description"], request_id=p.get("clientMsgId"))
    return record(remittance)


@registry.method("remittance.receive", money=True, params=RemittanceIdParams, reply=replies.RemittanceRecord,
                 errors=SETTLE_ERRORS)
def receive(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """The payee takes the money (onMessage 5/200). 400 not the payee, 409 settled, 410 expired."""
    return record(services.receive(user=ctx.user, remittance_id=p["remittanceId"]))


@registry.method("remittance.refund", money=True, params=RemittanceIdParams, reply=replies.RemittanceRecord,
                 errors=SETTLE_ERRORS)
def refund(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """The payee sends the money back (onMessage 5/300). 400 not the payee, 409 settled, 410 expired."""
    return record(services.refund(user=ctx.user, remittance_id=p["remittanceId"]))


@registry.method("remittance.remind", params=RemittanceIdParams, reply=replies.RemittanceRecord, errors=REMIND_ERRORS,
                 limit=registry.Limit("REMITTANCE_REMIND_PER_HOUR", 3600))
def remind(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """The payer reminds the payee (onMessage 5/400). 403 not the payer, 409 settled, 410 expired."""
    return record(services.remind(user=ctx.user, remittance_id=p["remittanceId"]))


@registry.method("remittance.getRecord", params=RemittanceIdParams, reply=replies.RemittanceRecord)
def get_record(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """One remittance, for its payer and payee only (404 to anyone else)."""
    return record(services.get_record(user=ctx.user, remittance_id=p["remittanceId"]))


@registry.method("remittance.getRecords", params=RecordsParams, reply=replies.RemittanceRecord(many=True))
def get_records(ctx: RpcContext, p: dict[str, Any]) -> list[dict[str, Any]]:
    """The caller's remittances out (type 1) or in (type 2), newest first, ids below from_id."""
    rows = services.get_records(user=ctx.user, type_=p["type"], from_id=p["from_id"], limit=p["limit"])
    return [record(remittance) for remittance in rows]
