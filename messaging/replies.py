"""The shapes of the messages and desk methods' replies and pushes (``registry.method(reply=...)``):
published in the socket's AsyncAPI document and the REST twins' OpenAPI responses, and held
against every reply and push in the tests (``core.contract``). docs/messaging.md (messages) and
docs/jim.md#agents (the desk) describe them."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chats.replies import ChatInfo
from core import contract
from messaging.desk.models import DeskProfile
from messaging.models import Message as MessageModel

_ANY = {"description": "any JSON value"}

# A message's content: an object whose keys depend on the message's type (docs/messaging.md,
# "Types and content"). Other keys are kept as the client sent them, so it stays open; only
# ``mentions`` is checked for every type a client sends.
CONTENT_SCHEMA = {
    "type": "object",
    "description": (
        "Depends on `type` (docs/messaging.md, Types and content); other keys are kept as sent. "
        "1 text: {text}. 3 image, 4 voice, 6 video, 7 file: {mediaId, kind, url, name, contentType, size, "
        "width, height, duration} for an upload (url: a signed link made afresh for each read), or {url}. "
        "8 location: {lat, lng}. 9 custom: any object. 10 system: {op, ...} (create, join, leave, kick, mute, "
        "admin, unadmin, owner, edit, dissolve). 2 red packet (subType 100 sent: {redPacketId, from, title, type}; "
        "200 grabbed, a push only: {redPacketId, from, type, price, isLast}). 5 remittance: {remittanceId, "
        "payer, payee, amount, ...}. 11 coin exchange offer: {exchangeId, fromAmount, toAmount, status, ...}. "
        "12 call record: {callId, from, isVideo, isMeetingAV, end, duration, createAt, closeAt}. "
        "Amounts are JSON numbers with their stored digits. A recalled message's content is {}."
    ),
    "properties": {
        "text": {**_ANY, "description": "type 1: the text (a non-blank string)"},
        "mediaId": {**_ANY, "description": "types 3, 4, 6, 7: the upload (an integer)"},
        "url": {**_ANY, "description": "types 3, 4, 6, 7: the download link (a string)"},
        "lat": {**_ANY, "description": "type 8: latitude, -90..90"},
        "lng": {**_ANY, "description": "type 8: longitude, -180..180"},
        "op": {**_ANY, "description": "type 10: what changed in the group"},
        "mentions": {"type": "array", "items": {"type": "integer"}, "description": "any client type: mentioned users"},
    },
    "additionalProperties": True,
}


@extend_schema_field(CONTENT_SCHEMA)
class ContentField(serializers.DictField):
    """A message's ``content`` (``CONTENT_SCHEMA``)."""


class Message(serializers.Serializer):
    """The message object: messages.sync, messages.history, messages.conversations' lastMessage,
    and the ``onMessage`` push (``MessagePush``)."""

    messageId = serializers.IntegerField(help_text="an identifier only: order messages by seq")
    chatId = serializers.IntegerField()
    seq = serializers.IntegerField(help_text="the message's place in its chat: 1, 2, 3... with no gap")
    locals()["from"] = serializers.IntegerField(
        allow_null=True, help_text="the sender (for a system message, the user who made the change); null for a "
                                   "notice the server posts by itself (an expiry), a change an operator made "
                                   "from the console, or when the account is gone")
    type = serializers.ChoiceField(choices=MessageModel.Type.choices, help_text="what content holds")
    subType = serializers.IntegerField(help_text="0 for messages clients send; set by the services that post types "
                                                 "2, 5 and 11")
    content = ContentField()
    clientMsgId = serializers.CharField(allow_null=True, help_text="the sender's idempotency key, if given")
    createAt = serializers.IntegerField()
    recalled = serializers.BooleanField(required=False, help_text="present (true) once the message is recalled")


class MessagePush(Message):
    """``onMessage``: a message, or a red packet's grab notice (type 2, subType 200), which is not
    stored: its ``messageId`` and ``seq`` are null."""

    messageId = serializers.IntegerField(allow_null=True, help_text="null for a grab notice (type 2, subType 200)")
    seq = serializers.IntegerField(allow_null=True, help_text="null for a grab notice (type 2, subType 200)")


class Sent(serializers.Serializer):
    """The reply to messages.send (also to a resend of a used ``clientMsgId``: the first message's)."""

    messageId = serializers.IntegerField()
    chatId = serializers.IntegerField(help_text="the chat it went to (the private chat's, for a send by `to`)")
    seq = serializers.IntegerField()
    createAt = serializers.IntegerField()


class SyncedChat(serializers.Serializer):
    chatId = serializers.IntegerField()
    lastSeq = serializers.IntegerField()
    readSeq = serializers.IntegerField(help_text="the caller's read position")
    messages = Message(many=True, help_text="in seq order")


class Synced(serializers.Serializer):
    chats = SyncedChat(many=True, help_text="the chats with newer messages than the positions given")
    hasMore = serializers.BooleanField(help_text="call again with the new positions")


class History(serializers.Serializer):
    chatId = serializers.IntegerField()
    messages = Message(many=True, help_text="ascending seq")
    hasMore = serializers.BooleanField(help_text="older messages remain")


class Conversation(ChatInfo):
    unread = serializers.IntegerField(help_text="others' messages above readSeq, not recalled, not system "
                                                "messages, not deleted by the caller")
    lastMessage = Message(allow_null=True, help_text="the newest message the caller can see; null: none")
    peerReadSeq = serializers.IntegerField(required=False, help_text="private chats only: the other user's read "
                                                                     "position (read receipts)")


class ReadPosition(serializers.Serializer):
    readSeq = serializers.IntegerField(help_text="the caller's read position now")


class Deleted(serializers.Serializer):
    deleted = serializers.IntegerField(help_text="how many of the ids are messages of this chat the caller could see")


class Recalled(serializers.Serializer):
    chatId = serializers.IntegerField()
    messageId = serializers.IntegerField()
    seq = serializers.IntegerField()


class Read(serializers.Serializer):
    chatId = serializers.IntegerField()
    uId = serializers.IntegerField(help_text="the reader")
    seq = serializers.IntegerField(help_text="the reader's read position now")


class Typing(serializers.Serializer):
    chatId = serializers.IntegerField()
    uId = serializers.IntegerField(help_text="who is typing")


contract.event("onMessage", MessagePush,
               "A new message in one of the user's chats (or a red packet's grab notice); to every member's sockets "
               "but the one that sent it.")
contract.event("messages.onRecall", Recalled, "A message was recalled; to every member.")
contract.event("messages.onRead", Read,
               "A read position moved; to the reader's sockets and, in a private chat, the other user's.")
contract.event("messages.onTyping", Typing, "A member is typing; to the other members' sockets (not stored).")


# --- the desk (docs/jim.md#agents) --------------------------------------------------------------
class DeskPerson(serializers.Serializer):
    """A desk profile: a visitor, an agent or a property consultant."""

    id = serializers.CharField(help_text="the J-IM user id")
    uId = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=DeskProfile.Kind.choices)
    nick = serializers.CharField(allow_blank=True)
    avatar = serializers.CharField(allow_blank=True)
    terminal = serializers.CharField(allow_blank=True)


class Waiting(DeskPerson):
    """A visitor in the queue."""

    position = serializers.IntegerField(help_text="1 for the first in line")
    since = serializers.IntegerField(help_text="when they joined the queue, in milliseconds")


class DeskConversation(serializers.Serializer):
    conversationId = serializers.IntegerField()
    chatId = serializers.IntegerField(help_text="the private chat between visitor and agent")
    visitor = DeskPerson()
    since = serializers.IntegerField(help_text="when it was assigned, in milliseconds")


class Assigned(serializers.Serializer):
    conversationId = serializers.IntegerField()
    chatId = serializers.IntegerField(help_text="the private chat between visitor and agent")
    visitor = DeskPerson()
    agent = DeskPerson()


CLOSE_REASONS = ["closed", "operator", "agent_offline", "moved", "idle"]


class Closed(serializers.Serializer):
    conversationId = serializers.IntegerField()
    reason = serializers.ChoiceField(
        choices=CLOSE_REASONS,
        help_text="closed: desk.close by its agent; operator: the admin; agent_offline: the agent went offline; "
                  "moved: the visitor chose someone else; idle: no message for DESK_IDLE_CLOSE_SECONDS")


contract.event("desk.onAssigned", Assigned, "A visitor was assigned an agent; to both.")
contract.event("desk.onClosed", Closed, "A desk conversation closed; to its visitor and agent.")
