"""Chats in the operators' console. A group's rights and filter keywords are edited on its page;
its members are muted, unmuted and removed under *Chat members*, and the group dissolved from its
page (or the chat list). Everything goes through chats.services, so members get the same system
messages and pushes as for an owner's action, and each action is recorded in the admin log (the
object's History). Remove and Dissolve ask for a reason first (``core.admin.confirmed_action``),
which the service writes into that entry; Mute and Unmute are one click."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from chats.models import Chat, ChatBan, ChatMember
from chats.services import (
    MUTE_MAX_SECONDS,
    RIGHTS_FIELDS,
    chat_kick_by_operator,
    chat_moderate_by_operator,
    chat_mute_by_operator,
    group_dissolve,
)
from core.admin import ReadOnlyAdmin, ReadOnlyInline, SetFilter, confirmed_action, operator_of
from core.exceptions import ApplicationError


class ChatFilter(admin.SimpleListFilter):
    """``?chat=<id>``: the rows of one chat (messages, members), as linked from the chat's page.
    Offers only the chat chosen, so the filter costs no list of every chat."""

    title = "chat"
    parameter_name = "chat"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = self.value()
        chat = Chat.objects.filter(pk=value).first() if value and value.isdigit() else None
        return [(str(chat.pk), str(chat))] if chat else []

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(chat_id=int(value)) if value.isdigit() else queryset.none()


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


class DissolvedFilter(SetFilter):
    title = "dissolved"
    parameter_name = "dissolved"
    field = "dissolved_at"


def _live_groups(queryset: QuerySet[Chat]) -> QuerySet[Chat]:
    return queryset.filter(kind__in=(Chat.Kind.GROUP, Chat.Kind.SUPERGROUP), dissolved_at__isnull=True)


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    form = ChatForm
    list_display = ("id", "kind", "title", "owner", "member_count", "last_seq", "created_at", "dissolved_at",
                    "messages_link")
    list_filter = ("kind", DissolvedFilter, *RIGHTS_FIELDS.values())
    search_fields = ("title", "owner__username", "members__user__username")
    list_select_related = ("owner",)
    readonly_fields = ("kind", "title", "owner", "member_count", "last_seq", "created_at", "dissolved_at",
                       "moderation")
    inlines = [MemberInline]
    actions = ["dissolve"]

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

    @admin.display(description="messages")
    def messages_link(self, obj: Chat) -> str:
        return format_html('<a href="{}?chat={}">messages</a>', reverse("admin:messaging_message_changelist"), obj.pk)

    @admin.display(description="moderation")
    def moderation(self, obj: Chat) -> str:
        links = format_html('<a href="{}?chat={}">Messages</a>', reverse("admin:messaging_message_changelist"),
                            obj.pk)
        if obj.is_group and obj.dissolved_at is None:
            # Posts this chat to the list's "Dissolve the group" action, which asks for a reason first.
            links = format_html('{} · <a href="{}?chat={}">Members: mute, unmute, remove</a> · '
                                '<input type="hidden" name="{}" value="{}">'
                                '<button type="submit" formaction="{}" name="action" value="dissolve">'
                                'Dissolve the group</button>', links,
                                reverse("admin:chats_chatmember_changelist"), obj.pk,
                                helpers.ACTION_CHECKBOX_NAME, obj.pk, reverse("admin:chats_chat_changelist"))
        return links

    @confirmed_action(
        description="Dissolve the group", label="Dissolved", button="Yes, dissolve the group",
        permissions=["change"],
        question="Dissolve these groups and remove all their members?",
        warning="Every member gets the last system message and chats.onDissolved; the group leaves their chats, "
                "and nobody can post in it, join it or be added any more. Its messages are kept. This cannot be "
                "undone.",
        selection=_live_groups, none_left="None of the selected chats is a group that is not dissolved.",
        describe=lambda _admin, chat: f"{chat} ({chat.member_count} members)", counted="group(s)", logs=False)
    def dissolve(self, request: HttpRequest, chat: Chat, reason: str) -> None:
        group_dissolve(operator=operator_of(request), chat_id=chat.pk, reason=reason)


class MuteForm(ActionForm):
    minutes = forms.IntegerField(required=False, min_value=1, max_value=MUTE_MAX_SECONDS // 60, initial=60,
                                 help_text="for Mute")


@admin.register(ChatMember)
class ChatMemberAdmin(ReadOnlyAdmin):
    """Group members; the actions act as a group owner would (the same system messages and pushes)."""

    list_display = ("user", "chat", "role", "muted_until", "joined_at")
    list_filter = (ChatFilter, "role")
    search_fields = ("user__username", "chat__title")
    list_select_related = ("user", "chat")
    action_form = MuteForm
    actions = ["mute", "unmute", "kick"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChatMember]:
        return super().get_queryset(request).exclude(chat__kind=Chat.Kind.PRIVATE)

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("chats.change_chat")

    def _each(self, request: HttpRequest, queryset: QuerySet[ChatMember], verb: str, act: Any) -> None:
        done, failed = 0, []
        for member in queryset.select_related("user"):
            try:
                act(member)
            except ApplicationError as error:
                failed.append(f"{member.user.username} in chat {member.chat_id}: {error.message}")
            else:
                done += 1
        if done:
            self.message_user(request, f"{verb} {done} member(s).", messages.SUCCESS)
        for failure in failed:
            self.message_user(request, f"Not {verb.lower()}: {failure}", messages.ERROR)

    @admin.action(description="Mute for the minutes given", permissions=["moderate"])
    def mute(self, request: HttpRequest, queryset: QuerySet[ChatMember]) -> None:
        field = MuteForm.base_fields["minutes"]
        try:
            minutes = field.clean(request.POST.get("minutes"))
        except forms.ValidationError:
            minutes = None
        if not minutes:
            self.message_user(request, f"Give the minutes of the mute (1 to {MUTE_MAX_SECONDS // 60}).",
                              messages.ERROR)
            return
        seconds = minutes * 60
        self._each(request, queryset, "Muted", lambda m: chat_mute_by_operator(
            operator=operator_of(request), chat_id=m.chat_id, user_id=m.user_id, seconds=seconds))

    @admin.action(description="Unmute", permissions=["moderate"])
    def unmute(self, request: HttpRequest, queryset: QuerySet[ChatMember]) -> None:
        self._each(request, queryset, "Unmuted", lambda m: chat_mute_by_operator(
            operator=operator_of(request), chat_id=m.chat_id, user_id=m.user_id, seconds=0))

    @confirmed_action(
        description="Remove from the group (and ban)", label="Removed", button="Yes, remove them",
        permissions=["moderate"], question="Remove these members from their groups?",
        warning="Each gets chats.onRemoved and is banned from the group; the group sees a kick message. "
                "A group admin can lift the ban.",
        selection=lambda queryset: queryset.select_related("user", "chat"),
        describe=lambda _admin, member: f"{member.user.username} from {member.chat}", counted="member(s)",
        logs=False)
    def kick(self, request: HttpRequest, member: ChatMember, reason: str) -> None:
        chat_kick_by_operator(operator=operator_of(request), chat_id=member.chat_id, user_id=member.user_id,
                              reason=reason)


@admin.register(ChatBan)
class ChatBanAdmin(ReadOnlyAdmin):
    """Users an admin removed from a group; a group admin lifts a ban (chats.unban) or adds them back."""

    list_display = ("chat", "user", "banned_by", "created_at")
    search_fields = ("user__username", "chat__title")
    list_select_related = ("chat", "user", "banned_by")
