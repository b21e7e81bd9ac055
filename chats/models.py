"""Chats: private chats, groups and super-groups, their members and moderation settings.

Addressing on the wire (the native API document): a normal group's ``chatId`` is ``-id``, a super-group's
is ``+id``. Private chats share the one id space and are addressed ``+id`` too; a client
usually reaches them with ``messages.send {"to": userId}``. See docs/protocol.md.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Chat(models.Model):
    class Kind(models.IntegerChoices):
        PRIVATE = 1, "private"
        GROUP = 2, "group"
        SUPERGROUP = 3, "super-group"

    kind = models.PositiveSmallIntegerField(choices=Kind.choices)
    title = models.CharField(max_length=128, blank=True, default="")
    avatar = models.CharField(max_length=512, blank=True, default="")
    memo = models.CharField(max_length=255, blank=True, default="")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # The seq of the newest message: incremented under the row lock by message_send, so
    # seqs are gap-free and increasing within a chat.
    last_seq = models.BigIntegerField(default=0)
    member_count = models.PositiveIntegerField(default=0)
    # Private chats: the two members, lower id first, so the pair is unique.
    user_low = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    user_high = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+")
    invite_token = models.CharField(max_length=32, null=True, blank=True, unique=True)
    # the native API document chats.getBannedRightex
    ban_whisper = models.BooleanField(default=False)
    ban_send_web_link = models.BooleanField(default=False)
    ban_send_qrcode = models.BooleanField(default=False)
    ban_send_keyword = models.BooleanField(default=False)
    ban_send_dm_mention = models.BooleanField(default=False)
    filter_keywords = models.JSONField(default=list, blank=True)
    # Set when an operator dissolves a group (chats.services.group_dissolve): it has no members
    # left, nobody can post, join or be added, and it is kept only as a record with its history.
    dissolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_low", "user_high"], condition=Q(kind=1), name="chat_private_pair"),
            models.CheckConstraint(
                condition=(Q(kind=1) & Q(user_low__isnull=False) & Q(user_high__isnull=False)
                           & Q(user_low__lt=F("user_high")))
                | (~Q(kind=1) & Q(user_low__isnull=True) & Q(user_high__isnull=True)),
                name="chat_private_pair_shape",
            ),
            models.CheckConstraint(condition=Q(last_seq__gte=0), name="chat_last_seq_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.wire_id}: {self.title}"

    @property
    def is_group(self) -> bool:
        return self.kind in (self.Kind.GROUP, self.Kind.SUPERGROUP)

    @property
    def wire_id(self) -> int:
        """The seed's chatId: -id for a normal group, +id otherwise."""
        return -self.pk if self.kind == self.Kind.GROUP else self.pk


class ChatMember(models.Model):
    class Role(models.IntegerChoices):
        MEMBER = 1, "member"
        ADMIN = 2, "admin"
        OWNER = 3, "owner"

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_memberships")
    role = models.PositiveSmallIntegerField(choices=Role.choices, default=Role.MEMBER)
    muted_until = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(auto_now_add=True)
    # Messages with seq <= joined_seq were sent before this member joined and stay hidden.
    joined_seq = models.BigIntegerField(default=0)
    read_seq = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chat", "user"], name="chatmember_unique")]
        indexes = [models.Index(fields=["user", "chat"], name="chatmember_user_chat")]

    def __str__(self) -> str:
        return f"user {self.user_id} in chat {self.chat_id} ({self.get_role_display()})"


class ChatMute(models.Model):
    """A mute that outlives membership: kept when a muted member leaves or is removed and
    applied again if they come back, so leaving is no way around it."""

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    until = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chat", "user"], name="chatmute_unique")]

    def __str__(self) -> str:
        return f"user {self.user_id} muted in chat {self.chat_id} until {self.until}"


class ChatBan(models.Model):
    """A user removed from a group by an admin: they cannot come back by themselves (``chats.join``,
    an invite link) until an admin lifts the ban (``chats.unban``) or adds them again."""

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    banned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chat", "user"], name="chatban_unique")]

    def __str__(self) -> str:
        return f"user {self.user_id} banned from chat {self.chat_id}"


class GroupInvitePrivacy(models.Model):
    """Who may put a user into a group (create it with them, add them). No row: anyone.
    Joining by oneself (an invite link, a public super-group) is the user's own choice."""

    class Who(models.IntegerChoices):
        ANYONE = 0, "anyone"
        FRIENDS = 1, "friends"
        NOBODY = 2, "nobody"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="+")
    who = models.PositiveSmallIntegerField(choices=Who.choices, default=Who.ANYONE)

    def __str__(self) -> str:
        return f"user {self.user_id}: added to groups by {self.get_who_display()}"
