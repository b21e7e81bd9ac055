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
REASON_HELP = "Required. Kept with the History of each object acted on."


def _note_form(field: str, field_label: str, help_text: str, max_length: int) -> type[forms.Form]:
    """The confirmation page's form: one required note (blank or spaces only is no note)."""
    note = forms.CharField(label=field_label, max_length=max_length, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))
    return type("NoteForm", (forms.Form,), {field: note})


ActionStep = Callable[[Any, HttpRequest, Any, str], None]


def confirmed_action(
    *, description: str, label: str, question: str, warning: str = "", permissions: Sequence[str] | None = None,
    button: str = "", field: str = "reason", field_label: str = "Reason", help_text: str = REASON_HELP,
    max_length: int = REASON_MAX, selection: Callable[[QuerySet[Any]], QuerySet[Any]] | None = None,
    none_left: str = "", describe: Callable[[Any, Any], str] | None = None, counted: str = "",
    logs: bool = True,
) -> Callable[[ActionStep], Callable[..., TemplateResponse | None]]:
    """The console's one way to act only after asking, as Django's "delete selected" does
    (docs/operators.md, "Confirmation and reason").

    The decorated ``step(modeladmin, request, obj, note)`` acts on one object (through its
    service). The action first answers a page (``admin/confirm_action.html``) listing the selected
    objects with a required note (``field``, shown as ``field_label``: a reason by default, an
    outcome note in the reports queue); only the POST of that page with a note runs ``step`` on
    each object, each in its own transaction together with its entry in the admin log (the
    object's History: who, when, ``label`` and the note). A step whose service raises
    ``ApplicationError`` skips that object with a warning and rolls back its entry; the others go on.

    - ``selection`` narrows the selected queryset (and may prefetch or bound it): the objects it
      leaves out are neither listed nor acted on; when it leaves none, the operator is told
      ``none_left`` and nothing is asked.
    - ``describe(modeladmin, obj)`` is how each object is listed on the page (``str(obj)``).
    - ``logs=False``: the step's service writes the admin log entry itself (with the note, in
      its own transaction), so this writes none: nothing is logged twice.
    - ``button`` is the page's submit button (``label``); ``counted`` names what the summary
      counts ("report(s) closed"; the model's verbose name by default)."""

    form_class = _note_form(field, field_label, help_text, max_length)

    def decorate(step: ActionStep) -> Callable[..., TemplateResponse | None]:
        @functools.wraps(step)
        def action(modeladmin: admin.ModelAdmin, request: HttpRequest,
                   queryset: QuerySet[Any]) -> TemplateResponse | None:
            objects = list(selection(queryset) if selection is not None else queryset)
            if not objects:
                modeladmin.message_user(request, none_left or "Nothing to do.", messages.WARNING)
                return None
            form = form_class(request.POST if request.POST.get("post") == "yes" else None)
            if form.is_bound and form.is_valid():
                note = form.cleaned_data[field].strip()
                done = 0
                for obj in objects:
                    try:
                        with transaction.atomic():
                            step(modeladmin, request, obj, note)
                            if logs:
                                obj.refresh_from_db()
                                modeladmin.log_change(request, obj, f"{label}. {field_label}: {note}")
                        done += 1
                    except ApplicationError as exc:
                        modeladmin.message_user(request, f"{obj}: {exc.message}", messages.WARNING)
                opts = modeladmin.model._meta
                name = counted or (opts.verbose_name if done == 1 else opts.verbose_name_plural)
                modeladmin.message_user(request, f"{label}: {done} {name}, {len(objects) - done} skipped.",
                                        messages.SUCCESS if done else messages.WARNING)
                return None
            context = {
                **modeladmin.admin_site.each_context(request),
                "title": description,
                "question": question,
                "warning": warning,
                "button": button or label,
                "objects": [(obj, describe(modeladmin, obj) if describe else str(obj)) for obj in objects],
                "form": form,
                "opts": modeladmin.model._meta,
                "action_name": step.__name__,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "media": modeladmin.media,
            }
            return TemplateResponse(request, "admin/confirm_action.html", context)

        return admin.action(description=description, permissions=permissions)(action)

    return decorate


class SetFilter(admin.SimpleListFilter):
    """A list filter Yes / No: whether the nullable ``field`` (a time something happened) is set."""

    field = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(**{f"{self.field}__isnull": self.value() == "no"})
        return queryset


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
