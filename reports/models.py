"""Reports: a user reports a message or another user; operators handle them in the console."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.jsonwire import ExactDecoder, ExactEncoder

DESCRIPTION_MAX = 500
OUTCOME_MAX = 1000


class Report(models.Model):
    class Kind(models.TextChoices):
        MESSAGE = "message"
        USER = "user"

    class Reason(models.TextChoices):
        SPAM = "spam"
        ABUSE = "abuse"
        FRAUD = "fraud"
        ILLEGAL = "illegal"
        OTHER = "other"

    class Status(models.TextChoices):
        OPEN = "open"
        ACTIONED = "actioned"
        DISMISSED = "dismissed"

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Always set: the reported user, or the reported message's sender.
    reported_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # A report outlives the message (a deleted chat takes its messages): its content is kept
    # below as it was when reported.
    message = models.ForeignKey("messaging.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    message_content = models.JSONField(null=True, blank=True, encoder=ExactEncoder, decoder=ExactDecoder,
                                       help_text="the message's content when it was reported")
    chat = models.ForeignKey("chats.Chat", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=8, choices=Reason.choices)
    description = models.CharField(max_length=DESCRIPTION_MAX, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    outcome = models.TextField(max_length=OUTCOME_MAX, blank=True, default="")
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # One open report per reporter and target: a repeat answers the open one.
            models.UniqueConstraint(fields=["reporter", "message"],
                                    condition=Q(status="open", kind="message"), name="report_open_message_once"),
            models.UniqueConstraint(fields=["reporter", "reported_user"],
                                    condition=Q(status="open", kind="user"), name="report_open_user_once"),
            models.CheckConstraint(condition=~Q(reporter=models.F("reported_user")), name="report_not_self"),
            models.CheckConstraint(condition=Q(kind__in=["message", "user"]), name="report_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=["open", "actioned", "dismissed"]),
                                   name="report_status_valid"),
            models.CheckConstraint(condition=Q(status="open") | Q(handled_at__isnull=False),
                                   name="report_closed_when_handled"),
        ]
        # The console's queue: the open ones, oldest first.
        indexes = [models.Index(fields=["status", "created_at"], name="report_queue")]

    def __str__(self) -> str:
        return f"report {self.pk} ({self.kind} of user {self.reported_user_id})"
