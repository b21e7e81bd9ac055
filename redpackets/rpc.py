"""Socket methods of the native API document ``redpacket.*`` (docs/redpackets.md)."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from chats import exceptions as chat_codes
from core.exceptions import NOT_FOUND
from core.gateway import registry
from core.gateway.registry import RpcContext
from core.params import YEAR_MAX, YEAR_MIN, page_field
from messaging.rpc import SEND_ERRORS
from redpackets import exceptions as codes
from redpackets import fastgrab, replies, selectors, services
from wallet import exceptions as wallet_codes
from wallet.rpc import amount_field


class CreateParams(serializers.Serializer):
    chatId = serializers.IntegerField()
    type = serializers.ChoiceField(choices=[1, 2, 3])
    title = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    price = amount_field(required=False)
    total_price = amount_field(required=False)
    count = serializers.IntegerField(min_value=1, default=1)
    password = serializers.CharField(max_length=256, allow_blank=True)
    # A retry with the same id returns the first packet and moves nothing (docs/redpackets.md).
    clientMsgId = serializers.CharField(max_length=64, required=False, allow_null=True)


class PacketParams(serializers.Serializer):
    redPacketId = serializers.IntegerField(min_value=1)


class RecordParams(serializers.Serializer):
    type = serializers.ChoiceField(choices=[1, 2])
    count = serializers.IntegerField(min_value=1, max_value=100, default=20)
    page = page_field()


class StatisticsParams(serializers.Serializer):
    type = serializers.ChoiceField(choices=[1, 2])
    year = serializers.IntegerField(min_value=0, max_value=YEAR_MAX, default=0)

    def validate_year(self, value: int) -> int:
        if value and value < YEAR_MIN:
            raise serializers.ValidationError(f"year is 0 (all time) or {YEAR_MIN}-{YEAR_MAX}")
        return value


CREATE_ERRORS = {
    **SEND_ERRORS,  # a muted member, the group's rules, friends-only, blacklists (as messages.send)
    wallet_codes.INSUFFICIENT_BALANCE: 400, codes.TOO_MANY: 401, codes.SHARE_TOO_SMALL: 402,
    codes.SHARE_TOO_LARGE: 403, wallet_codes.WRONG_PAYMENT_PASSWORD: 404, wallet_codes.NO_WALLET: 404,
    chat_codes.NOT_A_MEMBER: 405, NOT_FOUND: 405, wallet_codes.BAD_AMOUNT: 422, wallet_codes.PAYMENT_LOCKED: 429,
    wallet_codes.IDEMPOTENCY_CONFLICT: 409,
}


@registry.method("redpacket.create", money=True, params=CreateParams, reply=replies.Created, errors=CREATE_ERRORS)
def create(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """the native API document: ``->{}`` and onMessage(2,100) to the chat; we also answer the packet's id."""
    packet = services.redpacket_create(user=ctx.user, chat_wire_id=p["chatId"], type_=p["type"], title=p["title"],
                                       price=p.get("price"), total_price=p.get("total_price"), count=p["count"],
                                       password=p["password"], client_msg_id=p.get("clientMsgId"))
    return {"redPacketId": packet.pk}


@registry.method("redpacket.get", money=True, params=PacketParams, reply=replies.Grabbed,
                 errors={codes.OWN_PACKET: 400, codes.NOT_ALLOWED: 401, codes.ALL_TAKEN: 402, codes.EXPIRED: 410})
def grab(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """Take one share (once per user); the reply lists who got what."""
    packet, _ = services.redpacket_grab(user=ctx.user, packet_id=p["redPacketId"])
    return {"users": selectors.grabbers(packet)}


# On the native socket, on PostgreSQL, grabs are paid in batches (REDPACKET_GRABS_BATCHED).
registry.fast_path("redpacket.get", fastgrab.grab)


@registry.method("redpacket.detail", params=PacketParams, reply=replies.RedPacketDetail)
def detail(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return selectors.detail(services.redpacket_for_reader(user=ctx.user, packet_id=p["redPacketId"]))


@registry.method("redpacket.record", params=RecordParams, reply=replies.RedPacketDetail(many=True))
def record(ctx: RpcContext, p: dict[str, Any]) -> list[dict[str, Any]]:
    return selectors.records(user_id=ctx.user_id, kind=p["type"], page=p["page"], count=p["count"])


@registry.method("redpacket.statistics", params=StatisticsParams, reply=replies.Statistics)
def statistics(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return selectors.statistics(user_id=ctx.user_id, kind=p["type"], year=p["year"])
