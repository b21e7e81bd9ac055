"""QR-code detection for groups that ban QR codes (the native API document banSendQRcode).

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


MAX_FRAMES = 50  # animated images: frames checked at most (a longer one is refused as unsure)
MAX_SIDE = 2000  # decode a reduced copy of bigger images: QR codes survive the shrink


def _flatten(frame: Any, background: str) -> Any:
    """RGB on a solid background: a black-on-transparent code must not turn all black."""
    from PIL import Image

    rgba = frame.convert("RGBA")
    canvas = Image.new("RGBA", rgba.size, background)
    canvas.alpha_composite(rgba)
    return canvas.convert("RGB")


def decode_has_qr_code(fileobj: IO[bytes]) -> bool:
    """Whether any frame of the image carries a QR code (on white, or for transparent
    images also on black). Animated images longer than MAX_FRAMES count as carrying one.

    An image whose pixels cannot be decoded (a PNG whose chunks are intact but whose
    compressed data stops early passes ``verify()``) is not scanned: like an external URL it
    counts as one that may carry a code, so only a group that bans QR codes refuses it. A
    viewer may still show its first rows, where a code could sit."""
    from PIL import Image

    try:
        return _scan(fileobj)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        log.info("an uploaded image could not be decoded for the QR scan; counted as unsure")
        return True


def _scan(fileobj: IO[bytes]) -> bool:
    import zxingcpp
    from PIL import Image, ImageOps, ImageSequence

    formats = zxingcpp.BarcodeFormat.QRCode | zxingcpp.BarcodeFormat.MicroQRCode
    with Image.open(fileobj) as image:
        if getattr(image, "n_frames", 1) > MAX_FRAMES:
            return True
        for frame in ImageSequence.Iterator(image):
            frame = ImageOps.exif_transpose(frame.copy())
            if max(frame.size) > MAX_SIDE:
                frame.thumbnail((MAX_SIDE, MAX_SIDE))
            transparent = frame.mode in ("RGBA", "LA", "PA") or "transparency" in frame.info
            backgrounds = ("white", "black") if transparent else ("white",)
            for background in backgrounds:
                if zxingcpp.read_barcodes(_flatten(frame, background), formats=formats):
                    return True
    return False


def image_has_qr_code(content: dict[str, Any]) -> bool:
    """True when the image may carry a QR code (or cannot be inspected)."""
    from messaging.models import Media

    media_id = content.get("mediaId")
    if not isinstance(media_id, int):
        return True  # an external URL cannot be inspected
    flag = Media.objects.filter(pk=media_id, kind=Media.Kind.IMAGE).values_list("has_qr_code", flat=True).first()
    return flag is not False
