"""J-IM frames (the J-IM document): command numbers, codes, and the mapping between a J-IM chat body
(``msgType``, ``content``, ``extras``) and our messages (docs/jim.md#messages).

* ``msgType`` 0 with a string ``content`` is a native text message ``{"text": content}``
  (with ``"extras"`` when the J-IM body has them).
* Anything else a J-IM client sends (``msgType`` 1 sandbox link, 2 article link, or an object
  as content) is a native custom message (type 9) ``{"msgType", "content", "extras"}`` that
  keeps the content as the J-IM text, so a J-IM reader gets back exactly what was sent.
* Other native types reach J-IM readers with ``msgType`` 100 + type and the native content as
  JSON text (103 image, 102 red packet...). System notices (10) are not shown to J-IM.
"""
from __future__ import annotations

import re
from typing import Any

from core import jsonwire
from core.exceptions import INVALID, ApplicationError
from messaging.media import fresh_content
from messaging.models import Message

T = Message.Type

CHAT, CHAT_REPLY, HEARTBEAT, GET_USER, GET_USER_REPLY, GET_MESSAGE, GET_MESSAGE_REPLY = 11, 12, 13, 17, 18, 19, 20
REPLY_OF = {CHAT: CHAT_REPLY, HEARTBEAT: HEARTBEAT, GET_USER: GET_USER_REPLY, GET_MESSAGE: GET_MESSAGE_REPLY}
# The desk's assignment push (desk.onAssigned). Not a reply, so not 18 (cmd 17's reply): clients
# that pair replies by "command" would take it for one. J-IM's own commands end at 20; this one
# is outside that table and unused by the document (docs/jim.md#pushes).
ASSIGNED = 101
HEARTBEAT_BYTE = -128  # J-IM's Protocol.HEARTBEAT_BYTE, what the seed's heartbeat reply carries

# J-IM's ImStatus: ``msg`` is its description and text joined by a space, as the seed shows.
SENT = (10000, "ok 发送成功")
SEND_FAILED = (10002, "send failed 消息发送失败:")
GET_USER_FAILED = (10004, "get user failed ! 获取用户信息失败!")
GET_MESSAGE_FAILED = (10015, "get user message failed! 获取用户消息失败!")
UNKNOWN_CMD = (10017, "cmd failed! 未知的cmd命令!")
GOT_MESSAGES = (10018, "get user message ok! 获取历史消息成功!")
FAILED = {CHAT: SEND_FAILED, GET_USER: GET_USER_FAILED, GET_MESSAGE: GET_MESSAGE_FAILED}
# Transport refusals that J-IM has no status for keep the native numbers (docs/jim.md#codes).
FROM_NATIVE = {400: SEND_FAILED[0], 413: SEND_FAILED[0]}

CHAT_GROUP, CHAT_PRIVATE = 1, 2  # J-IM ChatType: 1 public (group), 2 private
TEXT, SANDBOX_LINK, ARTICLE_LINK = 0, 1, 2
CLIENT_MSG_TYPES = (TEXT, SANDBOX_LINK, ARTICLE_LINK)
NATIVE_OFFSET = 100


_NUMBER = re.compile(r"-?[0-9]{1,18}", re.ASCII)


def number(value: Any, name: str, default: int | None = None) -> int:
    """J-IM clients send numbers as numbers or as strings ("cmd": "11", "type": "0")."""
    if value is None or value == "":
        if default is None:
            raise ApplicationError(INVALID, f"{name} is required")
        return default
    if isinstance(value, bool):
        raise ApplicationError(INVALID, f"{name} must be a number")
    text = str(value).strip() if isinstance(value, (int, str)) else ""
    if not _NUMBER.fullmatch(text):  # ASCII digits only, at most 18 (int() takes any script's)
        raise ApplicationError(INVALID, f"{name} must be a whole number of at most 18 digits")
    return int(text)


def to_native(msg_type: int, content: Any, extras: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
    """A J-IM chat body as our ``(type, content)``."""
    if msg_type not in CLIENT_MSG_TYPES:
        raise ApplicationError(INVALID, "msgType must be 0 (text), 1 (sandbox link) or 2 (article link)")
    if content is None or content == "" or content == {}:
        raise ApplicationError(INVALID, "content is required")
    keep = {"extras": extras} if extras else {}
    if msg_type == TEXT and isinstance(content, str):
        return T.TEXT, {"text": content, **keep}
    text = content if isinstance(content, str) else jsonwire.dumps(content)
    return T.CUSTOM, {"msgType": msg_type, "content": text, **keep}


def _from_native(msg: Message) -> tuple[int, str, Any]:
    content = fresh_content(msg.pk, msg.type, msg.content if isinstance(msg.content, dict) else {})
    extras = content.get("extras") if isinstance(content.get("extras"), dict) else None
    if msg.type == T.TEXT and isinstance(content.get("text"), str):
        return TEXT, content["text"], extras
    if (msg.type == T.CUSTOM and isinstance(content.get("msgType"), int) and not isinstance(content["msgType"], bool)
            and isinstance(content.get("content"), str)):
        return content["msgType"], content["content"], extras
    return NATIVE_OFFSET + msg.type, jsonwire.dumps(content), None


def body(msg: Message, ids: dict[int, str]) -> dict[str, Any]:
    """A stored message (with its chat loaded) as J-IM's chat body (cmd 11), keys in the seed's
    (alphabetical) order. ``ids`` holds the J-IM id of the sender and of a private chat's pair."""
    msg_type, content, extras = _from_native(msg)
    chat = msg.chat
    out: dict[str, Any] = {"chatType": CHAT_GROUP if chat.is_group else CHAT_PRIVATE, "cmd": CHAT,
                           "content": content, "createTime": millis(msg)}
    if extras is not None:
        out["extras"] = extras
    out["from"] = ids[msg.sender_id] if msg.sender_id is not None else "system"
    if chat.is_group:
        out["groupId"] = str(chat.wire_id)
    out["id"] = str(msg.pk)
    out["msgType"] = msg_type
    if not chat.is_group and msg.sender_id is not None:
        peer = chat.user_high_id if chat.user_low_id == msg.sender_id else chat.user_low_id
        out["to"] = ids[int(peer)]  # type: ignore[arg-type]
    return out


def user_ids_of(messages: list[Message]) -> set[int]:
    """Whose J-IM ids ``body`` needs for these messages."""
    ids: set[int] = set()
    for msg in messages:
        if msg.sender_id is not None:
            ids.add(msg.sender_id)
        if not msg.chat.is_group:
            ids.update((int(msg.chat.user_low_id), int(msg.chat.user_high_id)))  # type: ignore[arg-type]
    return ids


def millis(msg: Message) -> int:
    return int(msg.created_at.timestamp() * 1000)


def failure(cmd: int, reason: str) -> dict[str, Any]:
    code, text = FAILED.get(cmd, SEND_FAILED)
    return {"code": code, "command": REPLY_OF.get(cmd, 0), "msg": f"{text} {reason}"}
