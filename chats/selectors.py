"""Reads of chats and memberships."""
from __future__ import annotations

from django.db.models import QuerySet

from chats import exceptions as codes
from chats.models import Chat, ChatMember
from core.exceptions import NOT_FOUND, ApplicationError


def chat_from_wire(wire_id: int) -> Chat:
    """The chat a seed chatId names: ``-id`` a normal group, ``+id`` a super-group or private chat."""
    if wire_id < 0:
        chat = Chat.objects.filter(pk=-wire_id, kind=Chat.Kind.GROUP).first()
    elif wire_id > 0:
        chat = Chat.objects.filter(pk=wire_id).exclude(kind=Chat.Kind.GROUP).first()
    else:
        chat = None
    if chat is None:
        raise ApplicationError(NOT_FOUND, "no such chat")
    return chat


def access_chat(*, user_id: int, wire_id: int, lock: bool = False) -> tuple[Chat, ChatMember]:
    """The chat and the caller's membership, or refuse. ``lock`` takes the chat row lock."""
    chat = chat_from_wire(wire_id)
    if lock:
        chat = Chat.objects.select_for_update().get(pk=chat.pk)
    member = ChatMember.objects.filter(chat=chat, user_id=user_id).first()
    if member is None:
        if chat.dissolved_at is not None:  # nobody is a member of a dissolved group: say why
            raise ApplicationError(codes.CHAT_DISSOLVED, "this group was dissolved")
        raise ApplicationError(codes.NOT_A_MEMBER, "you are not a member of this chat")
    return chat, member


def member_ids(chat_id: int) -> list[int]:
    return list(ChatMember.objects.filter(chat_id=chat_id).values_list("user_id", flat=True))


def members_of(chat_id: int) -> QuerySet[ChatMember]:
    return ChatMember.objects.filter(chat_id=chat_id).select_related("user").order_by("-role", "joined_at", "pk")


def private_chat_between(a: int, b: int) -> Chat | None:
    low, high = sorted((a, b))
    return Chat.objects.filter(kind=Chat.Kind.PRIVATE, user_low_id=low, user_high_id=high).first()


def private_send_checks(sender_id: int, peer_id: int) -> tuple[bool, bool, bool]:
    """``(peer has blacklisted sender, a shared group bans their whispers, peer is an internal
    account)`` in one query."""
    from django.db.models import Exists, OuterRef

    from accounts.models import Block, User

    sender_groups = ChatMember.objects.filter(
        user_id=sender_id, role=ChatMember.Role.MEMBER, chat__ban_whisper=True
    ).values("chat_id")
    row = (User.objects.filter(pk=peer_id)
           .annotate(blocked=Exists(Block.objects.filter(user_id=OuterRef("pk"), blocked_id=sender_id)),
                     whisper=Exists(ChatMember.objects.filter(user_id=OuterRef("pk"), chat_id__in=sender_groups)))
           .values_list("blocked", "whisper", "is_internal").first())
    return (bool(row[0]), bool(row[1]), bool(row[2])) if row else (False, False, False)
