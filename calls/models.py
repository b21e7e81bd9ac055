"""Voice and video calls (the native API document call.*): the signalling record. The media flows through
Agora; the server issues tokens and keeps who was invited, who joined and when it ended."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Call(models.Model):
    class End(models.TextChoices):
        ENDED = "ended", "ended (everyone left)"
        CANCELLED = "cancelled", "cancelled by its creator"
        DECLINED = "declined", "every invitee declined"
        MISSED = "missed", "nobody answered"

    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    chat = models.ForeignKey("chats.Chat", on_delete=models.PROTECT, related_name="+")
    channel_name = models.CharField(max_length=64, help_text="named by the server, unique to this call")
    is_meeting = models.BooleanField(default=False)
    is_video = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    ring_until = models.DateTimeField(null=True, blank=True,
                                      help_text="invitees who have not answered by then missed the call; "
                                                "cleared once the ring-timeout job has run")
    closed_at = models.DateTimeField(null=True, blank=True)
    end = models.CharField(max_length=9, choices=End.choices, blank=True, default="")

    class Meta:
        constraints = [
            # a channel carries one open call at a time (tokens are issued per open call)
            models.UniqueConstraint(fields=["channel_name"], condition=Q(closed_at__isnull=True),
                                    name="call_one_open_per_channel"),
        ]
        indexes = [
            models.Index(fields=["ring_until"], condition=Q(closed_at__isnull=True), name="call_open_ring"),
            # the ring job's search for open calls that reached CALL_MAX_SECONDS
            models.Index(fields=["created_at"], condition=Q(closed_at__isnull=True), name="call_open_created"),
        ]

    def __str__(self) -> str:
        return f"call {self.pk} on {self.channel_name}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class CallParticipant(models.Model):
    """The creator and each invitee. State: ringing (no enter, no leave, not missed), in the call
    (entered, not left), left, declined (left without entering), missed (never answered)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    is_creator = models.BooleanField(default=False)
    enter_at = models.DateTimeField(null=True, blank=True, help_text="first joined")
    leave_at = models.DateTimeField(null=True, blank=True, help_text="last left")
    in_call = models.BooleanField(default=False)
    missed = models.BooleanField(default=False)
    offline_seen_at = models.DateTimeField(null=True, blank=True,
                                           help_text="when call.queryOffline returned this missed call")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["call", "user"], name="callparticipant_unique")]
        indexes = [
            models.Index(fields=["user", "-call"], name="callparticipant_user_recent"),
            models.Index(fields=["user"], condition=Q(missed=True, offline_seen_at__isnull=True),
                         name="callparticipant_unseen_missed"),
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} in call {self.call_id}"

    @property
    def ringing(self) -> bool:
        return self.enter_at is None and self.leave_at is None and not self.missed and not self.is_creator
