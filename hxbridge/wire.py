"""Easemob shapes: usernames, user entities, ids, message bodies, cursors (docs/hxbridge.md).

Pure translation between Easemob's JSON and the native services' arguments and results; no
database access and no rules of our own beyond what the Easemob contract promises.
"""
from __future__ import annotations

import base64
import binascii
import math
import re
import time
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings

from accounts.models import User
from accounts.services import AccountRules
from core.exceptions import INVALID, ApplicationError
from core.params import ascii_whole
from messaging.models import Message

# Easemob user ids: 1-64 of a-z, 0-9, "_", "-", "."; case-insensitive (stored lower-cased).
# Passwords: at most 64 characters (an MD5 digest is always accepted, as everywhere).
EASEMOB_RULES = AccountRules(re.compile(r"^[a-z0-9_.\-]{1,64}$"),
                             "1-64 letters a-z, digits, '_', '-' or '.'", 1, 64)


def invalid(message: str) -> ApplicationError:
    return ApplicationError(INVALID, message)


def now_ms() -> int:
    return int(time.time() * 1000)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# --- the app and its users ---------------------------------------------------------------
def app_names() -> tuple[str, str]:
    """``(organization, applicationName)`` from ``HX_APP_KEY`` ("org#app")."""
    org, _, app = settings.HX_APP_KEY.partition("#")
    return org, app


def application_uuid() -> str:
    """The app's ``application``: a name-based UUID of the app key, the same on every process."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hx:{settings.HX_APP_KEY}"))


def user_uuid(user: User) -> str:
    """A user's Easemob ``uuid``: a name-based UUID of the user id, stable, needing no column."""
    return str(uuid.uuid5(uuid.UUID(application_uuid()), f"user:{user.pk}"))


def app_fields() -> dict[str, str]:
    org, app = app_names()
    return {"application": application_uuid(), "organization": org, "applicationName": app}


def entity(user: User) -> dict[str, Any]:
    """A user as an Easemob entity. ``modified`` is the registration time too: no other change
    of a user is dated."""
    joined = ms(user.date_joined)
    return {"created": joined, "modified": joined, "type": "user", "uuid": user_uuid(user),
            "username": user.username, "activated": user.is_active}


def new_username(raw: Any) -> str:
    """A username for registration, lower-cased as Easemob does; the rules are checked by
    ``user_register`` (``EASEMOB_RULES``)."""
    if not isinstance(raw, str) or not raw:
        raise invalid("username is required")
    return raw.lower()


# --- getUser cursors -----------------------------------------------------------------------
def cursor_encode(last_pk: int) -> str:
    return base64.urlsafe_b64encode(f"hx:{last_pk}".encode()).decode().rstrip("=")


def cursor_decode(raw: Any) -> int:
    """The last user id of the previous page; an unreadable cursor is bad input."""
    if not isinstance(raw, str) or not raw:
        raise invalid("cursor must be the cursor of a previous answer")
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    prefix, _, number = text.partition(":")
    value = ascii_whole(number)
    if prefix != "hx" or value is None:
        raise invalid("cursor must be the cursor of a previous answer")
    return value


# --- messages -------------------------------------------------------------------------------
T = Message.Type
# msg.type -> our type; the content each becomes is built by message_content below.
MESSAGE_TYPES: dict[str, int] = {
    "txt": T.TEXT, "img": T.IMAGE, "loc": T.LOCATION, "audio": T.VOICE, "video": T.VIDEO, "file": T.FILE,
    "cmd": T.CUSTOM, "custom": T.CUSTOM,
}


def _string(body: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise invalid(f"msg.{key} must be a{' non-empty' if required else ''} string")
    return value


def _number(body: dict[str, Any], key: str, *, required: bool = False) -> float | None:
    """Easemob sends coordinates as strings ("39.966") or numbers."""
    value = body.get(key)
    if value is None and not required:
        return None
    try:
        number = float(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise invalid(f"msg.{key} must be a number")
    return number


def _count(body: dict[str, Any], key: str, where: str = "msg") -> int | None:
    """Seconds, pixels and byte sizes: whole numbers, as numbers or digit strings."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, str) and ascii_whole(value) is not None:
        return ascii_whole(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise invalid(f"{where}.{key} must be a whole number")


def _media(body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    content = {"url": _string(body, "url", required=True), "name": _string(body, "filename"), **extra}
    return {key: value for key, value in content.items() if value is not None}


def message_content(msg: Any, ext: Any) -> tuple[int, dict[str, Any]]:
    """An Easemob ``msg`` body (and the request's ``ext``) as our ``(type, content)``.

    The content is then checked by the same rules as any client's (messaging.content); this
    only reads Easemob's fields into ours.
    """
    if not isinstance(msg, dict):
        raise invalid("msg must be an object such as {\"type\": \"txt\", \"msg\": \"...\"}")
    kind = msg.get("type")
    if kind not in MESSAGE_TYPES:
        raise invalid(f"msg.type must be one of {', '.join(MESSAGE_TYPES)}")
    content: dict[str, Any]
    if kind == "txt":
        content = {"text": _string(msg, "msg", required=True)}
    elif kind == "img":
        size = msg.get("size")
        size = size if isinstance(size, dict) else {}
        content = _media(msg, width=_count(size, "width", "msg.size"), height=_count(size, "height", "msg.size"))
    elif kind == "audio":
        content = _media(msg, duration=_count(msg, "length"))
    elif kind == "video":
        content = _media(msg, duration=_count(msg, "length"), size=_count(msg, "file_length"),
                         thumb=_string(msg, "thumb"))
    elif kind == "file":
        content = _media(msg, size=_count(msg, "file_length"))
    elif kind == "loc":
        content = {"lat": _number(msg, "lat", required=True), "lng": _number(msg, "lng", required=True)}
        addr = _string(msg, "addr")
        if addr is not None:
            content["addr"] = addr
    elif kind == "cmd":
        content = {"hxType": "cmd", "action": _string(msg, "action", required=True)}
    else:  # custom
        exts = msg.get("customExts")
        if exts is not None and not isinstance(exts, dict):
            raise invalid("msg.customExts must be an object")
        content = {"hxType": "custom", "customExts": exts or {}}
        event = _string(msg, "customEvent")
        if event is not None:
            content["customEvent"] = event
    if ext is not None:
        if not isinstance(ext, dict):
            raise invalid("ext must be an object")
        content["ext"] = ext
    return MESSAGE_TYPES[kind], content
