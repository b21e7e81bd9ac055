"""An image whose chunks are intact but whose pixel data stops early: verify() passes it, the QR
scan cannot decode it. The upload answers 201 (not a 500) and the image counts as one that may
carry a QR code, so only a group that bans QR codes refuses it."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from chats.models import Chat
from chats.selectors import chat_from_wire
from tests.conftest import token_for

pytestmark = pytest.mark.django_db


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def truncated_png() -> bytes:
    """A valid PNG whose compressed pixel stream is cut in half, rewrapped in well-formed chunks."""
    buffer = io.BytesIO()
    Image.effect_noise((120, 120), 60).save(buffer, format="PNG")
    data, pos, chunks = buffer.getvalue(), 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        chunks.append((data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    header = next(body for kind, body in chunks if kind == b"IHDR")
    pixels = b"".join(body for kind, body in chunks if kind == b"IDAT")
    return data[:8] + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels[: len(pixels) // 2]) + _chunk(b"IEND", b"")


def api_for(user: User) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return api


def _upload(user: User) -> int:
    upload = io.BytesIO(truncated_png())
    upload.name = "cut.png"
    uploaded = api_for(user).post("/api/v1/media", {"file": upload, "kind": "image"}, format="multipart")
    assert uploaded.status_code == 201, uploaded.content
    return int(uploaded.json()["mediaId"])


def test_a_truncated_png_uploads_and_counts_as_unsure_for_the_qr_ban(
    alice: User, bob: User, settings: object, tmp_path: object
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)  # type: ignore[attr-defined]
    with Image.open(io.BytesIO(truncated_png())) as image:
        image.verify()  # the upload's own check lets it through
    group = api_for(alice).post("/api/v1/chats", {"title": "no codes", "uIds": [bob.pk]}, format="json")
    assert group.status_code == 200, group.content
    chat_id = group.json()["chatId"]
    Chat.objects.filter(pk=chat_from_wire(chat_id).pk).update(ban_send_qrcode=True)
    media_id = _upload(bob)
    private = api_for(bob).post("/api/v1/messages/send", {"to": alice.pk, "type": 3, "content": {"mediaId": media_id}},
                                format="json")
    assert private.status_code == 200, private.content
    banned = api_for(bob).post("/api/v1/messages/send", {"chatId": chat_id, "type": 3,
                                                         "content": {"mediaId": media_id}}, format="json")
    assert banned.status_code == 403 and banned.json()["code"] == 463, banned.content
