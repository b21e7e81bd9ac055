"""Operator console for app content and switches (the native API document web.*)."""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from accounts.models import User
from core.exceptions import ApplicationError
from core.models import (
    AppConfig,
    AppVersion,
    CustomerServiceNumber,
    CustomMenu,
    DiscoverGroup,
    DiscoverMenu,
    FriendWhitelist,
)

REASON_MAX = 255


class ActionRefused(Exception):
    """Raised by a confirmed action's step to skip one object and tell the operator why."""


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Required. Kept with the History of each object acted on.")


ActionStep = Callable[[Any, HttpRequest, Any, str], None]


def confirmed_action(
    *, description: str, label: str, question: str, warning: str = "", permissions: Sequence[str] | None = None,
) -> Callable[[ActionStep], Callable[..., TemplateResponse | None]]:
    """An admin action that asks first, as Django's "delete selected" does.

    The decorated ``step(modeladmin, request, obj, reason)`` acts on one object (through its
    service). The action first answers a page listing the selected objects with a required
    reason field; only the POST of that page with a reason runs ``step`` on each object, each
    in its own transaction together with an entry in the admin log (the object's History page:
    who, when, ``label`` and the reason). A step raising ``ActionRefused`` or ``ApplicationError``
    skips that object with a warning; the others go on."""

    def decorate(step: ActionStep) -> Callable[..., TemplateResponse | None]:
        @functools.wraps(step)
        def action(modeladmin: admin.ModelAdmin, request: HttpRequest,
                   queryset: QuerySet[Any]) -> TemplateResponse | None:
            objects = list(queryset)
            form = ReasonForm(request.POST if request.POST.get("post") == "yes" else None)
            if form.is_bound and form.is_valid():
                reason = form.cleaned_data["reason"].strip()
                done = 0
                for obj in objects:
                    try:
                        with transaction.atomic():
                            step(modeladmin, request, obj, reason)
                            obj.refresh_from_db()
                            modeladmin.log_change(request, obj, f"{label}. Reason: {reason}")
                        done += 1
                    except ActionRefused as exc:
                        modeladmin.message_user(request, f"{obj}: {exc}", messages.WARNING)
                    except ApplicationError as exc:
                        modeladmin.message_user(request, f"{obj}: {exc.message}", messages.WARNING)
                opts = modeladmin.model._meta
                name = opts.verbose_name if done == 1 else opts.verbose_name_plural
                modeladmin.message_user(request, f"{label}: {done} {name}, {len(objects) - done} skipped.",
                                        messages.SUCCESS if done else messages.WARNING)
                return None
            context = {
                **modeladmin.admin_site.each_context(request),
                "title": description,
                "question": question,
                "warning": warning,
                "button": label,
                "objects": objects,
                "form": form,
                "opts": modeladmin.model._meta,
                "action_name": step.__name__,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "media": modeladmin.media,
            }
            return TemplateResponse(request, "admin/confirm_action.html", context)

        return admin.action(description=description, permissions=permissions)(action)

    return decorate


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
