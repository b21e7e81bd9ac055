"""web.* (the native API document) content methods: discover page, customer-service numbers, custom menu, app
config and app versions. Operators edit all of it in the admin (core/models.py)."""
from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from rest_framework import serializers

from core import replies
from core.appconfig import app_config
from core.exceptions import ApplicationError, register_http_statuses
from core.gateway import registry
from core.gateway.registry import RpcContext

LATEST = "app_latest_version"
register_http_statuses({LATEST: 200})


@registry.method("web.discover", reply=replies.DiscoverGroup(many=True))
def discover(ctx: RpcContext, p: dict[str, Any]) -> list[dict[str, Any]]:
    from core.models import DiscoverGroup, DiscoverMenu

    menus = Prefetch("menus", queryset=DiscoverMenu.objects.filter(is_active=True), to_attr="shown")
    groups = DiscoverGroup.objects.filter(is_active=True).prefetch_related(menus)
    return [{"title": g.title, "menus": [{"title": m.title, "icon": m.icon, "url": m.url} for m in g.shown]}
            for g in groups]


@registry.method("web.system.getCSNumbers", reply=replies.CS_NUMBERS)
def cs_numbers(ctx: RpcContext, p: dict[str, Any]) -> list[int]:
    from core.models import CustomerServiceNumber

    return list(CustomerServiceNumber.objects.filter(is_active=True, user__is_active=True)
                .values_list("user_id", flat=True))


@registry.method("web.system.getCustomMenus", reply=replies.CustomMenu)
def custom_menus(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """answers (the native API document) one menu ``{title, url}``: the first active one (``{}`` when none)."""
    from core.models import CustomMenu

    menu = CustomMenu.objects.filter(is_active=True).first()
    return {"title": menu.title, "url": menu.url} if menu else {}


@registry.method("web.system.getAppConfig", reply=replies.AppConfig)
def get_app_config(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    switches = app_config()
    return {"permitModifyUserName": switches.permit_modify_user_name, "onlyFriendChat": switches.only_friend_chat,
            "onlyWhiteAddFriend": switches.only_white_add_friend}


class VersionParams(serializers.Serializer):
    platform = serializers.ChoiceField(choices=["android", "ios"])
    versionCode = serializers.IntegerField(min_value=0)


@registry.method("web.app.getVersion", params=VersionParams, errors={LATEST: 201}, reply=replies.AppVersion)
def get_version(ctx: RpcContext, p: dict[str, Any]) -> dict[str, Any]:
    """The newest offered build for the platform; 201 when the client already has it (or
    nothing newer is offered)."""
    from core.models import AppVersion

    latest = AppVersion.objects.filter(platform=p["platform"], is_active=True).order_by("-version_code").first()
    if latest is None or latest.version_code <= p["versionCode"]:
        raise ApplicationError(LATEST, "已是最新版本: you have the latest version")
    return {"versionCode": latest.version_code, "version": latest.version, "downloadUrl": latest.download_url}
