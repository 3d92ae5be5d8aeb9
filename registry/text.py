"""How names are compared: case, ё/е and stray punctuation never decide a match."""

from __future__ import annotations

import re
import unicodedata

from registry.errors import InvalidValue

_SPACES = re.compile(r"[\s_]+")
_PUNCT = re.compile(r"[\"'«»“”()\[\],;]")


def fold(name: str) -> str:
    """Normalise a name for lookup: NFC, lower case, ё→е, no quotes or brackets, single spaces."""
    text = unicodedata.normalize("NFC", name).lower().replace("ё", "е")
    text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip(" .-")


def bounded_text(field: str, value: object, limit: int) -> str:
    """A text field as stored: stripped, at most ``limit`` characters, no NUL character.

    Unbounded text was stored and served to the public (a 1 MB inventory number); PostgreSQL
    refuses NUL in text, which surfaced as a server error. Both are the writer's mistake, told
    as ``InvalidValue`` naming the field (with the length, not the text itself).
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidValue(field, "must be text", type(value).__name__)
    text = value.strip()
    if len(text) > limit:
        raise InvalidValue(field, f"is longer than {limit} characters", f"{len(text)} characters")
    if "\x00" in text:
        raise InvalidValue(field, "contains a NUL character", text.replace("\x00", "\\0")[:60])
    return text
