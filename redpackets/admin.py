"""Red packets in the operators' console: read-only (money moves only through the services)."""
from __future__ import annotations

from django.contrib import admin

from redpackets.models import RedPacket, RedPacketShare
from wallet.admin import ReadOnlyAdmin


class ShareInline(admin.TabularInline):
    model = RedPacketShare
    fields = ("index", "amount", "is_best", "user", "grabbed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("index",)

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(RedPacket)
class RedPacketAdmin(ReadOnlyAdmin):
    list_display = ("id", "sender", "chat", "type", "title", "total_price", "count", "remaining_count", "status",
                    "created_at", "expires_at")
    list_filter = ("status", "type", "coin")
    search_fields = ("sender__username", "title")
    list_select_related = ("sender", "chat", "coin")
    date_hierarchy = "created_at"
    inlines = [ShareInline]
