"""Which column of a survey becomes which field, and why: names read first, then values checked.

A column name is only a first reading. "InventoryDate" starts like an inventory number and
"SpeciesCode" like a species, yet one holds dates and the other four-letter codes: taken on their
names, the survey date became each tree's number and a code its species, with no word said. So
the values of a sample of records are looked at too, and a column whose values (or name) speak
against the field is not applied but *proposed*, for the person to confirm in the mapping file,
which is always obeyed. Every column of the file ends in the ``ColumnUse`` table (mapped,
recognised, proposed or ignored, with its unit and the reason); the import report carries it, the
CLI, ``--json``, ``--report`` and the upload page show it, and a mapping template can be written
from it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
import shapely

from importers.fields import (
    FIELDS,
    GREEN_FIELDS,
    GREEN_RULES,
    LATIN_UNITS,
    LOCATION_FIELDS,
    REQUIRED,
    Column,
    Mapping,
    MappingError,
    mapping_factor,
    recognise,
    words,
)
from importers.report import ImportReport, Problem
from importers.sources import Source

STATUSES = {
    "mapped": "named in the mapping file",
    "recognised": "recognised by its name, its values fit",
    "proposed": "not used: confirm it in the mapping file",
    "ignored": "not used",
}
DATE_WORDS = {"date", "дата", "data", "datum", "fecha", "күні", "күн", "time", "время"}
CODE_WORDS = ("code", "cod", "код", "abbr", "short")
FREE_TEXT = {"notes", "address", "name", "balance_holder"}  # a date there is just text
SAMPLE_ROWS = 1000
WHERE = (*LOCATION_FIELDS, "coordinates", "x", "y")  # fields that locate a table's record
# 2021-05-14, 2021/05/14 10:30, 14.05.2021, 5/14/21
_DATE = re.compile(
    r"^(\d{4})[-./](\d{1,2})[-./](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?.*)?$"
    r"|^(\d{1,2})[-./](\d{1,2})[-./](\d{2}|\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?$"
)
_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")
_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")
PAIR = re.compile(r"^\s*\(?\s*(-?\d+(?:[.,]\d+)?)\s*[,;\s]\s*(-?\d+(?:[.,]\d+)?)\s*\)?\s*$")


@dataclass(frozen=True)
class ColumnUse:
    """One column of the file: the field it fills (or would, if proposed), how, and why."""

    column: str
    field: str | None
    status: str  # a key of STATUSES
    unit: str | None = None
    reason: str = ""

    def line(self) -> str:
        target = f" → {self.field}" if self.field else ""
        unit = f" [{self.unit}]" if self.unit else ""
        return f"{self.column}{target}{unit}: {self.status}, {self.reason}"


@dataclass
class Detection:
    """The outcome: field → column the import reads, and the table of every column."""

    columns: dict[str, Column]
    uses: list[ColumnUse]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(use) for use in self.uses]


def detect(
    names: list[str],
    mapping: Mapping,
    sample: pd.DataFrame | None,
    file_name: str,
    *,
    records: str = "plants",
    has_geometry: bool = True,
) -> Detection:
    """Decide every column of a survey (see the module docstring); raise ``MappingError`` when
    a required field (the species, a green space's name) has no column, naming the proposals."""
    finder = _Finder(names, mapping, sample, file_name, has_geometry)
    green = records == "green_spaces"
    finder.mapped(GREEN_FIELDS + WHERE if green else FIELDS + LOCATION_FIELDS)
    for name in names:
        if name in finder.taken:
            continue
        found = recognise(name, GREEN_RULES) if green else recognise(name)
        if green and found is None:  # a table of parks still has its locations
            found = located if (located := recognise(name)) and located.field in WHERE else None
        finder.consider(name, found)
    if not has_geometry:
        finder.one_location()
    for required in ("name",) if green else REQUIRED:
        finder.require(required)
    return finder.detection()


class _Finder:
    """The columns of one survey, decided one by one."""

    def __init__(
        self,
        names: list[str],
        mapping: Mapping,
        sample: pd.DataFrame | None,
        file_name: str,
        has_geometry: bool,
    ) -> None:
        self.names, self.mapping, self.sample = names, mapping, sample
        self.file_name, self.has_geometry = file_name, has_geometry
        self.by_field: dict[str, Column] = {}
        self.uses: list[ColumnUse] = []
        self.taken: set[str] = set()

    def mapped(self, fields: tuple[str, ...]) -> None:
        """The mapping file's columns, applied as written: the person has said so."""
        for field_name, source in self.mapping.columns.items():
            if field_name not in fields or source == "":
                continue
            self._exists(field_name, source)
            factor, key = mapping_factor(field_name, self.mapping, self.file_name)
            unit = LATIN_UNITS.get(key, key) or None
            self.by_field[field_name] = Column(source, field_name, factor, unit)
            self._use(source, field_name, "mapped", unit, "named in the mapping file")
        for field_name, parts in self.mapping.combined.items():
            if field_name not in fields:
                continue
            for part in parts:
                self._exists(field_name, part)
            joined = " + ".join(parts)
            self.by_field[field_name] = Column(joined, field_name, parts=parts)
            for part in parts:
                self._use(part, field_name, "mapped", None, f"joined into {joined} by the mapping")

    def consider(self, name: str, found: Column | None) -> None:
        """A column not in the mapping: applied, proposed or ignored, and why."""
        if found is None:
            hint = "its name means no registry field; name it in [columns] to use it"
            return self._use(name, None, "ignored", None, hint)
        target = found.field
        if target in WHERE and self.has_geometry:
            return self._use(name, None, "ignored", None, "the layer has its own geometry")
        if self.mapping.columns.get(target) == "":
            return self._use(name, None, "ignored", None, f"the mapping file ignores {target}")
        if target in self.by_field:
            reason = f"{target} is read from column {self.by_field[target].source!r}"
            return self._use(name, None, "ignored", None, reason)
        doubt = self.doubt(name, target)
        if doubt:
            fields = "lat_lon or lon_lat" if target == "coordinates" else target
            confirm = f'[columns] {fields} = "{name}"'
            return self._use(name, target, "proposed", found.unit, f"{doubt}; if so: {confirm}")
        if target in self.mapping.units:  # the mapping's unit over the name's
            factor, key = mapping_factor(target, self.mapping, self.file_name)
            found = Column(name, target, factor, LATIN_UNITS.get(key, key) or None)
            self.by_field[target] = found
            return self._use(name, target, "recognised", found.unit, "by its name, unit mapped")
        self.by_field[target] = found
        unit = f", unit {found.unit} from its name" if found.unit else ""
        self._use(name, target, "recognised", found.unit, f"by its name{unit}")

    def doubt(self, name: str, target: str) -> str | None:
        """Why a column recognised by its name should not be taken without asking, if it should
        not: a date or code column is never an inventory number or a species by itself."""
        values = self._values(name)
        said = words(name)
        if target not in FREE_TEXT and target != "planting_year" and said & DATE_WORDS:
            return "its name says it holds dates"
        if target not in FREE_TEXT and _share(values, _is_date) >= 0.8:
            return f"its values are dates ({_examples(values)})"
        if target == "species":
            if any(w.startswith(CODE_WORDS) for w in said):
                return "its name says it holds codes, not species names"
            if _share(values, _is_code) >= 0.9:
                return f"its values look like codes ({_examples(values)}), not species names"
            if _share(values, _is_number) >= 0.9:
                return f"its values are numbers ({_examples(values)}), not species names"
        if target == "wkt" and _share(values, _is_wkt) < 0.9:
            return f"its values are not WKT geometries ({_examples(values)})"
        if target in ("lat_lon", "lon_lat", "coordinates") and _share(values, _is_pair) < 0.9:
            return f"its values are not coordinate pairs ({_examples(values)})"
        if target == "coordinates":
            return "its values are coordinate pairs, but its name does not say which comes first"
        return None

    def one_location(self) -> None:
        """A table's location comes from one source: the one the mapping names, else WKT, a
        pair column, or X and Y, in that order."""
        found = [f for f in ("wkt", "lat_lon", "lon_lat", "x") if f in self.by_field]
        named = [f for f in found if self.mapping.columns.get(f)]
        first = (named or found or [None])[0]
        if first in (None, "x"):
            drop = [f for f in found if f != "x"]
        else:
            drop = [f for f in found if f != first] + ["y"]
        chosen = self.by_field[first].source if first else ""
        for other in drop:
            column = self.by_field.pop(other, None)
            if column is not None and column.source != chosen:
                self.uses = [u for u in self.uses if u.column != column.source]
                why = f"the location is read from column {chosen!r}"
                self._use(column.source, None, "ignored", None, why)

    def require(self, required: str) -> None:
        if required in self.by_field or required in self.mapping.defaults:
            return
        what = "green space's name" if required == "name" else required
        proposed = [u for u in self.uses if u.status == "proposed" and u.field == required]
        if proposed:
            use = proposed[0]
            hint = (
                f"column {use.column!r} might, but {use.reason.split('; if so')[0]}; if it does, "
                f'say so in a mapping file: [columns] {required} = "{use.column}"'
            )
        else:
            hint = f'name it in a mapping file: [columns] {required} = "<column>"'
        raise MappingError(
            f"{self.file_name}: no column holds the {what} (columns seen: "
            f"{', '.join(self.names)}); {hint}",
            columns=self.detection().as_dicts(),
        )

    def detection(self) -> Detection:
        order = {name: i for i, name in enumerate(self.names)}
        uses = sorted(self.uses, key=lambda u: order.get(u.column, len(order)))
        return Detection(dict(self.by_field), uses)

    # -- helpers ----------------------------------------------------------------------------------
    def _exists(self, field_name: str, source: str) -> None:
        require_column(self.names, field_name, source, self.file_name)

    def _use(self, column: str, target: str | None, status: str, unit: str | None, why: str):
        self.taken.add(column)
        self.uses.append(ColumnUse(column, target, status, unit, why))

    def _values(self, name: str) -> list[Any]:
        if self.sample is None or name not in self.sample:
            return []
        cells = self.sample[name].head(SAMPLE_ROWS).tolist()
        return [v for v in cells if not _blank(v)]


def require_column(names: list[str], field_name: str, source: str, file_name: str) -> None:
    if source not in names:
        raise MappingError(
            f"{file_name}: the mapping names column {source!r} for {field_name}, but the "
            f"file has only: {', '.join(names)}"
        )


def require_mapped_columns(names: list[str], mapping: Mapping, file_name: str) -> None:
    """Every column the mapping names is in the file (checked before anything is read)."""
    for field_name, source in mapping.columns.items():
        if source:
            require_column(names, field_name, source, file_name)
    for field_name, parts in mapping.combined.items():
        for part in parts:
            require_column(names, field_name, part, file_name)


# -- what values look like ------------------------------------------------------------------------
def _blank(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float):
        return value != value
    return isinstance(value, str) and not value.strip()


def _share(values: list[Any], test) -> float:
    """The share of the (non-empty) values that pass ``test``; 0 when there are none."""
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


def _is_date(value: Any) -> bool:
    if isinstance(value, dt.date | pd.Timestamp):
        return True
    found = _DATE.match(str(value).strip())
    if not found:
        return False
    groups = found.groups()
    month, day = (groups[1], groups[2]) if groups[0] else (groups[4], groups[3])
    return 1 <= int(month) <= 12 and 1 <= int(day) <= 31 or 1 <= int(day) <= 12 < int(month) <= 31


def _is_code(value: Any) -> bool:
    return isinstance(value, str) and bool(_CODE.match(value.strip()))


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) or bool(_NUMBER.match(str(value).strip()))


def _is_wkt(value: Any) -> bool:
    return parse_wkt([value])[0] is not None


def _is_pair(value: Any) -> bool:
    return bool(PAIR.match(str(value)))


def _examples(values: Iterable[Any], count: int = 3) -> str:
    distinct = list(dict.fromkeys(str(v) for v in values))
    return ", ".join(distinct[:count]) + (" …" if len(distinct) > count else "")


def parse_wkt(values: Iterable[Any]) -> list[Any]:
    """Shapes from WKT or EWKT text (``SRID=4326;POINT (71.4 51.1)``); ``None`` where none."""
    texts = [re.sub(r"^\s*SRID=\d+;", "", str(v)) if not _blank(v) else None for v in values]
    return list(shapely.from_wkt(texts, on_invalid="ignore"))


def species_parts(names: list[str], mapping: Mapping) -> tuple[str, ...]:
    """The column(s) the species would be read from, as the mapping or the names say."""
    if "species" in mapping.combined:
        return mapping.combined["species"]
    if mapping.columns.get("species"):
        return (mapping.columns["species"],)
    found = named(names, "species")
    return (found,) if found else ()


def named(names: list[str], field_name: str) -> str | None:
    """The first column whose name means ``field_name``."""
    return next((n for n in names if (c := recognise(n)) and c.field == field_name), None)


def check_mixed(shapes: pd.DataFrame, species: tuple[str, ...], file_name: str) -> None:
    """Refuse to guess what a layer mixing polygons with points or lines holds, when its
    polygons name no species: those are green spaces (parks, squares) more likely than
    massifs of trees, and the person says which (``records`` in the mapping file)."""
    kinds = shapes["kind"]
    polygons = kinds == "polygon"
    others = int(kinds.isin(["point", "line"]).sum())
    if not polygons.any() or not others:
        return
    bare = polygons.copy()
    for part in species:
        bare &= shapes[part].map(_blank)
    if not bare.any():
        return  # massifs and hedges with their species among single trees: a plant survey
    raise MappingError(
        f"{file_name}: the layer mixes {int(polygons.sum())} polygons ({int(bare.sum())} "
        f"without a species) with {others} points and lines; polygons without a species are "
        "green spaces (parks, squares) rather than plants. Say what to import in a mapping "
        'file: records = "green_spaces" takes the polygons as green spaces and leaves the '
        'points and lines out; records = "plants" takes every shape as a plant (a polygon '
        "is then a massif or group of trees and needs a species). The file may be imported "
        "once each way."
    )


# -- a whole layer -------------------------------------------------------------------------------
def _wkt_column(source: Source, mapping: Mapping) -> str | None:
    if source.table is None:
        return None
    return mapping.columns.get("wkt") or named(source.columns, "wkt")


def geometry_type(source: Source, mapping: Mapping) -> str | None:
    """A vector layer's declared geometry type; a table's from its WKT column's first shapes
    (a CSV of parks drawn as WKT polygons is a layer of polygons too)."""
    wkt = _wkt_column(source, mapping)
    if wkt is None:
        return source.geometry_type
    kinds = {s.geom_type for s in parse_wkt(source.sample()[wkt].tolist()) if s is not None}
    return kinds.pop() if len(kinds) == 1 else None


def layer_columns(source: Source, mapping: Mapping, records: str, report: ImportReport) -> dict:
    """Field → column for a layer, each column's fate on the report (above), a proposed
    column also as a warning; a layer mixing green spaces and plants is refused unless the
    mapping says which to take."""
    is_table = source.table is not None
    require_mapped_columns(source.columns, mapping, source.file_name)
    if records == "plants" and not mapping.records:
        species = species_parts(source.columns, mapping)
        shapes = source.shapes(list(species), _wkt_column(source, mapping))
        if shapes is not None:
            check_mixed(shapes, species, source.file_name)
    detection = detect(
        source.columns,
        mapping,
        source.sample(),
        source.file_name,
        records=records,
        has_geometry=not is_table,
    )
    report.columns = detection.uses
    for use in detection.uses:
        if use.status == "proposed":
            why = f"not read as {use.field}: {use.reason}"
            code, name = "column_proposed", source.file_name
            report.problems.append(Problem(name, None, use.column, None, code, why, "warning"))
    source.joined = {c.source: c.parts for c in detection.columns.values() if c.parts}
    return detection.columns
