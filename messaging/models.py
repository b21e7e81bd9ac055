"""Messages. Each chat's messages carry a gap-free increasing ``seq`` (see chats.Chat.last_seq)."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.jsonwire import ExactDecoder, ExactEncoder


class Message(models.Model):
    class Type(models.IntegerChoices):
        """Wire ``type``. 2 and 5 are fixed by the native API document; the rest are ours (docs/protocol.md)."""

        TEXT = 1, "text"
        RED_PACKET = 2, "red packet"
        IMAGE = 3, "image"
        VOICE = 4, "voice"
        REMITTANCE = 5, "remittance"
        VIDEO = 6, "video"
        FILE = 7, "file"
        LOCATION = 8, "location"
        CUSTOM = 9, "custom"
        SYSTEM = 10, "system"
        EXCHANGE = 11, "coin exchange offer"
        CALL = 12, "call record"

    chat = models.ForeignKey("chats.Chat", on_delete=models.CASCADE, related_name="messages")
    seq = models.BigIntegerField()
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    type = models.PositiveSmallIntegerField(choices=Type.choices)
    sub_type = models.PositiveSmallIntegerField(default=0)
    # Money messages carry exact amounts: Decimals are stored and read back digit for digit.
    content = models.JSONField(default=dict, encoder=ExactEncoder, decoder=ExactDecoder)
    # NULL, not "", when absent: the unique constraint below only binds real ids.
    client_msg_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)
    recalled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chat", "seq"], name="message_chat_seq"),
            # A resend with the same clientMsgId is the same message.
            models.UniqueConstraint(fields=["sender", "client_msg_id"], condition=Q(client_msg_id__isnull=False),
                                    name="message_sender_client_id"),
            models.CheckConstraint(condition=Q(seq__gt=0), name="message_seq_positive"),
        ]
        # Re-delivery after lost pushes reads the messages of a span of time (core.resync).
        indexes = [models.Index(fields=["created_at"], name="message_created_at")]

    def __str__(self) -> str:
        return f"message {self.pk} (chat {self.chat_id} seq {self.seq})"


class HiddenMessage(models.Model):
    """A message one user deleted for themselves (or cleaned from a channel)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "message"], name="hiddenmessage_unique")]

    def __str__(self) -> str:
        return f"message {self.message_id} hidden for user {self.user_id}"


def media_path(instance: Media, filename: str) -> str:
    return f"media/{instance.owner_id}/{instance.token}"


class Media(models.Model):
    """An uploaded file a message refers to by ``mediaId`` (images, voice, video, files)."""

    class Kind(models.TextChoices):
        IMAGE = "image"
        VOICE = "voice"
        VIDEO = "video"
        FILE = "file"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    token = models.CharField(max_length=32, unique=True)
    file = models.FileField(upload_to=media_path, max_length=255)
    name = models.CharField(max_length=255, blank=True, default="")
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="seconds, for voice and video")
    has_qr_code = models.BooleanField(null=True, help_text="decoded once at upload, for images")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} of user {self.owner_id}"


# The customer-service desk's models live in their own module; imported here so Django registers them.
from messaging.desk.models import Conversation, DeskLock, DeskProfile, QueueEntry  # noqa: E402

__all__ = ["Conversation", "DeskLock", "DeskProfile", "HiddenMessage", "Media", "Message", "QueueEntry"]
