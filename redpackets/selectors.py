"""Reads of the red packets: detail, records, statistics."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from redpackets.models import RedPacket, RedPacketShare
from wallet.models import Coin
from wallet.selectors import exact_sum


def _taken(packet: RedPacket) -> list[RedPacketShare]:
    cached = getattr(packet, "taken", None)
    if cached is not None:
        return list(cached)
    return list(packet.shares.filter(user__isnull=False).order_by("grabbed_at", "index"))


def grabbers(packet: RedPacket) -> list[dict[str, Any]]:
    q = packet.coin.quantum
    return [{"userId": s.user_id, "price": s.amount.quantize(q), "gotAt": int(s.grabbed_at.timestamp())}
            for s in _taken(packet) if s.grabbed_at is not None]


def detail(packet: RedPacket) -> dict[str, Any]:
    """redpacket.detail (the native API document) (also each item of redpacket.record)."""
    q = packet.coin.quantum
    return {
        "redPacketId": packet.pk,
        "from": packet.sender_id,
        "createAt": int(packet.created_at.timestamp()),
        "chatId": packet.chat.wire_id,
        "type": packet.type,
        "title": packet.title,
        "price": packet.price.quantize(q),
        "total_price": packet.total_price.quantize(q),
        "coinId": packet.coin_id,
        "count": packet.count,
        "isExpire": packet.is_expire,
        "remainCount": packet.remaining_count,
        "users": grabbers(packet),
    }


def _with_grabbers(qs: Any) -> Any:
    taken = RedPacketShare.objects.filter(user__isnull=False).order_by("grabbed_at", "index")
    return qs.select_related("chat", "coin").prefetch_related(Prefetch("shares", queryset=taken, to_attr="taken"))


def records(*, user_id: int, kind: int, page: int, count: int) -> list[dict[str, Any]]:
    """redpacket.record (the native API document): 1 the packets the user created, 2 those they grabbed from."""
    if kind == 1:
        qs = RedPacket.objects.filter(sender_id=user_id).order_by("-created_at", "-pk")
    else:
        qs = RedPacket.objects.filter(shares__user_id=user_id).order_by("-shares__grabbed_at", "-pk")
    start = (page - 1) * count
    return [detail(p) for p in _with_grabbers(qs)[start:start + count]]


def statistics(*, user_id: int, kind: int, year: int) -> dict[str, Any]:
    """redpacket.statistics: totals for packets created (1) or grabbed (2), in ``year`` (0 =
    all time), in the app wallet's coin (the default one; packets in other coins, which only
    the ``im/*`` API makes, are not added to it), with that coin's decimals.
    ``top_price_count`` counts best-luck shares: the largest share of a lucky packet whose
    shares have all been taken."""
    coin = Coin.objects.filter(is_default=True).first()
    if coin is None:
        return {"total_price": Decimal(0), "count": 0, "top_price_count": 0}
    span: dict[str, datetime] = {}
    if year:
        tz = timezone.get_current_timezone()
        span = {"gte": datetime(year, 1, 1, tzinfo=tz), "lt": datetime(year + 1, 1, 1, tzinfo=tz)}
    if kind == 1:
        created = RedPacket.objects.filter(sender_id=user_id, coin=coin,
                                           **{f"created_at__{k}": v for k, v in span.items()})
        total, count, top = exact_sum(created, "total_price"), created.count(), 0
    else:
        grabbed = RedPacketShare.objects.filter(user_id=user_id, packet__coin=coin,
                                                **{f"grabbed_at__{k}": v for k, v in span.items()})
        total, count = exact_sum(grabbed, "amount"), grabbed.count()
        top = grabbed.filter(is_best=True, packet__status=RedPacket.Status.TAKEN).count()
    return {"total_price": total.quantize(coin.quantum), "count": count, "top_price_count": top}
