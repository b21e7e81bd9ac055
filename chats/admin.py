"""Chats in the operators' console: members read-only; a group's rights and filter keywords are
edited here and applied through chats.services (members get the same pushes as an owner's
change)."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from chats.models import Chat, ChatBan, ChatMember
from chats.services import RIGHTS_FIELDS, chat_moderate_by_operator
from core.admin import ReadOnlyAdmin, ReadOnlyInline


class MemberInline(ReadOnlyInline):
    model = ChatMember
    fields = ("user", "role", "muted_until", "joined_seq", "read_seq")


class ChatForm(forms.ModelForm):
    keywords = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                               help_text="filter keywords, one per line")

    class Meta:
        model = Chat
        fields = list(RIGHTS_FIELDS.values())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["keywords"].initial = "\n".join(self.instance.filter_keywords or [])


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    form = ChatForm
    list_display = ("id", "kind", "title", "owner", "member_count", "last_seq", "created_at")
    list_filter = ("kind", *RIGHTS_FIELDS.values())
    search_fields = ("title", "owner__username", "members__user__username")
    list_select_related = ("owner",)
    readonly_fields = ("kind", "title", "owner", "member_count", "last_seq", "created_at")
    inlines = [MemberInline]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*self.readonly_fields, *RIGHTS_FIELDS.values(), "keywords"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # chats are created by their users

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Chat, form: Any, change: bool) -> None:
        keywords = [line.strip() for line in form.cleaned_data.get("keywords", "").splitlines() if line.strip()]
        rights = {field: form.cleaned_data[field] for field in RIGHTS_FIELDS.values()}
        chat_moderate_by_operator(chat_id=obj.pk, rights=rights, keywords=keywords)


@admin.register(ChatBan)
class ChatBanAdmin(ReadOnlyAdmin):
    """Users an admin removed from a group; a group admin lifts a ban (chats.unban) or adds them back."""

    list_display = ("chat", "user", "banned_by", "created_at")
    search_fields = ("user__username", "chat__title")
    list_select_related = ("chat", "user", "banned_by")
