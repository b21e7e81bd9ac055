"""The J-IM commands 11, 17 and 19 (the J-IM document). Each parses a frame, calls the messaging and desk
services and selectors, and formats the seed's reply; they run on the gateway's database
threads. Refusals are ``ApplicationError``; the consumer turns them into the command's failure
frame (docs/jim.md#codes)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from accounts.models import User
from chats.models import Chat, ChatMember
from chats.selectors import access_chat, private_chat_between
from core import jsonwire
from core.exceptions import INVALID, NOT_FOUND, PERMISSION_DENIED, ApplicationError
from core.params import OFFSET_MAX
from messaging import services as messaging
from messaging.desk import selectors as desk
from messaging.jim import frames
from messaging.jim.frames import number
from messaging.models import Message

HISTORY_PER_FRIEND = 10  # the J-IM document cmd 17 type 2: "好友消息前10条"
OFFLINE_MAX = 500  # offline messages of one chat per cmd 19 (the default and most of count); the rest stay unread
HISTORY_DEFAULT, HISTORY_MAX = 100, 500
PULL_ALL, PULL_PENDING, PULL_RECENT = 1, 2, 3
OFFLINE_REMOVE, HISTORY, OFFLINE_KEEP = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Caller:
    user: User
    jim_id: str
    channel_name: str | None = None


def caller_for(user: User, channel_name: str | None = None) -> Caller:
    return Caller(user=user, jim_id=desk.jim_ids([user.pk])[user.pk], channel_name=channel_name)


def _text(frame: dict[str, Any], name: str) -> str:
    value = frame.get(name)
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        raise ApplicationError(INVALID, f"{name} must be a string")
    return str(value).strip()


def _peer(jim_id: str, name: str) -> User:
    if not jim_id:
        raise ApplicationError(INVALID, f"{name} is required")
    user = desk.user_by_jim_id(jim_id)
    if user is None:
        raise ApplicationError(NOT_FOUND, f"{name} {jim_id!r}: no such user")
    return user


# --- 11: chat ---------------------------------------------------------------------------------
def chat(caller: Caller, frame: dict[str, Any]) -> dict[str, Any]:
    """Store and deliver one message; answers 12 with code 10000."""
    sender = _text(frame, "from")
    if sender and sender != caller.jim_id:
        raise ApplicationError(PERMISSION_DENIED, "from must be your own user id")
    extras = frame.get("extras")
    if extras is not None and not isinstance(extras, dict):
        raise ApplicationError(INVALID, "extras must be a JSON object")
    type_, content = frames.to_native(number(frame.get("msgType"), "msgType", frames.TEXT), frame.get("content"),
                                      jsonwire.plain(extras) if extras else None)
    client_id = _text(frame, "id")[:64] or None
    chat_type = number(frame.get("chatType"), "chatType", frames.CHAT_PRIVATE)
    if chat_type == frames.CHAT_GROUP:
        group = number(frame.get("groupId"), "groupId")
        messaging.message_send(sender=caller.user, type_=type_, content=content, chat_wire_id=group,
                               client_msg_id=client_id, exclude_channel=caller.channel_name)
    elif chat_type == frames.CHAT_PRIVATE:
        peer = _peer(_text(frame, "to"), "to")
        messaging.message_send(sender=caller.user, type_=type_, content=content, to=peer.pk,
                               client_msg_id=client_id, exclude_channel=caller.channel_name)
    else:
        raise ApplicationError(INVALID, "chatType must be 1 (group) or 2 (private)")
    code, msg = frames.SENT
    return {"code": code, "command": frames.CHAT_REPLY, "msg": msg}


def push(user_id: int, data: dict[str, Any]) -> dict[str, Any] | None:
    """A native ``onMessage`` push as the cmd 11 frame a J-IM socket receives (None: not shown)."""
    msg = Message.objects.select_related("chat").filter(pk=int(data.get("messageId") or 0)).first()
    if msg is None or msg.type == Message.Type.SYSTEM or msg.recalled_at is not None:
        return None
    return frames.body(msg, desk.jim_ids(frames.user_ids_of([msg])))


# --- 17: users and friends ----------------------------------------------------------------------
def _name(user: User, profile: Any) -> str:
    if profile is not None and profile.nick:
        return str(profile.nick)
    return f"{user.first_name} {user.last_name}".strip() or ("" if profile is not None else user.username)


def get_user(caller: Caller, frame: dict[str, Any]) -> dict[str, Any]:
    """type 1: the friends list; type 2: the user with each friend's last 10 messages and unread count."""
    asked = _text(frame, "userId")
    if asked and asked != caller.jim_id:
        raise ApplicationError(PERMISSION_DENIED, "userId must be your own user id")
    kind = number(frame.get("type"), "type", 1)
    if kind not in (1, 2):
        raise ApplicationError(INVALID, "type must be 1 (friends) or 2 (details)")
    me = caller.user.pk
    rows = desk.contacts(user_id=me)
    users = User.objects.in_bulk([c.peer_id for c in rows] + [me])
    profiles = desk.profiles_of(users)
    ids = desk.jim_ids(users)
    if kind == 1:
        data: Any = []
        for c in rows:
            user, profile = users[c.peer_id], profiles.get(c.peer_id)
            entry = {"id": ids[c.peer_id]}
            if nick := _name(user, profile):
                entry["nick"] = nick
            entry["terminal"] = (profile.terminal if profile is not None else "") or "ws"
            data.append(entry)
        return {"code": 200, "command": frames.GET_USER_REPLY, "data": data, "msg": "success "}
    extras: dict[str, Any] = frame["extras"] if isinstance(frame.get("extras"), dict) else {}
    pull = number(extras.get("pullType", frame.get("pullType")), "pullType", PULL_ALL)
    if pull not in (PULL_ALL, PULL_PENDING, PULL_RECENT):
        raise ApplicationError(INVALID, "pullType must be 1 (all), 2 (awaiting reply) or 3 (last two days)")
    search = str(extras.get("searchKey", frame.get("searchKey")) or "").strip().casefold()
    now = datetime.now(tz=UTC)
    chosen = []
    for c in rows:
        if pull == PULL_PENDING and not desk.is_pending(c, me):
            continue
        if pull == PULL_RECENT and not desk.is_recent(c, now):
            continue
        name = _name(users[c.peer_id], profiles.get(c.peer_id))
        if search and search not in name.casefold() and search not in ids[c.peer_id].casefold():
            continue
        chosen.append((c, name))
    recent = desk.last_messages(user_id=me, chat_ids=[c.chat_id for c, _ in chosen], per_chat=HISTORY_PER_FRIEND)
    chats = Chat.objects.in_bulk([c.chat_id for c, _ in chosen])
    friends = []
    for c, name in chosen:
        messages = recent.get(c.chat_id, [])
        for msg in messages:
            msg.chat = chats[c.chat_id]
        profile = profiles.get(c.peer_id)
        friends.append({"avatar": (profile.avatar if profile else "") or users[c.peer_id].avatar,
                        "historyMessage": [frames.body(m, ids) for m in messages], "nickname": name,
                        "unReadNum": c.unread, "userId": ids[c.peer_id]})
    mine = profiles.get(me)
    data = {"avatar": (mine.avatar if mine else "") or caller.user.avatar, "friends": friends,
            "nickname": _name(caller.user, mine), "userId": caller.jim_id}
    return {"code": 200, "command": frames.GET_USER_REPLY, "data": data, "msg": "success "}


# --- 19: offline and history messages -------------------------------------------------------------
def _millis(frame: dict[str, Any], name: str) -> datetime | None:
    if frame.get(name) in (None, ""):
        return None
    value = number(frame.get(name), name)
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ApplicationError(INVALID, f"{name} must be a time in milliseconds") from None


def _bodies(messages: list[Message], chat: Chat) -> list[dict[str, Any]]:
    for msg in messages:
        msg.chat = chat
    ids = desk.jim_ids(frames.user_ids_of(messages))
    return [frames.body(m, ids) for m in messages]


def _friend_of(caller: Caller, user_id: str, from_user_id: str) -> User:
    """The seed names the pair with userId and fromUserId and is loose about which is which:
    the caller must be one of them, the other is the friend (docs/jim.md#cmd-19)."""
    if caller.jim_id not in (user_id, from_user_id) or user_id == from_user_id:
        raise ApplicationError(PERMISSION_DENIED, "userId or fromUserId must be your own id, the other a friend")
    return _peer(from_user_id if user_id == caller.jim_id else user_id, "fromUserId")


@dataclass(frozen=True, slots=True)
class Page:
    offset: int
    count: int


def _page(frame: dict[str, Any], default: int, most: int) -> Page:
    """``offset`` and ``count`` as in SQL's ``limit offset,count`` (the document's words): a
    negative offset is 0, at most ``OFFSET_MAX`` (more is refused); count 1..``most``."""
    offset = max(0, number(frame.get("offset"), "offset", 0))
    if offset > OFFSET_MAX:
        raise ApplicationError(INVALID, f"offset must be at most {OFFSET_MAX}")
    return Page(offset, min(max(1, number(frame.get("count"), "count", default)), most))


def _offline(caller: Caller, chat: Chat, member: ChatMember, remove: bool, page: Page) -> list[dict[str, Any]]:
    messages = desk.unread_messages(user_id=caller.user.pk, chat=chat, read_seq=member.read_seq, limit=page.count,
                                    offset=page.offset)
    if remove and messages and page.offset == 0:
        # "removed once read": the caller's read position moves past what this reply carries.
        # A read position has no gaps, so a page that skipped unread messages (offset > 0) moves
        # nothing: marking it read would mark the skipped ones, never delivered, read too.
        messaging.messages_read(user=caller.user, wire_id=chat.wire_id, seq=messages[-1].seq)
    return _bodies(messages, chat)


def get_message(caller: Caller, frame: dict[str, Any]) -> dict[str, Any]:
    """type 0: offline (unread) messages, then read; type 2: the same, left unread; type 1: history."""
    kind = number(frame.get("type"), "type", OFFLINE_REMOVE)
    if kind not in (OFFLINE_REMOVE, HISTORY, OFFLINE_KEEP):
        raise ApplicationError(INVALID, "type must be 0 (offline), 1 (history) or 2 (offline, kept unread)")
    user_id = _text(frame, "userId") or caller.jim_id
    from_user_id, group = _text(frame, "fromUserId"), _text(frame, "groupId")
    friends: dict[str, list[dict[str, Any]]] = {}
    groups: dict[str, list[dict[str, Any]]] = {}
    me = caller.user.pk
    if not from_user_id and user_id != caller.jim_id:
        raise ApplicationError(PERMISSION_DENIED, "userId must be your own user id")
    if kind == HISTORY:
        begin, end = _millis(frame, "beginTime"), _millis(frame, "endTime")
        window = _page(frame, HISTORY_DEFAULT, HISTORY_MAX)
        if from_user_id:
            friend = _friend_of(caller, user_id, from_user_id)
            pair = private_chat_between(me, friend.pk)
            page = [] if pair is None else desk.history(user_id=me, chat=pair, after_seq=0, begin=begin, end=end,
                                                        offset=window.offset, count=window.count)
            if page:
                friends[desk.jim_ids([friend.pk])[friend.pk]] = _bodies(page, pair)  # type: ignore[arg-type]
        elif group:
            chat, member = access_chat(user_id=me, wire_id=number(group, "groupId"))
            page = desk.history(user_id=me, chat=chat, after_seq=member.joined_seq, begin=begin, end=end,
                                offset=window.offset, count=window.count)
            if page:
                groups[group] = _bodies(page, chat)
        else:
            raise ApplicationError(INVALID, "history needs fromUserId or groupId")
    else:
        remove = kind == OFFLINE_REMOVE
        window = _page(frame, OFFLINE_MAX, OFFLINE_MAX)
        if from_user_id:
            friend = _friend_of(caller, user_id, from_user_id)
            pair = private_chat_between(me, friend.pk)
            mine = ChatMember.objects.filter(chat=pair, user_id=me).first() if pair else None
            if pair is not None and mine is not None and (found := _offline(caller, pair, mine, remove, window)):
                friends[desk.jim_ids([friend.pk])[friend.pk]] = found
        elif group:
            chat, member = access_chat(user_id=me, wire_id=number(group, "groupId"))
            if found := _offline(caller, chat, member, remove, window):
                groups[group] = found
        else:
            members = ChatMember.objects.filter(user_id=me).select_related("chat").order_by("chat_id")
            for member in members:
                chat = member.chat
                if chat.last_seq <= member.read_seq or not (found := _offline(caller, chat, member, remove, window)):
                    continue
                if chat.is_group:
                    groups[str(chat.wire_id)] = found
                else:
                    peer = int(chat.user_high_id if chat.user_low_id == me else chat.user_low_id)  # type: ignore[arg-type]
                    friends[desk.jim_ids([peer])[peer]] = found
    code, msg = frames.GOT_MESSAGES
    data = {"friends": friends, "groups": groups, "userid": caller.jim_id}
    return {"code": code, "command": frames.GET_MESSAGE_REPLY, "data": data, "msg": msg}
