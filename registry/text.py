"""How names are compared: case, ё/е and stray punctuation never decide a match."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[\s_]+")
_PUNCT = re.compile(r"[\"'«»“”()\[\],;]")


def fold(name: str) -> str:
    """Normalise a name for lookup: NFC, lower case, ё→е, no quotes or brackets, single spaces."""
    text = unicodedata.normalize("NFC", name).lower().replace("ё", "е")
    text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip(" .-")
