"""Socket methods of messages (docs/protocol.md): send, sync, history, conversations, read,
recall, delete, typing."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from chats.rpc import CHAT_ERRORS
from chats.selectors import access_chat
from core.exceptions import INVALID, ApplicationError
from core.gateway import registry
from core.gateway.registry import RpcContext
from core.realtime import send_event
from core.renderers import PlainJSONField
from messaging import events, fastsend, replies, selectors, services
from messaging import exceptions as codes
from messaging.models import Message

SEND_ERRORS = {
    **CHAT_ERRORS,
    codes.MUTED: 460, codes.BANNED_WEB_LINK: 461, codes.BANNED_KEYWORD: 462, codes.BANNED_QRCODE: 463,
    codes.BANNED_WHISPER: 464, codes.BANNED_MENTION: 465, codes.NOT_FRIENDS: 470,
}


class SendParams(serializers.Serializer):
    to = serializers.IntegerField(min_value=1, required=False)
    chatId = serializers.IntegerField(required=False)
    type = serializers.ChoiceField(choices=Message.Type.values)
    content = PlainJSONField()
    clientMsgId = serializers.CharField(max_length=64, required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("to" in attrs) == ("chatId" in attrs):
            raise serializers.ValidationError("give exactly one of to (a user id) or chatId")
        return attrs


class SyncParams(serializers.Serializer):
    positions = serializers.DictField(child=serializers.IntegerField(min_value=0), required=False, default=dict)
    limit = serializers.IntegerField(min_value=1, max_value=500, default=200)


class HistoryParams(serializers.Serializer):
    chatId = serializers.IntegerField()
    beforeSeq = serializers.IntegerField(min_value=1, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)


class ReadParams(serializers.Serializer):
    chatId = serializers.IntegerField()
    seq = serializers.IntegerField(min_value=0)


class MessageRefParams(serializers.Serializer):
    chatId = serializers.IntegerField()
    messageId = serializers.IntegerField(min_value=1)


class DeleteParams(serializers.Serializer):
    chatId = serializers.IntegerField()
    messageIds = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=500)


class ChatIdParams(serializers.Serializer):
    chatId = serializers.IntegerField()


@registry.method("messages.send", params=SendParams, errors=SEND_ERRORS, reply=replies.Sent)
def send(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return send_validated(ctx, p)


def send_validated(ctx: RpcContext, p: dict[str, Any], *, spent: bool = False) -> dict[str, Any]:
    msg, chat, _ = services.message_send(
        sender=ctx.user, type_=p["type"], content=p["content"], chat_wire_id=p.get("chatId"), to=p.get("to"),
        client_msg_id=p.get("clientMsgId"), exclude_channel=ctx.channel_name, spent=spent,
    )
    return events.sent(msg, chat)


# On the native socket, sends are stored in batches (MESSAGES_BATCHED); REST and the other
# protocols send one at a time.
registry.fast_path("messages.send", fastsend.send, pipelined=True)


@registry.method("messages.sync", params=SyncParams, errors=CHAT_ERRORS, reply=replies.Synced)
def sync(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    try:
        positions = {int(k): v for k, v in p["positions"].items()}
    except ValueError as exc:
        raise ApplicationError(INVALID, "positions: keys must be chat ids") from exc
    return selectors.messages_sync(user_id=ctx.user_id, positions=positions, limit=p["limit"])


@registry.method("messages.history", params=HistoryParams, errors=CHAT_ERRORS, reply=replies.History)
def history(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return selectors.message_history(user_id=ctx.user_id, wire_id=p["chatId"], before_seq=p.get("beforeSeq"),
                                     limit=p["limit"])


@registry.method("messages.conversations", errors=CHAT_ERRORS, reply=replies.Conversation(many=True))
def conversations(ctx: RpcContext, p: dict[str, Any]) -> list[dict[str, Any]]:
    return selectors.conversations(user_id=ctx.user_id)


@registry.method("messages.read", params=ReadParams, errors=CHAT_ERRORS, reply=replies.ReadPosition)
def read(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"readSeq": services.messages_read(user=ctx.user, wire_id=p["chatId"], seq=p["seq"])}


RECALL_ERRORS = {**CHAT_ERRORS, codes.RECALL_TOO_LATE: 403, codes.NOT_RECALLABLE: 403}


@registry.method("messages.recall", params=MessageRefParams, errors=RECALL_ERRORS, reply=registry.NoData)
def recall(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    services.message_recall(user=ctx.user, wire_id=p["chatId"], message_id=p["messageId"])
    return {}


@registry.method("messages.delete", params=DeleteParams, errors=CHAT_ERRORS, reply=replies.Deleted)
def delete(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"deleted": services.messages_hide(user=ctx.user, wire_id=p["chatId"], message_ids=p["messageIds"])}


@registry.method("messages.typing", params=ChatIdParams, errors=CHAT_ERRORS, reply=registry.NoData)
def typing(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """Ephemeral: nothing is stored; the other members' sockets get messages.onTyping."""
    chat, _ = access_chat(user_id=ctx.user_id, wire_id=p["chatId"])
    from chats.selectors import member_ids

    others = [uid for uid in member_ids(chat.pk) if uid != ctx.user_id]
    send_event("messages.onTyping", {"chatId": chat.wire_id, "uId": ctx.user_id}, others)
    return {}



# The desk's agent methods (desk.*) register from their own module.
from messaging.desk import rpc as _desk_rpc  # noqa: E402, F401
