"""The operators' report queue (docs/operators.md, "Reports"): open reports first, each with the
reported message in its chat's context, closed only through the queue's actions.

Each action is a ``QueueAction``: a label, the status it closes the report with, and optionally
an effect on the reported target (``services.Effect``) run in the report's transaction. Every
action is a ``core.admin.confirmed_action``: it asks for an outcome note on the console's
confirmation page, writes the console's history (LogEntry) and records who handled the report
and when. To add one (a recall, a mute), append
a ``QueueAction`` to ``QUEUE_ACTIONS``."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User
from core import jsonwire
from core.admin import ReadOnlyAdmin, confirmed_action, operator_of
from messaging.models import Message
from messaging.selectors import content_excerpt
from reports import selectors, services
from reports.models import OUTCOME_MAX, Report


@dataclass(frozen=True)
class QueueAction:
    name: str  # the admin action's name (the form's ``action`` value)
    label: str
    status: str  # what the report becomes
    effect: services.Effect | None = None
    warning: str = ""  # said on the confirmation page, for an action that does more than close the report


QUEUE_ACTIONS = [
    QueueAction("dismiss", "Dismiss", Report.Status.DISMISSED),
    QueueAction("mark_actioned", "Mark actioned", Report.Status.ACTIONED),
    QueueAction("ban_reported_user", "Ban reported user", Report.Status.ACTIONED, services.ban_reported_user,
                warning="The reported users are deactivated and every socket of theirs is closed."),
    QueueAction("delete_reported_message", "Delete reported message", Report.Status.ACTIONED,
                services.delete_reported_message,
                warning="Each reported message is recalled for everyone and its text erased (the report keeps "
                        "its copy). Reports of a user are skipped."),
    QueueAction("remove_from_chat", "Remove sender from the group", Report.Status.ACTIONED,
                services.remove_reported_user_from_chat,
                warning="The sender of each reported message is removed from its group and banned from it, "
                        "as by the group's owner. Reports of a user are skipped."),
]


class StatusFilter(admin.SimpleListFilter):
    """By status, open by default: the queue is what still needs an operator."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*Report.Status.choices, ("all", "All")]

    def choices(self, changelist: Any) -> Any:
        current = self.value() or Report.Status.OPEN
        for lookup, title in self.lookup_choices:
            yield {"selected": current == lookup, "display": title,
                   "query_string": changelist.get_query_string({self.parameter_name: lookup})}

    def queryset(self, request: HttpRequest, queryset: QuerySet[Report]) -> QuerySet[Report]:
        value = self.value() or Report.Status.OPEN
        return queryset if value == "all" else queryset.filter(status=value)


def _open(queryset: QuerySet[Report]) -> QuerySet[Report]:
    return queryset.filter(status=Report.Status.OPEN).select_related("reporter", "reported_user").order_by("pk")


def _listed(_admin: Any, report: Report) -> str:
    return (f"#{report.pk}: {report.kind} of {report.reported_user.username} (#{report.reported_user_id}), "
            f"{report.reason}, by {report.reporter.username}")


def _queue_action(spec: QueueAction) -> Callable[..., Any]:
    """``spec`` as a console action: asks for the outcome note, then closes each selected open report."""
    def step(modeladmin: ReportAdmin, request: HttpRequest, report: Report, outcome: str) -> None:
        services.report_close(report_id=report.pk, operator=operator_of(request), status=spec.status,
                              outcome=outcome, effect=spec.effect)

    step.__name__ = spec.name
    return confirmed_action(
        description=spec.label, label=spec.label, permissions=["handle"],
        question=f"{spec.label}: close these open reports as {spec.status}?", warning=spec.warning,
        field="outcome", field_label="Outcome note", max_length=OUTCOME_MAX,
        help_text="Required. What was found and done; kept on the report and in its History.",
        selection=_open, none_left="None of the selected reports is open.", describe=_listed,
        counted="report(s) closed")(step)


def _user_link(user: User | None) -> SafeString | str:
    if user is None:
        return "-"
    return format_html('<a href="{}">{} (#{})</a>', reverse("admin:accounts_user_change", args=[user.pk]),
                       user.username, user.pk)


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "reporter", "kind", "reported_user", "excerpt", "reason", "status")
    list_filter = (StatusFilter, "reason", "kind")
    list_select_related = ("reporter", "reported_user", "message")
    search_fields = ("reporter__username", "reported_user__username", "description", "outcome")
    ordering = ("created_at",)  # a queue: the oldest first
    fields = ("created_at", "reporter_link", "kind", "reported_user_link", "chat_link", "reason", "description",
              "reported_message", "context", "status", "outcome", "handled_by", "handled_at", "handle_buttons")
    readonly_fields = fields
    actions = [_queue_action(spec) for spec in QUEUE_ACTIONS]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("reports.view_report") or self.has_handle_permission(request)

    def has_handle_permission(self, request: HttpRequest) -> bool:
        """Handling a report is the model's change permission; the report itself is never edited here."""
        return request.user.has_perm("reports.change_report")

    @admin.display(description="message")
    def excerpt(self, obj: Report) -> str:
        if obj.kind != Report.Kind.MESSAGE:
            return "-"
        label = Message.Type(obj.message.type).label if obj.message is not None else ""
        return content_excerpt(obj.message_content, label)

    @admin.display(description="reporter")
    def reporter_link(self, obj: Report) -> SafeString | str:
        return _user_link(obj.reporter)

    @admin.display(description="reported user")
    def reported_user_link(self, obj: Report) -> SafeString | str:
        user = obj.reported_user
        state = "" if user.is_active else " (banned)"
        return format_html("{}{}", _user_link(user), state)

    @admin.display(description="chat")
    def chat_link(self, obj: Report) -> SafeString | str:
        if obj.chat is None:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("admin:chats_chat_change", args=[obj.chat.pk]), obj.chat)

    @admin.display(description="reported message")
    def reported_message(self, obj: Report) -> SafeString | str:
        if obj.kind != Report.Kind.MESSAGE:
            return "-"
        msg = obj.message
        if msg is None:
            head = "the message is gone; its content when reported:"
        else:
            state = ", recalled" if msg.recalled_at else ""
            head = f"seq {msg.seq}, {Message.Type(msg.type).label}, sent {msg.created_at:%Y-%m-%d %H:%M:%S}{state}"
        return format_html("<div>{}</div><pre>{}</pre>", head, jsonwire.dumps(obj.message_content, indent=2))

    @admin.display(description="context in the chat")
    def context(self, obj: Report) -> SafeString | str:
        around = selectors.message_context(obj)
        if not around:
            return "-"
        rows = format_html_join("", '<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>', (
            (mark_safe(' style="font-weight: bold"') if m.pk == obj.message_id else "", m.seq,
             m.sender.username if m.sender else "(system)", m.created_at.strftime("%Y-%m-%d %H:%M:%S"),
             content_excerpt(m.content, Message.Type(m.type).label, limit=300))
            for m in around))
        return format_html("<table><tr><th>seq</th><th>from</th><th>sent</th><th>content</th></tr>{}</table>", rows)

    @admin.display(description="handle")
    def handle_buttons(self, obj: Report) -> SafeString | str:
        """The queue's actions for this one report (they post to the list page, which asks for the outcome)."""
        if obj.status != Report.Status.OPEN:
            return "-"
        buttons = format_html_join(" ", '<button type="submit" formaction="{}" name="action" value="{}">{}</button>',
                                   ((reverse("admin:reports_report_changelist"), spec.name, spec.label)
                                    for spec in QUEUE_ACTIONS))
        return format_html('<input type="hidden" name="{}" value="{}">{}', helpers.ACTION_CHECKBOX_NAME, obj.pk,
                           buttons)
