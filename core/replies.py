"""The shapes of the system.* and web.* methods' replies (``registry.method(reply=...)``),
published and checked by ``core.contract``."""
from __future__ import annotations

from rest_framework import serializers


class SyncTime(serializers.Serializer):
    client_time = serializers.IntegerField(help_text="the client's time, as sent")
    server_time = serializers.IntegerField(help_text="the server's time, milliseconds since the epoch")


class Heartbeat(serializers.Serializer):
    server_time = serializers.IntegerField(help_text="the server's time, milliseconds since the epoch")


class DiscoverMenu(serializers.Serializer):
    title = serializers.CharField()
    icon = serializers.CharField(allow_blank=True, help_text="the icon's URL; empty when none")
    url = serializers.CharField()


class DiscoverGroup(serializers.Serializer):
    title = serializers.CharField()
    menus = DiscoverMenu(many=True)


class CustomMenu(serializers.Serializer):
    """The first active custom menu; ``{}`` when there is none."""

    title = serializers.CharField(required=False)
    url = serializers.CharField(required=False)


class AppConfig(serializers.Serializer):
    permitModifyUserName = serializers.BooleanField(help_text="users may change their name")
    onlyFriendChat = serializers.BooleanField(help_text="private chats only between friends")
    onlyWhiteAddFriend = serializers.BooleanField(help_text="only whitelisted accounts may be added as friends")


class AppVersion(serializers.Serializer):
    versionCode = serializers.IntegerField(help_text="the build number clients compare")
    version = serializers.CharField(help_text="the version shown, e.g. 2.3.1")
    downloadUrl = serializers.CharField()


# web.system.getCSNumbers: the customer-service accounts' uIds.
CS_NUMBERS = serializers.ListField(child=serializers.IntegerField(), help_text="customer-service uIds")
