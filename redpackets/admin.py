"""Red packets in the operators' console: read-only (money moves only through the services)."""
from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin import ReadOnlyAdmin, ReadOnlyInline
from redpackets.models import RedPacket, RedPacketShare
from wallet.display import MoneyAdmin, money


class ShareInline(ReadOnlyInline):
    model = RedPacketShare
    fields = ("index", "amount_shown", "is_best", "user", "grabbed_at")
    ordering = ("index",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[RedPacketShare]:
        return super().get_queryset(request).select_related("packet__coin", "user")

    @admin.display(description="amount")
    def amount_shown(self, obj: RedPacketShare) -> str:
        return money(obj.amount, obj.packet.coin)


@admin.register(RedPacket)
class RedPacketAdmin(MoneyAdmin, ReadOnlyAdmin):
    money_fields = {"price": "coin", "total_price": "coin", "refunded": "coin"}
    list_display = ("id", "sender", "chat", "type", "title", "total_price", "count", "remaining_count", "status",
                    "created_at", "expires_at")
    list_filter = ("status", "type", "coin")
    search_fields = ("sender__username", "title")
    list_select_related = ("sender", "chat", "coin")
    date_hierarchy = "created_at"
    inlines = [ShareInline]
