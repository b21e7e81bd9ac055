"""Socket methods of the native API document users.*, accounts.*, web.account.*, system.sendSmsCode, plus our
friends.* and users.blacklist.* (docs/protocol.md); moment.* live in moment_rpc.py (docs/moments.md)."""
from __future__ import annotations

from typing import Any

from django.conf import settings

import accounts.moment_rpc  # noqa: F401  (registers moment.*)
from accounts import exceptions as codes
from accounts import replies, selectors, serializers, services
from accounts.events import friend_request, user_brief
from core import throttle
from core.exceptions import NOT_FOUND, ApplicationError
from core.gateway import registry
from core.gateway.registry import RpcContext

method = registry.method


@method("users.info", params=serializers.UserIdsParams, reply=replies.UserBrief(many=True))
def users_info(ctx: RpcContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [user_brief(u) for u in selectors.users_by_ids(params["uIds"])]


@method("users.searchByPhone", params=serializers.PhoneParams, reply=replies.UserId)
def users_search_by_phone(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    throttle.check(f"phone-search:{ctx.user_id}", settings.PHONE_SEARCH_PER_HOUR, 3600,
                   "too many phone searches; try again later")
    phone = services.normalize_phone(params["phone"])
    target = selectors.User.objects.filter(phone=phone, is_active=True).first()
    # One answer for "no such phone", "hidden" and "blocked you": nothing to enumerate.
    if target is None or not target.phone_searchable or selectors.has_blocked(target.pk, ctx.user_id):
        raise ApplicationError(NOT_FOUND, "no user can be found by that phone number")
    return {"uId": target.pk}


@method("users.queryPrivacySettings", params=serializers.UserIdsParams, reply=replies.PrivacyFlag(many=True))
def users_query_privacy(ctx: RpcContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    ids = [u.pk for u in selectors.users_by_ids(params["uIds"])]
    blockers = selectors.blockers_among(ids, ctx.user_id)
    return [{"uId": uid, "isBlacklist": uid in blockers} for uid in ids]


@method("users.updateProfile", params=serializers.ProfileParams, errors={codes.NAME_LOCKED: 403},
        reply=replies.UserBrief)
def users_update_profile(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    user = services.user_update_profile(
        user=ctx.user, first_name=params.get("firstName"), last_name=params.get("lastName"),
        avatar=params.get("avatar"),
    )
    return user_brief(user)


@method("users.setPrivacy", params=serializers.PrivacyParams, reply=registry.NoData)
def users_set_privacy(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    policy = params.get("friendAdd")
    services.user_set_privacy(user=ctx.user, phone_searchable=params.get("phoneSearchable"),
                              friend_policy=None if policy is None else serializers.FRIEND_POLICIES[policy])
    return {}


_PEER_ERRORS = {codes.SELF_NOT_ALLOWED: 400, codes.ALREADY_FRIENDS: 409, codes.FRIEND_REFUSED: 403,
                codes.NOT_WHITELISTED: 403, codes.NOT_ADDABLE: 403}


@method("users.blacklist.add", params=serializers.UserIdParams, errors=_PEER_ERRORS, reply=registry.NoData)
def blacklist_add(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    services.blacklist_add(user=ctx.user, target_id=params["uId"])
    return {}


@method("users.blacklist.remove", params=serializers.UserIdParams, errors=_PEER_ERRORS, reply=registry.NoData)
def blacklist_remove(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    services.blacklist_remove(user=ctx.user, target_id=params["uId"])
    return {}


@method("users.blacklist.list", reply=replies.UserBrief(many=True))
def blacklist_list(ctx: RpcContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [user_brief(u) for u in selectors.blacklist_of(ctx.user_id)]


@method("friends.add", params=serializers.FriendAddParams, errors=_PEER_ERRORS, reply=replies.FriendAdded)
def friends_add(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    added = services.friend_add(user=ctx.user, friend_id=params["uId"], message=params["message"])
    return {**user_brief(added.friend), "pending": added.pending}


@method("friends.requests", params=serializers.FriendRequestsParams, reply=replies.FriendRequest(many=True))
def friends_requests(ctx: RpcContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows = selectors.friend_requests(ctx.user_id, incoming=params["direction"] == "incoming")
    return [friend_request(request, other) for request, other in rows]


@method("friends.accept", params=serializers.UserIdParams, errors=_PEER_ERRORS, reply=replies.UserBrief)
def friends_accept(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    return user_brief(services.friend_request_accept(user=ctx.user, from_id=params["uId"]))


@method("friends.reject", params=serializers.UserIdParams, errors=_PEER_ERRORS, reply=registry.NoData)
def friends_reject(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    services.friend_request_reject(user=ctx.user, from_id=params["uId"])
    return {}


@method("friends.cancel", params=serializers.UserIdParams, errors=_PEER_ERRORS, reply=registry.NoData)
def friends_cancel(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    services.friend_request_cancel(user=ctx.user, to_id=params["uId"])
    return {}


@method("friends.remove", params=serializers.UserIdParams, errors=_PEER_ERRORS, reply=registry.NoData)
def friends_remove(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    services.friend_remove(user=ctx.user, friend_id=params["uId"])
    return {}


@method("friends.list", reply=replies.UserBrief(many=True))
def friends_list(ctx: RpcContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [user_brief(u) for u in selectors.friends_of(ctx.user_id)]


@method("accounts.toggleMultiOnline", params=serializers.MultiOnlineParams, reply=registry.NoData)
def toggle_multi_online(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    services.user_set_multi_online(user=ctx.user, is_on=params["isOn"])
    return {}


@method("accounts.getMultiOnline", reply=replies.MultiOnline)
def get_multi_online(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"isOn": selectors.User.objects.values_list("multi_online", flat=True).get(pk=ctx.user_id)}


@method("accounts.logout", reply=registry.NoData)
def logout(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    if ctx.session_id is not None:
        services.session_end(user=ctx.user, session_id=ctx.session_id)
    return {}


@method("web.account.myInfo", reply=replies.MyInfo)
def my_info(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    from accounts.privacy import contact_details

    user = selectors.User.objects.get(pk=ctx.user_id)
    return {
        "hasPassword": user.has_usable_password(),
        **user_brief(user),
        "phone": contact_details(user, reader_id=ctx.user_id)["phone"],
        "multiOnline": user.multi_online,
        "phoneSearchable": user.phone_searchable,
        "friendAdd": serializers.FRIEND_POLICY_NAMES[user.friend_policy],
    }


@method(
    "web.account.setPassword", params=serializers.SetPasswordParams,
    errors={codes.INVALID_PASSWORD: 400, codes.WRONG_PASSWORD: 401}, reply=registry.NoData,
)
def set_password(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    services.user_change_password(
        user=ctx.user, old_password=params["old_password"], new_password=params["new_password"],
        keep_session_id=ctx.session_id,
    )
    return {}


@method("system.sendSmsCode", params=serializers.SmsCodeParams, errors={codes.NO_PHONE: 400},
        reply=registry.NoData)
def send_sms_code(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    services.sms_code_send(user=ctx.user, purpose=params["type"])
    return {}


@method("presence.query", params=serializers.UserIdsParams, reply=replies.Presence(many=True))
def presence_query(ctx: RpcContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    from accounts.presence import presence_of

    return presence_of(viewer_id=ctx.user_id, user_ids=params["uIds"])
