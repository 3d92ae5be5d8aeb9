"""What a plant photo must be: a real JPEG or PNG (judged by its bytes, not its name or the
browser's word), not too large in bytes or pixels."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from registry.errors import InvalidValue, TooLarge

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 50-megapixel camera; more is a decompression bomb, not a tree
THUMBNAIL_SIDE = 320
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png")}


@dataclass(frozen=True)
class PhotoFacts:
    extension: str
    content_type: str
    width: int
    height: int


def check_photo(data: bytes, file_name: str) -> PhotoFacts:
    """The photo's kind and size, or ``InvalidValue("photo", why, file name)``."""
    if not data:
        raise InvalidValue("photo", "is empty; choose a JPEG or PNG file", file_name)
    if len(data) > MAX_PHOTO_BYTES:
        raise TooLarge("photo", f"is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB", file_name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind, size = image.format, image.size
                if kind in FORMATS and size[0] * size[1] <= MAX_PIXELS:
                    decode_whole(data)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidValue("photo", "is not a JPEG or PNG image", file_name) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidValue("photo", f"is a damaged image ({exc})", file_name) from None
    if kind not in FORMATS:
        raise InvalidValue("photo", f"is a {kind} image; only JPEG and PNG are kept", file_name)
    if size[0] * size[1] > MAX_PIXELS:
        raise TooLarge("photo", f"has more than {MAX_PIXELS:,} pixels", file_name)
    extension, content_type = FORMATS[kind]
    return PhotoFacts(extension, content_type, size[0], size[1])


def decode_whole(data: bytes) -> None:
    """Check the structure, then decode every pixel: ``verify()`` alone passes a JPEG cut short
    (a phone's upload interrupted), which then failed at the thumbnail step as a 500."""
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        image.load()  # OSError "image file is truncated" unless every scan is there


def thumbnail_of(data: bytes) -> bytes:
    """A small JPEG for the plant card, upright as the camera held it."""
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    upright.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=80)
    return out.getvalue()


def safe_label(file_name: str) -> str:
    """The uploader's file name as a label only: its last path part, without control characters."""
    base = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable())[:255] or "photo"
