"""Users, login sessions, friends, blacklists and SMS codes."""
from __future__ import annotations

import unicodedata
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

USERNAME_KEY_MAX = 200

# An erased account (accounts.services.user_erase) is named "deleted:<id>", a name no
# registration can take (":" is not allowed in new usernames), and shown as ERASED_NAME.
ERASED_USERNAME_PREFIX = "deleted:"
ERASED_NAME = "deleted user"


def username_key(name: str) -> str:
    """The one form of a username used to find, compare and rate-limit it: NFKC with case
    folding, so "Alice", "ALICE" and "alice" in full-width letters are one name, and "sec" spelt
    with a long s (U+017F) is "sec"."""
    # Compatibility forms can expand ("\ufdfa" is 18 letters): capped, to fit the indexed column.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())[:USERNAME_KEY_MAX]


class UserManager(DjangoUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        # The admin's login form (and every Django auth backend) finds users by the normalised
        # name, as the API's logins do.
        return self.get(username_key=username_key(username or ""))

    def _create_user_object(
        self, username: str, email: str | None, password: str | None, **extra: Any
    ) -> User:
        # Django's manager hashes the raw password directly; go through set_password so
        # createsuperuser and create_user store the same canonical form as every login.
        # private in Django and absent from the stubs
        user: User = super()._create_user_object(username, email, None, **extra)  # type: ignore[misc]
        user.set_password(password)
        return user


class User(AbstractUser):
    """A chat user. ``first_name``/``last_name`` are the seeds' firstName (姓) and lastName (名)."""

    class FriendPolicy(models.IntegerChoices):
        """Who may make this user their friend (``friendAdd`` on the wire)."""

        ANYONE = 1, "anyone (at once)"
        APPROVAL = 2, "with my approval (a friend request)"
        NOBODY = 3, "nobody"

    objects: ClassVar[UserManager] = UserManager()

    phone = models.CharField(max_length=20, null=True, blank=True, unique=True)
    avatar = models.CharField(max_length=512, blank=True, default="")
    is_internal = models.BooleanField(default=False, help_text="An internal (staff/system) account.")
    multi_online = models.BooleanField(
        default=True, help_text="If off, a new login ends the user's other sessions."
    )
    phone_searchable = models.BooleanField(default=True, help_text="Others may find this user by phone.")
    friend_policy = models.PositiveSmallIntegerField(
        choices=FriendPolicy.choices, default=FriendPolicy.APPROVAL,
        help_text="Who may add this user as a friend: at once, by a request this user accepts, or nobody.")
    last_seen_at = models.DateTimeField(null=True, blank=True, help_text="When the last socket closed.")
    # username_key(username), kept by save(); unique, so no two names differ only in case,
    # width or compatibility form. An account that predates the rule and collided keeps a key
    # with "#<id>" appended (no name can contain "#"): it logs in by its exact name.
    username_key = models.CharField(max_length=USERNAME_KEY_MAX + 24, unique=True, editable=False)

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "username" in update_fields:
            key = username_key(self.username)
            if not self.username_key.startswith(key + "#"):
                self.username_key = key
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "username_key"}
        super().save(*args, **kwargs)

    def set_password(self, raw_password: str | None) -> None:
        """Hash the canonical (MD5 hex) form, so MD5-sending and plain clients share accounts."""
        from accounts.passwords import canonical_password

        super().set_password(None if raw_password is None else canonical_password(raw_password))

    def check_password(self, raw_password: str | None) -> bool:
        """Check the canonical form. A right password stored with an older hasher or other
        parameters is re-hashed and saved outside any transaction, unless the stored hash
        changed meanwhile (``accounts.passwords.verify_and_upgrade``)."""
        from accounts.passwords import canonical_password, verify_and_upgrade

        def store(old: str, new: str) -> bool:
            saved = User.objects.filter(pk=self.pk, password=old).update(password=new) == 1
            if saved:
                self.password = new
            return saved

        return verify_and_upgrade(canonical_password(raw_password or ""), self.password,
                                  store if self.pk is not None else None)

    async def acheck_password(self, raw_password: str | None) -> bool:
        from asgiref.sync import sync_to_async

        return await sync_to_async(self.check_password)(raw_password)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            # "Alice" and "alice" are one account: logins are case-insensitive.
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            models.CheckConstraint(condition=Q(friend_policy__in=[1, 2, 3]), name="user_friend_policy_known"),
        ]


class AuthSession(models.Model):
    """One login on one device. The token is random and only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    key_hash = models.CharField(max_length=64, unique=True)
    device = models.CharField(max_length=32, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"], name="authsession_user_active")]

    def __str__(self) -> str:
        return f"session {self.pk} of user {self.user_id} ({self.device or 'unknown device'})"


class Friendship(models.Model):
    """One direction of a friendship; a friendship is always stored as both directions."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="friendships")
    friend = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "friend"], name="friendship_unique"),
            models.CheckConstraint(condition=~Q(user=F("friend")), name="friendship_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.friend_id}"


class FriendRequest(models.Model):
    """``from_user`` asked ``to_user`` to be friends. One row per ordered pair: asking again
    after a refusal reopens it. Accepting makes the friendship (both ``Friendship`` rows)."""

    class Status(models.IntegerChoices):
        PENDING = 1, "pending"
        ACCEPTED = 2, "accepted"
        REJECTED = 3, "rejected"
        CANCELLED = 4, "cancelled by the sender"

    from_user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="friend_requests_sent")
    to_user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="friend_requests_received")
    message = models.CharField(max_length=100, blank=True, default="")
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(help_text="when it was last sent")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_user", "to_user"], name="friendrequest_unique"),
            models.CheckConstraint(condition=~Q(from_user=F("to_user")), name="friendrequest_not_self"),
            models.CheckConstraint(condition=Q(status__in=[1, 2, 3, 4]), name="friendrequest_status_known"),
        ]
        indexes = [
            models.Index(fields=["to_user", "-created_at"], condition=Q(status=1), name="friendrequest_incoming"),
            models.Index(fields=["from_user", "-created_at"], condition=Q(status=1), name="friendrequest_outgoing"),
        ]

    def __str__(self) -> str:
        return f"{self.from_user_id} asks {self.to_user_id} ({self.get_status_display()})"


class Block(models.Model):
    """``user`` has put ``blocked`` on their blacklist."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks")
    blocked = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocked_by")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "blocked"], name="block_unique"),
            models.CheckConstraint(condition=~Q(user=F("blocked")), name="block_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} blocks {self.blocked_id}"


class SmsCode(models.Model):
    """A verification code sent by SMS. Only an HMAC of the code is stored."""

    class Purpose(models.IntegerChoices):
        WALLET_PASSWORD = 1, "change wallet password"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sms_codes")
    phone = models.CharField(max_length=20)
    purpose = models.PositiveSmallIntegerField(choices=Purpose.choices)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "purpose", "created_at"], name="smscode_user_purpose")]

    def __str__(self) -> str:
        return f"SMS code for user {self.user_id} ({self.get_purpose_display()})"


# --- moments (朋友圈, docs/moments.md); the flows are in accounts/moments.py ----------------------
MOMENT_MAX_IMAGES = 9


class Moment(models.Model):
    """A post to the author's friends: text and up to nine images. Deleting it deletes its images'
    links, likes and comments (the uploads themselves stay: a chat message may use them too)."""

    class Visibility(models.IntegerChoices):
        FRIENDS = 1, "friends"
        PRIVATE = 2, "only me"

    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="moments")
    text = models.TextField(blank=True, default="")
    visibility = models.PositiveSmallIntegerField(choices=Visibility.choices, default=Visibility.FRIENDS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(visibility__in=[1, 2]), name="moment_visibility_known"),
        ]
        indexes = [
            # The feed and moment.list: the newest moments of a set of authors, paged by id.
            models.Index(fields=["author", "-id"], name="moment_author_newest"),
        ]

    def __str__(self) -> str:
        return f"moment {self.pk} of user {self.author_id}"


class MomentImage(models.Model):
    """The ``position``-th image of a moment: an image the author uploaded (messaging.Media)."""

    moment = models.ForeignKey(Moment, on_delete=models.CASCADE, related_name="images")
    media = models.ForeignKey("messaging.Media", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["moment", "position"], name="momentimage_position_unique"),
            models.UniqueConstraint(fields=["moment", "media"], name="momentimage_media_unique"),
            models.CheckConstraint(condition=Q(position__lt=MOMENT_MAX_IMAGES), name="momentimage_at_most_9"),
        ]

    def __str__(self) -> str:
        return f"image {self.position} of moment {self.moment_id}"


class MomentLike(models.Model):
    """``user`` likes ``moment``, once."""

    moment = models.ForeignKey(Moment, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["moment", "user"], name="momentlike_once")]

    def __str__(self) -> str:
        return f"user {self.user_id} likes moment {self.moment_id}"


class MomentComment(models.Model):
    """A comment; a reply names the comment it answers and that comment's author (who stays
    the addressee when the answered comment is deleted)."""

    moment = models.ForeignKey(Moment, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    reply_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reply_to_user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="momentcomment_not_empty"),
            # A reply always has an addressee (kept when the answered comment is deleted).
            models.CheckConstraint(condition=Q(reply_to__isnull=True) | Q(reply_to_user__isnull=False),
                                   name="momentcomment_reply_has_user"),
        ]
        indexes = [models.Index(fields=["moment", "id"], name="momentcomment_moment_order")]

    def __str__(self) -> str:
        return f"comment {self.pk} on moment {self.moment_id}"
