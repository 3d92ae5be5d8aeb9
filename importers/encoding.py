"""Which code page a survey's text is in: ``.cpg`` first, then the DBF language byte, then a guess.

Contractors' shapefiles come as CP1251 (Windows Russian), CP866 (DOS Russian), KZ-1048 (Windows
Kazakh) or UTF-8, often without a ``.cpg``. GDAL alone falls back to ISO-8859-1 and turns "Вяз"
into "Âÿç", so the importer decides the encoding itself, checks that the text really reads in
it, and refuses (``EncodingError``) rather than store mojibake.
"""

from __future__ import annotations

import string
import struct
from dataclasses import dataclass
from pathlib import Path

from registry.errors import JasylError

# Python codec name -> the name GDAL's iconv accepts (``KZ-1048`` is refused, ``RK1048`` works).
GDAL_NAMES = {"utf-8": "UTF-8", "cp1251": "CP1251", "cp866": "CP866", "kz1048": "RK1048"}
CANDIDATES = ("utf-8", "cp1251", "kz1048", "cp866")
# DBF header byte 29 (language driver id).
LDID_CODECS = {0xC9: "cp1251", 0x65: "cp866", 0x26: "cp866"}
CPG_NAMES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "65001": "utf-8",
    "1251": "cp1251",
    "cp1251": "cp1251",
    "ansi 1251": "cp1251",
    "windows-1251": "cp1251",
    "win1251": "cp1251",
    "866": "cp866",
    "cp866": "cp866",
    "ibm866": "cp866",
    "oem 866": "cp866",
    "rk1048": "kz1048",
    "kz-1048": "kz1048",
    "kz1048": "kz1048",
    "strk1048-2002": "kz1048",
}
KAZAKH_LETTERS = set("ӘәҒғҚқҢңӨөҰұҮүҺһІі")
# What a Kazakh or Russian survey contains: ASCII, Russian and Kazakh letters, a few marks.
READABLE = frozenset(
    string.printable
    + "".join(chr(c) for c in range(ord("А"), ord("я") + 1))
    + "Ёё"
    + "".join(KAZAKH_LETTERS)
    + "«»№–—“”„…"
)
MIN_READABLE_SHARE = 0.985


class EncodingError(JasylError, ValueError):
    code = "encoding"


@dataclass(frozen=True)
class Decision:
    """The chosen encoding and where it came from (``.cpg``, LDID byte, detected, given)."""

    codec: str
    source: str

    @property
    def gdal_name(self) -> str:
        return GDAL_NAMES.get(self.codec, self.codec)


def codec_of(name: str) -> str:
    """A user's or ``.cpg``'s encoding name as a Python codec, or an error naming valid ones."""
    key = name.strip().lower().replace("_", "-")
    codec = CPG_NAMES.get(key) or CPG_NAMES.get(key.replace("-", ""))
    if codec is None:
        try:
            import codecs

            codec = codecs.lookup(key).name
        except LookupError:
            valid = ", ".join(CANDIDATES)
            raise EncodingError(f"unknown encoding {name!r}; use one of {valid}") from None
    return codec


def readable_share(text: str) -> float:
    """The share of characters a Kazakh or Russian survey could plausibly contain."""
    if not text:
        return 1.0
    readable = sum(1 for c in text if c in READABLE)
    return readable / len(text)


def score(raw: bytes, codec: str) -> float | None:
    """How plausible ``raw`` reads in ``codec`` (0–1), ``None`` when it does not decode at all."""
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        return None
    share = readable_share(text)
    if codec == "kz1048" and not KAZAKH_LETTERS & set(text):
        share -= 0.001  # identical to cp1251 for Russian text: prefer the common one
    return share


def detect(raw: bytes, file_name: str) -> Decision:
    """Choose among UTF-8, CP1251, KZ-1048 and CP866 by how well each reads; refuse when unsure."""
    if not any(b >= 0x80 for b in raw):
        return Decision("utf-8", "detected (plain ASCII)")
    scores = {c: s for c in CANDIDATES if (s := score(raw, c)) is not None}
    if scores.get("utf-8", 0) >= MIN_READABLE_SHARE:
        return Decision("utf-8", "detected")
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    best, best_score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best_score < MIN_READABLE_SHARE or best_score - runner_up < 0.002 and best != "cp1251":
        shown = ", ".join(f"{c} {s:.0%}" for c, s in ranked)
        raise EncodingError(
            f"{file_name}: cannot tell the text encoding with confidence "
            f"(readable share: {shown}); "
            "pass --encoding (cp1251, cp866, kz1048 or utf-8)"
        )
    return Decision(best, "detected")


def check_readable(raw: bytes, decision: Decision, file_name: str) -> Decision:
    """Refuse an encoding (from ``.cpg`` or LDID) under which the text would become mojibake."""
    found = score(raw, decision.codec)
    if found is None or found < MIN_READABLE_SHARE:
        what = "does not decode" if found is None else f"reads only {found:.0%} as text"
        raise EncodingError(
            f"{file_name}: the text {what} in {decision.codec} (from {decision.source}); "
            "pass --encoding (cp1251, cp866, kz1048 or utf-8)"
        )
    return decision


# -- DBF ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DbfSample:
    ldid: int
    text: bytes


def dbf_sample(dbf: Path, max_records: int = 5000) -> DbfSample:
    """The LDID byte and the raw bytes of field names and text fields of the first records."""
    with dbf.open("rb") as handle:
        header = handle.read(32)
        if len(header) < 32:
            raise EncodingError(f"{dbf.name}: the .dbf file is truncated (no header)")
        records, header_size, record_size = struct.unpack("<IHH", header[4:12])
        descriptors = handle.read(header_size - 32)
        names, text_slices, offset = [], [], 1
        for start in range(0, len(descriptors) - 31, 32):
            descriptor = descriptors[start : start + 32]
            if descriptor[0] == 0x0D:
                break
            names.append(descriptor[:11].split(b"\0")[0])
            length = descriptor[16]
            if descriptor[11:12] in (b"C", b"M"):
                text_slices.append((offset, offset + length))
            offset += length
        handle.seek(header_size)
        body = handle.read(record_size * min(records, max_records))
    chunks = [b" ".join(_whole_utf8(name) for name in names)]
    for index in range(0, len(body) - record_size + 1, record_size):
        record = body[index : index + record_size]
        chunks.extend(record[a:b].strip(b" \0") for a, b in text_slices)
    return DbfSample(ldid=header[29], text=b" ".join(c for c in chunks if c))


def _whole_utf8(name: bytes) -> bytes:
    """A field name without the half UTF-8 letter a 10-byte cut may leave at its end."""
    for cut in range(4):
        try:
            (name[: len(name) - cut] if cut else name).decode("utf-8")
        except UnicodeDecodeError:
            continue
        return name[: len(name) - cut] if cut else name
    return name


def shapefile_encoding(shp: Path, override: str | None) -> Decision:
    """``--encoding``, else ``.cpg``, else the LDID byte, else detection; checked for mojibake."""
    dbf = _sidecar(shp, ".dbf")
    if dbf is None:
        raise EncodingError(f"{shp.name}: the .dbf file (the attribute table) is missing")
    sample = dbf_sample(dbf)
    if override:
        return check_readable(sample.text, Decision(codec_of(override), "--encoding"), dbf.name)
    cpg = _sidecar(shp, ".cpg")
    if cpg is not None:
        declared = cpg.read_text(encoding="ascii", errors="replace").strip()
        if declared:
            decision = Decision(codec_of(declared), f".cpg {declared!r}")
            return check_readable(sample.text, decision, dbf.name)
    if sample.ldid in LDID_CODECS:
        decision = Decision(LDID_CODECS[sample.ldid], f"DBF language byte 0x{sample.ldid:02X}")
        return check_readable(sample.text, decision, dbf.name)
    return detect(sample.text, dbf.name)


def text_encoding(raw: bytes, override: str | None, file_name: str) -> Decision:
    """For CSV files: ``--encoding`` (checked) or detection."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return Decision("utf-8-sig", "byte-order mark")
    if override:
        return check_readable(raw, Decision(codec_of(override), "--encoding"), file_name)
    return detect(raw, file_name)


def _sidecar(shp: Path, suffix: str) -> Path | None:
    for candidate in (shp.with_suffix(suffix), shp.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None
