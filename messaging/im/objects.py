"""RongCloud-style ``objectName`` <-> our message types, and the seed 000 reply shapes."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

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


def to_native(object_name: str, raw: Any) -> tuple[int, dict[str, Any]]:
    """A RongCloud message (its objectName and content, a JSON object or its text) as our
    ``(type, content)``. Unknown names become custom messages that keep the name."""
    if object_name in MONEY_OBJECTS:
        raise ApplicationError(INVALID, f"{object_name} is sent with {MONEY_OBJECTS[object_name]}")
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
    """seed 000's from_user as ``reader_id`` may see it: the fields we hold, the phone and
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
    """seed 000's to_user of a transfer: ``{id, name, icon, extra}``."""
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
