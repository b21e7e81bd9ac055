"""Socket methods of chats: the native API document chats.* and channel.cleanMessages, plus our group
lifecycle methods (docs/protocol.md)."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from chats import events, replies, selectors, services
from chats import exceptions as codes
from chats.models import Chat, GroupInvitePrivacy
from core.gateway import registry
from core.gateway.registry import RpcContext
from core.params import page_field

CHAT_ERRORS = {codes.NOT_A_MEMBER: 403, codes.NOT_ALLOWED: 403, codes.ALREADY_MEMBER: 409,
               codes.INVALID_INVITE: 404, codes.CHAT_DISSOLVED: 410}


def method(name: str, params: type[serializers.Serializer] | None = None, *,
           reply: type[serializers.Serializer] | serializers.BaseSerializer) -> Any:
    return registry.method(name, params=params, errors=CHAT_ERRORS, reply=reply)


class ChatIdParams(serializers.Serializer):
    chatId = serializers.IntegerField()


class ChatUserParams(ChatIdParams):
    uId = serializers.IntegerField(min_value=1)


class CreateParams(serializers.Serializer):
    title = serializers.CharField(max_length=128)
    kind = serializers.ChoiceField(choices=["group", "supergroup"], default="group")
    uIds = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list,
                                 max_length=500)
    memo = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class AddMembersParams(ChatIdParams):
    uIds = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=500)


class MuteParams(ChatUserParams):
    seconds = serializers.IntegerField(min_value=0, max_value=services.MUTE_MAX_SECONDS)


class AdminParams(ChatUserParams):
    isAdmin = serializers.BooleanField()


class UpdateParams(ChatIdParams):
    title = serializers.CharField(max_length=128, required=False)
    avatar = serializers.CharField(max_length=512, required=False, allow_blank=True)
    memo = serializers.CharField(max_length=255, required=False, allow_blank=True)


class MembersParams(ChatIdParams):
    page = page_field()
    count = serializers.IntegerField(min_value=1, max_value=500, default=100)


class TokenParams(serializers.Serializer):
    token = serializers.CharField(max_length=64)


class RightsParams(ChatIdParams):
    banWhisper = serializers.BooleanField(required=False)
    banSendWebLink = serializers.BooleanField(required=False)
    banSendQRcode = serializers.BooleanField(required=False)
    banSendKeyword = serializers.BooleanField(required=False)
    banSendDmMention = serializers.BooleanField(required=False)


class KeywordsParams(ChatIdParams):
    keywords = serializers.ListField(child=serializers.CharField(max_length=64, allow_blank=True), max_length=500)


class InvitePrivacyParams(serializers.Serializer):
    who = serializers.ChoiceField(choices=[label for _, label in GroupInvitePrivacy.Who.choices])


class CleanParams(serializers.Serializer):
    channelId = serializers.IntegerField()
    messageIds = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=500)


def _info(ctx: RpcContext, chat: Chat) -> dict[str, Any]:
    chat, member = selectors.access_chat(user_id=ctx.user_id, wire_id=chat.wire_id)
    return events.chat_info(chat, member)


@method("chats.create", CreateParams, reply=replies.ChatCreated)
def create(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    kind = Chat.Kind.SUPERGROUP if p["kind"] == "supergroup" else Chat.Kind.GROUP
    chat = services.group_create(owner=ctx.user, title=p["title"], kind=kind, member_ids=p["uIds"], memo=p["memo"])
    info = _info(ctx, chat)
    members = set(selectors.member_ids(chat.pk))
    info["skipped"] = sorted({uid for uid in p["uIds"] if uid not in members})
    return info


@method("chats.info", ChatIdParams, reply=replies.ChatInfo)
def info(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    chat, member = selectors.access_chat(user_id=ctx.user_id, wire_id=p["chatId"])
    return events.chat_info(chat, member)


@method("chats.members", MembersParams, reply=replies.Members)
def members(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    chat, _ = selectors.access_chat(user_id=ctx.user_id, wire_id=p["chatId"])
    start = (p["page"] - 1) * p["count"]
    rows = selectors.members_of(chat.pk)[start:start + p["count"]]
    return {"chatId": chat.wire_id, "total": chat.member_count, "members": [events.member_info(m) for m in rows]}


@method("chats.addMembers", AddMembersParams, reply=replies.MembersAdded)
def add_members(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    added, skipped = services.chat_members_add(actor=ctx.user, wire_id=p["chatId"], user_ids=p["uIds"])
    return {"added": added, "skipped": skipped}


@method("chats.join", ChatIdParams, reply=replies.ChatInfo)
def join(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return _info(ctx, services.chat_join(user=ctx.user, wire_id=p["chatId"]))


@method("chats.leave", ChatIdParams, reply=registry.NoData)
def leave(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    services.chat_leave(user=ctx.user, wire_id=p["chatId"])
    return {}


@method("chats.kick", ChatUserParams, reply=registry.NoData)
def kick(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    services.chat_kick(actor=ctx.user, wire_id=p["chatId"], user_id=p["uId"])
    return {}


@method("chats.mute", MuteParams, reply=registry.NoData)
def mute(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    services.chat_mute(actor=ctx.user, wire_id=p["chatId"], user_id=p["uId"], seconds=p["seconds"])
    return {}


@method("chats.setAdmin", AdminParams, reply=registry.NoData)
def set_admin(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    services.chat_set_admin(actor=ctx.user, wire_id=p["chatId"], user_id=p["uId"], is_admin=p["isAdmin"])
    return {}


@method("chats.transferOwner", ChatUserParams, reply=registry.NoData)
def transfer_owner(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    services.chat_transfer_owner(actor=ctx.user, wire_id=p["chatId"], user_id=p["uId"])
    return {}


@method("chats.update", UpdateParams, reply=replies.ChatInfo)
def update(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    chat = services.chat_update(actor=ctx.user, wire_id=p["chatId"], title=p.get("title"),
                                avatar=p.get("avatar"), memo=p.get("memo"))
    return _info(ctx, chat)


@method("chats.createInviteLink", ChatIdParams, reply=replies.InviteToken)
def create_invite_link(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"token": services.invite_link_create(actor=ctx.user, wire_id=p["chatId"])}


@method("chats.joinByLink", TokenParams, reply=replies.ChatInfo)
def join_by_link(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return _info(ctx, services.chat_join_by_link(user=ctx.user, token=p["token"]))


@method("chats.disableInviteLink", ChatIdParams, reply=registry.NoData)
def disable_invite_link(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    services.invite_link_disable(actor=ctx.user, wire_id=p["chatId"])
    return {}


@method("chats.unban", ChatUserParams, reply=registry.NoData)
def unban(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    services.chat_unban(actor=ctx.user, wire_id=p["chatId"], user_id=p["uId"])
    return {}


@method("chats.bans", ChatIdParams, reply=replies.Ban(many=True))
def bans(ctx: RpcContext, p: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"uId": ban.user_id, "bannedBy": ban.banned_by_id, "createAt": int(ban.created_at.timestamp())}
            for ban in services.chat_bans(actor=ctx.user, wire_id=p["chatId"])]


@method("chats.invitePrivacy.get", reply=replies.InvitePrivacy)
def invite_privacy_get(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"who": GroupInvitePrivacy.Who(services.invite_privacy_get(user=ctx.user)).label}


@method("chats.invitePrivacy.set", InvitePrivacyParams, reply=replies.InvitePrivacy)
def invite_privacy_set(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    who = {label: value for value, label in GroupInvitePrivacy.Who.choices}[p["who"]]
    services.invite_privacy_set(user=ctx.user, who=who)
    return {"who": p["who"]}


@method("chats.getBannedRightex", ChatIdParams, reply=replies.Rights)
def get_rights(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    chat, _ = selectors.access_chat(user_id=ctx.user_id, wire_id=p["chatId"])
    return events.rights(chat)


@method("chats.modifyBannedRightex", RightsParams, reply=registry.NoData)
def modify_rights(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    rights = {k: v for k, v in p.items() if k != "chatId"}
    services.chat_rights_modify(actor=ctx.user, wire_id=p["chatId"], rights=rights)
    return {}


@method("chats.getFilterKeywords", ChatIdParams, reply=replies.KEYWORDS)
def get_keywords(ctx: RpcContext, p: dict[str, Any]) -> list[str]:
    chat, _ = selectors.access_chat(user_id=ctx.user_id, wire_id=p["chatId"])
    return list(chat.filter_keywords)


@method("chats.setFilterKeywords", KeywordsParams, reply=registry.NoData)
def set_keywords(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    services.chat_keywords_set(actor=ctx.user, wire_id=p["chatId"], keywords=p["keywords"])
    return {}


@method("channel.cleanMessages", CleanParams, reply=registry.NoData)
def clean_messages(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    from messaging.services import messages_hide

    messages_hide(user=ctx.user, wire_id=p["channelId"], message_ids=p["messageIds"])
    return {}
