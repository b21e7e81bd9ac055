from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from accounts.backends import AdminLoginForm
from accounts.models import (
    AuthSession,
    Block,
    FriendRequest,
    Friendship,
    Moment,
    MomentComment,
    SmsCode,
    User,
)
from accounts.moments import moment_comment_remove, moment_remove
from accounts.services import (
    friend_add_direct,
    friend_add_direct_check,
    friend_remove_by_operator,
    sessions_delete_by_operator,
    user_deactivate,
    user_erase,
    user_reactivate,
    user_sessions_end,
)
from core.admin import ReadOnlyAdmin, ReadOnlyInline, confirmed_action
from core.exceptions import ApplicationError


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("id", "username", "phone", "first_name", "last_name", "is_internal", "is_active", "date_joined")
    list_filter = ("is_active", "is_internal", "is_staff", "multi_online", "friend_policy")
    search_fields = ("username", "phone", "first_name", "last_name")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("IM", {"fields": ("phone", "avatar", "is_internal", "multi_online", "phone_searchable", "friend_policy")}),
    )
    actions = ["ban_users", "unban_users", "end_sessions", "erase_users"]

    @confirmed_action(description="Ban: deactivate and close every session", label="Banned",
                      question="Ban these users? They are logged out everywhere and cannot log in until unbanned.",
                      permissions=["change"])
    def ban_users(self, request: HttpRequest, user: User, reason: str) -> None:
        user_deactivate(user_id=user.pk)

    @confirmed_action(description="Unban: let them log in again", label="Unbanned",
                      question="Unban these users? They can log in again (their ended sessions stay ended).",
                      permissions=["change"])
    def unban_users(self, request: HttpRequest, user: User, reason: str) -> None:
        user_reactivate(user_id=user.pk)  # refuses an erased account

    @confirmed_action(
        description="Erase (on request): remove the user's personal data", label="Erased on request",
        question="Erase these users' personal data? Each account is renamed \"deleted user\", logged out and "
                 "closed; profile, phone, moments, friends and uploads are removed; messages they sent stay, "
                 "shown as from \"deleted user\"; their money records stay in the books.",
        warning="This cannot be undone. Do not put personal data in the reason: it is kept in the History.",
        permissions=["change"])
    def erase_users(self, request: HttpRequest, user: User, reason: str) -> None:
        user_erase(user_id=user.pk, operator=request.user, reason=reason)  # type: ignore[arg-type]

    @admin.action(description="Reset sessions: log out everywhere (the account stays usable)")
    def end_sessions(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        ended = sum(user_sessions_end(user_id=user_id) for user_id in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{ended} session(s) ended.")

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # "Active" switches through the services, as Ban and Unban do: the other fields are
        # saved, then unticking ends every session and closes the sockets (user_deactivate,
        # 4003) and ticking lets the user log in again (user_reactivate; not an erased account).
        if not (change and "is_active" in form.changed_data):
            super().save_model(request, obj, form, change)
            return
        active = obj.is_active
        obj.is_active = not active  # as stored: the service switches it
        super().save_model(request, obj, form, change)
        if not active:
            user_deactivate(user_id=obj.pk)
        else:
            try:
                user_reactivate(user_id=obj.pk)
            except ApplicationError as error:  # an erased account
                self.message_user(request, error.message, messages.ERROR)
                return
        obj.is_active = active

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        # A password set here ends every session of the user, as a back office's reset does
        # (accounts.services.user_reset_password): whoever held the account logs in again.
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user_sessions_end(user_id=int(unquote(id)))
        return response


@admin.register(AuthSession)
class AuthSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "device", "ip", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("device", "revoked_reason")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    exclude = ("key_hash",)
    readonly_fields = [f.name for f in AuthSession._meta.fields if f.name != "key_hash"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # seen and deleted (= logged out), never edited

    def delete_model(self, request: HttpRequest, obj: AuthSession) -> None:
        # Revoked through the service first: the session's sockets close at once (4003).
        sessions_delete_by_operator(session_ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AuthSession]) -> None:
        sessions_delete_by_operator(session_ids=list(queryset.values_list("pk", flat=True)))


class FriendshipAddForm(forms.ModelForm):
    """Two users made friends by an operator: checked as the service checks (blacklist either
    way, already friends, the white-list switch), saved by ``friend_add_direct``."""

    class Meta:
        model = Friendship
        fields = ("user", "friend")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        user, friend = data.get("user"), data.get("friend")
        if user is not None and friend is not None:
            try:
                friend_add_direct_check(user=user, friend_id=friend.pk)
            except ApplicationError as error:
                raise forms.ValidationError(error.message) from error
        return data

    def validate_unique(self) -> None:
        pass  # "already friends" comes from the service's check, in its words


@admin.register(Friendship)
class FriendshipAdmin(admin.ModelAdmin):
    """One row per direction. Adding makes both directions and pushes ``friends.onAdded`` to
    both users; deleting removes both directions and pushes ``friends.onRemoved`` to both.
    Rows are never edited."""

    form = FriendshipAddForm
    list_display = ("user", "friend", "created_at")
    search_fields = ("user__username", "friend__username")
    list_select_related = ("user", "friend")
    raw_id_fields = ("user", "friend")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Friendship, form: Any, change: bool) -> None:
        friend_add_direct(user=obj.user, friend_id=obj.friend_id)
        obj.pk = Friendship.objects.get(user_id=obj.user_id, friend_id=obj.friend_id).pk

    def delete_model(self, request: HttpRequest, obj: Friendship) -> None:
        friend_remove_by_operator(user_id=obj.user_id, friend_id=obj.friend_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Friendship]) -> None:
        pairs = {tuple(sorted(pair)) for pair in queryset.values_list("user_id", "friend_id")}
        for user_id, friend_id in sorted(pairs):
            friend_remove_by_operator(user_id=user_id, friend_id=friend_id)


@admin.register(FriendRequest)
class FriendRequestAdmin(ReadOnlyAdmin):
    """Users' friend requests: who asked whom, and what became of it (they change only through
    the users' own friends.* calls)."""

    list_display = ("id", "from_user", "to_user", "status", "created_at", "decided_at")
    list_filter = ("status",)
    search_fields = ("from_user__username", "to_user__username")
    list_select_related = ("from_user", "to_user")
    date_hierarchy = "created_at"


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    """Users' blacklists: each user's own choice, made and undone only by the user
    (``blacklist.add`` / ``blacklist.remove``); operators look them up."""

    list_display = ("user", "blocked", "created_at")
    search_fields = ("user__username", "blocked__username")
    list_select_related = ("user", "blocked")


@admin.register(SmsCode)
class SmsCodeAdmin(ReadOnlyAdmin):
    """Codes come only from the SMS service; operators see when one was sent and used, never
    the code (only its hash is stored, and that is not shown)."""

    list_display = ("user", "phone", "purpose", "created_at", "expires_at", "consumed_at")
    list_select_related = ("user",)
    exclude = ("code_hash",)
    readonly_fields = ("user", "phone", "purpose", "created_at", "expires_at", "consumed_at")


class _ReadOnlyDeletable(admin.ModelAdmin):
    """Operators read and delete; deleting goes through the moments service (pushes included)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MomentCommentInline(ReadOnlyInline):
    model = MomentComment
    fields = ("id", "author", "text", "reply_to_user", "created_at")
    show_change_link = True


@admin.register(Moment)
class MomentAdmin(_ReadOnlyDeletable):
    list_display = ("id", "author", "excerpt", "visibility", "created_at")
    list_filter = ("visibility",)
    search_fields = ("author__username", "text")
    list_select_related = ("author",)
    date_hierarchy = "created_at"
    inlines = [MomentCommentInline]

    @admin.display(description="text")
    def excerpt(self, obj: Moment) -> str:
        return obj.text[:60]

    def delete_model(self, request: HttpRequest, obj: Moment) -> None:
        moment_remove(moment_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Moment]) -> None:
        for moment_id in list(queryset.values_list("pk", flat=True)):
            moment_remove(moment_id=moment_id)


@admin.register(MomentComment)
class MomentCommentAdmin(_ReadOnlyDeletable):
    list_display = ("id", "moment", "author", "text", "created_at")
    search_fields = ("author__username", "text")
    list_select_related = ("author",)

    def delete_model(self, request: HttpRequest, obj: MomentComment) -> None:
        moment_comment_remove(comment_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[MomentComment]) -> None:
        for comment_id in list(queryset.values_list("pk", flat=True)):
            moment_comment_remove(comment_id=comment_id)

# The console's login form shows the password-attempt limit's refusal (accounts/backends.py).
admin.site.login_form = AdminLoginForm
