"""What a resident's report must be, the steps it may take, and how its photos are cleaned.

Kinds about a tree need not name one (a resident may not find it on the map), kinds about a
place never do. A photo is decoded whole (as plant photos are, ``registry.photos.rules``) and
then drawn again into a new JPEG from its pixels alone: a phone's EXIF block carries where the
resident stood (GPS) and often the phone's serial number, none of which a registry should keep.
"""

from __future__ import annotations

import io
import math
import re
import secrets
from typing import Any

from PIL import Image, ImageOps

from registry.errors import InvalidValue
from registry.photos.rules import check_photo

TREE_KINDS = ("hazard", "dead", "damaged", "illegal_felling", "needs_care")
PLACE_KINDS = ("plant_request", "missing_tree")
KINDS = TREE_KINDS + PLACE_KINDS
STATUSES = ("received", "accepted", "rejected", "planned", "done")
NEXT_STEPS = {
    "received": ("accepted", "rejected", "planned"),
    "accepted": ("planned", "done"),
    "planned": ("done",),
    "rejected": (),
    "done": (),
}
DESCRIPTION_CHARS = 2_000
CONTACT_CHARS = 200
REASON_CHARS = 1_000
MAX_PHOTOS = 3
PHOTO_SIDE = 2048  # a resident's photo shows the problem; more pixels only cost disk
DUPLICATE_METRES = 15
DUPLICATE_DAYS = 7
# Unambiguous letters and digits (no 0/O, 1/I/L): read over the phone, typed from a receipt.
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
NUMBER_SHAPE = re.compile(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}")


def new_number() -> str:
    """``7KQ3-MX9P``: 31⁸ ≈ 8.5·10¹¹ numbers, so guessing another's is hopeless."""
    chars = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def normal_number(text: str) -> str | None:
    """A number as a person may type it (lower case, spaces): its stored form, or ``None``."""
    cleaned = re.sub(r"[\s-]", "", text or "").upper()
    shaped = f"{cleaned[:4]}-{cleaned[4:]}"
    return shaped if len(cleaned) == 8 and NUMBER_SHAPE.fullmatch(shaped) else None


def check_kind(kind: Any) -> str:
    if kind not in KINDS:
        raise InvalidValue("kind", f"must be one of {', '.join(KINDS)}", kind)
    return kind


def check_text(field: str, value: Any, chars: int, required: bool = False) -> str:
    text = "" if value is None else value
    if not isinstance(text, str):
        raise InvalidValue(field, "must be text", None)
    text = "".join(c for c in text.strip() if c.isprintable() or c in "\n\t")
    if len(text) > chars:
        raise InvalidValue(field, f"must be at most {chars} characters (got {len(text)})")
    if required and not text:
        raise InvalidValue(field, "is required")
    return text


def check_coordinate(field: str, value: Any) -> float:
    limit = 180 if field == "lon" else 90
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(field, "must be a number")
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise InvalidValue(field, f"must be a finite number between -{limit} and {limit}")
    return float(value)


def check_step(status: str, wanted: str) -> str:
    if wanted not in NEXT_STEPS.get(status, ()):
        allowed = ", ".join(NEXT_STEPS.get(status, ())) or "nothing: the report is closed"
        raise InvalidValue("status", f"a {status} report may become {allowed}", wanted)
    return wanted


def clean_photo(data: bytes, file_name: str) -> tuple[bytes, int, int]:
    """The photo as a new JPEG of its pixels only (upright, at most ``PHOTO_SIDE`` a side), and
    its size. Refused as plant photos are: not JPEG/PNG by content, damaged, too large."""
    check_photo(data, file_name)
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    upright.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
    pixels_only = Image.frombytes("RGB", upright.size, upright.tobytes())
    out = io.BytesIO()
    pixels_only.save(out, "JPEG", quality=85)
    return out.getvalue(), pixels_only.width, pixels_only.height
