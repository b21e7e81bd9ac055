"""Admin tokens of the Easemob bridge in the operators' console: seen, and revoked by deleting."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hxbridge.models import HxToken


@admin.register(HxToken)
class HxTokenAdmin(admin.ModelAdmin):
    list_display = ("id", "ip", "created_at", "expires_at")
    date_hierarchy = "created_at"
    exclude = ("key_hash", "credentials_hash")
    readonly_fields = ("ip", "created_at", "expires_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens come from /hx/getToken only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
