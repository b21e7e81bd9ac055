"""Payload builders of the messaging pushes (docs/protocol.md).

* ``onMessage`` ``{messageId, chatId, seq, from, type, subType, content, clientMsgId, createAt}``
* ``messages.onRecall`` ``{chatId, messageId, seq}``
* ``messages.onRead`` ``{chatId, uId, seq}``
* ``messages.onTyping`` ``{chatId, uId}``
"""
from __future__ import annotations

from typing import Any

from chats.models import Chat
from messaging.media import fresh_content
from messaging.models import Message


def message(msg: Message, chat: Chat) -> dict[str, Any]:
    recalled = msg.recalled_at is not None
    return {
        "messageId": msg.pk,
        "chatId": chat.wire_id,
        "seq": msg.seq,
        "from": msg.sender_id,
        "type": msg.type,
        "subType": msg.sub_type,
        "content": {} if recalled else fresh_content(msg.pk, msg.type, msg.content),
        "clientMsgId": msg.client_msg_id,
        "createAt": int(msg.created_at.timestamp()),
        **({"recalled": True} if recalled else {}),
    }


def sent(msg: Message, chat: Chat) -> dict[str, Any]:
    """The reply to messages.send (DESIGN.md)."""
    return {"messageId": msg.pk, "chatId": chat.wire_id, "seq": msg.seq, "createAt": int(msg.created_at.timestamp())}
