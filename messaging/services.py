"""Every write of the messaging app: send, system posts, recall, delete for me, read."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.selectors import are_friends
from chats.exceptions import CHAT_DISSOLVED, NOT_A_MEMBER
from chats.models import Chat, ChatMember
from chats.selectors import access_chat, chat_from_wire, member_ids, private_send_checks
from chats.services import private_chat_get_or_create
from core import jsonwire, metrics, throttle
from core.appconfig import app_config
from core.audit import operator_log
from core.exceptions import BLACKLISTED, NOT_FOUND, ApplicationError
from core.realtime import send_event_on_commit
from messaging import content as rules
from messaging import events
from messaging import exceptions as codes
from messaging.media import media_attach
from messaging.models import HiddenMessage, Message

_RULE_COLUMNS = ("ban_whisper", "ban_send_web_link", "ban_send_qrcode", "ban_send_keyword", "ban_send_dm_mention",
                 "filter_keywords")


def _next_seq(chat: Chat) -> int:
    """Take the chat's next seq. The UPDATE holds the chat row lock until commit, so senders
    to one chat queue here and seqs are gap-free (a rollback returns the number). It also
    re-reads the chat's rules, so a rights change that committed first applies."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Chat._meta.db_table} SET last_seq = last_seq + 1, updated_at = %s WHERE id = %s "  # noqa: S608
            f"RETURNING last_seq, {', '.join(_RULE_COLUMNS)}",
            [timezone.now(), chat.pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise ApplicationError(NOT_FOUND, "no such chat")
    for name, value in zip(_RULE_COLUMNS, row[1:], strict=True):
        if name == "filter_keywords" and isinstance(value, str):  # SQLite returns JSON as text
            value = jsonwire.loads(value)
        setattr(chat, name, bool(value) if name.startswith("ban_") else value)
    return int(row[0])


# A chat's identity (id, kind, the pair of a private chat) never changes, so each process
# keeps it after the first lookup: a warm send needs no chat query. Everything that can
# change (rules, membership, mute) is still read under the chat's row lock.
_SHELLS_MAX = 100_000
_pair_shells: dict[tuple[int, int], Chat] = {}
_wire_shells: dict[int, Chat] = {}


def _shell(chat: Chat) -> Chat:
    return Chat(pk=chat.pk, kind=chat.kind, user_low_id=chat.user_low_id, user_high_id=chat.user_high_id)


def _remember(cache: dict[Any, Chat], key: Any, chat: Chat) -> Chat:
    shell = _shell(chat)

    def store() -> None:
        if len(cache) >= _SHELLS_MAX:
            cache.clear()
        cache[key] = shell

    # Only once committed: a chat created by a send that is then refused is rolled back.
    transaction.on_commit(store)
    return _shell(chat)  # a separate copy: callers set fields on it (_next_seq), the cache stays clean


def _private_chat(sender_id: int, peer_id: int) -> Chat:
    key = (min(sender_id, peer_id), max(sender_id, peer_id))
    cached = _pair_shells.get(key)
    if cached is not None:
        return _shell(cached)
    return _remember(_pair_shells, key, private_chat_get_or_create(user_id=sender_id, peer_id=peer_id))


def _chat_by_wire(wire_id: int) -> Chat:
    cached = _wire_shells.get(wire_id)
    if cached is not None:
        return _shell(cached)
    return _remember(_wire_shells, wire_id, chat_from_wire(wire_id))


def _recipients(chat: Chat) -> list[int]:
    if chat.kind == Chat.Kind.PRIVATE:
        return [chat.user_low_id, chat.user_high_id]  # type: ignore[list-item]
    return member_ids(chat.pk)


def _post(chat: Chat, *, sender_id: int | None, type_: int, content: dict[str, Any], sub_type: int = 0,
          client_msg_id: str | None = None, exclude_channel: str | None = None, seq: int | None = None) -> Message:
    """Store one message under the chat lock and push it to every member after commit.
    ``seq`` is given when the caller already took it (and with it the lock)."""
    if seq is None:
        seq = _next_seq(chat)
    # A resend racing its first copy fails the (sender, client_msg_id) unique constraint
    # here; message_send then answers with the first copy and nothing is kept.
    msg = Message.objects.create(chat=chat, seq=seq, sender_id=sender_id, type=type_, sub_type=sub_type,
                                 content=content, client_msg_id=client_msg_id)
    chat.last_seq = seq
    send_event_on_commit("onMessage", events.message(msg, chat), _recipients(chat), exclude_channel=exclude_channel)
    transaction.on_commit(metrics.MESSAGES_STORED.labels("ordinary").inc)
    return msg


def friends_only_refuses(user: User, peer_id: int, *, peer_internal: bool | None = None) -> bool:
    """The app switch onlyFriendChat, for a private message or call between ``user`` and
    ``peer_id``. Internal accounts (customer service, desk agents) talk to anyone, either way
    round. ``peer_internal`` saves the lookup when the caller already has it."""
    if not app_config().only_friend_chat or user.is_internal:
        return False
    if peer_internal is None:
        peer_internal = User.objects.filter(pk=peer_id, is_internal=True).exists()
    return not peer_internal and not are_friends(user.pk, peer_id)


def _enforce(sender: User, chat: Chat, member: ChatMember, type_: int, content: dict[str, Any]) -> None:
    """The chat's rules for this sender. Owners and admins of a group are exempt from its rights."""
    if chat.kind == Chat.Kind.PRIVATE:
        peer_id = chat.user_high_id if chat.user_low_id == sender.pk else chat.user_low_id
        assert peer_id is not None
        blocked, whisper_banned, peer_internal = private_send_checks(sender.pk, peer_id)  # one query
        if blocked:
            raise ApplicationError(BLACKLISTED, "you are on this user's blacklist")
        if friends_only_refuses(sender, peer_id, peer_internal=peer_internal):
            raise ApplicationError(codes.NOT_FRIENDS, "only friends can chat")
        if whisper_banned:
            raise ApplicationError(codes.BANNED_WHISPER, "a group you share bans private messages between members")
        return
    if member.role != ChatMember.Role.MEMBER:
        return  # owners and admins are never muted and are exempt from the group's rights
    if member.muted_until and member.muted_until > timezone.now():
        raise ApplicationError(codes.MUTED, "you are muted in this group")
    if chat.ban_send_web_link and rules.has_web_link(content):
        raise ApplicationError(codes.BANNED_WEB_LINK, "web links are not allowed in this group")
    if chat.ban_send_keyword and chat.filter_keywords and rules.has_keyword(content, chat.filter_keywords):
        raise ApplicationError(codes.BANNED_KEYWORD, "the message contains a word this group filters")
    if chat.ban_send_dm_mention and rules.has_direct_mention(content):
        raise ApplicationError(codes.BANNED_MENTION, "direct mentions are not allowed in this group")
    if chat.ban_send_qrcode and type_ == Message.Type.IMAGE:
        from messaging.qrcode import image_has_qr_code

        if image_has_qr_code(content):
            raise ApplicationError(codes.BANNED_QRCODE, "QR codes are not allowed in this group")


def _resolve(sender_id: int, chat_wire_id: int | None, to: int | None) -> Chat:
    if to is not None:
        return _private_chat(sender_id, to)
    assert chat_wire_id is not None
    return _chat_by_wire(chat_wire_id)


def _checked_post(sender: User, chat: Chat, *, type_: int, content: dict[str, Any], sub_type: int = 0,
                  client_msg_id: str | None = None, exclude_channel: str | None = None) -> Message:
    """Post as ``sender`` after checking membership and the chat's rules under its row lock."""
    # Take the seq (and the chat row lock) first, then check membership and rules:
    # a kick or mute, which holds the same lock, is either fully before or after.
    seq = _next_seq(chat)
    member: ChatMember | None
    if chat.kind == Chat.Kind.PRIVATE:
        # The pair is the membership: only its two users may post here.
        in_pair = sender.pk in (chat.user_low_id, chat.user_high_id)
        member = ChatMember(chat=chat, user=sender) if in_pair else None
    else:
        member = ChatMember.objects.filter(chat=chat, user_id=sender.pk).first()
    if member is None:
        if chat.is_group and Chat.objects.filter(pk=chat.pk, dissolved_at__isnull=False).exists():
            raise ApplicationError(CHAT_DISSOLVED, "this group was dissolved")
        raise ApplicationError(NOT_A_MEMBER, "you are not a member of this chat")
    _enforce(sender, chat, member, type_, content)
    return _post(chat, sender_id=sender.pk, type_=type_, sub_type=sub_type, content=content,
                 client_msg_id=client_msg_id, exclude_channel=exclude_channel, seq=seq)


def message_send(
    *, sender: User, type_: int, content: Any, chat_wire_id: int | None = None, to: int | None = None,
    client_msg_id: str | None = None, exclude_channel: str | None = None, spent: bool = False,
) -> tuple[Message, Chat, bool]:
    """Send a client message to a chat (``chat_wire_id``) or to a user (``to``, private chat).

    Returns ``(message, chat, created)``; a repeated ``client_msg_id`` returns the first
    message with ``created`` False and stores nothing. The message is committed before
    this returns and is pushed as ``onMessage`` to every member's devices (the sending
    socket excepted) after commit. Refusals store nothing. ``spent``: the send was counted
    against MESSAGES_PER_MINUTE already (by the socket's batched path).
    """
    content = media_attach(sender_id=sender.pk, type_=type_, content=rules.normalize(type_, content))
    try:
        # Counted on every process and protocol; a resend of a stored message still gets its answer.
        if not spent:
            throttle.spend(f"messages:{sender.pk}", 1, settings.MESSAGES_PER_MINUTE, 60,
                           f"at most {settings.MESSAGES_PER_MINUTE} messages a minute; slow down")
        with transaction.atomic():
            chat = _resolve(sender.pk, chat_wire_id, to)
            msg = _checked_post(sender, chat, type_=type_, content=content, client_msg_id=client_msg_id,
                                exclude_channel=exclude_channel)
    except (IntegrityError, ApplicationError):
        # A resend gets the first answer, whatever changed since: looked up only when the
        # send failed (the unique constraint, or a refusal), so a fresh send pays nothing.
        first = _existing(sender.pk, client_msg_id) if client_msg_id is not None else None
        if first is None:
            raise
        return first[0], first[1], False
    return msg, chat, True


def service_message_send(
    *, sender: User, type_: int, sub_type: int, content: dict[str, Any], chat_wire_id: int | None = None,
    to: int | None = None,
) -> tuple[Message, Chat]:
    """A money message (red packet 2, remittance 5, exchange 11) posted by ``sender`` as part of
    the caller's transaction, with the same membership, blacklist, friends-only and mute checks
    as a client message. Call it last: it takes the chat's row lock until commit."""
    chat = _resolve(sender.pk, chat_wire_id, to)
    return _checked_post(sender, chat, type_=type_, sub_type=sub_type, content=content), chat


def _existing(sender_id: int, client_msg_id: str) -> tuple[Message, Chat] | None:
    msg = Message.objects.select_related("chat").filter(sender_id=sender_id, client_msg_id=client_msg_id).first()
    return (msg, msg.chat) if msg else None


def system_message_post(*, chat: Chat, actor_id: int | None, content: dict[str, Any]) -> Message:
    """A system message (type 10) in ``chat``; call inside the transaction that made the change."""
    return _post(chat, sender_id=actor_id, type_=Message.Type.SYSTEM, content=content)


def service_message_post(
    *, chat: Chat, sender_id: int | None, type_: int, sub_type: int, content: dict[str, Any],
) -> Message:
    """For other apps' services: post a typed message in their transaction without the sender
    checks (a settlement or an expiry notice; ``sender_id`` None for the system)."""
    return _post(chat, sender_id=sender_id, type_=type_, sub_type=sub_type, content=content)


@transaction.atomic
def message_recall(*, user: User, wire_id: int, message_id: int) -> Message:
    """Recall a message for everyone: its sender within MESSAGE_RECALL_SECONDS, or a group admin."""
    chat, member = access_chat(user_id=user.pk, wire_id=wire_id)
    msg = Message.objects.select_for_update().filter(pk=message_id, chat=chat, seq__gt=member.joined_seq).first()
    if msg is None:
        raise ApplicationError(NOT_FOUND, "no such message in this chat")
    sender_id = _refuse_unrecallable(msg)
    if sender_id != user.pk:
        # A group admin may recall the messages of members below them, at any time.
        sender_role = (ChatMember.objects.filter(chat=chat, user_id=sender_id)
                       .values_list("role", flat=True).first()) or ChatMember.Role.MEMBER
        if not (chat.is_group and member.role >= ChatMember.Role.ADMIN and member.role > sender_role):
            raise ApplicationError(codes.NOT_RECALLABLE, "you can only recall your own messages")
    elif timezone.now() - msg.created_at > timedelta(seconds=settings.MESSAGE_RECALL_SECONDS):
        raise ApplicationError(codes.RECALL_TOO_LATE,
                               f"messages can be recalled for {settings.MESSAGE_RECALL_SECONDS} seconds")
    _recall(msg, chat)
    return msg


def _refuse_unrecallable(msg: Message) -> int:
    """The sender of a message that may be recalled, or refuse."""
    if msg.type not in rules.CLIENT_TYPES or msg.sender_id is None:
        # System notices, red packets and remittances are records, not chatter.
        raise ApplicationError(codes.NOT_RECALLABLE, "this kind of message cannot be recalled")
    return msg.sender_id


def _recall(msg: Message, chat: Chat, *, erase: bool = False) -> None:
    """Under the message's row lock: recall it for everyone (``messages.onRecall`` to every member,
    once); ``erase`` also blanks its stored content."""
    fields = []
    if msg.recalled_at is None:
        msg.recalled_at = timezone.now()
        fields.append("recalled_at")
        send_event_on_commit("messages.onRecall", {"chatId": chat.wire_id, "messageId": msg.pk, "seq": msg.seq},
                             _recipients(chat))
    if erase and msg.content != {}:
        msg.content = {}
        fields.append("content")
    if fields:
        msg.save(update_fields=fields)


def _operator_message(message_id: int) -> tuple[Message, Chat]:
    msg = Message.objects.select_for_update().filter(pk=message_id).first()
    if msg is None:
        raise ApplicationError(NOT_FOUND, "no such message")
    _refuse_unrecallable(msg)
    return msg, Chat.objects.get(pk=msg.chat_id)


@transaction.atomic
def message_recall_by_operator(*, operator: User, message_id: int, reason: str = "") -> Message:
    """An operator recalls a message for everyone, whoever sent it and however long ago: as
    ``messages.recall`` otherwise (the same push, once; the same types only). Recorded in the
    admin log, with ``reason`` if given."""
    msg, chat = _operator_message(message_id)
    _recall(msg, chat)
    operator_log(operator=operator, obj=msg, message=f"recalled (chat {chat.wire_id}, seq {msg.seq})",
                 reason=reason)
    return msg


@transaction.atomic
def message_erase_by_operator(*, operator: User, message_id: int, reason: str = "") -> Message:
    """An operator deletes a message: recalled for everyone as by ``message_recall_by_operator``
    (pushed unless it was recalled already), and its stored content blanked, so the text is gone
    for good. The row stays, so the chat's seqs keep no gap. Recorded in the admin log, with ``reason``
    if given."""
    msg, chat = _operator_message(message_id)
    _recall(msg, chat, erase=True)
    operator_log(operator=operator, obj=msg, message=f"deleted: recalled and content erased "
                                                     f"(chat {chat.wire_id}, seq {msg.seq})", reason=reason)
    return msg


@transaction.atomic
def messages_hide(*, user: User, wire_id: int, message_ids: list[int]) -> int:
    """Delete messages for the caller only (and the native API document channel.cleanMessages). Returns how many."""
    chat, member = access_chat(user_id=user.pk, wire_id=wire_id)
    ids = list(Message.objects.filter(chat=chat, pk__in=message_ids, seq__gt=member.joined_seq)
               .values_list("pk", flat=True))
    HiddenMessage.objects.bulk_create([HiddenMessage(user=user, message_id=mid) for mid in ids],
                                      ignore_conflicts=True)
    return len(ids)


@transaction.atomic
def messages_read(*, user: User, wire_id: int, seq: int) -> int:
    """Move the caller's read position forward (never back). Pushes ``messages.onRead``
    to the other member of a private chat and to the caller's other devices."""
    chat, member = access_chat(user_id=user.pk, wire_id=wire_id)
    position = min(seq, chat.last_seq)
    if position <= member.read_seq:
        return member.read_seq
    ChatMember.objects.filter(pk=member.pk, read_seq__lt=position).update(read_seq=position)
    receivers = _recipients(chat) if chat.kind == Chat.Kind.PRIVATE else [user.pk]
    send_event_on_commit("messages.onRead", {"chatId": chat.wire_id, "uId": user.pk, "seq": position}, receivers)
    return position
