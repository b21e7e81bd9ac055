"""Reads worth a name."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import AuthSession, Block, Friendship, User

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


def users_by_ids(ids: Iterable[int]) -> list[User]:
    return list(User.objects.filter(pk__in=set(ids), is_active=True).order_by("pk"))


def users_by_usernames(names: Iterable[str], *, active_only: bool = True) -> dict[str, User]:
    """Users by name in any case (names are unique regardless of case), keyed by the lower-cased
    name; names nobody has are missing. One query (both forms of the name are indexed)."""
    given = set(names)
    # The names as given too: SQLite's LOWER() folds ASCII only, so "Ärger" would miss "ärger".
    users = User.objects.annotate(name_lower=Lower("username")).filter(
        Q(name_lower__in={name.lower() for name in given}) | Q(username__in=given))
    if active_only:
        users = users.filter(is_active=True)
    return {user.username.lower(): user for user in users}


def users_after(after_id: int, limit: int, *, manager: str) -> list[User]:
    """A page of the users the back office ``manager`` may act on (deactivated ones too), in id
    order, after ``after_id``."""
    from accounts.services import managed_users

    return list(managed_users(User.objects.filter(pk__gt=after_id), manager).order_by("pk")[:limit])


def friends_of(user_id: int) -> QuerySet[User]:
    return User.objects.filter(pk__in=Friendship.objects.filter(user_id=user_id).values("friend_id")).order_by("pk")


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
