"""The customer-service desk of the J-IM document: who is a visitor, an agent or a property consultant,
which agent serves which visitor, and who waits for one (docs/jim.md).

Messages between them are ordinary private-chat messages (messaging.models.Message); the desk
only keeps the routing state. Registered through messaging/models.py.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class DeskProfile(models.Model):
    """A user as the property app knows them: an external string id (e.g. a WeChat openid)."""

    class Kind(models.IntegerChoices):
        VISITOR = 0, "visitor"
        AGENT = 1, "agent"
        CONSULTANT = 2, "property consultant"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="desk_profile")
    external_id = models.CharField(max_length=64, unique=True, help_text="The J-IM user id (senderId).")
    kind = models.PositiveSmallIntegerField(choices=Kind.choices)
    nick = models.CharField(max_length=64, blank=True, default="")
    avatar = models.CharField(max_length=512, blank=True, default="")
    terminal = models.CharField(max_length=16, blank=True, default="")
    is_enabled = models.BooleanField(default=True, help_text="Agents only: receives new visitors.")
    max_open = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Agents only: most open conversations at once (empty: DESK_AGENT_MAX_OPEN, 0 there: no limit).",
    )
    # Among equally loaded agents the one assigned longest ago goes first (round robin).
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "is_enabled"], name="deskprofile_kind_enabled")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id}"


class Conversation(models.Model):
    """A visitor served by an agent or consultant. A visitor has at most one open conversation."""

    class Status(models.IntegerChoices):
        OPEN = 1, "open"
        CLOSED = 2, "closed"

    visitor = models.ForeignKey(DeskProfile, on_delete=models.CASCADE, related_name="visits")
    agent = models.ForeignKey(DeskProfile, on_delete=models.CASCADE, related_name="conversations")
    chat = models.ForeignKey("chats.Chat", on_delete=models.CASCADE, related_name="+")
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        constraints = [
            # The routing lock already serialises assignment; this makes a double one impossible.
            models.UniqueConstraint(fields=["visitor"], condition=Q(status=1),
                                    name="conversation_one_open_per_visitor"),
            models.CheckConstraint(condition=~Q(visitor=models.F("agent")), name="conversation_not_self"),
        ]
        indexes = [
            models.Index(fields=["agent", "status"], name="conversation_agent_status"),
            models.Index(fields=["visitor", "-created_at"], name="conversation_visitor_recent"),
        ]

    def __str__(self) -> str:
        return f"conversation {self.pk}: {self.visitor_id} with {self.agent_id} ({self.get_status_display()})"


class QueueEntry(models.Model):
    """A visitor waiting for an agent; served first come, first served (by pk)."""

    visitor = models.OneToOneField(DeskProfile, on_delete=models.CASCADE, related_name="queue_entry")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "queue entries"

    def __str__(self) -> str:
        return f"{self.visitor} waiting since {self.created_at:%Y-%m-%d %H:%M:%S}"


class DeskLock(models.Model):
    """One row whose lock serialises routing: who is free, who waits and who gets whom are
    decided by one transaction at a time, so no agent is counted twice and no visitor is
    assigned twice (docs/jim.md#routing)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)

    def __str__(self) -> str:
        return "desk routing lock"
