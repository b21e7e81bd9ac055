"""The shapes of the call methods' replies and pushes (``registry.method(reply=...)``):
published in the socket's AsyncAPI document and the REST twins' OpenAPI responses, and held
against every reply and push in the tests (``core.contract``). docs/calls.md describes them."""
from __future__ import annotations

from rest_framework import serializers

from calls.models import Call as CallModel
from core import contract

ENDS = CallModel.End.choices  # "ended", "cancelled", "declined", "missed"
END_HELP = ("ended: everyone left (or the call reached CALL_MAX_SECONDS); cancelled: by its creator; "
            "declined: every invitee declined; missed: nobody answered")


class Token(serializers.Serializer):
    token = serializers.CharField(help_text='an Agora RTC token (AccessToken2, "007...")')
    expireAt = serializers.IntegerField(help_text="when the token stops working")


class Call(serializers.Serializer):
    """A call: the call.create reply and the call.onInvite push."""

    callId = serializers.IntegerField()
    channelName = serializers.CharField(help_text="the Agora channel, named by the server (call-<32 hex>)")
    locals()["from"] = serializers.IntegerField(help_text="the creator")
    to = serializers.ListField(child=serializers.IntegerField(), help_text="the invitees")
    chatId = serializers.IntegerField()
    isMeetingAV = serializers.BooleanField()
    isVideo = serializers.BooleanField()
    createAt = serializers.IntegerField()


class CallInfo(Call):
    isClose = serializers.BooleanField()
    closeAt = serializers.IntegerField(allow_null=True, help_text="null while the call is open")


class Cancelled(serializers.Serializer):
    callId = serializers.IntegerField()
    channelName = serializers.CharField()
    chatId = serializers.IntegerField()
    createAt = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=ENDS, help_text=END_HELP)


class Left(serializers.Serializer):
    locals()["from"] = serializers.IntegerField(help_text="the creator")
    to = serializers.ListField(child=serializers.IntegerField(), help_text="the invitees")
    callId = serializers.IntegerField()
    channelName = serializers.CharField()
    chatId = serializers.IntegerField()
    createAt = serializers.IntegerField()
    uId = serializers.IntegerField(help_text="who left")


class CallRecord(serializers.Serializer):
    """A call as one participant saw it (call.queryOffline, call.queryRecord)."""

    callId = serializers.IntegerField()
    channelName = serializers.CharField()
    chatId = serializers.IntegerField()
    locals()["from"] = serializers.IntegerField(help_text="the creator")
    to = serializers.ListField(child=serializers.IntegerField(), help_text="the invitees")
    createAt = serializers.IntegerField()
    closeAt = serializers.IntegerField(allow_null=True, help_text="null while the call is open")
    isMeetingAV = serializers.BooleanField()
    isVideo = serializers.BooleanField()
    enterAt = serializers.IntegerField(allow_null=True, help_text="the user's first join; null: never joined")
    leaveAt = serializers.IntegerField(allow_null=True, help_text="the user's last leave; null: never left")
    missed = serializers.BooleanField(help_text="the user never answered")
    end = serializers.ChoiceField(choices=ENDS, allow_null=True, help_text=END_HELP + "; null while the call is open")


class Offline(serializers.Serializer):
    count = serializers.IntegerField()
    records = CallRecord(many=True, help_text="missed calls no earlier call.queryOffline returned")


contract.event("call.onInvite", Call, "The user is invited to a call (rings); to each invitee.")
contract.event("call.onLeave", Left, "Someone left or declined the call; to the others in it.")
contract.event("call.onCancel", Cancelled,
               "The call is over for this user's ringing (or, at CALL_MAX_SECONDS, in-call) screen.")
