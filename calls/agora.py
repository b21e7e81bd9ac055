"""Agora RTC tokens in Agora's AccessToken2 format ("007"), see docs/calls.md.

A token is the version ``"007"`` followed by base64(zlib(signature + content)), where every
integer is little-endian and every string or byte string is a uint16 length and its bytes:

    content   = app_id, issue_ts u32, expire u32, salt u32, services (u16 count, then each)
    service   = type u16, privileges (u16 count of: privilege u16 -> expire u32), own fields
    RTC (1)   = channel_name, uid (the decimal uid, an account as is, "" for uid 0)
    signature = the 32-byte HMAC-SHA256 of the content under the signing key
    key       = HMAC-SHA256(key=salt u32, msg=HMAC-SHA256(key=issue_ts u32, msg=app_certificate))

``expire`` and each privilege's expiry are seconds counted from ``issue_ts``; Agora validates
them against the time the token was issued.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import struct
import time
import zlib

VERSION = "007"

SERVICE_RTC = 1

PRIVILEGE_JOIN_CHANNEL = 1
PRIVILEGE_PUBLISH_AUDIO_STREAM = 2
PRIVILEGE_PUBLISH_VIDEO_STREAM = 3
PRIVILEGE_PUBLISH_DATA_STREAM = 4

ROLE_PUBLISHER = 1
ROLE_SUBSCRIBER = 2

ROLE_PRIVILEGES: dict[int, tuple[int, ...]] = {
    ROLE_PUBLISHER: (
        PRIVILEGE_JOIN_CHANNEL,
        PRIVILEGE_PUBLISH_AUDIO_STREAM,
        PRIVILEGE_PUBLISH_VIDEO_STREAM,
        PRIVILEGE_PUBLISH_DATA_STREAM,
    ),
    ROLE_SUBSCRIBER: (PRIVILEGE_JOIN_CHANNEL,),
}

UINT32_MAX = 0xFFFFFFFF
CHANNEL_NAME_MAX_BYTES = 64
USER_ACCOUNT_MAX_BYTES = 255
# Salts drawn when none is given lie in the range Agora's own builders use.
SALT_MIN, SALT_MAX = 1, 99_999_999

_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
# The 89 characters Agora allows in channel names and user accounts: letters, digits, space
# and ! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ ,
_AGORA_NAME = re.compile(r"[A-Za-z0-9 !#$%&()+\-:;<=.>?@\[\]^_{}|~,]+")
_AGORA_NAME_CHARS = "letters, digits, space and ! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ ,"


def build_rtc_token(
    *,
    app_id: str,
    app_certificate: str,
    channel_name: str,
    uid: int | str,
    role: int,
    token_expire: int,
    privilege_expire: int,
    issued_at: int | None = None,
    salt: int | None = None,
) -> str:
    """An RTC token for ``uid`` (an int uid, 0 for any uid; or a string user account) in
    ``channel_name``.

    ``role`` 1 (publisher) may join and publish audio, video and data streams; 2 (subscriber)
    may only join. ``token_expire`` is how many seconds from ``issued_at`` the whole token is
    valid; ``privilege_expire`` the same for each privilege (a privilege never outlives the
    token). ``issued_at`` (Unix seconds) defaults to now and ``salt`` to a random one; fix both
    only to reproduce a token. Raises ``ValueError`` on any input Agora would refuse.
    """
    _check_hex32("app_id", app_id)
    _check_hex32("app_certificate", app_certificate)
    _check_channel_name(channel_name)
    uid_field = _uid_field(uid)
    if isinstance(role, bool) or not isinstance(role, int) or role not in ROLE_PRIVILEGES:
        raise ValueError(f"role must be {ROLE_PUBLISHER} (publisher) or {ROLE_SUBSCRIBER} (subscriber), not {role!r}")
    _check_uint32("token_expire", token_expire)
    _check_uint32("privilege_expire", privilege_expire)
    if issued_at is None:
        issued_at = int(time.time())
    _check_uint32("issued_at", issued_at)
    if salt is None:
        salt = SALT_MIN + secrets.randbelow(SALT_MAX - SALT_MIN + 1)
    _check_uint32("salt", salt)

    privileges = ROLE_PRIVILEGES[role]
    rtc_service = (
        _u16(SERVICE_RTC)
        + _u16(len(privileges))
        + b"".join(_u16(privilege) + _u32(privilege_expire) for privilege in sorted(privileges))
        + _string(channel_name.encode())
        + _string(uid_field)
    )
    content = (
        _string(app_id.encode())
        + _u32(issued_at)
        + _u32(token_expire)
        + _u32(salt)
        + _u16(1)  # one service
        + rtc_service
    )
    signature = hmac.new(_signing_key(app_certificate, issued_at, salt), content, hashlib.sha256).digest()
    return VERSION + base64.b64encode(zlib.compress(_string(signature) + content)).decode("ascii")


def build_rtc_token_with_account(
    *,
    app_id: str,
    app_certificate: str,
    channel_name: str,
    account: str,
    role: int,
    token_expire: int,
    privilege_expire: int,
    issued_at: int | None = None,
    salt: int | None = None,
) -> str:
    """An RTC token for a string user account; see :func:`build_rtc_token`."""
    if not isinstance(account, str):
        raise ValueError(f"account must be a string user account, not {type(account).__name__}")
    return build_rtc_token(
        app_id=app_id,
        app_certificate=app_certificate,
        channel_name=channel_name,
        uid=account,
        role=role,
        token_expire=token_expire,
        privilege_expire=privilege_expire,
        issued_at=issued_at,
        salt=salt,
    )


def _signing_key(app_certificate: str, issued_at: int, salt: int) -> bytes:
    by_time = hmac.new(_u32(issued_at), app_certificate.encode(), hashlib.sha256).digest()
    return hmac.new(_u32(salt), by_time, hashlib.sha256).digest()


def _u16(value: int) -> bytes:
    return struct.pack("<H", value)


def _u32(value: int) -> bytes:
    return struct.pack("<I", value)


def _string(data: bytes) -> bytes:
    return _u16(len(data)) + data


def _check_hex32(name: str, value: object) -> None:
    if not isinstance(value, str) or not _HEX32.fullmatch(value):
        raise ValueError(f"{name} must be the 32 hexadecimal characters Agora's console shows, got {value!r}")


def _check_channel_name(channel_name: object) -> None:
    if not isinstance(channel_name, str) or not channel_name:
        raise ValueError("channel_name must be a non-empty string")
    if len(channel_name.encode()) > CHANNEL_NAME_MAX_BYTES:
        raise ValueError(f"channel_name must be at most {CHANNEL_NAME_MAX_BYTES} bytes")
    if not _AGORA_NAME.fullmatch(channel_name):
        raise ValueError(f"channel_name may only contain {_AGORA_NAME_CHARS}, got {channel_name!r}")


def _uid_field(uid: object) -> bytes:
    """The uid as the token carries it: a decimal string, an account as is, nothing for 0."""
    if isinstance(uid, bool):
        raise ValueError("uid must be an int or a string user account, not a bool")
    if isinstance(uid, int):
        _check_uint32("uid", uid)
        return b"" if uid == 0 else str(uid).encode()
    if isinstance(uid, str):
        if not uid:
            raise ValueError("a user account must not be empty (use uid 0 to allow any uid)")
        if len(uid.encode()) > USER_ACCOUNT_MAX_BYTES:
            raise ValueError(f"a user account must be at most {USER_ACCOUNT_MAX_BYTES} bytes")
        if not _AGORA_NAME.fullmatch(uid):
            raise ValueError(f"a user account may only contain {_AGORA_NAME_CHARS}, got {uid!r}")
        return uid.encode()
    raise ValueError(f"uid must be an int or a string user account, not {type(uid).__name__}")


def _check_uint32(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 <= value <= UINT32_MAX:
        raise ValueError(f"{name} must be between 0 and {UINT32_MAX}, got {value}")
