"""Chats in the operators' console. A group's rights and filter keywords are edited on its page;
its members are muted, unmuted and removed under *Chat members*, and the group dissolved from its
page. Everything goes through chats.services, so members get the same system messages and pushes
as for an owner's action, and each action is recorded in the admin log (the object's History)."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
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
from core.admin import ReadOnlyAdmin, ReadOnlyInline, confirm_page, operator_of
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


class DissolvedFilter(admin.SimpleListFilter):
    title = "dissolved"
    parameter_name = "dissolved"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(dissolved_at__isnull=self.value() == "no")
        return queryset


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
            links = format_html('{} · <a href="{}?chat={}">Members: mute, unmute, remove</a> · '
                                '<a href="{}">Dissolve the group</a>', links,
                                reverse("admin:chats_chatmember_changelist"), obj.pk,
                                reverse("admin:chats_chat_dissolve", args=[obj.pk]))
        return links

    def get_urls(self) -> list[URLPattern]:
        dissolve = path("<int:object_id>/dissolve/", self.admin_site.admin_view(self.dissolve_view),
                        name="chats_chat_dissolve")
        return [dissolve, *super().get_urls()]

    def dissolve_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Asks, then dissolves the group through ``group_dissolve`` (which records it in the log)."""
        chat = get_object_or_404(Chat, pk=object_id)
        back = reverse("admin:chats_chat_change", args=[chat.pk])
        if not self.has_change_permission(request, chat):
            return HttpResponseRedirect(back)
        if request.method == "POST" and request.POST.get("confirmed") == "yes":
            try:
                group_dissolve(operator=operator_of(request), chat_id=chat.pk)
            except ApplicationError as error:
                self.message_user(request, f"Not dissolved: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{chat} was dissolved; its members were told.", messages.SUCCESS)
            return HttpResponseRedirect(back)
        members = ChatMember.objects.filter(chat=chat).count()
        return confirm_page(
            request, self, title=f"Dissolve {chat}?", back=back, items=[],
            question=f"Dissolve {chat} and remove its {members} members?",
            consequence="Every member gets the last system message and chats.onDissolved; the group leaves "
                        "their chats, and nobody can post in it, join it or be added any more. Its messages are "
                        "kept. This cannot be undone.",
            confirm_label="Yes, dissolve the group")


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

    @admin.action(description="Remove from the group (and ban)", permissions=["moderate"])
    def kick(self, request: HttpRequest, queryset: QuerySet[ChatMember]) -> HttpResponse | None:
        if request.POST.get("confirmed") != "yes":
            chosen = list(queryset.select_related("user", "chat"))
            return confirm_page(
                request, self, title="Remove members?", back=request.get_full_path(),
                question="Remove these members from their groups?",
                items=[f"{m.user.username} from {m.chat}" for m in chosen],
                consequence="Each gets chats.onRemoved and is banned from the group; the group sees a kick "
                            "message. A group admin can lift the ban.",
                confirm_label="Yes, remove them",
                hidden=(("action", "kick"), *(("_selected_action", str(m.pk)) for m in chosen)))
        self._each(request, queryset, "Removed", lambda m: chat_kick_by_operator(
            operator=operator_of(request), chat_id=m.chat_id, user_id=m.user_id))
        return None


@admin.register(ChatBan)
class ChatBanAdmin(ReadOnlyAdmin):
    """Users an admin removed from a group; a group admin lifts a ban (chats.unban) or adds them back."""

    list_display = ("chat", "user", "banned_by", "created_at")
    search_fields = ("user__username", "chat__title")
    list_select_related = ("chat", "user", "banned_by")
