"""RongCloud-style ``objectName`` <-> our message types, and the the older im/* document reply shapes."""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings

from core import jsonwire
from core.exceptions import INVALID, ApplicationError
from messaging.models import Message

T = Message.Type

# objectName -> our type (docs/im.md). The money names belong to the money endpoints.
OBJECT_TYPES: dict[str, int] = {
    "RC:TxtMsg": T.TEXT, "RC:ImgMsg": T.IMAGE, "RC:VcMsg": T.VOICE, "RC:HQVCMsg": T.VOICE,
    "RC:SightMsg": T.VIDEO, "RC:FileMsg": T.FILE, "RC:LBSMsg": T.LOCATION,
    "MSG:RedPacket": T.RED_PACKET, "MSG:Transfer": T.REMITTANCE, "MSG:Exchange": T.EXCHANGE,
}
MONEY_OBJECTS = {"MSG:RedPacket": "im/msg_redpack_publish (wrap 1)", "MSG:Transfer": "im/msg_redpack_publish (wrap 2)",
                 "MSG:Exchange": "im/msg_exchange_publish"}


def _first(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if data.get(key) not in (None, ""):
            return data[key]
    return None


def _parse(raw: Any) -> dict[str, Any]:
    """``content`` as RongCloud clients send it (a JSON object or its text; plain text becomes
    ``{"content": text}``), bounded as client JSON."""
    content: Any = raw
    if isinstance(raw, str):
        try:
            content = jsonwire.loads(raw)
        except jsonwire.JSONLimitError as exc:
            raise ApplicationError(INVALID, f"content is refused: {exc}") from exc
        except ValueError:
            content = {"content": raw}
    try:
        content = jsonwire.plain(content)  # free-form JSON: its numbers are not money
    except ValueError as exc:
        raise ApplicationError(INVALID, f"content is refused: {exc}") from exc
    if not isinstance(content, dict):
        content = {"content": content}
    return content


def to_native(object_name: str, raw: Any) -> tuple[int, dict[str, Any]]:
    """A RongCloud message (its objectName and content, a JSON object or its text) as our
    ``(type, content)``. Unknown names become custom messages that keep the name."""
    if object_name in MONEY_OBJECTS:
        raise ApplicationError(INVALID, f"{object_name} is sent with {MONEY_OBJECTS[object_name]}")
    content = _parse(raw)
    type_ = OBJECT_TYPES.get(object_name, T.CUSTOM)
    extra = {"extra": content["extra"]} if content.get("extra") not in (None, "") else {}
    if type_ == T.TEXT:
        return type_, {"text": str(_first(content, "content", "text") or ""), **extra}
    if type_ in (T.IMAGE, T.VOICE, T.VIDEO, T.FILE):
        url = _first(content, "imageUri", "remoteUrl", "sightUrl", "fileUrl", "url", "uri")
        if not url:
            raise ApplicationError(INVALID, f"{object_name} needs the media's URL (imageUri, remoteUrl, sightUrl, "
                                            "fileUrl): upload it first")
        native: dict[str, Any] = {"url": str(url), **extra}
        for ours, theirs in (("name", "name"), ("size", "size"), ("duration", "duration")):
            if content.get(theirs) not in (None, ""):
                native[ours] = content[theirs]
        return type_, native
    if type_ == T.LOCATION:
        lat, lng = _first(content, "latitude", "lat"), _first(content, "longitude", "lng")
        if lat is None or lng is None:
            raise ApplicationError(INVALID, "RC:LBSMsg needs latitude and longitude")
        try:
            place = {"lat": float(lat), "lng": float(lng)}
        except (TypeError, ValueError) as exc:
            raise ApplicationError(INVALID, "latitude and longitude must be numbers") from exc
        name = _first(content, "poi", "name")
        return type_, {**place, **({"name": str(name)} if name else {}), **extra}
    return T.CUSTOM, {"objectName": object_name, **content}


@dataclass(frozen=True)
class InlineVoice:
    audio: bytes
    duration: int
    content_type: str
    extra: Any


AMR_HEADERS = ((b"#!AMR-WB\n", "audio/amr-wb"), (b"#!AMR\n", "audio/amr"))
VOICE_MAX_SECONDS = 60  # RongCloud's RC:VcMsg records at most 60 seconds
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}", re.ASCII)


def inline_voice(object_name: str, raw: Any) -> InlineVoice | None:
    """An ``RC:VcMsg`` that carries its AMR audio inline (base64 ``content`` and ``duration``,
    no URL), decoded and bounded; None for any other message (a voice note with a URL goes
    through ``to_native``). Refused: inline audio while ``IM_VOICE_INLINE_MAX_BYTES`` is 0,
    text that is not base64 or longer than ``MESSAGE_MAX_CONTENT_BYTES``, audio larger than
    ``IM_VOICE_INLINE_MAX_BYTES`` or not AMR, a duration outside 1-60 seconds."""
    if object_name != "RC:VcMsg":
        return None
    if isinstance(raw, str) and len(raw) > settings.MESSAGE_MAX_CONTENT_BYTES:
        raise ApplicationError(INVALID, f"content is larger than {settings.MESSAGE_MAX_CONTENT_BYTES} bytes")
    content = _parse(raw)
    if _first(content, "remoteUrl", "url", "uri") is not None:
        return None
    encoded = content.get("content")
    if not isinstance(encoded, str) or not encoded:
        return None  # to_native answers that a voice note needs its audio
    limit = settings.IM_VOICE_INLINE_MAX_BYTES
    if limit <= 0:
        raise ApplicationError(INVALID, "inline voice notes are not accepted here: upload the audio through "
                                        "/api/v1/media and send its remoteUrl")
    if len(encoded) > settings.MESSAGE_MAX_CONTENT_BYTES:
        raise ApplicationError(INVALID, f"content is larger than {settings.MESSAGE_MAX_CONTENT_BYTES} bytes")
    text = encoded.replace("\r", "").replace("\n", "")  # Android's Base64.DEFAULT wraps its lines
    if len(text) % 4 or not _BASE64.fullmatch(text):
        raise ApplicationError(INVALID, "RC:VcMsg content is not base64")
    if len(text) // 4 * 3 > limit + 2:  # before decoding: no larger buffer than the limit
        raise ApplicationError(INVALID, f"a voice note may be at most {limit} bytes of audio")
    audio = base64.b64decode(text, validate=True)
    if not audio or len(audio) > limit:
        raise ApplicationError(INVALID, f"a voice note may be at most {limit} bytes of audio")
    content_type = next((kind for header, kind in AMR_HEADERS if audio.startswith(header)), None)
    if content_type is None:
        raise ApplicationError(INVALID, "RC:VcMsg content is not AMR audio")
    duration = content.get("duration")
    if isinstance(duration, str) and duration.isascii() and duration.isdigit() and len(duration) <= 4:
        duration = int(duration)
    if not isinstance(duration, int) or isinstance(duration, bool) or not 1 <= duration <= VOICE_MAX_SECONDS:
        raise ApplicationError(INVALID, f"RC:VcMsg duration must be 1-{VOICE_MAX_SECONDS} seconds")
    return InlineVoice(audio=audio, duration=duration, content_type=content_type,
                       extra=content.get("extra") if content.get("extra") not in (None, "") else None)


def _s(value: Any) -> str | None:
    """Seed 000 writes every field as a string (or null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def _ts(value: Any) -> str | None:
    return str(int(value.timestamp())) if value else None


def user_full(user: Any, *, reader_id: int) -> dict[str, Any]:
    """the older im/* document's from_user as ``reader_id`` may see it: the fields we hold, the phone and
    e-mail only as the owner's privacy allows (accounts.privacy); the others are null or "0"
    as in the seed."""
    from accounts.privacy import contact_details

    name = (f"{user.first_name} {user.last_name}".strip() or user.username) if user else None
    contact = contact_details(user, reader_id=reader_id)
    return {
        "id": _s(user.pk), "fomo_id": user.username, "name": name, "portraitUri": user.avatar or None,
        "email": contact["email"], "phone": contact["phone"], "sex": "0", "last_time": _ts(user.last_seen_at),
        "status": "0" if user.is_active else "1", "zip": None, "province": None, "city": None, "address": None,
        "country": None, "group": "0", "add_time": _ts(user.date_joined), "update_time": _ts(user.date_joined),
        "is_deleted": "0" if user.is_active else "1", "c_type": "0", "extra_attr": None, "friend_money": None,
        "class": "0",
    }


def user_short(user: Any) -> dict[str, Any] | None:
    """the older im/* document's to_user of a transfer: ``{id, name, icon, extra}``."""
    if user is None:
        return None
    return {"id": _s(user.pk), "name": (f"{user.first_name} {user.last_name}".strip() or user.username),
            "icon": user.avatar or None, "extra": ""}


def coin_info(coin: Any) -> dict[str, Any]:
    return {"id": _s(coin.pk), "chain_id": coin.chain_id or None, "coin_type": _s(coin.coin_type),
            "price": _s(coin.price.normalize()), "name": coin.name, "description": coin.description,
            "bc_expolorer": coin.explorer, "contract": coin.contract, "decimals": _s(coin.decimals),
            "min_amount": _s(coin.min_amount.normalize()), "next_start": None, "is_active": _s(coin.is_active),
            "sort_id": _s(coin.sort_id)}


def stringify(log: dict[str, Any]) -> dict[str, Any]:
    return {key: _s(value) for key, value in log.items()}
