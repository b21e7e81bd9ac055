"""Native socket methods of the desk, for agents and consultants (docs/jim.md#agents):
``desk.queue`` (who waits), ``desk.conversations`` (their open ones), ``desk.close``."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.gateway import registry
from core.gateway.registry import RpcContext
from messaging import replies
from messaging.desk import selectors, services


class CloseParams(serializers.Serializer):
    conversationId = serializers.IntegerField(min_value=1)


@registry.method("desk.queue", reply=replies.Waiting(many=True))
def queue(ctx: RpcContext, p: dict[str, Any]) -> list[dict[str, Any]]:
    services.require_profile(ctx.user)
    return selectors.queue()


@registry.method("desk.conversations", reply=replies.DeskConversation(many=True))
def conversations(ctx: RpcContext, p: dict[str, Any]) -> list[dict[str, Any]]:
    return selectors.conversations_of(agent=services.require_profile(ctx.user))


@registry.method("desk.close", params=CloseParams, reply=registry.NoData)
def close(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    services.conversation_close(conversation_id=p["conversationId"], actor=ctx.user)
    return {}
