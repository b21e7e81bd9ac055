"""The operator console of messaging: messages (find, read, recall, delete) and the
customer-service desk (messaging/desk/admin.py).

Messages are never added or edited here. **Recall** and **Delete** go through
``message_recall_by_operator`` / ``message_erase_by_operator``: members get the same
``messages.onRecall`` push as for a user's own recall, and each is recorded in the admin log
(the message's History). Delete keeps the row (a chat's seqs have no gaps) and blanks its content.
"""
from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

from chats.admin import ChatFilter
from core import jsonwire
from core.admin import ReadOnlyAdmin, confirm_page, operator_of
from core.exceptions import ApplicationError
from messaging.desk import admin as _desk_admin  # noqa: F401
from messaging.models import Message
from messaging.services import message_erase_by_operator, message_recall_by_operator

EXCERPT_CHARS = 80


class RecalledFilter(admin.SimpleListFilter):
    title = "recalled"
    parameter_name = "recalled"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(recalled_at__isnull=self.value() == "no")
        return queryset


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "chat", "seq", "sender", "type", "excerpt", "created_at", "recalled")
    list_filter = (ChatFilter, "type", RecalledFilter)
    # content__text: the text of a text message (a JSON key; any case, anywhere in the text)
    search_fields = ("sender__username", "content__text")
    date_hierarchy = "created_at"
    list_select_related = ("chat", "sender")
    ordering = ("-pk",)
    show_full_result_count = False  # no second count over the whole table on every search
    fields = ("chat", "seq", "sender", "type", "sub_type", "client_msg_id", "created_at", "recalled_at",
              "pretty_content")
    readonly_fields = fields
    actions = ["recall", "erase"]

    @admin.display(description="text or content")
    def excerpt(self, obj: Message) -> str:
        if obj.recalled_at is not None and not obj.content:
            return "(deleted)"
        text = obj.content.get("text") if isinstance(obj.content, dict) else None
        shown = text if isinstance(text, str) else jsonwire.dumps(obj.content)
        return shown if len(shown) <= EXCERPT_CHARS else shown[:EXCERPT_CHARS - 1] + "…"

    @admin.display(boolean=True, description="recalled")
    def recalled(self, obj: Message) -> bool:
        return obj.recalled_at is not None

    @admin.display(description="content")
    def pretty_content(self, obj: Message) -> str:
        text = jsonwire.dumps(obj.content, indent=2)
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("messaging.change_message")

    def _each(self, request: HttpRequest, queryset: QuerySet[Message], verb: str, act: Any) -> None:
        done, failed = 0, []
        for pk in queryset.values_list("pk", flat=True):
            try:
                act(pk)
            except ApplicationError as error:
                failed.append(f"message {pk}: {error.message}")
            else:
                done += 1
        if done:
            self.message_user(request, f"{verb} {done} message(s).", messages.SUCCESS)
        for failure in failed:
            self.message_user(request, f"Not {verb.lower()}: {failure}", messages.ERROR)

    @admin.action(description="Recall for everyone", permissions=["moderate"])
    def recall(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        operator = operator_of(request)
        self._each(request, queryset, "Recalled",
                   lambda pk: message_recall_by_operator(operator=operator, message_id=pk))

    @admin.action(description="Delete (recall and erase the content)", permissions=["moderate"])
    def erase(self, request: HttpRequest, queryset: QuerySet[Message]) -> HttpResponse | None:
        if request.POST.get("confirmed") != "yes":
            chosen = list(queryset.select_related("chat")[:500])
            return confirm_page(
                request, self, title="Delete messages?", back=request.get_full_path(),
                question="Delete these messages for everyone?",
                items=[f"{m} — {self.excerpt(m)}" for m in chosen],
                consequence="Each is recalled (members get messages.onRecall) and its content is erased from "
                            "storage. This cannot be undone.",
                confirm_label="Yes, delete them",
                hidden=(("action", "erase"), *(("_selected_action", str(m.pk)) for m in chosen)))
        operator = operator_of(request)
        self._each(request, queryset, "Deleted",
                   lambda pk: message_erase_by_operator(operator=operator, message_id=pk))
        return None
