"""The operator console of messaging: messages (find, read, recall, delete) and the
customer-service desk (messaging/desk/admin.py).

Messages are never added or edited here. **Recall** and **Delete** ask for a reason first
(``core.admin.confirmed_action``), then go through ``message_recall_by_operator`` /
``message_erase_by_operator``: members get the same ``messages.onRecall`` push as for a user's
own recall, and the service records each, with the reason, in the admin log (the message's
History). Delete keeps the row (a chat's seqs have no gaps) and blanks its content.
"""
from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from chats.admin import ChatFilter
from core import jsonwire
from core.admin import ReadOnlyAdmin, SetFilter, confirmed_action, operator_of
from messaging.desk import admin as _desk_admin  # noqa: F401
from messaging.models import Message
from messaging.selectors import content_excerpt
from messaging.services import message_erase_by_operator, message_recall_by_operator

ACTION_MAX = 500


class RecalledFilter(SetFilter):
    title = "recalled"
    parameter_name = "recalled"
    field = "recalled_at"


def _bounded(queryset: QuerySet[Message]) -> QuerySet[Message]:
    """At most ``ACTION_MAX`` messages per confirmation (a page of ids the browser posts back)."""
    return queryset.select_related("chat").order_by("-pk")[:ACTION_MAX]


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
        return content_excerpt(obj.content, obj.get_type_display())

    @admin.display(boolean=True, description="recalled")
    def recalled(self, obj: Message) -> bool:
        return obj.recalled_at is not None

    @admin.display(description="content")
    def pretty_content(self, obj: Message) -> str:
        text = jsonwire.dumps(obj.content, indent=2)
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("messaging.change_message")

    def listed(self, msg: Message) -> str:
        """How a message is listed on the confirmation page."""
        return f"{msg} — {self.excerpt(msg)}"

    @confirmed_action(
        description="Recall for everyone", label="Recalled", button="Yes, recall them", permissions=["moderate"],
        question="Recall these messages for everyone? Members get messages.onRecall and see them as recalled; "
                 "the content stays readable here. A recall cannot be taken back.",
        selection=_bounded, describe=lambda admin_, msg: admin_.listed(msg), counted="message(s)", logs=False)
    def recall(self, request: HttpRequest, msg: Message, reason: str) -> None:
        message_recall_by_operator(operator=operator_of(request), message_id=msg.pk, reason=reason)

    @confirmed_action(
        description="Delete (recall and erase the content)", label="Deleted", button="Yes, delete them",
        permissions=["moderate"], question="Delete these messages for everyone?",
        warning="Each is recalled (members get messages.onRecall) and its content is erased from storage. "
                "This cannot be undone.",
        selection=_bounded, describe=lambda admin_, msg: admin_.listed(msg), counted="message(s)", logs=False)
    def erase(self, request: HttpRequest, msg: Message, reason: str) -> None:
        message_erase_by_operator(operator=operator_of(request), message_id=msg.pk, reason=reason)
