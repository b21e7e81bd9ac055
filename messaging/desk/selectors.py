"""Reads of the desk: J-IM ids, a user's contacts with their counts, queue and conversations.

Every count is derived from the stored messages and read positions in one query, never kept
as a counter, so concurrent messages cannot make it drift (docs/jim.md#counts).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Case, Count, F, OuterRef, Subquery, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts import presence
from accounts.models import User
from chats.models import Chat, ChatMember
from core.params import ascii_whole
from messaging.desk.models import Conversation, DeskProfile, QueueEntry
from messaging.models import HiddenMessage, Message

NATIVE_PREFIX = "uid:"  # the J-IM id of a user without a desk profile: "uid:42"
RECENT = timedelta(days=2)  # the J-IM document: pullType 3 "最近两天联系人"


# --- J-IM ids ---------------------------------------------------------------------------------
def jim_ids(user_ids: Any) -> dict[int, str]:
    """The J-IM id of each user: the desk profile's external id, else ``uid:<id>``."""
    ids = set(user_ids)
    known = dict(DeskProfile.objects.filter(user_id__in=ids).values_list("user_id", "external_id"))
    return {uid: known.get(uid, f"{NATIVE_PREFIX}{uid}") for uid in ids}


def user_by_jim_id(jim_id: str) -> User | None:
    """The active user a J-IM id names, or None."""
    if jim_id.startswith(NATIVE_PREFIX):
        raw = jim_id[len(NATIVE_PREFIX):]
        pk = ascii_whole(raw)
        return User.objects.filter(pk=pk, is_active=True).first() if pk is not None else None
    profile = DeskProfile.objects.select_related("user").filter(external_id=jim_id, user__is_active=True).first()
    return profile.user if profile else None


def profile_by_external_id(external_id: str) -> DeskProfile | None:
    return DeskProfile.objects.select_related("user").filter(external_id=external_id).first()


def profiles_of(user_ids: Any) -> dict[int, DeskProfile]:
    return {p.user_id: p for p in DeskProfile.objects.filter(user_id__in=set(user_ids))}


# --- contacts and counts ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Contact:
    """One private chat of a user, seen from that user."""

    chat_id: int
    peer_id: int
    read_seq: int
    last_sender_id: int | None
    last_at: datetime | None
    unread: int


def _visible(user_id: int) -> Any:
    """Messages a desk reader sees: not system notices, not recalled, not deleted for them."""
    hidden = HiddenMessage.objects.filter(user_id=user_id).values("message_id")
    return (Message.objects.exclude(type=Message.Type.SYSTEM).exclude(pk__in=hidden)
            .filter(recalled_at__isnull=True))


def contacts(*, user_id: int) -> list[Contact]:
    """The user's private chats (a chat exists once a message was sent or a visitor assigned),
    most recently active first, each with its last message's sender and time and the number of
    messages the user has not read. One query: on PostgreSQL one snapshot, so the numbers agree."""
    in_chat = _visible(user_id).filter(chat_id=OuterRef("chat_id"))
    last = in_chat.order_by("-seq")
    unread = (in_chat.filter(seq__gt=OuterRef("read_seq")).exclude(sender_id=user_id).order_by()
              .values("chat_id").annotate(n=Count("pk")).values("n"))
    rows = (ChatMember.objects.filter(user_id=user_id, chat__kind=Chat.Kind.PRIVATE)
            .annotate(peer=Case(When(chat__user_low_id=user_id, then=F("chat__user_high_id")),
                                default=F("chat__user_low_id")),
                      last_sender=Subquery(last.values("sender_id")[:1]),
                      last_at=Subquery(last.values("created_at")[:1]),
                      unread=Subquery(unread))
            .values_list("chat_id", "peer", "read_seq", "last_sender", "last_at", "unread"))
    out = [Contact(chat_id, peer, read_seq, sender, _aware(at), n or 0)
           for chat_id, peer, read_seq, sender, at, n in rows]
    # Newest activity first; chats without a message yet (a fresh assignment) after them, newest first.
    out.sort(key=lambda c: (c.last_at is not None, c.last_at or timezone.now(), c.chat_id), reverse=True)
    return out


def _aware(value: Any) -> datetime | None:
    """SQLite hands a subquery's datetime back as text."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def is_pending(contact: Contact, user_id: int) -> bool:
    """Awaiting the user's reply: the last message came from the other side."""
    return contact.last_sender_id is not None and contact.last_sender_id != user_id


def is_recent(contact: Contact, now: datetime) -> bool:
    return contact.last_at is not None and contact.last_at >= now - RECENT


def chat_counts(*, user_id: int, peer_id: int | None) -> dict[str, int]:
    """the J-IM document chatInfo's numbers for ``user_id``'s chat list (and the unread from ``peer_id``)."""
    rows, now = contacts(user_id=user_id), timezone.now()
    return {
        "pendingReplyNum": sum(is_pending(c, user_id) for c in rows),
        "lastedContactsNum": sum(is_recent(c, now) for c in rows),
        "allContactsNum": len(rows),
        "unReadNum": next((c.unread for c in rows if c.peer_id == peer_id), 0),
    }


def last_messages(*, user_id: int, chat_ids: list[int], per_chat: int) -> dict[int, list[Message]]:
    """The newest ``per_chat`` visible messages of each chat, oldest first, in one query."""
    if not chat_ids:
        return {}
    ranked = (_visible(user_id).filter(chat_id__in=chat_ids)
              .annotate(rank=Window(RowNumber(), partition_by=[F("chat_id")], order_by=F("seq").desc()))
              .filter(rank__lte=per_chat).order_by("chat_id", "seq"))
    out: dict[int, list[Message]] = {}
    for msg in ranked:
        out.setdefault(msg.chat_id, []).append(msg)
    return out


def unread_messages(*, user_id: int, chat: Chat, read_seq: int, limit: int, offset: int = 0) -> list[Message]:
    """The messages of ``chat`` the user has not read (from others), oldest first: the oldest
    ``offset`` skipped, then at most ``limit``."""
    return list(_visible(user_id).filter(chat=chat, seq__gt=read_seq).exclude(sender_id=user_id)
                .order_by("seq")[offset:offset + limit])


def history(*, user_id: int, chat: Chat, after_seq: int, begin: datetime | None, end: datetime | None,
            offset: int, count: int) -> list[Message]:
    """A page of the chat's history counted back from the newest (``offset`` skipped), oldest first."""
    qs = _visible(user_id).filter(chat=chat, seq__gt=after_seq)
    if begin is not None:
        qs = qs.filter(created_at__gte=begin)
    if end is not None:
        qs = qs.filter(created_at__lte=end)
    page = list(qs.order_by("-seq")[offset:offset + count])
    page.reverse()
    return page


# --- routing state ----------------------------------------------------------------------------
def online_user_ids(user_ids: list[int]) -> set[int]:
    return presence.store().online(user_ids, time.time())


def open_counts(agent_ids: list[int]) -> dict[int, int]:
    """Open conversations per agent profile."""
    rows = (Conversation.objects.filter(agent_id__in=agent_ids, status=Conversation.Status.OPEN)
            .values("agent_id").annotate(n=Count("pk")).values_list("agent_id", "n"))
    counts = dict.fromkeys(agent_ids, 0)
    counts.update(dict(rows))
    return counts


def queue_position(visitor_id: int) -> int | None:
    entry = QueueEntry.objects.filter(visitor_id=visitor_id).first()
    if entry is None:
        return None
    return QueueEntry.objects.filter(pk__lte=entry.pk).count()


def queue() -> list[dict[str, Any]]:
    """The waiting visitors, first come first."""
    entries = QueueEntry.objects.select_related("visitor").order_by("pk")
    return [{"position": n, **card(e.visitor), "since": int(e.created_at.timestamp() * 1000)}
            for n, e in enumerate(entries, start=1)]


def conversations_of(*, agent: DeskProfile) -> list[dict[str, Any]]:
    """An agent's open conversations, newest first."""
    rows = (Conversation.objects.filter(agent=agent, status=Conversation.Status.OPEN)
            .select_related("visitor").order_by("-pk"))
    return [{"conversationId": c.pk, "chatId": c.chat_id, "visitor": card(c.visitor),
             "since": int(c.created_at.timestamp() * 1000)} for c in rows]


def card(profile: DeskProfile) -> dict[str, Any]:
    return {"id": profile.external_id, "uId": profile.user_id, "kind": profile.kind, "nick": profile.nick,
            "avatar": profile.avatar, "terminal": profile.terminal}
