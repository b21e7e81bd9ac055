"""QR-code detection for groups that ban QR codes (seed 002 banSendQRcode).

Decoding uses zxing-cpp (a maintained port of ZXing) on the uploaded image. It runs once
per image, at upload, and the answer is stored on the media row; sending the image to a
group only reads that flag. An image given only as an external ``url`` cannot be inspected
(this server fetches nothing from the network), so such a group accepts images from
ordinary members only as uploads.
"""
from __future__ import annotations

import logging
from typing import IO, Any

log = logging.getLogger(__name__)


def decode_has_qr_code(fileobj: IO[bytes]) -> bool:
    import zxingcpp
    from PIL import Image, ImageOps

    with Image.open(fileobj) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        if max(image.size) > 2000:  # big photos: decode a reduced copy, QR codes survive it
            image.thumbnail((2000, 2000))
        formats = zxingcpp.BarcodeFormat.QRCode | zxingcpp.BarcodeFormat.MicroQRCode
        results = zxingcpp.read_barcodes(image, formats=formats)
    return bool(results)


def image_has_qr_code(content: dict[str, Any]) -> bool:
    """True when the image may carry a QR code (or cannot be inspected)."""
    from messaging.models import Media

    media_id = content.get("mediaId")
    if not isinstance(media_id, int):
        return True  # an external URL cannot be inspected
    flag = Media.objects.filter(pk=media_id, kind=Media.Kind.IMAGE).values_list("has_qr_code", flat=True).first()
    return flag is not False
