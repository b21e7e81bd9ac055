"""Socket method of reports (docs/reports.md): reports.create."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts import exceptions as account_codes
from chats import exceptions as chat_codes
from core.exceptions import NOT_FOUND
from core.gateway import registry
from core.gateway.registry import RpcContext
from reports import exceptions as codes
from reports import replies, services
from reports.models import DESCRIPTION_MAX, Report

CREATE_ERRORS = {account_codes.SELF_NOT_ALLOWED: 400, chat_codes.NOT_A_MEMBER: 403, codes.NOT_REPORTABLE: 403,
                 NOT_FOUND: 404}
CREATE_LIMIT = registry.Limit("REPORTS_PER_HOUR", 3600)


class CreateParams(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Report.Kind.choices)
    chatId = serializers.IntegerField(required=False, help_text="the message's chat; for a user, optionally "
                                      "the chat it happened in")
    messageId = serializers.IntegerField(min_value=1, required=False, help_text="kind message")
    uId = serializers.IntegerField(min_value=1, required=False, help_text="kind user")
    reason = serializers.ChoiceField(choices=Report.Reason.choices)
    description = serializers.CharField(max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["kind"] == Report.Kind.MESSAGE:
            if "chatId" not in attrs or "messageId" not in attrs or "uId" in attrs:
                raise serializers.ValidationError("a message report takes chatId and messageId (no uId)")
        elif "uId" not in attrs or "messageId" in attrs:
            raise serializers.ValidationError("a user report takes uId (and chatId optionally, no messageId)")
        return attrs


@registry.method("reports.create", params=CreateParams, errors=CREATE_ERRORS, limit=CREATE_LIMIT,
                 reply=replies.ReportFiled)
def create(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """Report a message or a user to the operators. A repeat while the first is open answers it."""
    report, _ = services.report_create(
        reporter=ctx.user, kind=p["kind"], reason=p["reason"], description=p["description"],
        chat_wire_id=p.get("chatId"), message_id=p.get("messageId"), user_id=p.get("uId"),
    )
    return {"reportId": report.pk, "status": report.status}
