"""What each message type's ``content`` must look like (docs/protocol.md)."""
from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from core import jsonwire
from core.exceptions import INVALID, ApplicationError
from messaging.models import Message

T = Message.Type
# Types a client may send itself; red packets, remittances and system messages are posted
# by their own services.
CLIENT_TYPES = {T.TEXT, T.IMAGE, T.VOICE, T.VIDEO, T.FILE, T.LOCATION, T.CUSTOM}
MEDIA_TYPES = {T.IMAGE, T.VOICE, T.VIDEO, T.FILE}
URL_RE = re.compile(r"(https?://|www\.)\S+|\b[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|net|org|cn|io|me|co|info|top|xyz)\b",
                    re.IGNORECASE)


MENTION_RE = re.compile(r"(?<![A-Za-z0-9._%+\-])@\w")


def _fail(message: str) -> ApplicationError:
    return ApplicationError(INVALID, message)


def normalize(type_: int, content: Any) -> dict[str, Any]:
    """Validate a client's content for ``type_`` and return it as stored."""
    if type_ not in CLIENT_TYPES:
        raise _fail(f"type {type_} cannot be sent by a client")
    if type_ == T.TEXT and isinstance(content, str):
        content = {"text": content}
    if not isinstance(content, dict):
        raise _fail("content must be a JSON object")
    size = len(jsonwire.dumps(content).encode())
    if size > settings.MESSAGE_MAX_CONTENT_BYTES:
        raise _fail(f"content larger than {settings.MESSAGE_MAX_CONTENT_BYTES} bytes")
    if type_ == T.TEXT:
        text = content.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _fail("a text message needs a non-empty content.text")
    elif type_ in MEDIA_TYPES:
        url = content.get("url")
        if not isinstance(content.get("mediaId"), int) and not isinstance(url, str):
            raise _fail("a media message needs content.mediaId (from the upload endpoint) or content.url")
        if isinstance(url, str) and not url.startswith(("https://", "http://", "/api/v1/media/")):
            raise _fail("content.url must be an http(s) URL")
    elif type_ == T.LOCATION:
        raw_lat, raw_lng = content.get("lat"), content.get("lng")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (raw_lat, raw_lng)):
            raise _fail("a location needs numeric content.lat and content.lng")
        lat, lng = float(raw_lat), float(raw_lng)  # type: ignore[arg-type]
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise _fail("content.lat/lng out of range")
    mentions = content.get("mentions")
    if mentions is not None and (not isinstance(mentions, list)
                                 or not all(isinstance(m, int) and not isinstance(m, bool) for m in mentions)):
        raise _fail("content.mentions must be a list of user ids")
    return content


def text_of(content: dict[str, Any]) -> str:
    text = content.get("text")
    return text if isinstance(text, str) else ""


def has_web_link(content: dict[str, Any]) -> bool:
    return bool(URL_RE.search(text_of(content))) or isinstance(content.get("link"), str)


def has_keyword(content: dict[str, Any], keywords: list[str]) -> bool:
    text = text_of(content).casefold()
    return any(k.casefold() in text for k in keywords)


def has_direct_mention(content: dict[str, Any]) -> bool:
    # "@name" anywhere, also right after CJK text ("你好@bob"), but not inside an e-mail address.
    return bool(content.get("mentions")) or bool(MENTION_RE.search(text_of(content)))
