"""Reads worth a name."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import ERASED_USERNAME_PREFIX, AuthSession, Block, FriendRequest, Friendship, User, username_key

# A session's last_used_at is refreshed at most this often, so a busy client costs no writes.
TOUCH_INTERVAL = timedelta(minutes=5)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_authenticate(token: str) -> AuthSession | None:
    """The live session behind ``token`` (with its user), or None if unknown/expired/revoked."""
    if not token or len(token) > 128:
        return None
    now = timezone.now()
    session = (
        AuthSession.objects.select_related("user")
        .filter(key_hash=hash_token(token), revoked_at__isnull=True, expires_at__gt=now, user__is_active=True)
        .first()
    )
    if session is not None and now - session.last_used_at > TOUCH_INTERVAL:
        AuthSession.objects.filter(pk=session.pk).update(last_used_at=now)
    return session


def login_is_live(*, user_id: int, session_id: int | None) -> bool:
    """Whether the account is active and, if given, that session is neither revoked nor expired."""
    if session_id is None:
        return User.objects.filter(pk=user_id, is_active=True).exists()
    return AuthSession.objects.filter(pk=session_id, user_id=user_id, user__is_active=True, revoked_at__isnull=True,
                                      expires_at__gt=timezone.now()).exists()


def users_by_ids(ids: Iterable[int]) -> list[User]:
    """The active users among ``ids``, and the erased ones (shown as "deleted user", so the
    senders of the messages they left keep a name); banned users are left out."""
    shown = Q(is_active=True) | Q(username__startswith=ERASED_USERNAME_PREFIX)
    return list(User.objects.filter(shown, pk__in=set(ids)).order_by("pk"))


def user_by_login_name(name: str) -> User | None:
    """The user a login names: by the normalised name (``username_key``), or by the exact name
    for an account whose name predates that rule and collides with another's."""
    users = list(User.objects.filter(Q(username_key=username_key(name)) | Q(username=name))[:2])
    exact = [user for user in users if user.username == name]
    chosen = exact or users
    return chosen[0] if chosen else None


def users_by_usernames(names: Iterable[str], *, active_only: bool = True) -> dict[str, User]:
    """Users by name in any case, width or compatibility form (``username_key``), keyed by that
    normalised name; names nobody has are missing. One query."""
    users = User.objects.filter(username_key__in={username_key(name) for name in names})
    if active_only:
        users = users.filter(is_active=True)
    return {user.username_key: user for user in users}


def users_after(after_id: int, limit: int, *, manager: str) -> list[User]:
    """A page of the users the back office ``manager`` may act on (deactivated ones too), in id
    order, after ``after_id``."""
    from accounts.services import managed_users

    return list(managed_users(User.objects.filter(pk__gt=after_id), manager).order_by("pk")[:limit])


def friends_of(user_id: int) -> QuerySet[User]:
    return User.objects.filter(pk__in=Friendship.objects.filter(user_id=user_id).values("friend_id")).order_by("pk")


FRIEND_REQUESTS_LISTED = 200


def friend_requests(user_id: int, *, incoming: bool) -> list[tuple[FriendRequest, User]]:
    """The user's pending friend requests, newest first, each with the user on the other side
    (at most ``FRIEND_REQUESTS_LISTED``). Incoming ones leave out senders the user has
    blacklisted; both leave out deactivated users."""
    pending = FriendRequest.objects.filter(status=FriendRequest.Status.PENDING)
    if incoming:
        rows = (pending.filter(to_user_id=user_id, from_user__is_active=True)
                .exclude(from_user_id__in=Block.objects.filter(user_id=user_id).values("blocked_id"))
                .select_related("from_user"))
    else:
        rows = pending.filter(from_user_id=user_id, to_user__is_active=True).select_related("to_user")
    rows = rows.order_by("-created_at", "-pk")[:FRIEND_REQUESTS_LISTED]
    return [(r, r.from_user if incoming else r.to_user) for r in rows]


def blacklist_of(user_id: int) -> QuerySet[User]:
    return User.objects.filter(pk__in=Block.objects.filter(user_id=user_id).values("blocked_id")).order_by("pk")


def are_friends(user_id: int, other_id: int) -> bool:
    return Friendship.objects.filter(user_id=user_id, friend_id=other_id).exists()


def has_blocked(user_id: int, target_id: int) -> bool:
    """Whether ``user_id`` has ``target_id`` on their blacklist."""
    return Block.objects.filter(user_id=user_id, blocked_id=target_id).exists()


def blockers_among(user_ids: Iterable[int], target_id: int) -> set[int]:
    """Those of ``user_ids`` who have ``target_id`` on their blacklist."""
    return set(Block.objects.filter(user_id__in=set(user_ids), blocked_id=target_id).values_list("user_id", flat=True))
