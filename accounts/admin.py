from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import AuthSession, Block, Friendship, SmsCode, User
from accounts.services import user_deactivate, user_sessions_end


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("id", "username", "phone", "first_name", "last_name", "is_internal", "is_active", "date_joined")
    list_filter = ("is_active", "is_internal", "is_staff", "multi_online")
    search_fields = ("username", "phone", "first_name", "last_name")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("IM", {"fields": ("phone", "avatar", "is_internal", "multi_online", "phone_searchable")}),
    )
    actions = ["ban_users", "end_sessions"]

    @admin.action(description="Ban: deactivate and close every session")
    def ban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user_id in queryset.values_list("pk", flat=True):
            user_deactivate(user_id=user_id)
        self.message_user(request, f"{queryset.count()} user(s) banned and logged out.")

    @admin.action(description="Reset sessions: log out everywhere (the account stays usable)")
    def end_sessions(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        ended = sum(user_sessions_end(user_id=user_id) for user_id in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{ended} session(s) ended.")


@admin.register(AuthSession)
class AuthSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "device", "ip", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("device", "revoked_reason")
    search_fields = ("user__username",)
    readonly_fields = [f.name for f in AuthSession._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


admin.site.register(Friendship, list_display=("user", "friend", "created_at"), search_fields=("user__username",))
admin.site.register(Block, list_display=("user", "blocked", "created_at"), search_fields=("user__username",))


@admin.register(SmsCode)
class SmsCodeAdmin(admin.ModelAdmin):
    list_display = ("user", "phone", "purpose", "created_at", "expires_at", "consumed_at")
    exclude = ("code_hash",)
    readonly_fields = ("user", "phone", "purpose", "created_at", "expires_at", "consumed_at")
