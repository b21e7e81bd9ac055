"""system.synctime (the native API document) and system.relayData, plus system.heartbeat."""
from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from rest_framework import serializers

from core import replies
from core.gateway import registry
from core.gateway.registry import RpcContext
from core.renderers import PlainJSONField


class SyncTimeParams(serializers.Serializer):
    client_time = serializers.IntegerField(min_value=0)


class RelayParams(serializers.Serializer):
    action = serializers.CharField(max_length=64)
    to = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1)
    data = PlainJSONField(required=False, default=dict)  # type: ignore[assignment]  # a field, not .data

    def validate_to(self, value: list[int]) -> list[int]:
        if len(value) > settings.RELAY_MAX_RECIPIENTS:
            raise serializers.ValidationError(f"at most {settings.RELAY_MAX_RECIPIENTS} recipients")
        return list(dict.fromkeys(value))


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@registry.method("system.synctime", params=SyncTimeParams, auth=False, reply=replies.SyncTime)
async def synctime(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"client_time": params["client_time"], "server_time": now_ms()}


@registry.method("system.heartbeat", auth=False, reply=replies.Heartbeat)
async def heartbeat(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"server_time": now_ms()}


@registry.method("system.relayData", params=RelayParams, reply=registry.NoData)
def relay_data(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    from accounts.services import relay_data as relay

    relay(sender=ctx.user, action=params["action"], to=params["to"], data=params["data"],
          exclude_channel=ctx.channel_name)
    return {}


from core import web_rpc  # noqa: E402,F401  (registers the web.* content methods)
