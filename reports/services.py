"""Writes of reports: a user files one (``report_create``), an operator closes it (``report_close``)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import exceptions as account_codes
from accounts.models import User
from chats.models import Chat
from chats.selectors import access_chat
from core.exceptions import INVALID, NOT_FOUND, ApplicationError
from messaging.models import Message
from reports import exceptions as codes
from reports.models import OUTCOME_MAX, Report

# What an operator's action does to the reported target before the report closes (a ban, a
# recall...); it runs in the report's transaction, so a refusal leaves the report open.
Effect = Callable[[Report, User], None]


def _message_target(reporter: User, chat_wire_id: int, message_id: int) -> tuple[Chat, Message]:
    """The message, if the reporter can see it: a member of its chat, sent since they joined."""
    chat, member = access_chat(user_id=reporter.pk, wire_id=chat_wire_id)
    msg = (Message.objects.filter(pk=message_id, chat=chat, seq__gt=member.joined_seq)
           .only("pk", "sender_id", "type", "content", "chat_id").first())
    if msg is None:
        raise ApplicationError(NOT_FOUND, "no such message in this chat")
    if msg.sender_id is None or msg.type == Message.Type.SYSTEM:
        raise ApplicationError(codes.NOT_REPORTABLE, "system notices cannot be reported")
    if msg.sender_id == reporter.pk:
        raise ApplicationError(account_codes.SELF_NOT_ALLOWED, "you cannot report your own message")
    return chat, msg


@transaction.atomic
def report_create(
    *, reporter: User, kind: str, reason: str, description: str = "", chat_wire_id: int | None = None,
    message_id: int | None = None, user_id: int | None = None,
) -> tuple[Report, bool]:
    """File a report of a message (``chat_wire_id`` and ``message_id``) or of a user
    (``user_id``, with the chat it happened in optionally). Returns the report and whether it is
    new: while the reporter's earlier report of the same target is open, that one is answered
    and nothing is stored."""
    fields: dict[str, Any]
    same: dict[str, Any]
    if kind == Report.Kind.MESSAGE:
        if chat_wire_id is None or message_id is None:
            raise ApplicationError(INVALID, "a message report needs chatId and messageId")
        in_chat, msg = _message_target(reporter, chat_wire_id, message_id)
        fields = {"message": msg, "message_content": msg.content, "chat": in_chat, "reported_user_id": msg.sender_id}
        same = {"message": msg}
    elif kind == Report.Kind.USER:
        if user_id is None:
            raise ApplicationError(INVALID, "a user report needs uId")
        if user_id == reporter.pk:
            raise ApplicationError(account_codes.SELF_NOT_ALLOWED, "you cannot report yourself")
        if not User.objects.filter(pk=user_id).exists():
            raise ApplicationError(NOT_FOUND, "no such user")
        chat = access_chat(user_id=reporter.pk, wire_id=chat_wire_id)[0] if chat_wire_id is not None else None
        fields = {"chat": chat, "reported_user_id": user_id}
        same = {"reported_user_id": user_id}
    else:
        raise ApplicationError(INVALID, f"kind: {kind!r} is not a kind of report")
    open_reports = Report.objects.filter(reporter=reporter, kind=kind, status=Report.Status.OPEN, **same)
    existing = open_reports.first()
    if existing is not None:
        return existing, False
    try:
        # A savepoint: a concurrent duplicate loses on the partial unique index and answers the winner.
        with transaction.atomic():
            return Report.objects.create(reporter=reporter, kind=kind, reason=reason, description=description,
                                         **fields), True
    except IntegrityError:
        existing = open_reports.first()
        if existing is None:
            raise
        return existing, False


@transaction.atomic
def report_close(
    *, report_id: int, operator: User, status: str, outcome: str, effect: Effect | None = None,
) -> Report:
    """An operator closes an open report as ``actioned`` or ``dismissed``, with a note of the
    outcome; ``effect`` (e.g. a ban) acts on the target first, in the same transaction."""
    if status not in (Report.Status.ACTIONED, Report.Status.DISMISSED):
        raise ApplicationError(INVALID, f"status: {status!r} does not close a report")
    outcome = outcome.strip()
    if not outcome:
        raise ApplicationError(INVALID, "an outcome note is required")
    if len(outcome) > OUTCOME_MAX:
        raise ApplicationError(INVALID, f"the outcome note is longer than {OUTCOME_MAX} characters")
    # Locked: two operators handling the same report close it once.
    report = Report.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise ApplicationError(NOT_FOUND, "no such report")
    if report.status != Report.Status.OPEN:
        raise ApplicationError(codes.ALREADY_HANDLED, f"report {report.pk} is already {report.status}")
    if effect is not None:
        effect(report, operator)
    report.status, report.outcome = status, outcome
    report.handled_by, report.handled_at = operator, timezone.now()
    report.save(update_fields=["status", "outcome", "handled_by", "handled_at"])
    return report


def ban_reported_user(report: Report, operator: User) -> None:
    """Effect: deactivate the reported user and close every socket of theirs."""
    from accounts.services import user_deactivate

    user_deactivate(user_id=report.reported_user_id)


def _reported_message(report: Report) -> int:
    if report.kind != Report.Kind.MESSAGE or report.message_id is None:
        raise ApplicationError(INVALID, f"report {report.pk} is not of a message")
    return report.message_id


def delete_reported_message(report: Report, operator: User) -> None:
    """Effect: recall the reported message for everyone and erase its stored content (the report
    keeps its copy as evidence). Recorded in the admin log by the messaging service."""
    from messaging.services import message_erase_by_operator

    message_erase_by_operator(operator=operator, message_id=_reported_message(report), reason=f"report {report.pk}")


def remove_reported_user_from_chat(report: Report, operator: User) -> None:
    """Effect: remove the sender of a reported group message from that group (and ban them from
    it), as a group owner's removal does. Recorded in the admin log by the chats service."""
    from chats.services import chat_kick_by_operator

    _reported_message(report)
    if report.chat_id is None:
        raise ApplicationError(INVALID, f"report {report.pk} names no chat")
    chat_kick_by_operator(operator=operator, chat_id=report.chat_id, user_id=report.reported_user_id,
                          reason=f"report {report.pk}")

