"""Every write of the accounts app: registration, sessions, passwords, friends, blacklists, SMS."""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import is_password_usable, make_password
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts import events
from accounts import exceptions as codes
from accounts.models import (
    ERASED_USERNAME_PREFIX,
    AuthSession,
    Block,
    FriendRequest,
    Friendship,
    SmsCode,
    User,
    username_key,
)
from accounts.passwords import MD5_RE, canonical_password, verify_and_upgrade
from accounts.selectors import blockers_among, hash_token, user_by_login_name
from accounts.sms import get_backend
from core import throttle
from core.exceptions import BLACKLISTED, CONFLICT, INVALID, NOT_FOUND, PERMISSION_DENIED, RATE_LIMITED, ApplicationError
from core.realtime import end_sessions_on_commit, send_event, send_event_on_commit

log = logging.getLogger(__name__)

# New usernames: ASCII only, so no name can pass for another in a look-alike script (Cyrillic
# "а", full-width letters). "@" and "+" let e-mail addresses and phone numbers be names.
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@+\-]{3,64}$")
PHONE_RE = re.compile(r"^\+?\d{5,20}$")
PLAIN_PASSWORD_MIN, PLAIN_PASSWORD_MAX = 6, 128


@dataclass(frozen=True)
class AccountRules:
    """What a protocol accepts as a new username and a new plain password (an MD5 digest is
    always accepted). Native clients get ``NATIVE_RULES``; an adapter whose contract promises
    other rules (the Easemob bridge: ``hxbridge.wire.EASEMOB_RULES``) passes its own."""

    username_re: re.Pattern[str]
    username_help: str
    password_min: int
    password_max: int


NATIVE_RULES = AccountRules(USERNAME_RE, "3-64 ASCII letters, digits, '_', '.', '-', '@' or '+'",
                            PLAIN_PASSWORD_MIN, PLAIN_PASSWORD_MAX)

CLOSE_KICKED = 4002
CLOSE_LOGGED_OUT = 4003


# --- who a bridge or the desk may act on --------------------------------------------------
# The back offices that act on users with a shared secret, not as a user: the Easemob bridge
# (/hx) manages native accounts; the customer-service desk (/im/vanke) manages the accounts it
# created itself (named ``desk:<hash>``, a name no registration can take). Neither ever acts on
# an operator's account (staff or superuser), an erased one, nor on an account of the other kind.
BRIDGE, DESK = "bridge", "desk"
DESK_USERNAME_PREFIX = "desk:"


def account_kind(user: User) -> str:
    """Which back office manages ``user``: ``DESK`` for desk-created accounts, else ``BRIDGE``."""
    return DESK if user.username.startswith(DESK_USERNAME_PREFIX) else BRIDGE


def is_operator(user: User) -> bool:
    """Staff and superusers: the accounts of the operator console, out of every back office's reach."""
    return bool(user.is_staff or user.is_superuser)


def is_erased(user: User) -> bool:
    """Erased on request (``user_erase``): out of every back office's reach, for good."""
    return user.username.startswith(ERASED_USERNAME_PREFIX)


def manageable_by(user: User | None, manager: str) -> bool:
    """Whether the back office ``manager`` may act on ``user``. The bridge also leaves internal
    accounts alone (e.g. a native account an operator made a desk agent)."""
    if user is None or is_operator(user) or is_erased(user) or account_kind(user) != manager:
        return False
    return not (manager == BRIDGE and user.is_internal)


def managed_user(user: User | None, manager: str) -> User:
    """``user`` if ``manager`` may act on it; otherwise ``not_found``, exactly as for a user who
    does not exist, so a back office learns nothing about the accounts it may not touch."""
    if user is None or not manageable_by(user, manager):
        raise ApplicationError(NOT_FOUND, "no such user")
    return user


def managed_users(users: QuerySet[User], manager: str) -> QuerySet[User]:
    """``users`` narrowed to those ``manager`` may act on (the same rule as ``manageable_by``)."""
    users = users.filter(is_staff=False, is_superuser=False).exclude(username__startswith=ERASED_USERNAME_PREFIX)
    if manager == DESK:
        return users.filter(username__startswith=DESK_USERNAME_PREFIX)
    return users.filter(is_internal=False).exclude(username__startswith=DESK_USERNAME_PREFIX)


# --- passwords ----------------------------------------------------------------------------
def validate_new_password(raw: Any, rules: AccountRules = NATIVE_RULES) -> str:
    if not isinstance(raw, str) or not raw:
        raise ApplicationError(codes.INVALID_PASSWORD, "password is required")
    if MD5_RE.match(raw):
        return raw
    if not rules.password_min <= len(raw) <= rules.password_max:
        raise ApplicationError(
            codes.INVALID_PASSWORD,
            f"password must be an MD5 hex digest or {rules.password_min}-{rules.password_max} characters",
        )
    return raw


def _encode_password(raw: str) -> str:
    """The stored form of a new password. Hashing is slow on purpose (~30 ms of CPU): callers
    hash before they open their write transaction, so no row lock (nor SQLite's write lock)
    waits on it."""
    throttle.release_connection()
    holder = User()
    holder.set_password(raw)
    return holder.password


def normalize_phone(raw: str) -> str:
    phone = re.sub(r"[\s\-()]", "", raw or "")
    if not PHONE_RE.match(phone):
        raise ApplicationError(INVALID, "phone must be 5-20 digits, optionally starting with +")
    return phone


# --- registration and sessions ------------------------------------------------------------
@dataclass(frozen=True)
class _NewAccount:
    """A registration checked and its password hashed, before any transaction opens."""

    username: str
    phone: str | None
    first_name: str
    last_name: str
    password: str  # the stored (hashed) form


def _registration(
    *, username: str, password: str, phone: str | None, first_name: str, last_name: str, rules: AccountRules,
) -> _NewAccount:
    if not isinstance(username, str) or not rules.username_re.match(username):
        raise ApplicationError(INVALID, f"username must be {rules.username_help}")
    password = validate_new_password(password, rules)
    phone = normalize_phone(phone) if phone else None
    if User.objects.filter(username_key=username_key(username)).exists():
        raise ApplicationError(codes.USERNAME_TAKEN, "that username is taken")
    if phone and User.objects.filter(phone=phone).exists():
        raise ApplicationError(codes.PHONE_TAKEN, "that phone number belongs to another account")
    return _NewAccount(username, phone, first_name[:150], last_name[:150], _encode_password(password))


def _account_create(new: _NewAccount) -> User:
    user = User(username=new.username, phone=new.phone, first_name=new.first_name, last_name=new.last_name,
                password=new.password)
    try:
        with transaction.atomic(savepoint=True):
            user.save()
    except IntegrityError as exc:  # lost a race with a concurrent registration
        raise ApplicationError(codes.USERNAME_TAKEN, "that username or phone is taken") from exc
    return user


def user_register(
    *, username: str, password: str, phone: str | None = None, first_name: str = "", last_name: str = "",
    rules: AccountRules = NATIVE_RULES,
) -> User:
    """A new account. The checks and the (slow) password hash come first, outside any
    transaction; only the insert holds the write lock."""
    new = _registration(username=username, password=password, phone=phone, first_name=first_name,
                        last_name=last_name, rules=rules)
    with transaction.atomic():
        return _account_create(new)


def user_register_and_login(
    *, username: str, password: str, phone: str | None = None, device: str = "", ip: str | None = None,
    user_agent: str = "",
) -> tuple[User, str]:
    """Register and open the first session in one transaction (REST register); hashed before it."""
    new = _registration(username=username, password=password, phone=phone, first_name="", last_name="",
                        rules=NATIVE_RULES)
    with transaction.atomic():
        user = _account_create(new)
        _, token = session_start(user=user, device=device, ip=ip, user_agent=user_agent)
    return user, token


@transaction.atomic
def session_start(
    *, user: User, device: str = "", ip: str | None = None, user_agent: str = "", token: str | None = None
) -> tuple[AuthSession, str]:
    """Open a login session and return it with its token (shown once, stored hashed).

    ``token`` is given when another system issued it (the J-IM document's desk registers the token the
    property app hands its clients): starting the same token again for the same user renews
    that session; a token of another user is refused (``conflict``).

    With multi-online off, the user's other live sessions end: their sockets get
    ``accounts.onKicked`` and are closed with 4002.
    """
    # Lock the user row so two simultaneous logins cannot both survive multi-online off.
    locked = User.objects.select_for_update().get(pk=user.pk)
    now = timezone.now()
    expires_at = now + timedelta(seconds=settings.AUTH_TOKEN_TTL_SECONDS)
    if token is None:
        token = secrets.token_urlsafe(32)
        session = AuthSession.objects.create(
            user=locked, key_hash=hash_token(token), device=device[:32], ip=ip, user_agent=user_agent[:256],
            expires_at=expires_at,
        )
    else:
        session = _session_with_token(locked, token, device=device, ip=ip, expires_at=expires_at)
    if not locked.multi_online:
        _sessions_revoke(
            user_id=locked.pk, sessions=AuthSession.objects.filter(user=locked).exclude(pk=session.pk),
            reason="kicked", close_code=CLOSE_KICKED, event=events.kicked(device=session.device),
        )
    User.objects.filter(pk=locked.pk).update(last_login=now)
    return session, token


def _session_with_token(user: User, token: str, *, device: str, ip: str | None, expires_at: Any) -> AuthSession:
    """The session of a token issued elsewhere, created or renewed (caller holds the user's row lock)."""
    if not 8 <= len(token) <= 128:
        raise ApplicationError(INVALID, "a token must be 8 to 128 characters")
    key_hash = hash_token(token)
    try:
        with transaction.atomic():
            session, created = AuthSession.objects.get_or_create(
                key_hash=key_hash, defaults={"user": user, "device": device[:32], "ip": ip, "expires_at": expires_at})
    except IntegrityError:  # the same token registered at the same moment for another user
        session, created = AuthSession.objects.get(key_hash=key_hash), False
    if session.user_id != user.pk:
        raise ApplicationError(CONFLICT, "this token belongs to another user")
    if not created:
        AuthSession.objects.filter(pk=session.pk).update(
            device=device[:32], expires_at=expires_at, revoked_at=None, revoked_reason="")
    return session


def auth_login(
    *, username: str, password: str, device: str = "", ip: str | None = None, user_agent: str = ""
) -> tuple[User, str]:
    """Check the password and open a session. Checks are limited per (normalised) username and
    per address (``core.throttle.password_attempt``); the hash runs outside any transaction."""
    window = settings.LOGIN_LOCK_SECONDS
    attempt = throttle.password_attempt(
        f"login:{username_key(username)}", limit=settings.LOGIN_MAX_FAILURES, window_seconds=window, ip=ip,
        message=f"too many failed logins; try again in {max(1, window // 60)} minutes",
    )
    user = user_by_login_name(username)
    throttle.release_connection()  # no connection held while hashing
    if user is None:
        User().set_password(password)  # same work as a real check: no timing hint
        ok = False
    else:
        ok = user.is_active and user.check_password(password)
    if not ok:
        raise ApplicationError(codes.INVALID_CREDENTIALS, "wrong username or password")
    attempt.succeeded()
    assert user is not None
    _, token = session_start(user=user, device=device, ip=ip, user_agent=user_agent)
    return user, token


@transaction.atomic
def session_end(*, user: User, session_id: int) -> None:
    """Log out one session: its token stops working and its sockets are closed (4003)."""
    _sessions_revoke(
        user_id=user.pk, sessions=AuthSession.objects.filter(pk=session_id, user=user),
        reason="logout", close_code=CLOSE_LOGGED_OUT,
    )


def _sessions_revoke(
    *, user_id: int, sessions: QuerySet[AuthSession], reason: str, close_code: int,
    event: dict[str, Any] | None = None,
) -> list[int]:
    """Revoke the live ones of ``sessions``; after commit their sockets get ``event`` and close."""
    ids = list(sessions.filter(revoked_at__isnull=True).values_list("pk", flat=True))
    if ids:
        AuthSession.objects.filter(pk__in=ids).update(revoked_at=timezone.now(), revoked_reason=reason)
        end_sessions_on_commit(user_id, ids, close_code=close_code, event=event)
    return ids


@transaction.atomic
def user_set_multi_online(*, user: User, is_on: bool) -> None:
    User.objects.filter(pk=user.pk).update(multi_online=is_on)
    user.multi_online = is_on


@transaction.atomic
def user_update_profile(
    *, user: User, first_name: str | None = None, last_name: str | None = None, avatar: str | None = None
) -> User:
    from core.appconfig import app_config

    renaming = (first_name is not None and first_name != user.first_name) or (
        last_name is not None and last_name != user.last_name)
    if renaming and not app_config().permit_modify_user_name:
        raise ApplicationError(codes.NAME_LOCKED, "changing your name is turned off on this server")
    fields = {}
    if first_name is not None:
        fields["first_name"] = first_name
    if last_name is not None:
        fields["last_name"] = last_name
    if avatar is not None:
        fields["avatar"] = avatar
    if fields:
        User.objects.filter(pk=user.pk).update(**fields)
        for key, value in fields.items():
            setattr(user, key, value)
    return user


@transaction.atomic
def user_set_privacy(*, user: User, phone_searchable: bool | None = None, friend_policy: int | None = None) -> None:
    """Change the settings given: whether others find the user by phone, and who may add them
    as a friend (``User.FriendPolicy``)."""
    fields: dict[str, Any] = {}
    if phone_searchable is not None:
        fields["phone_searchable"] = phone_searchable
    if friend_policy is not None:
        fields["friend_policy"] = User.FriendPolicy(friend_policy)
    if fields:
        User.objects.filter(pk=user.pk).update(**fields)
        for key, value in fields.items():
            setattr(user, key, value)


def user_change_password(
    *, user: User, old_password: str, new_password: str, keep_session_id: int | None = None
) -> None:
    """Seed 002 web.account.setPassword: 400 invalid new password, 401 wrong old one, 429 too
    many wrong ones (per user and per address, ``LOGIN_MAX_FAILURES`` per ``LOGIN_LOCK_SECONDS``).

    A user without a usable password (e.g. created by an operator) may set one without
    the old one. Every other session of the user ends (``keep_session_id`` survives).
    Both hashes run before the transaction: no row lock, no connection held while hashing.
    """
    new_password = validate_new_password(new_password)
    window = settings.LOGIN_LOCK_SECONDS
    attempt = throttle.password_attempt(
        f"account:{user.pk}", limit=settings.LOGIN_MAX_FAILURES, window_seconds=window,
        message=f"too many wrong passwords; try again in {max(1, window // 60)} minutes",
    )
    current = User.objects.filter(pk=user.pk).values_list("password", flat=True).first() or ""
    throttle.release_connection()  # no connection held while hashing
    # Checked without the upgrade of an old hash: the new password's hash replaces it below.
    if is_password_usable(current) and not verify_and_upgrade(canonical_password(old_password or ""), current, None):
        raise ApplicationError(codes.WRONG_PASSWORD, "the old password is wrong")
    attempt.succeeded()
    encoded = _encode_password(new_password)
    with transaction.atomic():
        # Locked as resetPassword locks it; applied only if the password checked is still the
        # one stored (two changes at once: the second answers "wrong old password").
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.password != current:
            raise ApplicationError(codes.WRONG_PASSWORD, "the old password is wrong")
        locked.password = encoded
        locked.save(update_fields=["password"])
        user.password = locked.password
        # Whoever knew the old password is logged out everywhere but here.
        others = AuthSession.objects.filter(user=locked)
        if keep_session_id is not None:
            others = others.exclude(pk=keep_session_id)
        _sessions_revoke(user_id=locked.pk, sessions=others, reason="password", close_code=CLOSE_LOGGED_OUT)


def user_reset_password(
    *, user_id: int, new_password: str, manager: str, rules: AccountRules = NATIVE_RULES,
) -> User:
    """A back office's reset (the Easemob bridge's resetPassword): no old password. Every
    session of the user ends, as whoever held the account may not be its owner any more.
    Only users ``manager`` may act on (``managed_user``); the others answer ``not_found``."""
    new_password = validate_new_password(new_password, rules)
    encoded = _encode_password(new_password)  # hashed before the transaction: no lock held meanwhile
    with transaction.atomic():
        # Locked as web.account.setPassword locks it: two changes at once apply one after the other.
        user = managed_user(User.objects.select_for_update().filter(pk=user_id).first(), manager)
        user.password = encoded
        user.save(update_fields=["password"])
        _sessions_revoke(user_id=user.pk, sessions=AuthSession.objects.filter(user=user), reason="password",
                         close_code=CLOSE_LOGGED_OUT)
    return user


@transaction.atomic
def user_deactivate(*, user_id: int) -> None:
    """Ban: the account can no longer log in and every open socket of it is closed."""
    User.objects.filter(pk=user_id).update(is_active=False)
    _sessions_revoke(
        user_id=user_id, sessions=AuthSession.objects.filter(user_id=user_id),
        reason="banned", close_code=CLOSE_LOGGED_OUT,
    )


@transaction.atomic
def user_reactivate(*, user_id: int) -> None:
    """Unban: the account can log in again. Its sessions stay ended: the user logs in anew.
    An erased account is refused: it stays closed for good."""
    user = User.objects.filter(pk=user_id).only("username").first()
    if user is None:
        raise ApplicationError(NOT_FOUND, "no such user")
    if is_erased(user):
        raise ApplicationError(PERMISSION_DENIED, "an erased account cannot be made active again")
    User.objects.filter(pk=user_id).update(is_active=True)


@transaction.atomic
def user_erase(*, user_id: int, operator: User, reason: str) -> User:
    """Erase a user's personal data on their request (docs/operators.md, "Erasing a user").

    Removed: the profile (username becomes ``deleted:<id>``, the name ``deleted user``; phone,
    e-mail, avatar gone), the login and payment passwords (unusable), every session (sockets
    closed), moments, comments and likes, friendships (the friends get ``friends.onRemoved``),
    friend requests, blacklists both ways, SMS codes, uploads no kept message shows, the
    customer-service desk profile's name and picture, the console's white list and
    customer-service entries. Kept: the messages the user sent (shown from "deleted user"),
    chat memberships, and every ledger account, journal entry, posting and money record, so
    the books still balance. Operators' accounts (staff, superuser) are refused. Erasing an
    erased account again changes nothing."""
    from django.core.files.storage import default_storage

    from accounts.models import ERASED_NAME, MomentComment, MomentLike
    from accounts.moments import moment_comment_remove, moment_remove
    from core.models import CustomerServiceNumber, FriendWhitelist
    from messaging.media import KIND_BY_MESSAGE_TYPE
    from messaging.models import DeskProfile, HiddenMessage, Media, Message
    from wallet.models import Wallet

    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise ApplicationError(NOT_FOUND, "no such user")
    if is_operator(user):
        raise ApplicationError(PERMISSION_DENIED, "staff and superuser accounts cannot be erased")
    _sessions_revoke(user_id=user.pk, sessions=AuthSession.objects.filter(user=user), reason="erased",
                     close_code=CLOSE_LOGGED_OUT)
    AuthSession.objects.filter(user=user).update(ip=None, user_agent="", device="")
    for moment_id in list(user.moments.values_list("pk", flat=True)):
        moment_remove(moment_id=moment_id)
    for comment_id in list(MomentComment.objects.filter(author=user).values_list("pk", flat=True)):
        moment_comment_remove(comment_id=comment_id)
    MomentLike.objects.filter(user=user).delete()
    friend_ids = list(Friendship.objects.filter(user=user).values_list("friend_id", flat=True))
    Friendship.objects.filter(Q(user=user) | Q(friend=user)).delete()
    if friend_ids:
        send_event_on_commit("friends.onRemoved", {"uId": user.pk}, friend_ids)
    FriendRequest.objects.filter(Q(from_user=user) | Q(to_user=user)).delete()
    Block.objects.filter(Q(user=user) | Q(blocked=user)).delete()
    SmsCode.objects.filter(user=user).delete()
    HiddenMessage.objects.filter(user=user).delete()
    # Uploads shown by a kept message stay (the other members' history); the others go.
    contents = Message.objects.filter(sender=user, type__in=list(KIND_BY_MESSAGE_TYPE)).values_list(
        "content", flat=True)
    shown = {c.get("mediaId") for c in contents if isinstance(c, dict)}
    uploads = Media.objects.filter(owner=user).exclude(pk__in=[i for i in shown if isinstance(i, int)])
    files = [name for name in uploads.values_list("file", flat=True) if name]
    uploads.delete()
    if files:
        def _remove_files() -> None:
            for name in files:
                try:
                    default_storage.delete(name)
                except OSError:
                    log.warning("could not delete the upload file %s of erased user %s", name, user_id)

        transaction.on_commit(_remove_files)
    DeskProfile.objects.filter(user=user).update(
        nick=ERASED_NAME, avatar="", terminal="", is_enabled=False, external_id=f"{ERASED_USERNAME_PREFIX}{user.pk}")
    FriendWhitelist.objects.filter(user=user).delete()
    CustomerServiceNumber.objects.filter(user=user).delete()
    Wallet.objects.filter(user=user).update(password=make_password(None))
    user.username = f"{ERASED_USERNAME_PREFIX}{user.pk}"
    user.first_name, user.last_name, user.email, user.phone, user.avatar = ERASED_NAME, "", "", None, ""
    user.is_active, user.phone_searchable, user.friend_policy = False, False, User.FriendPolicy.NOBODY
    user.last_seen_at = None
    user.set_unusable_password()
    user.save()
    log.info("user %s erased by operator %s: %s", user.pk, operator.pk, reason)
    return user


@transaction.atomic
def sessions_delete_by_operator(*, session_ids: Iterable[int]) -> int:
    """An operator deletes login sessions (the console): each live one is revoked first, so its
    sockets close at once with 4003 as on a logout, then the rows go. Returns how many rows went."""
    sessions = AuthSession.objects.filter(pk__in=list(session_ids))
    by_user: dict[int, list[int]] = {}
    for session_id, user_id in sessions.values_list("pk", "user_id"):
        by_user.setdefault(user_id, []).append(session_id)
    for user_id, ids in by_user.items():
        _sessions_revoke(user_id=user_id, sessions=AuthSession.objects.filter(pk__in=ids), reason="operator",
                         close_code=CLOSE_LOGGED_OUT)
    return AuthSession.objects.filter(pk__in=[pk for ids in by_user.values() for pk in ids]).delete()[0]


@transaction.atomic
def user_sessions_end(*, user_id: int) -> int:
    """An operator's "log out everywhere": every live session ends and its sockets close (4003).
    The account stays usable; the user logs in again."""
    return len(_sessions_revoke(user_id=user_id, sessions=AuthSession.objects.filter(user_id=user_id),
                                reason="operator", close_code=CLOSE_LOGGED_OUT))


# --- friends and blacklist ----------------------------------------------------------------
def _other_user(user: User, other_id: int) -> User:
    if other_id == user.pk:
        raise ApplicationError(codes.SELF_NOT_ALLOWED, "you cannot do that to yourself")
    other = User.objects.filter(pk=other_id, is_active=True).first()
    if other is None:
        raise ApplicationError(NOT_FOUND, "no such user")
    return other


def _friend_checks(user: User, other: User) -> None:
    """What refuses any new friendship, asked or direct: a blacklist either way, already being
    friends, and, while the app's onlyWhiteAddFriend switch is on, a target off the admin's
    friend white list (internal callers are exempt)."""
    from core.appconfig import app_config
    from core.models import FriendWhitelist

    if (app_config().only_white_add_friend and not user.is_internal
            and not FriendWhitelist.objects.filter(user=other).exists()):
        raise ApplicationError(codes.NOT_WHITELISTED, "only users on the white list can be added as friends")
    if Block.objects.filter(user=other, blocked=user).exists():
        raise ApplicationError(BLACKLISTED, "you are on this user's blacklist")
    if Block.objects.filter(user=user, blocked=other).exists():
        raise ApplicationError(codes.FRIEND_REFUSED, "remove this user from your blacklist first")
    if Friendship.objects.filter(user=user, friend=other).exists():
        raise ApplicationError(codes.ALREADY_FRIENDS, "already friends")


def _lock_pair(user: User, other: User) -> tuple[User, User]:
    """Both users' rows, locked in id order, fresh (the caller's copies may be stale): two
    requests between the same two users run one after the other, so crossing requests meet."""
    locked = {u.pk: u for u in User.objects.select_for_update().filter(pk__in=[user.pk, other.pk]).order_by("pk")}
    return locked[user.pk], locked[other.pk]


def _befriend(user: User, other: User) -> None:
    """Store the friendship both ways, close any pending request between the two (accepted),
    and tell both users after commit."""
    Friendship.objects.bulk_create(
        [Friendship(user=user, friend=other), Friendship(user=other, friend=user)], ignore_conflicts=True
    )
    FriendRequest.objects.filter(
        Q(from_user=user, to_user=other) | Q(from_user=other, to_user=user), status=FriendRequest.Status.PENDING,
    ).update(status=FriendRequest.Status.ACCEPTED, decided_at=timezone.now())
    send_event_on_commit("friends.onAdded", events.friend(other), [user.pk])
    send_event_on_commit("friends.onAdded", events.friend(user), [other.pk])


@dataclass(frozen=True)
class FriendAdded:
    """What ``friend_add`` did: ``pending`` is True when a request now waits for the other
    user's approval, False when the two are friends."""

    friend: User
    pending: bool


@transaction.atomic
def friend_add(*, user: User, friend_id: int, message: str = "") -> FriendAdded:
    """A user asks to be ``friend_id``'s friend, with that user's consent (their ``friend_policy``):

    * anyone: the friendship is made at once;
    * with approval (the default): a friend request is stored and pushed to them
      (``friends.onRequest``); the friendship appears when they accept it;
    * nobody: refused (``friend_not_addable``).

    If ``friend_id`` has already asked the caller, this is consent on both sides: their request
    is accepted and the two are friends, whatever the policy. Asking again while a request is
    pending changes nothing and pushes nothing. Refused also on a blacklist either way, when
    already friends, and by the app's white-list switch (``_friend_checks``)."""
    other = _other_user(user, friend_id)
    user, other = _lock_pair(user, other)
    _friend_checks(user, other)
    if FriendRequest.objects.filter(from_user=other, to_user=user, status=FriendRequest.Status.PENDING).exists():
        _befriend(user, other)
        return FriendAdded(other, pending=False)
    policy = other.friend_policy
    if policy == User.FriendPolicy.NOBODY:
        raise ApplicationError(codes.NOT_ADDABLE, "this user cannot be added as a friend")
    if policy == User.FriendPolicy.ANYONE:
        _befriend(user, other)
        return FriendAdded(other, pending=False)
    if FriendRequest.objects.filter(from_user=user, to_user=other, status=FriendRequest.Status.PENDING).exists():
        return FriendAdded(other, pending=True)
    throttle.check(f"friend-request:{user.pk}", settings.FRIEND_REQUESTS_PER_HOUR, 3600,
                   "too many friend requests; try again later")
    now = timezone.now()
    request, created = FriendRequest.objects.get_or_create(
        from_user=user, to_user=other, defaults={"message": message, "created_at": now})
    if not created:  # asked before and refused, withdrawn or accepted (then unfriended): ask again
        request.status, request.message, request.created_at, request.decided_at = (
            FriendRequest.Status.PENDING, message, now, None)
        request.save(update_fields=["status", "message", "created_at", "decided_at"])
    send_event_on_commit("friends.onRequest", events.friend_request(request, user), [other.pk])
    return FriendAdded(other, pending=True)


@transaction.atomic
def friend_add_direct(*, user: User, friend_id: int, manager: str | None = None) -> User:
    """Make two users friends at once without asking ``friend_id``: an operator's act (the
    Easemob bridge, the demo seed, tests), never a user's. The blacklist, already-friends and
    white-list refusals still apply; ``friend_policy`` does not. A back office (``manager``)
    acts only on users it may manage, both of them."""
    other = _other_user(user, friend_id)
    if manager is not None:
        managed_user(user, manager)
        managed_user(other, manager)
    user, other = _lock_pair(user, other)
    _friend_checks(user, other)
    _befriend(user, other)
    return other


def _pending_from(sender: User, receiver: User) -> FriendRequest:
    request = (FriendRequest.objects.select_for_update()
               .filter(from_user=sender, to_user=receiver, status=FriendRequest.Status.PENDING).first())
    if request is None:
        raise ApplicationError(NOT_FOUND, "no pending friend request")
    return request


@transaction.atomic
def friend_request_accept(*, user: User, from_id: int) -> User:
    """Accept ``from_id``'s pending request: the two become friends (``friends.onAdded`` to
    both). Refused on a blacklist either way; if they are friends already (an operator made
    them friends meanwhile) the request is simply closed."""
    other = _other_user(user, from_id)
    user, other = _lock_pair(user, other)
    request = _pending_from(other, user)
    if Friendship.objects.filter(user=user, friend=other).exists():
        FriendRequest.objects.filter(pk=request.pk).update(status=FriendRequest.Status.ACCEPTED,
                                                           decided_at=timezone.now())
        return other
    if Block.objects.filter(user=other, blocked=user).exists():
        raise ApplicationError(BLACKLISTED, "you are on this user's blacklist")
    if Block.objects.filter(user=user, blocked=other).exists():
        raise ApplicationError(codes.FRIEND_REFUSED, "remove this user from your blacklist first")
    _befriend(user, other)
    return other


@transaction.atomic
def friend_request_reject(*, user: User, from_id: int) -> None:
    """Turn down ``from_id``'s pending request; they get ``friends.onRequestRejected``."""
    other = _other_user(user, from_id)
    request = _pending_from(other, user)
    FriendRequest.objects.filter(pk=request.pk).update(status=FriendRequest.Status.REJECTED,
                                                       decided_at=timezone.now())
    send_event_on_commit("friends.onRequestRejected", {"uId": user.pk}, [other.pk])


@transaction.atomic
def friend_request_cancel(*, user: User, to_id: int) -> None:
    """Withdraw the caller's pending request to ``to_id``; they get ``friends.onRequestCancelled``."""
    other = _other_user(user, to_id)
    request = _pending_from(user, other)
    FriendRequest.objects.filter(pk=request.pk).update(status=FriendRequest.Status.CANCELLED,
                                                       decided_at=timezone.now())
    send_event_on_commit("friends.onRequestCancelled", {"uId": user.pk}, [other.pk])


@transaction.atomic
def friend_remove(*, user: User, friend_id: int, manager: str | None = None) -> None:
    other = _other_user(user, friend_id)
    if manager is not None:
        managed_user(user, manager)
        managed_user(other, manager)
    if not _unfriend(user.pk, other.pk):
        raise ApplicationError(NOT_FOUND, "not friends")


def _unfriend(user_id: int, other_id: int) -> bool:
    """Delete the friendship both ways and tell both users after commit (``friends.onRemoved``);
    False, and nothing pushed, when neither direction existed."""
    deleted, _ = Friendship.objects.filter(
        Q(user_id=user_id, friend_id=other_id) | Q(user_id=other_id, friend_id=user_id)).delete()
    if not deleted:
        return False
    send_event_on_commit("friends.onRemoved", {"uId": other_id}, [user_id])
    send_event_on_commit("friends.onRemoved", {"uId": user_id}, [other_id])
    return True


def friend_add_direct_check(*, user: User, friend_id: int) -> User:
    """What ``friend_add_direct`` would refuse, asked without writing (the console's add form
    shows it as a form error): raises the same ``ApplicationError``; returns the other user."""
    other = _other_user(user, friend_id)
    _friend_checks(user, other)
    return other


@transaction.atomic
def friend_remove_by_operator(*, user_id: int, friend_id: int) -> bool:
    """An operator ends a friendship (the console): both directions go and both users get
    ``friends.onRemoved``, as when one of them removes the other (``friend_remove``); also
    when either account is deactivated. False when they were not friends."""
    return _unfriend(user_id, friend_id)


@transaction.atomic
def blacklist_add(*, user: User, target_id: int) -> None:
    """Idempotent. The blocked user is not told."""
    other = _other_user(user, target_id)
    Block.objects.get_or_create(user=user, blocked=other)


@transaction.atomic
def blacklist_remove(*, user: User, target_id: int) -> None:
    other = _other_user(user, target_id)
    Block.objects.filter(user=user, blocked=other).delete()


# --- relay ----------------------------------------------------------------------------------
def relay_data(
    *, sender: User, action: str, to: list[int], data: Any, exclude_channel: str | None = None
) -> None:
    """system.relayData (the native API document): push ``on_event`` to the online recipients.

    Recipients who have blacklisted the sender are skipped silently. Every recipient counts
    towards the sender's ``RELAY_RECIPIENTS_PER_MINUTE`` (on every process): past it, 429.
    """
    throttle.spend(f"relay:{sender.pk}", len(set(to)), settings.RELAY_RECIPIENTS_PER_MINUTE, 60,
                   f"at most {settings.RELAY_RECIPIENTS_PER_MINUTE} relay recipients a minute; slow down")
    recipients = set(to) - blockers_among(to, sender.pk)
    payload = {"action": action, "from": sender.pk, "to": list(to), "data": data}
    send_event("on_event", payload, recipients, exclude_channel=exclude_channel)


# --- SMS codes ------------------------------------------------------------------------------
def _code_hash(user_id: int, purpose: int, code: str) -> str:
    message = f"{user_id}:{purpose}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


@transaction.atomic
def sms_code_send(*, user: User, purpose: int) -> None:
    """Send a 6-digit code to the user's phone, with resend and daily limits."""
    locked = User.objects.select_for_update().get(pk=user.pk)  # one send at a time per user
    if not locked.phone:
        raise ApplicationError(codes.NO_PHONE, "add a phone number to your account first")
    now = timezone.now()
    recent = SmsCode.objects.filter(user=locked, created_at__gte=now - timedelta(days=1))
    last = recent.filter(purpose=purpose).order_by("-created_at").first()
    if last and (now - last.created_at).total_seconds() < settings.SMS_RESEND_SECONDS:
        wait = settings.SMS_RESEND_SECONDS - int((now - last.created_at).total_seconds())
        raise ApplicationError(RATE_LIMITED, f"a code was just sent; try again in {wait} seconds")
    if recent.count() >= settings.SMS_DAILY_LIMIT:
        raise ApplicationError(RATE_LIMITED, f"at most {settings.SMS_DAILY_LIMIT} codes in 24 hours; try again later")
    # A new code supersedes any earlier one for the same purpose.
    SmsCode.objects.filter(user=locked, purpose=purpose, consumed_at__isnull=True).update(consumed_at=now)
    code = f"{secrets.randbelow(10**6):06d}"
    SmsCode.objects.create(
        user=locked, phone=locked.phone, purpose=purpose, code_hash=_code_hash(locked.pk, purpose, code),
        expires_at=now + timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
    )
    phone, minutes = locked.phone, max(1, settings.SMS_CODE_TTL_SECONDS // 60)
    text = f"Your verification code is {code}. It expires in {minutes} minutes."

    def _deliver() -> None:  # outbound I/O after commit, outside the row lock
        try:
            get_backend().send(phone, text)
        except Exception:
            log.exception("SMS delivery to user %s failed", user.pk)

    transaction.on_commit(_deliver)


@transaction.atomic
def sms_code_verify(*, user: User, purpose: int, code: str) -> None:
    """Consume the user's current code for ``purpose`` or raise ``invalid_sms_code``.

    Wrong attempts are counted in the cache, not the database, so they still count when
    the caller's transaction rolls back.
    """
    now = timezone.now()
    row = (
        SmsCode.objects.select_for_update()
        .filter(user=user, purpose=purpose, consumed_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at").first()
    )
    if row is None:
        raise ApplicationError(codes.INVALID_SMS_CODE, "no valid code; request a new one")
    key = f"sms-attempts:{row.pk}"
    if throttle.count(key) >= settings.SMS_MAX_ATTEMPTS:
        raise ApplicationError(codes.INVALID_SMS_CODE, "too many wrong codes; request a new one")
    if not hmac.compare_digest(row.code_hash, _code_hash(user.pk, purpose, str(code or ""))):
        throttle.hit(key, settings.SMS_CODE_TTL_SECONDS)
        raise ApplicationError(codes.INVALID_SMS_CODE, "wrong verification code")
    row.consumed_at = now
    row.save(update_fields=["consumed_at"])


# --- housekeeping ---------------------------------------------------------------------------
def purge_expired() -> dict[str, int]:
    """Delete sessions expired or revoked over a week ago and SMS codes over a day old."""
    now = timezone.now()
    week_ago = now - timedelta(days=7)
    sessions, _ = AuthSession.objects.filter(expires_at__lt=week_ago).delete()
    revoked, _ = AuthSession.objects.filter(revoked_at__lt=week_ago).delete()
    sms, _ = SmsCode.objects.filter(created_at__lt=now - timedelta(days=1)).delete()
    return {"sessions": sessions + revoked, "smsCodes": sms}
