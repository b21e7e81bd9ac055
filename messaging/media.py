"""Media uploads: images, voice, video and files that messages refer to by ``mediaId``.

Stored through Django's default storage (``var/media`` on disk by default; any storage
backend in production via ``MEDIA_STORAGE_BACKEND``). Downloads go through signed links,
``/api/v1/media/<token>?ref=...&exp=...&sig=...``: the token is random, and the signature
binds it to what the link was handed out for (``ref``) and to an expiry ``MEDIA_LINK_TTL_SECONDS``
ahead. ``ref`` is:

* ``msg-<id>``: a message. Served while the message exists and is not recalled; links are
  signed afresh each time a message is sent, synced or fetched (``fresh_content``).
* ``moment-<id>``: a moment's image, while the moment shows it.
* ``upload``: the upload reply's link, for its uploader only.

Stored message content keeps the unsigned path (``/api/v1/media/<token>``), which is not a
working link by itself.
"""
from __future__ import annotations

import re
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.models import User
from core.exceptions import INVALID, NOT_FOUND, ApplicationError
from messaging import exceptions as codes
from messaging.models import Media, Message
from messaging.qrcode import decode_has_qr_code

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
KIND_BY_MESSAGE_TYPE: dict[int, str] = {Message.Type.IMAGE: Media.Kind.IMAGE, Message.Type.VOICE: Media.Kind.VOICE,
                        Message.Type.VIDEO: Media.Kind.VIDEO, Message.Type.FILE: Media.Kind.FILE}


def _limit(kind: str) -> int:
    return int(settings.MEDIA_MAX_BYTES[kind])


PATH = "/api/v1/media/"
LINK_SALT = "messaging.media.link"
UPLOAD_REF = "upload"
_REF_RE = re.compile(r"^(upload|msg-[1-9]\d{0,18}|moment-[1-9]\d{0,18})$")


def _now() -> float:
    return time.time()


def _signature_input(token: str, ref: str, expires: int) -> str:
    return f"{token}|{ref}|{expires}"


def signed_url(token: str, ref: str) -> str:
    """A download link for ``token`` handed out for ``ref``, valid ``MEDIA_LINK_TTL_SECONDS``
    (rounded up to the next whole minute, so links handed out within a minute are the same
    URL and a client's cache keeps working)."""
    expires = (int(_now()) + settings.MEDIA_LINK_TTL_SECONDS) // 60 * 60 + 60
    sig = signing.Signer(salt=LINK_SALT).signature(_signature_input(token, ref, expires))
    return f"{PATH}{token}?{urlencode({'ref': ref, 'exp': expires, 'sig': sig})}"


def media_url(media: Media, ref: str = UPLOAD_REF) -> str:
    return signed_url(media.token, ref)


def fresh_content(message_id: int, type_: int, content: Any) -> Any:
    """A message's content as shown to a reader: an upload's ``url`` becomes a link signed now,
    bound to this message. Other content is returned as it is."""
    if type_ not in KIND_BY_MESSAGE_TYPE or not isinstance(content, dict):
        return content
    url = content.get("url")
    if not isinstance(content.get("mediaId"), int) or not isinstance(url, str) or not url.startswith(PATH):
        return content  # a client's own URL (no upload of ours) is shown as sent
    token = url[len(PATH):].split("?", 1)[0]
    return {**content, "url": signed_url(token, f"msg-{message_id}")}


def _ref_shows(ref: str, media: Media, user_id: int) -> bool:
    """Whether what the link was handed out for still shows this upload."""
    if ref == UPLOAD_REF:
        return media.owner_id == user_id
    kind, _, raw_id = ref.partition("-")
    if kind == "moment":
        from accounts.models import MomentImage

        return MomentImage.objects.filter(moment_id=int(raw_id), media=media).exists()
    content = (Message.objects.filter(pk=int(raw_id), recalled_at__isnull=True, type__in=list(KIND_BY_MESSAGE_TYPE))
               .values_list("content", flat=True).first())
    return isinstance(content, dict) and content.get("mediaId") == media.pk


def media_for_link(*, token: str, ref: Any, exp: Any, sig: Any, user_id: int) -> tuple[Media, int]:
    """The upload a signed link serves to ``user_id``, with the link's expiry (Unix seconds).

    ``not_found`` for a link that was not signed here, was changed, or whose message was
    recalled or deleted (a message deleted by one user for themselves still serves the others)
    or moment removed; ``media_link_expired`` for a genuine link past its expiry: fetch the
    message (or moment) again for a fresh one."""
    if not (isinstance(ref, str) and _REF_RE.match(ref) and isinstance(exp, str) and exp.isascii()
            and exp.isdigit() and len(exp) <= 12 and isinstance(sig, str) and 0 < len(sig) <= 128):
        raise ApplicationError(NOT_FOUND, "no such media")
    expires = int(exp)
    try:
        signing.Signer(salt=LINK_SALT).unsign(f"{_signature_input(token, ref, expires)}:{sig}")
    except signing.BadSignature:
        raise ApplicationError(NOT_FOUND, "no such media") from None
    if expires < _now():
        raise ApplicationError(codes.MEDIA_LINK_EXPIRED, "this link has expired; fetch the message again for a new one")
    media = Media.objects.filter(token=token).first()
    if media is None or not _ref_shows(ref, media, user_id):
        raise ApplicationError(NOT_FOUND, "no such media")
    return media, expires


def media_info(media: Media) -> dict[str, Any]:
    return {"mediaId": media.pk, "kind": media.kind, "url": media_url(media), "name": media.name,
            "contentType": media.content_type, "size": media.size, "width": media.width,
            "height": media.height, "duration": media.duration}


@transaction.atomic
def media_upload(*, owner: User, upload: UploadedFile, kind: str, duration: int | None = None) -> Media:
    if kind not in Media.Kind.values:
        raise ApplicationError(INVALID, f"kind must be one of {', '.join(Media.Kind.values)}")
    size = upload.size or 0
    if size <= 0:
        raise ApplicationError(INVALID, "the file is empty")
    if size > _limit(kind):
        raise ApplicationError(INVALID, f"a {kind} may be at most {_limit(kind)} bytes")
    content_type = (upload.content_type or "application/octet-stream").split(";")[0].strip().lower()
    width = height = None
    has_qr = None
    if kind == Media.Kind.IMAGE:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(upload) as image:
                width, height = image.size
                if width * height > settings.MEDIA_MAX_IMAGE_PIXELS:
                    raise ApplicationError(INVALID, f"images may have at most {settings.MEDIA_MAX_IMAGE_PIXELS} pixels")
                image.verify()  # refuses truncated and non-image files
                fmt = image.format or ""
        except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
            raise ApplicationError(INVALID, "the file is not a readable image") from exc
        if fmt not in IMAGE_TYPES:
            raise ApplicationError(INVALID, f"images must be {', '.join(IMAGE_TYPES)}")
        content_type = IMAGE_TYPES[fmt]
        upload.seek(0)
        has_qr = decode_has_qr_code(upload)
        upload.seek(0)
    elif kind == Media.Kind.VOICE and not content_type.startswith("audio/"):
        raise ApplicationError(INVALID, "voice must be an audio/* file")
    elif kind == Media.Kind.VIDEO and not content_type.startswith("video/"):
        raise ApplicationError(INVALID, "video must be a video/* file")
    if duration is not None and (duration < 0 or duration > 24 * 3600):
        raise ApplicationError(INVALID, "duration must be 0-86400 seconds")
    media = Media(owner=owner, kind=kind, token=secrets.token_urlsafe(16), name=(upload.name or "")[:255],
                  content_type=content_type[:100], size=size, width=width, height=height, duration=duration,
                  has_qr_code=has_qr)
    media.file.save(media.token, upload, save=False)
    media.save()
    return media


def media_attach(*, sender_id: int, type_: int, content: dict[str, Any]) -> dict[str, Any]:
    """Fill a media message's content from its upload (url, size, dimensions, duration)."""
    media_id = content.get("mediaId")
    if type_ not in KIND_BY_MESSAGE_TYPE or not isinstance(media_id, int):
        return content
    media = Media.objects.filter(pk=media_id, owner_id=sender_id).first()
    if media is None:
        raise ApplicationError(NOT_FOUND, "no such upload of yours (mediaId)")
    if media.kind != KIND_BY_MESSAGE_TYPE[type_]:
        raise ApplicationError(INVALID, f"mediaId {media_id} is a {media.kind}, not a {Message.Type(type_).label}")
    # Stored with the unsigned path: readers get links signed for the message (fresh_content).
    return {**content, **media_info(media), "url": f"{PATH}{media.token}"}
