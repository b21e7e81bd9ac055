"""accounts.*, web.account.*, system.sendSmsCode over the socket, and the SMS code service."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings
from django.utils import timezone

from accounts import services
from accounts.models import AuthSession, SmsCode, User
from accounts.selectors import session_authenticate
from accounts.sms import LocmemBackend
from core.exceptions import ApplicationError
from tests.conftest import Connect, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)
WRONG_MD5 = "d4da9a7fb8a0b3c5d1ee6ad1b5b0d2b6"  # not the MD5 of the password


async def test_multi_online_defaults_on_and_toggles(connect: Connect, alice: User) -> None:
    client = await connect(await atoken_for(alice))
    assert await client.ok("accounts.getMultiOnline") == {"isOn": True}
    assert await client.ok("accounts.toggleMultiOnline", {"isOn": False}) == {}
    assert await client.ok("accounts.getMultiOnline") == {"isOn": False}
    assert (await client.call("accounts.toggleMultiOnline", {"isOn": "maybe"}))["code"] == 422


async def test_multi_online_on_keeps_every_device(connect: Connect, alice: User) -> None:
    phone = await connect(await atoken_for(alice, "phone"))
    await connect(await atoken_for(alice, "pc"))
    assert await phone.nothing()
    assert (await phone.call("system.heartbeat"))["code"] == 200


async def test_login_with_multi_online_off_kicks_other_sessions(connect: Connect, alice: User) -> None:
    old_token = await atoken_for(alice, "phone")
    phone = await connect(old_token)
    await phone.ok("accounts.toggleMultiOnline", {"isOn": False})
    new_token = await atoken_for(alice, "pc")
    pc = await connect(new_token)
    assert await phone.push("accounts.onKicked") == {"reason": "login_elsewhere", "device": "pc"}
    assert await phone.closed() == 4002
    # the old token is dead everywhere, the new one works
    assert await sync_to_async(session_authenticate)(old_token) is None
    assert (await pc.call("accounts.getMultiOnline"))["data"] == {"isOn": False}
    again = await connect(old_token)
    assert await again.closed() == 4001


async def test_logout_closes_that_sessions_sockets_only(connect: Connect, alice: User) -> None:
    token = await atoken_for(alice, "phone")
    first, second = await connect(token), await connect(token)
    other_device = await connect(await atoken_for(alice, "pc"))
    assert await first.ok("accounts.logout") == {}
    assert await second.closed() == 4003
    assert await other_device.nothing()
    assert await sync_to_async(session_authenticate)(token) is None


async def test_my_info_reports_has_password(connect: Connect, alice: User) -> None:
    client = await connect(await atoken_for(alice))
    info = await client.ok("web.account.myInfo")
    assert info["hasPassword"] is True and info["uId"] == alice.pk and info["userName"] == "alice"
    await sync_to_async(_drop_password)(alice.pk)
    assert (await client.ok("web.account.myInfo"))["hasPassword"] is False


def _drop_password(user_id: int) -> None:
    user = User.objects.get(pk=user_id)
    user.set_unusable_password()
    user.save()


async def test_set_password_with_md5_values(connect: Connect, alice: User) -> None:
    client = await connect(await atoken_for(alice))
    new_md5 = "e10adc3949ba59abbe56e057f20f883e"  # MD5("123456")
    reply = await client.call("web.account.setPassword", {"old_password": WRONG_MD5, "new_password": new_md5})
    assert reply["code"] == 401
    real_old_md5 = hashlib.md5(b"secret123").hexdigest()
    assert await client.ok("web.account.setPassword", {"old_password": real_old_md5, "new_password": new_md5}) == {}
    stored = (await User.objects.aget(pk=alice.pk)).password
    assert new_md5 not in stored and "123456" not in stored  # hashed, never stored as given
    user, _ = await sync_to_async(services.auth_login)(username="alice", password="123456")  # plain works too
    assert user.pk == alice.pk


async def test_set_password_codes(connect: Connect, alice: User) -> None:
    client = await connect(await atoken_for(alice))
    async def code(old: str, new: str) -> int:
        return int((await client.call("web.account.setPassword", {"old_password": old, "new_password": new}))["code"])

    assert await code("secret123", "") == 400
    assert await code("secret123", "abc") == 400
    assert await code("wrong", "newpass1") == 401
    assert await client.ok("web.account.setPassword", {"old_password": "secret123", "new_password": "newpass1"}) == {}
    with pytest.raises(ApplicationError):
        await sync_to_async(services.auth_login)(username="alice", password="secret123")


async def test_send_sms_code_delivers_a_six_digit_code(connect: Connect, alice: User) -> None:
    client = await connect(await atoken_for(alice))
    assert await client.ok("system.sendSmsCode", {"type": 1}) == {}
    assert len(LocmemBackend.outbox) == 1
    phone, text = LocmemBackend.outbox[0]
    assert phone == alice.phone
    code = re.search(r"\b(\d{6})\b", text).group(1)  # type: ignore[union-attr]
    stored = await SmsCode.objects.aget(user=alice)
    assert code not in stored.code_hash
    await sync_to_async(services.sms_code_verify)(user=alice, purpose=1, code=code)
    with pytest.raises(ApplicationError):  # used once only
        await sync_to_async(services.sms_code_verify)(user=alice, purpose=1, code=code)


async def test_send_sms_code_resend_limit_and_bad_type(connect: Connect, alice: User) -> None:
    client = await connect(await atoken_for(alice))
    await client.ok("system.sendSmsCode", {"type": 1})
    again = await client.call("system.sendSmsCode", {"type": 1})
    assert again["code"] == 429 and "seconds" in again["msg"]
    assert (await client.call("system.sendSmsCode", {"type": 9}))["code"] == 422
    assert len(LocmemBackend.outbox) == 1


@override_settings(SMS_RESEND_SECONDS=0, SMS_DAILY_LIMIT=3)
async def test_send_sms_code_daily_limit(connect: Connect, alice: User) -> None:
    client = await connect(await atoken_for(alice))
    codes = [(await client.call("system.sendSmsCode", {"type": 1}))["code"] for _ in range(4)]
    assert codes == [200, 200, 200, 429]


async def test_send_sms_code_needs_a_phone(connect: Connect, user_factory: type) -> None:
    nophone = await sync_to_async(user_factory)(phone=None)
    client = await connect(await atoken_for(nophone))
    assert (await client.call("system.sendSmsCode", {"type": 1}))["code"] == 400


def test_sms_code_expires_and_locks_after_wrong_attempts(alice: User) -> None:
    services.sms_code_send(user=alice, purpose=1)
    code = re.search(r"\b(\d{6})\b", LocmemBackend.outbox[-1][1]).group(1)  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(ApplicationError, match="wrong verification code"):
            services.sms_code_verify(user=alice, purpose=1, code=wrong)
    with pytest.raises(ApplicationError, match="too many wrong codes"):
        services.sms_code_verify(user=alice, purpose=1, code=code)  # even the right one, now
    SmsCode.objects.all().delete()
    services.sms_code_send(user=alice, purpose=1)
    code = re.search(r"\b(\d{6})\b", LocmemBackend.outbox[-1][1]).group(1)  # type: ignore[union-attr]
    SmsCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ApplicationError, match="no valid code"):
        services.sms_code_verify(user=alice, purpose=1, code=code)


def test_sessions_expire_and_purge(alice: User) -> None:
    session, token = services.session_start(user=alice, device="x")
    assert session_authenticate(token) is not None
    AuthSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() - timedelta(days=8))
    assert session_authenticate(token) is None
    assert services.purge_expired()["sessions"] == 1
    assert not AuthSession.objects.filter(pk=session.pk).exists()


async def test_password_change_logs_out_other_sessions(connect: Connect, alice: User) -> None:
    here = await connect(await atoken_for(alice, "phone"))
    elsewhere_token = await atoken_for(alice, "pc")
    elsewhere = await connect(elsewhere_token)
    await here.ok("web.account.setPassword", {"old_password": "secret123", "new_password": "newpass1"})
    assert await elsewhere.closed() == 4003
    assert await sync_to_async(session_authenticate)(elsewhere_token) is None
    assert (await here.call("web.account.myInfo"))["code"] == 200


async def test_ban_closes_every_socket_and_blocks_login(connect: Connect, alice: User) -> None:
    phone, pc = await connect(await atoken_for(alice, "phone")), await connect(await atoken_for(alice, "pc"))
    await sync_to_async(services.user_deactivate)(user_id=alice.pk)
    assert await phone.closed() == 4003 and await pc.closed() == 4003
    with pytest.raises(ApplicationError):
        await sync_to_async(services.auth_login)(username="alice", password="secret123")


async def test_friend_push_carries_the_current_profile(connect: Connect, alice: User, bob: User) -> None:
    alice_socket, bob_socket = await connect(await atoken_for(alice)), await connect(await atoken_for(bob))
    other_device = await connect(await atoken_for(alice, "pc"))
    await other_device.ok("users.updateProfile", {"firstName": "Renamed"})
    await User.objects.filter(pk=bob.pk).aupdate(friend_policy=User.FriendPolicy.ANYONE)  # added at once
    await alice_socket.ok("friends.add", {"uId": bob.pk})
    assert (await bob_socket.push("friends.onAdded"))["firstName"] == "Renamed"
