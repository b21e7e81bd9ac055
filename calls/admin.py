"""Calls in the operators' console: read-only signalling records."""
from __future__ import annotations

from django.contrib import admin

from calls.models import Call, CallParticipant
from core.admin import ReadOnlyAdmin, ReadOnlyInline


class ParticipantInline(ReadOnlyInline):
    model = CallParticipant
    fields = ("user", "is_creator", "enter_at", "leave_at", "in_call", "missed")


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ("id", "creator", "chat", "channel_name", "is_meeting", "is_video", "created_at", "closed_at",
                    "end")
    list_filter = ("end", "is_meeting", "is_video")
    search_fields = ("creator__username", "channel_name")
    list_select_related = ("creator", "chat")
    date_hierarchy = "created_at"
    inlines = [ParticipantInline]
