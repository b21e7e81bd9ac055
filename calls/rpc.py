"""Socket methods of the native API document ``call.*`` (docs/calls.md)."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from calls import exceptions as codes
from calls import replies, services
from chats import exceptions as chat_codes
from core.exceptions import PERMISSION_DENIED, ApplicationError
from core.gateway import registry
from core.gateway.registry import RpcContext
from core.params import page_field
from messaging import exceptions as message_codes

CHANNEL_NAME = r"^[A-Za-z0-9 !#$%&()+\-:;<=.>?@\[\]^_{|}~,]*$"  # Agora's allowed characters


class TokenParams(serializers.Serializer):
    channelName = serializers.RegexField(CHANNEL_NAME, max_length=64)
    uid = serializers.IntegerField(min_value=0, max_value=2**32 - 1)


class CreateParams(serializers.Serializer):
    # Seed 002 lets the client name the channel; the server names it instead (a client-chosen
    # name could be squatted). A name sent is still checked, then ignored.
    channelName = serializers.RegexField(CHANNEL_NAME, max_length=64, required=False, allow_blank=True, default="")
    to = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=1000)
    chatId = serializers.IntegerField()
    isMeetingAV = serializers.BooleanField(default=False)
    isVideo = serializers.BooleanField(default=False)


class CallParams(serializers.Serializer):
    callId = serializers.IntegerField(min_value=1)


class RecordParams(serializers.Serializer):
    type = serializers.ChoiceField(choices=[0, 1, 2, 3], default=0)
    count = serializers.IntegerField(min_value=1, max_value=100, default=20)
    page = page_field()


@registry.method("call.token.create", params=TokenParams, errors={codes.NOT_CONFIGURED: 503, codes.CLOSED: 410},
                 reply=replies.Token)
def token_create(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """An Agora RTC token (AccessToken2, "007...") for the caller's own uid, on the channel of an
    open call they are in or ringing for (403 otherwise), valid no longer than the call needs
    (``services.token_deadline``)."""
    from django.utils import timezone

    from calls.agora import build_rtc_token

    if not settings.AGORA_APP_ID or not settings.AGORA_APP_CERTIFICATE:
        raise ApplicationError(codes.NOT_CONFIGURED,
                               "calls are not configured: set AGORA_APP_ID and AGORA_APP_CERTIFICATE")
    if p["uid"] != ctx.user_id:
        raise ApplicationError(PERMISSION_DENIED, "a token is only issued for your own user id")
    now = timezone.now()
    deadline = services.token_deadline(user=ctx.user, channel_name=p["channelName"], now=now)
    issued_at = int(now.timestamp())
    expire = max(1, min(settings.AGORA_TOKEN_EXPIRE_SECONDS, int(deadline.timestamp()) - issued_at))
    token = build_rtc_token(app_id=settings.AGORA_APP_ID, app_certificate=settings.AGORA_APP_CERTIFICATE,
                            channel_name=p["channelName"], uid=p["uid"], role=1, token_expire=expire,
                            privilege_expire=expire, issued_at=issued_at)
    return {"token": token, "expireAt": issued_at + expire}


@registry.method("call.create", params=CreateParams,
                 errors={chat_codes.NOT_A_MEMBER: 403, codes.CHANNEL_BUSY: 409, message_codes.NOT_FRIENDS: 470},
                 limit=registry.Limit("CALL_CREATE_PER_MINUTE", 60), reply=replies.Call)
def create(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    from calls import events

    call = services.call_create(user=ctx.user, to=p["to"], chat_wire_id=p["chatId"],
                                is_meeting=p["isMeetingAV"], is_video=p["isVideo"])
    return events.call(call, call.invitee_ids)  # type: ignore[attr-defined]


@registry.method("call.getInfo", params=CallParams, reply=replies.CallInfo)
def get_info(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return services.call_info(user=ctx.user, call_id=p["callId"])


@registry.method("call.cancel", params=CallParams, errors={codes.CLOSED: 410}, reply=registry.NoData)
def cancel(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    services.call_cancel(user=ctx.user, call_id=p["callId"])
    return {}


@registry.method("call.start", params=CallParams, errors={codes.CLOSED: 410}, reply=registry.NoData)
def start(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    services.call_start(user=ctx.user, call_id=p["callId"])
    return {}


@registry.method("call.stop", params=CallParams, reply=registry.NoData)
def stop(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    services.call_stop(user=ctx.user, call_id=p["callId"])
    return {}


@registry.method("call.queryOffline", reply=replies.Offline)
def query_offline(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    records = services.calls_missed_offline(user=ctx.user)
    return {"count": len(records), "records": records}


@registry.method("call.queryRecord", params=RecordParams, reply=replies.CallRecord(many=True))
def query_record(ctx: RpcContext, p: dict[str, Any]) -> list[dict[str, Any]]:
    return services.call_records(user=ctx.user, kind=p["type"], page=p["page"], count=p["count"])
