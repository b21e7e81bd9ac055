"""Payload builders of the chats app's pushes (docs/protocol.md).

* ``chats.rights.onUpdate`` (the native API document) ``{isChannel, chatId, banWhisper, banSendWebLink, banSendQRcode,
  banSendKeyword, banSendDmMention}``
* ``chats.keywords.onUpdate`` (the native API document) ``{isChannel, chatId, keywords}``
* ``chats.onDissolved`` ``{chatId, isChannel}``: an operator dissolved the group

Membership changes are not separate pushes: they are system messages (type 10) in the chat.
"""
from __future__ import annotations

from typing import Any

from chats.models import Chat, ChatMember

KIND_NAMES: dict[int, str] = {
    Chat.Kind.PRIVATE: "private", Chat.Kind.GROUP: "group", Chat.Kind.SUPERGROUP: "supergroup",
}


def rights(chat: Chat) -> dict[str, Any]:
    return {
        "banWhisper": chat.ban_whisper,
        "banSendWebLink": chat.ban_send_web_link,
        "banSendQRcode": chat.ban_send_qrcode,
        "banSendKeyword": chat.ban_send_keyword,
        "banSendDmMention": chat.ban_send_dm_mention,
    }


def rights_updated(chat: Chat) -> dict[str, Any]:
    return {"isChannel": chat.kind == Chat.Kind.SUPERGROUP, "chatId": chat.wire_id, **rights(chat)}


def keywords_updated(chat: Chat) -> dict[str, Any]:
    return {"isChannel": chat.kind == Chat.Kind.SUPERGROUP, "chatId": chat.wire_id,
            "keywords": list(chat.filter_keywords)}


def dissolved(chat: Chat) -> dict[str, Any]:
    return {"chatId": chat.wire_id, "isChannel": chat.kind == Chat.Kind.SUPERGROUP}


def chat_info(chat: Chat, member: ChatMember | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "chatId": chat.wire_id,
        "kind": KIND_NAMES[chat.kind],
        "title": chat.title,
        "avatar": chat.avatar,
        "memo": chat.memo,
        "ownerId": chat.owner_id,
        "memberCount": chat.member_count,
        "lastSeq": chat.last_seq,
        "createAt": int(chat.created_at.timestamp()),
    }
    if chat.kind == Chat.Kind.PRIVATE:
        info["userIds"] = [chat.user_low_id, chat.user_high_id]
    if member is not None:
        info["role"] = ChatMember.Role(member.role).label
        info["readSeq"] = member.read_seq
        info["mutedUntil"] = int(member.muted_until.timestamp()) if member.muted_until else None
    return info


def member_info(member: ChatMember) -> dict[str, Any]:
    return {
        "uId": member.user_id,
        "userName": member.user.username,
        "firstName": member.user.first_name,
        "lastName": member.user.last_name,
        "avatar": member.user.avatar,
        "role": ChatMember.Role(member.role).label,
        "mutedUntil": int(member.muted_until.timestamp()) if member.muted_until else None,
        "joinedAt": int(member.joined_at.timestamp()),
    }
