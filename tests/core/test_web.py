"""web.* (the native API document) content methods over the socket, and the app switches changing behaviour."""
from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from accounts.models import Friendship, User
from core.models import AppVersion, CustomerServiceNumber, CustomMenu, DiscoverGroup, DiscoverMenu, FriendWhitelist
from tests.conftest import Connect, atoken_for, set_app_config, token_for

pytestmark = pytest.mark.django_db(transaction=True)


def content(alice: User, bob: User) -> None:
    life = DiscoverGroup.objects.create(title="Life", sort_id=1)
    DiscoverMenu.objects.create(group=life, title="Weather", icon="https://i.example/w.png", url="https://w.example",
                                sort_id=2)
    DiscoverMenu.objects.create(group=life, title="News", icon="", url="https://n.example", sort_id=1)
    DiscoverMenu.objects.create(group=life, title="Hidden", url="https://h.example", is_active=False)
    DiscoverGroup.objects.create(title="Off", is_active=False)
    CustomerServiceNumber.objects.create(user=bob, sort_id=1)
    CustomerServiceNumber.objects.create(user=alice, sort_id=0)
    CustomMenu.objects.create(title="Help", url="https://help.example")
    AppVersion.objects.create(platform="android", version_code=7, version="1.0.7", download_url="https://d.example/7")
    AppVersion.objects.create(platform="android", version_code=9, version="1.0.9", download_url="https://d.example/9")
    AppVersion.objects.create(platform="android", version_code=12, version="1.2.0", download_url="https://d.example/x",
                              is_active=False)


async def test_content_methods(connect: Connect, alice: User, bob: User) -> None:
    await sync_to_async(content)(alice, bob)
    client = await connect(await atoken_for(alice))
    assert await client.ok("web.discover") == [{"title": "Life", "menus": [
        {"title": "News", "icon": "", "url": "https://n.example"},
        {"title": "Weather", "icon": "https://i.example/w.png", "url": "https://w.example"}]}]
    assert await client.ok("web.system.getCSNumbers") == [alice.pk, bob.pk]
    assert await client.ok("web.system.getCustomMenus") == {"title": "Help", "url": "https://help.example"}
    assert await client.ok("web.system.getAppConfig") == {"permitModifyUserName": True, "onlyFriendChat": False,
                                                          "onlyWhiteAddFriend": False}
    newer = await client.ok("web.app.getVersion", {"platform": "android", "versionCode": 7})
    assert newer == {"versionCode": 9, "version": "1.0.9", "downloadUrl": "https://d.example/9"}
    latest = await client.call("web.app.getVersion", {"platform": "android", "versionCode": 9})
    assert latest["code"] == 201
    assert (await client.call("web.app.getVersion", {"platform": "ios", "versionCode": 1}))["code"] == 201
    assert (await client.call("web.app.getVersion", {"platform": "symbian", "versionCode": 1}))["code"] == 422


async def test_rest_twins(alice: User, bob: User) -> None:
    await sync_to_async(content)(alice, bob)
    client = Client(headers={"Authorization": f"Bearer {await atoken_for(alice)}"})
    reply = await sync_to_async(client.get)("/api/v1/web/app-version?platform=android&versionCode=1")
    assert reply.status_code == 200 and reply.json()["versionCode"] == 9
    assert (await sync_to_async(client.get)("/api/v1/web/app-config")).json()["onlyFriendChat"] is False


async def test_switches_change_behaviour(connect: Connect, alice: User, bob: User, charlie: User) -> None:
    client = await connect(await atoken_for(alice))
    await client.ok("users.updateProfile", {"firstName": "Al"})
    await sync_to_async(set_app_config)(permit_modify_user_name=False, only_white_add_friend=True)
    assert (await client.ok("web.system.getAppConfig"))["permitModifyUserName"] is False
    assert (await client.call("users.updateProfile", {"firstName": "Alicia"}))["code"] == 403
    await client.ok("users.updateProfile", {"firstName": "Al", "avatar": "https://a.example/me.png"})  # no rename
    refreshed = await sync_to_async(Client().post)("/im/refresh", {"session_key": await atoken_for(alice),
                                                                   "name": "Alicia"})
    assert refreshed.json()["status"] == 3

    await User.objects.filter(pk=bob.pk).aupdate(friend_policy=User.FriendPolicy.ANYONE)  # added at once
    assert (await client.call("friends.add", {"uId": bob.pk}))["code"] == 403  # bob is not on the white list
    await FriendWhitelist.objects.acreate(user=bob)
    await client.ok("friends.add", {"uId": bob.pk})
    im_add = await sync_to_async(Client().post)("/im/friend_add", {"session_key": await atoken_for(alice),
                                                                   "user_id": charlie.pk})
    assert im_add.json()["status"] == 5
    assert await Friendship.objects.filter(user=alice).acount() == 1
    await sync_to_async(set_app_config)(permit_modify_user_name=True, only_white_add_friend=False)
    await client.ok("users.updateProfile", {"firstName": "Alicia"})
    await client.ok("friends.add", {"uId": charlie.pk})


def test_admin_switch_applies_at_once(alice: User, bob: User) -> None:
    from core.appconfig import app_config

    assert app_config().only_friend_chat is False
    User.objects.create_superuser("root", password="rootpass1")
    admin = Client()
    assert admin.login(username="root", password="rootpass1")
    page = admin.post("/admin/core/appconfig/1/change/", {"permit_modify_user_name": "on", "only_friend_chat": "on"})
    assert page.status_code == 302
    assert app_config().only_friend_chat is True  # no waiting in the process that saved it
    client = Client()
    sent = client.post("/im/msg_private_publish", {"session_key": token_for(alice), "toUserId": bob.pk,
                                                   "objectName": "RC:TxtMsg", "content": "hi"})
    assert sent.json()["status"] == 3 and "friends" in sent.json()["msg"]
