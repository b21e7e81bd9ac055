"""Reads: history, sync and the conversation list."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery

from chats.models import Chat, ChatMember
from chats.selectors import access_chat
from core import contract, jsonwire
from messaging import events
from messaging.models import HiddenMessage, Message


def _visible(user_id: int, chat_id: int, after_seq: int) -> Any:
    hidden = HiddenMessage.objects.filter(user_id=user_id).values("message_id")
    return Message.objects.filter(chat_id=chat_id, seq__gt=after_seq).exclude(pk__in=hidden)


def message_history(*, user_id: int, wire_id: int, before_seq: int | None, limit: int) -> dict[str, Any]:
    """Up to ``limit`` messages before ``before_seq`` (newest page first), returned in seq order."""
    chat, member = access_chat(user_id=user_id, wire_id=wire_id)
    qs = _visible(user_id, chat.pk, member.joined_seq)
    if before_seq is not None:
        qs = qs.filter(seq__lt=before_seq)
    page = list(qs.order_by("-seq")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    page.reverse()
    return {"chatId": chat.wire_id, "messages": [events.message(m, chat) for m in page], "hasMore": more}


def messages_sync(*, user_id: int, positions: dict[int, int], limit: int) -> dict[str, Any]:
    """Everything newer than the client's positions (``{chatId: seq}``), chat by chat in seq order.

    Chats the client does not list start from the member's join. At most ``limit`` messages
    come back; ``hasMore`` says to call again with the new positions.
    """
    memberships = list(ChatMember.objects.filter(user_id=user_id).select_related("chat").order_by("chat_id"))
    result: list[dict[str, Any]] = []
    budget, more = limit, False
    for member in memberships:
        chat = member.chat
        start = max(positions.get(chat.wire_id, 0), member.joined_seq)
        if chat.last_seq <= start:
            continue
        if budget <= 0:
            more = True
            break
        page = list(_visible(user_id, chat.pk, start).order_by("seq")[: budget + 1])
        if len(page) > budget:
            more = True
            page = page[:budget]
        budget -= len(page)
        result.append({"chatId": chat.wire_id, "lastSeq": chat.last_seq, "readSeq": member.read_seq,
                       "messages": [events.message(m, chat) for m in page]})
    return {"chats": result, "hasMore": more}


def messages_between(user_ids: list[int], start: float, end: float, limit: int) -> dict[int, list[tuple[int, str]]]:
    """For each of ``user_ids``: the messages of their chats created between ``start`` and
    ``end`` (UNIX times), as the ``onMessage`` pushes they were sent as, chat by chat in seq
    order; at most ``limit`` per user. Messages before the user joined, or deleted by them,
    are left out (as ``messages.sync`` does)."""
    hidden = HiddenMessage.objects.filter(user_id=OuterRef("recipient"), message_id=OuterRef("pk"))
    # One filter() call: the member row that gives joined_seq is the recipient's own.
    rows = (Message.objects.filter(created_at__gte=datetime.fromtimestamp(start, tz=UTC),
                                   created_at__lte=datetime.fromtimestamp(end, tz=UTC),
                                   chat__members__user_id__in=user_ids, seq__gt=F("chat__members__joined_seq"))
            .annotate(recipient=F("chat__members__user_id"))
            .exclude(Exists(hidden))
            .select_related("chat")
            .order_by("recipient", "chat_id", "seq"))
    owed: dict[int, list[tuple[int, str]]] = {}
    pushes: dict[int, str] = {}  # one encoding per message, whoever receives it
    for msg in rows.iterator(chunk_size=2000):
        mine = owed.setdefault(msg.recipient, [])
        if len(mine) >= limit:
            continue
        if msg.pk not in pushes:
            data = events.message(msg, msg.chat)
            if settings.RPC_CHECK_REPLIES:  # the tests: built here, not by core.realtime, so checked here
                contract.check_event("onMessage", data)
            pushes[msg.pk] = jsonwire.dumps({"event": "onMessage", "data": data})
        mine.append((msg.pk, pushes[msg.pk]))
    return owed


def _unread(user_id: int, **position: Any) -> QuerySet[Message]:
    """What counts as unread for ``user_id`` past a read position (``position``: the lookups
    naming the chat and its ``read_seq``): not recalled, not their own, not a system message,
    not deleted by them."""
    hidden = HiddenMessage.objects.filter(user_id=user_id).values("message_id")
    return (Message.objects.filter(recalled_at__isnull=True, **position)
            .exclude(Q(sender_id=user_id) | Q(type=Message.Type.SYSTEM) | Q(pk__in=hidden)))


def unread_total(*, user_id: int) -> int:
    """The user's unread messages across all their chats: the sum of ``conversations``' ``unread``."""
    # One filter() call: the member row that gives read_seq is the user's own.
    return _unread(user_id, chat__members__user_id=user_id, seq__gt=F("chat__members__read_seq")).count()


def conversations(*, user_id: int) -> list[dict[str, Any]]:
    """The caller's chats, most recently active first, with the last message and unread count."""
    from chats.events import chat_info

    hidden = HiddenMessage.objects.filter(user_id=user_id).values("message_id")
    last_visible = (Message.objects.filter(chat_id=OuterRef("chat_id"), seq__gt=OuterRef("joined_seq"))
                    .exclude(pk__in=hidden).order_by("-seq").values("pk")[:1])
    unread = (_unread(user_id, chat_id=OuterRef("chat_id"), seq__gt=OuterRef("read_seq")).order_by()
              .values("chat_id").annotate(n=Count("pk")).values("n"))
    members = list(ChatMember.objects.filter(user_id=user_id).select_related("chat")
                   .annotate(last_id=Subquery(last_visible), unread=Subquery(unread))
                   .order_by("-chat__updated_at"))
    last = Message.objects.in_bulk([m.last_id for m in members if m.last_id])
    # In a private chat the other user's read position (the read receipts a reloaded client
    # shows; messages.onRead tells the same as it moves).
    private = [m.chat_id for m in members if m.chat.kind == Chat.Kind.PRIVATE]
    peer_read = dict(ChatMember.objects.filter(chat_id__in=private).exclude(user_id=user_id)
                     .values_list("chat_id", "read_seq")) if private else {}
    out = []
    for member in members:
        chat: Chat = member.chat
        message = last.get(member.last_id)
        info = {**chat_info(chat, member), "unread": member.unread or 0,
                "lastMessage": events.message(message, chat) if message else None}
        if chat.kind == Chat.Kind.PRIVATE:
            info["peerReadSeq"] = peer_read.get(chat.pk, 0)
        out.append(info)
    return out


EXCERPT_CHARS = 80


def content_excerpt(content: Any, type_label: str = "", limit: int = EXCERPT_CHARS) -> str:
    """A one-line preview of a message's content: its text, else its type and keys."""
    text = content.get("text") if isinstance(content, dict) else None
    if isinstance(text, str):
        line = " ".join(text.split())
    elif isinstance(content, dict) and content:
        line = f"[{type_label or 'message'}] " + ", ".join(sorted(map(str, content)))
    else:
        line = f"[{type_label or 'message'}]"
    return line if len(line) <= limit else line[: limit - 1] + "…"
