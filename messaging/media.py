"""Media uploads: images, voice, video and files that messages refer to by ``mediaId``.

Stored through Django's default storage (``var/media`` on disk by default; any storage
backend in production via ``MEDIA_STORAGE_BACKEND``). Downloads go through
``/api/v1/media/<token>``: the token is random, so the URL works as a capability that only
the message's recipients learn.
"""
from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.models import User
from core.exceptions import INVALID, NOT_FOUND, ApplicationError
from messaging.models import Media, Message
from messaging.qrcode import decode_has_qr_code

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
KIND_BY_MESSAGE_TYPE: dict[int, str] = {Message.Type.IMAGE: Media.Kind.IMAGE, Message.Type.VOICE: Media.Kind.VOICE,
                        Message.Type.VIDEO: Media.Kind.VIDEO, Message.Type.FILE: Media.Kind.FILE}


def _limit(kind: str) -> int:
    return int(settings.MEDIA_MAX_BYTES[kind])


def media_url(media: Media) -> str:
    return f"/api/v1/media/{media.token}"


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
    return {**content, **media_info(media)}
