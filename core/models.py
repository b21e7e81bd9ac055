"""Operator-managed app content and switches (the native API document web.*), edited in the admin.

* ``AppConfig`` — one row: ``permitModifyUserName``, ``onlyFriendChat``, ``onlyWhiteAddFriend``.
* ``FriendWhitelist`` — who may be added as a friend while ``onlyWhiteAddFriend`` is on.
* ``CustomerServiceNumber`` — the accounts ``web.system.getCSNumbers`` lists.
* ``DiscoverGroup`` / ``DiscoverMenu`` — the discover page (``web.discover``).
* ``CustomMenu`` — ``web.system.getCustomMenus``.
* ``AppVersion`` — the latest build per platform (``web.app.getVersion``).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class AppConfig(models.Model):
    permit_modify_user_name = models.BooleanField(default=True, help_text="users may change their names")
    only_friend_chat = models.BooleanField(default=False, help_text="private messages and calls only between friends")
    only_white_add_friend = models.BooleanField(
        default=False, help_text="friends can only be added from the friend white list")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "app config"

    def __str__(self) -> str:
        return "app config"


class FriendWhitelist(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "friend white list"

    def __str__(self) -> str:
        return f"white-listed user {self.user_id}"


class CustomerServiceNumber(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=255, blank=True, default="")
    is_active = models.BooleanField(default=True)
    sort_id = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_id", "pk"]

    def __str__(self) -> str:
        return f"customer service: user {self.user_id}"


class DiscoverGroup(models.Model):
    title = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    sort_id = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_id", "pk"]

    def __str__(self) -> str:
        return self.title


class DiscoverMenu(models.Model):
    group = models.ForeignKey(DiscoverGroup, on_delete=models.CASCADE, related_name="menus")
    title = models.CharField(max_length=64)
    icon = models.CharField(max_length=512, blank=True, default="")
    url = models.URLField(max_length=512)
    is_active = models.BooleanField(default=True)
    sort_id = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_id", "pk"]

    def __str__(self) -> str:
        return self.title


class CustomMenu(models.Model):
    title = models.CharField(max_length=64)
    url = models.URLField(max_length=512)
    is_active = models.BooleanField(default=True)
    sort_id = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_id", "pk"]

    def __str__(self) -> str:
        return self.title


class AppVersion(models.Model):
    class Platform(models.TextChoices):
        ANDROID = "android"
        IOS = "ios"

    platform = models.CharField(max_length=16, choices=Platform.choices)
    version_code = models.PositiveIntegerField(help_text="the build number clients compare")
    version = models.CharField(max_length=32, help_text="the version shown, e.g. 2.3.1")
    download_url = models.URLField(max_length=512)
    notes = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True, help_text="offered to clients")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "version_code"], name="appversion_unique")]
        ordering = ["platform", "-version_code"]

    def __str__(self) -> str:
        return f"{self.platform} {self.version} ({self.version_code})"
