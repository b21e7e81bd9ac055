"""Red packets in the operators' console: read-only (money moves only through the services)."""
from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyInline
from redpackets.models import RedPacket, RedPacketShare


class ShareInline(ReadOnlyInline):
    model = RedPacketShare
    fields = ("index", "amount", "is_best", "user", "grabbed_at")
    ordering = ("index",)


@admin.register(RedPacket)
class RedPacketAdmin(ReadOnlyAdmin):
    list_display = ("id", "sender", "chat", "type", "title", "total_price", "count", "remaining_count", "status",
                    "created_at", "expires_at")
    list_filter = ("status", "type", "coin")
    search_fields = ("sender__username", "title")
    list_select_related = ("sender", "chat", "coin")
    date_hierarchy = "created_at"
    inlines = [ShareInline]
