"""The operators' view of the desk: agents and consultants (filters, search, their open
conversations, routing switch and capacity), the queue, and conversations (with a close
action). Every change goes through messaging.desk.services, so routing sees it at once."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from core.admin import ReadOnlyAdmin, ReadOnlyInline
from core.exceptions import ApplicationError
from messaging.desk import selectors, services
from messaging.desk.models import Conversation, DeskProfile, QueueEntry

OPEN = Conversation.Status.OPEN


class OpenConversationInline(ReadOnlyInline):
    model = Conversation
    fk_name = "agent"
    verbose_name_plural = "open conversations"
    fields = ("visitor", "chat", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return super().get_queryset(request).filter(status=OPEN).select_related("visitor")


class ProfileForm(forms.ModelForm):
    class Meta:
        model = DeskProfile
        fields = ("user", "external_id", "kind", "nick", "avatar", "terminal", "is_enabled", "max_open")


@admin.register(DeskProfile)
class DeskProfileAdmin(admin.ModelAdmin):
    form = ProfileForm
    list_display = ("external_id", "nick", "kind", "user", "is_enabled", "max_open", "open_conversations",
                    "online", "last_assigned_at")
    list_filter = ("kind", "is_enabled")
    search_fields = ("external_id", "nick", "user__username", "user__first_name")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    inlines = [OpenConversationInline]
    actions = ["enable", "disable"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting would drop the profile's conversations and queue place without closing them
        # (no push, no routing): operators disable a profile instead.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: DeskProfile | None = None) -> tuple[str, ...]:
        return ("user", "external_id", "last_assigned_at", "created_at") if obj is not None else ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[DeskProfile]:
        return super().get_queryset(request).annotate(
            open_count=Count("conversations", filter=Q(conversations__status=OPEN)))

    @admin.display(description="open", ordering="open_count")
    def open_conversations(self, obj: Any) -> int:
        return int(obj.open_count)

    @admin.display(description="online", boolean=True)
    def online(self, obj: DeskProfile) -> bool:
        return obj.user_id in selectors.online_user_ids([obj.user_id])

    def save_model(self, request: HttpRequest, obj: DeskProfile, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if change:
                services.profile_update(profile_id=obj.pk, **{k: data[k] for k in (
                    "kind", "nick", "avatar", "terminal", "is_enabled", "max_open")})
            else:
                created = services.profile_link(user=data["user"], external_id=data["external_id"],
                                                kind=data["kind"], nick=data["nick"], avatar=data["avatar"])
                services.profile_update(profile_id=created.pk, terminal=data["terminal"],
                                        is_enabled=data["is_enabled"], max_open=data["max_open"])
                obj.pk = created.pk
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)

    def _switch(self, request: HttpRequest, queryset: QuerySet[DeskProfile], on: bool) -> None:
        for pk in queryset.values_list("pk", flat=True):
            services.profile_update(profile_id=pk, is_enabled=on)
        self.message_user(request, f"{queryset.count()} profile(s) {'enabled' if on else 'disabled'} for routing.")

    @admin.action(description="Enable: receives new visitors")
    def enable(self, request: HttpRequest, queryset: QuerySet[DeskProfile]) -> None:
        self._switch(request, queryset, True)

    @admin.action(description="Disable: receives no new visitors")
    def disable(self, request: HttpRequest, queryset: QuerySet[DeskProfile]) -> None:
        self._switch(request, queryset, False)


@admin.register(QueueEntry)
class QueueEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "visitor", "created_at")
    search_fields = ("visitor__external_id", "visitor__nick")
    list_select_related = ("visitor",)
    ordering = ("pk",)


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ("id", "visitor", "agent", "status", "created_at", "closed_at", "close_reason")
    list_filter = ("status", "agent__kind", "close_reason")
    search_fields = ("visitor__external_id", "visitor__nick", "agent__external_id", "agent__nick")
    list_select_related = ("visitor", "agent")
    date_hierarchy = "created_at"
    actions = ["close"]

    @admin.action(description="Close (the agent takes the next waiting visitor)")
    def close(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        for pk in queryset.filter(status=OPEN).values_list("pk", flat=True):
            services.conversation_close(conversation_id=pk, actor=None, reason="operator")
        self.message_user(request, "Closed.")
