"""Operator console for app content and switches (the native API document web.*)."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from accounts.models import User
from core.models import (
    AppConfig,
    AppVersion,
    CustomerServiceNumber,
    CustomMenu,
    DiscoverGroup,
    DiscoverMenu,
    FriendWhitelist,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records operators look at but never add, change or delete here (money, signalling):
    they change only through their services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent and changed by none: no add, no delete, every field read-only."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields or self.readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def operator_of(request: HttpRequest) -> User:
    """The logged-in operator (every admin view requires a staff login)."""
    assert isinstance(request.user, User)
    return request.user


def confirm_page(request: HttpRequest, model_admin: admin.ModelAdmin[Any], *, title: str, question: str,
                 items: list[str], consequence: str, confirm_label: str, back: str,
                 hidden: tuple[tuple[str, str], ...] = ()) -> TemplateResponse:
    """Ask an operator to confirm an action that cannot be undone: the form posts ``hidden`` back
    with ``confirmed=yes`` (an admin action's ``action`` and ``_selected_action`` go in ``hidden``)."""
    context = {**model_admin.admin_site.each_context(request), "title": title, "question": question,
               "items": items, "consequence": consequence, "confirm_label": confirm_label, "back": back,
               "hidden": hidden, "opts": model_admin.model._meta}
    return TemplateResponse(request, "admin/operator_confirm.html", context)


@admin.register(AppConfig)
class AppConfigAdmin(admin.ModelAdmin):
    """One row; every process applies a change within APP_CONFIG_CACHE_SECONDS."""

    list_display = ("__str__", "permit_modify_user_name", "only_friend_chat", "only_white_add_friend", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not AppConfig.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FriendWhitelist)
class FriendWhitelistAdmin(admin.ModelAdmin):
    list_display = ("user", "note", "created_at")
    search_fields = ("user__username", "user__phone", "note")
    autocomplete_fields = ("user",)


@admin.register(CustomerServiceNumber)
class CustomerServiceNumberAdmin(admin.ModelAdmin):
    list_display = ("user", "note", "is_active", "sort_id")
    list_filter = ("is_active",)
    list_editable = ("is_active", "sort_id")
    search_fields = ("user__username", "note")
    autocomplete_fields = ("user",)


class DiscoverMenuInline(admin.TabularInline):
    model = DiscoverMenu
    fields = ("title", "icon", "url", "is_active", "sort_id")
    extra = 1


@admin.register(DiscoverGroup)
class DiscoverGroupAdmin(admin.ModelAdmin):
    list_display = ("title", "is_active", "sort_id")
    list_filter = ("is_active",)
    list_editable = ("is_active", "sort_id")
    search_fields = ("title", "menus__title")
    inlines = [DiscoverMenuInline]


@admin.register(CustomMenu)
class CustomMenuAdmin(admin.ModelAdmin):
    list_display = ("title", "url", "is_active", "sort_id")
    list_filter = ("is_active",)
    list_editable = ("is_active", "sort_id")
    search_fields = ("title", "url")


@admin.register(AppVersion)
class AppVersionAdmin(admin.ModelAdmin):
    list_display = ("platform", "version", "version_code", "is_active", "created_at")
    list_filter = ("platform", "is_active")
    search_fields = ("version", "notes")
