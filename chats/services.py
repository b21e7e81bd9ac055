"""Every write of the chats app. Membership changes are posted in the chat as system
messages (type 10, content ``{"op": ..., ...}``) so every member sees them in order, and an
offline member gets them on sync."""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Block, Friendship, User
from chats import events
from chats import exceptions as codes
from chats.models import Chat, ChatBan, ChatMember, ChatMute, GroupInvitePrivacy
from chats.selectors import access_chat, member_ids, private_chat_between
from core import throttle
from core.audit import operator_log
from core.exceptions import INVALID, NOT_FOUND, ApplicationError
from core.realtime import send_event_on_commit

Role = ChatMember.Role
MUTE_MAX_SECONDS = 366 * 86400  # chats.mute's bound, the operators' too


def _system_message(chat: Chat, actor_id: int | None, content: dict[str, Any]) -> None:
    from messaging.services import system_message_post

    system_message_post(chat=chat, actor_id=actor_id, content=content)


def _require_role(member: ChatMember, minimum: int, action: str) -> None:
    if member.role < minimum:
        who = "the owner" if minimum == Role.OWNER else "an admin"
        raise ApplicationError(codes.NOT_ALLOWED, f"only {who} can {action}")


def _require_group(chat: Chat) -> None:
    if not chat.is_group:
        raise ApplicationError(INVALID, "this is a private chat, not a group")


def _active_users(user_ids: Iterable[int]) -> list[int]:
    ids = set(user_ids)
    found = set(User.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
    if found != ids:
        raise ApplicationError(NOT_FOUND, f"no such user: {sorted(ids - found)[0]}")
    return sorted(found)


def _spend_invites(actor: User, count: int) -> None:
    """Users one puts into groups (and invite links made) count towards ``GROUP_INVITES_PER_HOUR``."""
    if count:
        throttle.spend(f"group-invites:{actor.pk}", count, settings.GROUP_INVITES_PER_HOUR, 3600,
                       f"at most {settings.GROUP_INVITES_PER_HOUR} group invitations an hour; try again later")


def _addable(actor: User, user_ids: list[int]) -> tuple[list[int], list[int]]:
    """``(may be put into a group by actor, skipped)``. Skipped: either has blacklisted the other,
    or the user's invite privacy (``chats.invitePrivacy.set``) does not allow the actor. The
    reasons are not told apart, so the answer does not reveal a blacklist."""
    ids = [uid for uid in user_ids if uid != actor.pk]
    if not ids:
        return [], []
    refused = set(Block.objects.filter(user=actor, blocked_id__in=ids).values_list("blocked_id", flat=True))
    refused |= set(Block.objects.filter(user_id__in=ids, blocked=actor).values_list("user_id", flat=True))
    rules = dict(GroupInvitePrivacy.objects.filter(user_id__in=ids).exclude(who=GroupInvitePrivacy.Who.ANYONE)
                 .values_list("user_id", "who"))
    refused |= {uid for uid, who in rules.items() if who == GroupInvitePrivacy.Who.NOBODY}
    friends_only = [uid for uid, who in rules.items() if who == GroupInvitePrivacy.Who.FRIENDS]
    if friends_only:
        befriended = set(Friendship.objects.filter(user_id__in=friends_only, friend=actor)
                         .values_list("user_id", flat=True))
        refused |= set(friends_only) - befriended
    return [uid for uid in ids if uid not in refused], sorted(refused)


def private_chat_get_or_create(*, user_id: int, peer_id: int) -> Chat:
    """The one private chat between two users, created on first use. Only the creation
    needs a transaction (its own, a savepoint when nested); the lookup takes none."""
    if user_id == peer_id:
        raise ApplicationError(INVALID, "you cannot chat with yourself")
    chat = private_chat_between(user_id, peer_id)
    if chat is not None:
        return chat
    _active_users([peer_id])
    low, high = sorted((user_id, peer_id))
    try:
        with transaction.atomic():
            chat = Chat.objects.create(kind=Chat.Kind.PRIVATE, user_low_id=low, user_high_id=high, member_count=2)
            ChatMember.objects.bulk_create([ChatMember(chat=chat, user_id=low), ChatMember(chat=chat, user_id=high)])
    except IntegrityError:  # created by a concurrent first message
        chat = private_chat_between(user_id, peer_id)
        assert chat is not None
    return chat


@transaction.atomic
def group_create(
    *, owner: User, title: str, kind: int = Chat.Kind.GROUP, member_ids: Iterable[int] = (), memo: str = ""
) -> Chat:
    """A new group with ``owner`` and those of ``member_ids`` who may be added (``_addable``; the
    others are left out). Limited per owner: ``GROUP_CREATE_PER_HOUR`` groups and, counting the
    members put in, ``GROUP_INVITES_PER_HOUR``."""
    title = (title or "").strip()
    if not title:
        raise ApplicationError(INVALID, "a group needs a name")
    if kind not in (Chat.Kind.GROUP, Chat.Kind.SUPERGROUP):
        raise ApplicationError(INVALID, "kind must be group or supergroup")
    requested = _active_users(set(member_ids) - {owner.pk})
    if len(requested) + 1 > settings.CHAT_MAX_MEMBERS:
        raise ApplicationError(INVALID, f"a group holds at most {settings.CHAT_MAX_MEMBERS} members")
    throttle.spend(f"group-create:{owner.pk}", 1, settings.GROUP_CREATE_PER_HOUR, 3600,
                   f"at most {settings.GROUP_CREATE_PER_HOUR} new groups an hour; try again later")
    _spend_invites(owner, len(requested))
    others, _ = _addable(owner, requested)
    chat = Chat.objects.create(kind=kind, title=title[:128], memo=memo[:255], owner=owner,
                               member_count=1 + len(others))
    ChatMember.objects.bulk_create(
        [ChatMember(chat=chat, user=owner, role=Role.OWNER)] + [ChatMember(chat=chat, user_id=uid) for uid in others]
    )
    _system_message(chat, owner.pk, {"op": "create", "title": chat.title, "uIds": [owner.pk, *others]})
    return chat


@transaction.atomic
def chat_members_add(*, actor: User, wire_id: int, user_ids: Iterable[int]) -> tuple[list[int], list[int]]:
    """Add users to a group; returns ``(added, skipped)``. Any member may add to a normal group;
    admins to a super-group. Skipped: those ``_addable`` refuses and, unless the actor is an admin,
    users banned from the group; an admin adding a banned user lifts the ban."""
    chat, member = access_chat(user_id=actor.pk, wire_id=wire_id, lock=True)
    _require_group(chat)
    if chat.kind == Chat.Kind.SUPERGROUP:
        _require_role(member, Role.ADMIN, "add members to a super-group")
    requested = _active_users(user_ids)
    _spend_invites(actor, len(requested))
    allowed, skipped = _addable(actor, requested)
    banned = set(ChatBan.objects.filter(chat=chat, user_id__in=allowed).values_list("user_id", flat=True))
    if banned and member.role >= Role.ADMIN:
        ChatBan.objects.filter(chat=chat, user_id__in=banned).delete()
    elif banned:
        allowed = [uid for uid in allowed if uid not in banned]
        skipped = sorted({*skipped, *banned})
    return _members_join(chat, allowed, actor_id=actor.pk), skipped


def _members_join(chat: Chat, user_ids: list[int], *, actor_id: int | None) -> list[int]:
    """Caller holds the chat row lock. Returns the ids actually added."""
    present = set(ChatMember.objects.filter(chat=chat, user_id__in=user_ids).values_list("user_id", flat=True))
    new = [uid for uid in user_ids if uid not in present]
    if not new:
        return []
    if chat.member_count + len(new) > settings.CHAT_MAX_MEMBERS:
        raise ApplicationError(INVALID, f"a group holds at most {settings.CHAT_MAX_MEMBERS} members")
    # New members see the chat from their join on, not its history; an old mute comes back.
    mutes = dict(ChatMute.objects.filter(chat=chat, user_id__in=new, until__gt=timezone.now())
                 .values_list("user_id", "until"))
    ChatMember.objects.bulk_create(
        [ChatMember(chat=chat, user_id=uid, joined_seq=chat.last_seq, read_seq=chat.last_seq,
                    muted_until=mutes.get(uid)) for uid in new]
    )
    ChatMute.objects.filter(chat=chat, user_id__in=new).delete()  # carried back onto the member row
    Chat.objects.filter(pk=chat.pk).update(member_count=F("member_count") + len(new))
    chat.member_count += len(new)
    _system_message(chat, actor_id, {"op": "join", "uIds": new})
    return new


@transaction.atomic
def chat_join(*, user: User, wire_id: int) -> Chat:
    """Join a super-group by id (super-groups are public). Normal groups need an invitation."""
    from chats.selectors import chat_from_wire

    chat = chat_from_wire(wire_id)
    if chat.kind != Chat.Kind.SUPERGROUP:
        raise ApplicationError(codes.NOT_ALLOWED, "this group can only be joined by invitation or invite link")
    chat = Chat.objects.select_for_update().get(pk=chat.pk)
    _refuse_dissolved(chat)
    _refuse_banned(chat, user.pk)
    if not _members_join(chat, [user.pk], actor_id=user.pk):
        raise ApplicationError(codes.ALREADY_MEMBER, "you are already a member")
    return chat


def _refuse_dissolved(chat: Chat) -> None:
    if chat.dissolved_at is not None:
        raise ApplicationError(codes.CHAT_DISSOLVED, "this group was dissolved")


def _refuse_banned(chat: Chat, user_id: int) -> None:
    if ChatBan.objects.filter(chat=chat, user_id=user_id).exists():
        raise ApplicationError(codes.NOT_ALLOWED,
                               "an admin removed you from this group; only an admin can add you back")


@transaction.atomic
def chat_leave(*, user: User, wire_id: int) -> None:
    """Leave a group. An owner who leaves hands the group to the longest-serving admin, else member."""
    chat, member = access_chat(user_id=user.pk, wire_id=wire_id, lock=True)
    _require_group(chat)
    _member_remove(chat, member, actor_id=user.pk, op="leave")


def _member_remove(chat: Chat, member: ChatMember, *, actor_id: int | None, op: str) -> None:
    if member.muted_until and member.muted_until > timezone.now():
        ChatMute.objects.update_or_create(chat=chat, user_id=member.user_id, defaults={"until": member.muted_until})
    member.delete()
    Chat.objects.filter(pk=chat.pk).update(member_count=F("member_count") - 1)
    chat.member_count -= 1
    content: dict[str, Any] = {"op": op, "uIds": [member.user_id]}
    if member.role == Role.OWNER:
        heir = ChatMember.objects.filter(chat=chat).order_by("-role", "joined_at", "pk").first()
        if heir is not None:
            ChatMember.objects.filter(pk=heir.pk).update(role=Role.OWNER, muted_until=None)
        Chat.objects.filter(pk=chat.pk).update(owner_id=heir.user_id if heir else None)
        content["newOwner"] = heir.user_id if heir else None
    _system_message(chat, actor_id, content)
    # The one who left no longer gets the chat's pushes, so tell them directly.
    send_event_on_commit("chats.onRemoved", {"chatId": chat.wire_id, "op": op}, [member.user_id])


def _target_below(*, actor: User, wire_id: int, user_id: int, action: str) -> tuple[Chat, ChatMember]:
    """Lock the group; the actor must be an admin and the target a member of a lower role."""
    chat, member = access_chat(user_id=actor.pk, wire_id=wire_id, lock=True)
    _require_group(chat)
    _require_role(member, Role.ADMIN, f"{action} members")
    target = ChatMember.objects.filter(chat=chat, user_id=user_id).first()
    if target is None:
        raise ApplicationError(codes.NOT_A_MEMBER, "that user is not a member")
    if target.role >= member.role:
        raise ApplicationError(codes.NOT_ALLOWED, f"you can only {action} members below your role")
    return chat, target


@transaction.atomic
def chat_kick(*, actor: User, wire_id: int, user_id: int) -> None:
    """Remove a member, who stays banned from the group (``chats.unban``)."""
    chat, target = _target_below(actor=actor, wire_id=wire_id, user_id=user_id, action="remove")
    _kick(chat, target, actor_id=actor.pk, banned_by=actor)


def _kick(chat: Chat, target: ChatMember, *, actor_id: int | None, banned_by: User | None) -> None:
    """Under the chat's row lock: remove ``target`` (``kick`` message, ``chats.onRemoved``) and ban them."""
    _member_remove(chat, target, actor_id=actor_id, op="kick")
    ChatBan.objects.update_or_create(chat=chat, user_id=target.user_id, defaults={"banned_by": banned_by})


def _admin_of(actor: User, wire_id: int, action: str) -> Chat:
    chat, member = access_chat(user_id=actor.pk, wire_id=wire_id, lock=True)
    _require_group(chat)
    _require_role(member, Role.ADMIN, action)
    return chat


@transaction.atomic
def chat_unban(*, actor: User, wire_id: int, user_id: int) -> None:
    """Lift a ban (admins); the user may join again by themselves. Lifting no ban is no error."""
    chat = _admin_of(actor, wire_id, "lift bans")
    ChatBan.objects.filter(chat=chat, user_id=user_id).delete()


def chat_bans(*, actor: User, wire_id: int) -> list[ChatBan]:
    """The group's bans, newest first (admins)."""
    chat, member = access_chat(user_id=actor.pk, wire_id=wire_id)
    _require_group(chat)
    _require_role(member, Role.ADMIN, "see the bans")
    return list(ChatBan.objects.filter(chat=chat).order_by("-created_at", "-pk")[:1000])


def invite_privacy_set(*, user: User, who: int) -> None:
    GroupInvitePrivacy.objects.update_or_create(user=user, defaults={"who": who})


def invite_privacy_get(*, user: User) -> int:
    row = GroupInvitePrivacy.objects.filter(user=user).values_list("who", flat=True).first()
    return GroupInvitePrivacy.Who.ANYONE if row is None else int(row)


@transaction.atomic
def chat_mute(*, actor: User, wire_id: int, user_id: int, seconds: int) -> None:
    """Mute a member for ``seconds`` (0 lifts the mute)."""
    chat, target = _target_below(actor=actor, wire_id=wire_id, user_id=user_id, action="mute")
    _mute(chat, target, seconds=seconds, actor_id=actor.pk)


def _mute(chat: Chat, target: ChatMember, *, seconds: int, actor_id: int | None) -> datetime | None:
    """Under the chat's row lock: mute ``target`` for ``seconds`` (0 lifts it) and post ``mute``."""
    until = timezone.now() + timedelta(seconds=seconds) if seconds > 0 else None
    ChatMember.objects.filter(pk=target.pk).update(muted_until=until)
    ChatMute.objects.filter(chat=chat, user_id=target.user_id).delete()
    _system_message(chat, actor_id, {"op": "mute", "uIds": [target.user_id],
                                     "until": int(until.timestamp()) if until else None})
    return until


@transaction.atomic
def chat_set_admin(*, actor: User, wire_id: int, user_id: int, is_admin: bool) -> None:
    chat, member = access_chat(user_id=actor.pk, wire_id=wire_id, lock=True)
    _require_group(chat)
    _require_role(member, Role.OWNER, "appoint admins")
    target = ChatMember.objects.filter(chat=chat, user_id=user_id).exclude(role=Role.OWNER).first()
    if target is None:
        raise ApplicationError(codes.NOT_A_MEMBER, "that user is not a member")
    # An admin is never muted; a mute does not outlive a promotion.
    ChatMember.objects.filter(pk=target.pk).update(role=Role.ADMIN if is_admin else Role.MEMBER, muted_until=None)
    _system_message(chat, actor.pk, {"op": "admin" if is_admin else "unadmin", "uIds": [user_id]})


@transaction.atomic
def chat_transfer_owner(*, actor: User, wire_id: int, user_id: int) -> None:
    chat, member = access_chat(user_id=actor.pk, wire_id=wire_id, lock=True)
    _require_group(chat)
    _require_role(member, Role.OWNER, "transfer ownership")
    target = ChatMember.objects.filter(chat=chat, user_id=user_id).exclude(pk=member.pk).first()
    if target is None:
        raise ApplicationError(codes.NOT_A_MEMBER, "that user is not a member")
    ChatMember.objects.filter(pk=target.pk).update(role=Role.OWNER, muted_until=None)
    ChatMember.objects.filter(pk=member.pk).update(role=Role.ADMIN)
    Chat.objects.filter(pk=chat.pk).update(owner_id=user_id)
    _system_message(chat, actor.pk, {"op": "owner", "uIds": [user_id]})


@transaction.atomic
def chat_update(*, actor: User, wire_id: int, title: str | None = None, avatar: str | None = None,
                memo: str | None = None) -> Chat:
    chat, member = access_chat(user_id=actor.pk, wire_id=wire_id, lock=True)
    _require_group(chat)
    _require_role(member, Role.ADMIN, "edit the group")
    fields = {k: v for k, v in (("title", title), ("avatar", avatar), ("memo", memo)) if v is not None}
    if "title" in fields and not fields["title"].strip():
        raise ApplicationError(INVALID, "a group needs a name")
    if fields:
        Chat.objects.filter(pk=chat.pk).update(**fields)
        for key, value in fields.items():
            setattr(chat, key, value)
        _system_message(chat, actor.pk, {"op": "edit", **fields})
    return chat


# --- invite links ---------------------------------------------------------------------------
@transaction.atomic
def invite_link_create(*, actor: User, wire_id: int) -> str:
    """A new link token (replacing any earlier one). Admins only in super-groups."""
    chat, member = access_chat(user_id=actor.pk, wire_id=wire_id, lock=True)
    _require_group(chat)
    if chat.kind == Chat.Kind.SUPERGROUP:
        _require_role(member, Role.ADMIN, "create invite links")
    _spend_invites(actor, 1)
    token = secrets.token_urlsafe(16)
    Chat.objects.filter(pk=chat.pk).update(invite_token=token)
    return token


@transaction.atomic
def invite_link_disable(*, actor: User, wire_id: int) -> None:
    """chats.disableInviteLink (the native API document): admins only."""
    chat, member = access_chat(user_id=actor.pk, wire_id=wire_id, lock=True)
    _require_group(chat)
    _require_role(member, Role.ADMIN, "disable the invite link")
    Chat.objects.filter(pk=chat.pk).update(invite_token=None)


@transaction.atomic
def chat_join_by_link(*, user: User, token: str) -> Chat:
    chat = Chat.objects.select_for_update().filter(invite_token=token).first() if token else None
    if chat is None:
        raise ApplicationError(codes.INVALID_INVITE, "this invite link is invalid or was disabled")
    _refuse_dissolved(chat)  # dissolving clears the link; this guards a join racing it
    _refuse_banned(chat, user.pk)
    if not _members_join(chat, [user.pk], actor_id=user.pk):
        raise ApplicationError(codes.ALREADY_MEMBER, "you are already a member")
    return chat


# --- moderation settings (the native API document chats.*) -------------------------------------------------
RIGHTS_FIELDS = {
    "banWhisper": "ban_whisper",
    "banSendWebLink": "ban_send_web_link",
    "banSendQRcode": "ban_send_qrcode",
    "banSendKeyword": "ban_send_keyword",
    "banSendDmMention": "ban_send_dm_mention",
}


def _apply_rights(chat: Chat, fields: dict[str, bool]) -> None:
    """Under the chat's row lock: store the rights (model field names) and tell the members."""
    if fields:
        Chat.objects.filter(pk=chat.pk).update(**fields)
        for key, value in fields.items():
            setattr(chat, key, value)
    send_event_on_commit("chats.rights.onUpdate", events.rights_updated(chat), member_ids(chat.pk))


def _apply_keywords(chat: Chat, keywords: list[str]) -> None:
    cleaned = list(dict.fromkeys(k.strip() for k in keywords if k and k.strip()))
    Chat.objects.filter(pk=chat.pk).update(filter_keywords=cleaned)
    chat.filter_keywords = cleaned
    send_event_on_commit("chats.keywords.onUpdate", events.keywords_updated(chat), member_ids(chat.pk))


@transaction.atomic
def chat_rights_modify(*, actor: User, wire_id: int, rights: dict[str, bool]) -> Chat:
    chat, member = access_chat(user_id=actor.pk, wire_id=wire_id, lock=True)
    _require_group(chat)
    _require_role(member, Role.ADMIN, "change the group's rights")
    _apply_rights(chat, {RIGHTS_FIELDS[key]: value for key, value in rights.items() if key in RIGHTS_FIELDS})
    return chat


@transaction.atomic
def chat_keywords_set(*, actor: User, wire_id: int, keywords: list[str]) -> Chat:
    chat, member = access_chat(user_id=actor.pk, wire_id=wire_id, lock=True)
    _require_group(chat)
    _require_role(member, Role.ADMIN, "set filter keywords")
    _apply_keywords(chat, keywords)
    return chat


@transaction.atomic
def chat_moderate_by_operator(*, chat_id: int, rights: dict[str, bool], keywords: list[str]) -> Chat:
    """The admin's edit of a group's rights (model field names) and filter keywords: stored and
    pushed to the members exactly as an owner's change would be."""
    chat = Chat.objects.select_for_update().get(pk=chat_id)
    _require_group(chat)
    changed = {field: value for field, value in rights.items()
               if field in RIGHTS_FIELDS.values() and getattr(chat, field) != value}
    if changed:
        _apply_rights(chat, changed)
    if list(chat.filter_keywords or []) != keywords:
        _apply_keywords(chat, keywords)
    return chat


# --- the operators' console ------------------------------------------------------------------
# What an operator does to a group goes through the same internals as an owner's action, so the
# members see the same system messages and pushes; the operator is not a member, so those system
# messages have no sender (``from`` null). Each records itself in the admin log (core.audit),
# with the operator's ``reason`` when given.

def _operator_group(chat_id: int) -> Chat:
    """Lock the group ``chat_id`` (model id), refusing a chat that is not a live group."""
    chat = Chat.objects.select_for_update().filter(pk=chat_id).first()
    if chat is None:
        raise ApplicationError(NOT_FOUND, "no such chat")
    _require_group(chat)
    _refuse_dissolved(chat)
    return chat


def _operator_target(chat_id: int, user_id: int) -> tuple[Chat, ChatMember]:
    """Lock the group ``chat_id`` (model id) and find the member ``user_id``."""
    chat = _operator_group(chat_id)
    target = ChatMember.objects.filter(chat=chat, user_id=user_id).select_related("user").first()
    if target is None:
        raise ApplicationError(codes.NOT_A_MEMBER, "that user is not a member")
    return chat, target


@transaction.atomic
def chat_mute_by_operator(*, operator: User, chat_id: int, user_id: int, seconds: int, reason: str = "") -> None:
    """An operator mutes a member of the group ``chat_id`` (model id) for ``seconds`` (0 lifts the
    mute): the ``mute`` system message as for ``chats.mute``. Owners and admins are never muted
    (``chat_permission_denied``): demote them first, or kick them."""
    if not 0 <= seconds <= MUTE_MAX_SECONDS:
        raise ApplicationError(INVALID, f"a mute lasts 0 to {MUTE_MAX_SECONDS} seconds")
    chat, target = _operator_target(chat_id, user_id)
    if target.role != Role.MEMBER:
        raise ApplicationError(codes.NOT_ALLOWED, "owners and admins are never muted")
    until = _mute(chat, target, seconds=seconds, actor_id=None)
    what = f"muted {target.user.username} (user {user_id}) until {until:%Y-%m-%d %H:%M:%S} UTC" if until \
        else f"lifted the mute of {target.user.username} (user {user_id})"
    operator_log(operator=operator, obj=chat, message=what, reason=reason)


@transaction.atomic
def chat_kick_by_operator(*, operator: User, chat_id: int, user_id: int, reason: str = "") -> None:
    """An operator removes a member (the owner too: the group passes on as when an owner leaves)
    from the group ``chat_id`` (model id): the ``kick`` system message and ``chats.onRemoved`` as
    for ``chats.kick``, and the user is banned from the group (``bannedBy`` null)."""
    chat, target = _operator_target(chat_id, user_id)
    _kick(chat, target, actor_id=None, banned_by=None)
    operator_log(operator=operator, obj=chat, message=f"removed {target.user.username} (user {user_id})",
                 reason=reason)


@transaction.atomic
def group_dissolve(*, operator: User, chat_id: int, reason: str = "") -> Chat:
    """An operator dissolves the group ``chat_id`` (model id). A last system message ``dissolve``
    goes to every member, then ``chats.onDissolved`` to each; every membership is removed (the
    group leaves their conversation lists and sync, as a left group does), the invite link dies,
    and from then on sending, joining or adding answers ``chat_dissolved``. Messages are kept."""
    chat = _operator_group(chat_id)
    members = member_ids(chat.pk)
    _system_message(chat, None, {"op": "dissolve"})
    ChatMember.objects.filter(chat=chat).delete()
    ChatMute.objects.filter(chat=chat).delete()
    now = timezone.now()
    Chat.objects.filter(pk=chat.pk).update(dissolved_at=now, member_count=0, invite_token=None)
    chat.dissolved_at, chat.member_count, chat.invite_token = now, 0, None
    send_event_on_commit("chats.onDissolved", events.dissolved(chat), members)
    operator_log(operator=operator, obj=chat, message=f"dissolved the group ({len(members)} members removed)",
                 reason=reason)
    return chat
