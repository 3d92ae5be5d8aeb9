"""Which column of a survey holds which registry field, from its name or from a mapping file.

Survey columns are named in Russian, Kazakh or English, often cut to the DBF's 10 characters
(``ДИАМ_СМ``, ``ВЫС_М``, ``ВОЗР_ЛЕТ``, ``СОСТ``), with the unit in the name. Recognition works
on folded name tokens; a mapping file (TOML or YAML) overrides or completes it, converts units,
translates values (condition words in another language, size classes) and adds species aliases.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from registry.errors import JasylError
from registry.text import fold

# (field, name prefixes that mean it); order matters: crown before trunk, circumference before
# diameter, planting year before age.
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("x", ("x", "lon", "lng", "долгот", "easting", "east", "бойлык", "бойлық")),
    ("y", ("y", "lat", "широт", "northing", "north", "ендик", "ендік")),
    ("crown_diameter", ("крон", "crown", "тәж", "таж", "d_kr", "dkr")),
    ("trunk_circumference", ("окруж", "обхват", "circ", "girth", "шеңбер", "шенбер", "длина_окр")),
    ("trunk_diameter", ("диам", "diam", "dbh", "d_ств", "dств", "d", "дств", "д")),
    ("height", ("выс", "height", "h", "биікт", "биикт", "hgt")),
    ("planting_year", ("год_пос", "годпос", "год", "year", "planted", "жыл", "отырғыз")),
    ("age_years", ("возр", "age", "жас", "жасы")),
    ("condition", ("сост", "condition", "cond", "жағдай", "жагдай", "күй", "куй", "санит")),
    ("planting_form", ("форм", "form", "тип_пос", "вид_пос", "тип")),
    ("status", ("статус", "status")),
    ("quantity", ("кол", "колич", "шт", "count", "qty", "quantity", "саны", "сан")),
    ("length_m", ("длин", "length", "len", "ұзынд", "узынд", "протяж")),
    ("area_m2", ("площ", "area", "аудан")),
    ("inventory_number", ("инв", "inv", "№", "номер", "nomer", "number", "num", "нөмір", "номир")),
    ("species", ("порода", "пород", "вид", "species", "spec", "latin", "наим", "тұқым", "түр")),
    ("notes", ("прим", "note", "comment", "ескерт", "коммент", "описан")),
    ("address", ("адрес", "address", "addr", "мекенжай", "улиц", "street", "место")),
    ("hazardous", ("авар", "hazard", "danger", "опасн", "апат")),
)
# A layer of green spaces (parks, squares, boulevards) names its areas instead of its species.
GREEN_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("name", ("назв", "наимен", "name", "атау", "объект")),
    ("kind", ("тип", "вид", "type", "kind", "түр")),
    ("category", ("категор", "category", "санат", "назнач")),
    ("balance_holder", ("баланс", "balance", "holder", "владел", "пользоват")),
    ("notes", ("прим", "note", "comment", "ескерт", "коммент", "описан")),
)
GREEN_FIELDS = tuple(name for name, _ in GREEN_RULES)
RECORDS = ("plants", "green_spaces")
POLYGONAL = {"Polygon", "MultiPolygon", "Polygon Z", "MultiPolygon Z", "3D Polygon"}
ANYWHERE = {"crown_diameter", "trunk_circumference"}  # "ДИАМ_КРОН", "D_ОКРУЖ"
FIELDS = tuple(name for name, _ in RULES)
REQUIRED = ("species",)
# Units a column name or the mapping's [units] may give, and the factor to the registry's unit
# (cm for trunks, m for heights, crowns and lengths, m² for areas), per field.
_CM = {"см": 1, "cm": 1, "мм": 0.1, "mm": 0.1, "м": 100, "m": 100, "in": 2.54,
       "дюйм": 2.54, "inch": 2.54, "inches": 2.54, "ft": 30.48, "фут": 30.48, "foot": 30.48,
       "feet": 30.48}  # fmt: skip
_M = {"м": 1, "m": 1, "см": 0.01, "cm": 0.01, "мм": 0.001, "mm": 0.001, "in": 0.0254,
      "дюйм": 0.0254, "inch": 0.0254, "inches": 0.0254, "ft": 0.3048, "фут": 0.3048,
      "foot": 0.3048, "feet": 0.3048}  # fmt: skip
UNITS = {
    "trunk_diameter": _CM,
    "trunk_circumference": _CM,
    "height": _M,
    "crown_diameter": _M,
    "length_m": {**_M, "км": 1000, "km": 1000},
    "area_m2": {
        "м2": 1,
        "m2": 1,
        "кв": 1,
        "га": 10000,
        "ha": 10000,
        "ft2": 0.09290304,
        "sqft": 0.09290304,
        "ac": 4046.8564224,
        "acre": 4046.8564224,
    },  # fmt: skip
}
# The registry's own unit of each field, as reports show a converted value.
TARGET_UNITS = {"trunk_diameter": "cm", "trunk_circumference": "cm", "height": "m",
                "crown_diameter": "m", "length_m": "m", "area_m2": "m2"}  # fmt: skip


def mapping_factor(field_name: str, mapping: Mapping, file_name: str) -> tuple[float, str]:
    """The factor and unit the mapping's ``[units]`` gives a field (1 and "" when none).

    An unknown unit is an error listing the known ones: applied as ×1 it would store inches as
    centimetres without a word."""
    unit = mapping.units.get(field_name)
    if unit is None:
        return 1.0, ""
    known = UNITS.get(field_name)
    if not known:
        with_units = ", ".join(UNITS)
        raise MappingError(
            f"{file_name}: [units] {field_name} = {unit!r}, but {field_name} takes no unit; "
            f"fields with units: {with_units}"
        )
    key = fold(unit).strip()
    if key not in known:
        raise MappingError(
            f"{file_name}: [units] {field_name} = {unit!r} is not a unit we know; "
            f"known units: {', '.join(known)}"
        )
    return known[key], key


_TOKENS = re.compile(r"[^\w№]+")


class MappingError(JasylError, ValueError):
    code = "mapping"


@dataclass
class Mapping:
    """A mapping file: column per field, units, value translations, species aliases, defaults."""

    columns: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    species: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    crs: str | None = None
    encoding: str | None = None
    layer: str | None = None
    records: str | None = None  # "plants" or "green_spaces": forces what the rows become


def load_mapping(path: Path | None) -> Mapping:
    """Read a TOML or YAML mapping file (the format is in the docstring of ``importers``)."""
    if path is None:
        return Mapping()
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else yaml.safe_load(text)
    except FileNotFoundError:
        raise MappingError(f"{path.name}: mapping file not found") from None
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0]
        raise MappingError(f"{path.name}: the mapping file cannot be read ({first})") from None
    if not isinstance(data, dict):
        raise MappingError(f"{path.name}: the mapping file must be a table of sections")
    unknown = set(data) - {"columns", "units", "values", "species", "defaults", "crs", "encoding"}
    unknown -= {"layer", "records"}
    if unknown:
        raise MappingError(f"{path.name}: unknown section {sorted(unknown)[0]!r}")
    for name in data.get("columns", {}):
        if name not in FIELDS and name not in GREEN_FIELDS:
            known = ", ".join(dict.fromkeys(FIELDS + GREEN_FIELDS))
            raise MappingError(f"{path.name}: [columns] {name!r} is not a field; fields: {known}")
    records = data.get("records")
    if records is not None and records not in RECORDS:
        raise MappingError(
            f"{path.name}: records = {records!r}; it must be one of {', '.join(RECORDS)}"
        )
    return Mapping(
        columns={k: str(v) for k, v in data.get("columns", {}).items()},
        units={k: str(v) for k, v in data.get("units", {}).items()},
        values={k: dict(v) for k, v in data.get("values", {}).items()},
        species={str(k): str(v) for k, v in data.get("species", {}).items()},
        defaults=dict(data.get("defaults", {})),
        crs=str(data["crs"]) if data.get("crs") else None,
        encoding=data.get("encoding"),
        layer=data.get("layer"),
        records=records,
    )


@dataclass(frozen=True)
class Column:
    """One recognised column: the source name, the field it holds and the factor to our unit."""

    source: str
    field: str
    factor: float = 1.0
    unit: str = ""  # the file's unit when not the registry's (shown beside converted values)


def tokens(name: str) -> list[str]:
    return [t for t in _TOKENS.split(fold(name).replace("_", " ")) if t]


def recognise(name: str, rules: tuple[tuple[str, tuple[str, ...]], ...] = RULES) -> Column | None:
    """The field a column name means (``ДИАМ_СМ`` → trunk diameter in cm), or ``None``."""
    parts = tokens(name)
    if not parts:
        return None
    for field_name, prefixes in rules:
        if _matches(parts, field_name, prefixes):
            return Column(name, field_name, *_unit_factor(field_name, parts[1:]))
    return None


def _matches(parts: list[str], field_name: str, prefixes: tuple[str, ...]) -> bool:
    head = parts[0]
    short = {p for p in prefixes if len(p) <= 2 and p != "№"}
    if head in short:
        return True  # x, y, d, h: only as the whole first word, or they would match anything
    longer = tuple(p for p in prefixes if p not in short)
    if field_name in ANYWHERE:
        return any(part.startswith(p) for part in parts for p in longer)
    joined = "_".join(parts)
    return any(head.startswith(p) or joined.startswith(p) for p in longer)


def _unit_factor(field_name: str, rest: list[str]) -> tuple[float, str]:
    """The unit a column name ends with: the last unit word ("Height in m" is metres, not
    inches; "DBH_IN" is inches)."""
    units = UNITS.get(field_name, {})
    for token in reversed(rest):
        if token in units:
            return units[token], token
    return 1.0, ""


def resolve_columns(names: list[str], mapping: Mapping, file_name: str) -> dict[str, Column]:
    """Field → column for one survey: the mapping file first, then recognition of the rest."""
    by_field: dict[str, Column] = {}
    taken: set[str] = set()
    for field_name, source in mapping.columns.items():
        if source == "":
            continue
        if source not in names:
            raise MappingError(
                f"{file_name}: the mapping names column {source!r} for {field_name}, but the file "
                f"has only: {', '.join(names)}"
            )
        factor, unit = mapping_factor(field_name, mapping, file_name)
        by_field[field_name] = Column(source, field_name, factor, unit)
        taken.add(source)
    ignored = {f for f, s in mapping.columns.items() if s == ""}
    for name in names:
        found = recognise(name) if name not in taken else None
        if found and found.field not in by_field and found.field not in ignored:
            if found.field in mapping.units:
                found = Column(name, found.field, *mapping_factor(found.field, mapping, file_name))
            by_field[found.field] = found
    for required in REQUIRED:
        if required not in by_field and required not in mapping.defaults:
            raise MappingError(
                f"{file_name}: no column holds the {required} (columns seen: {', '.join(names)}); "
                f'name it in a mapping file: [columns] {required} = "<column>"'
            )
    return by_field


def record_kind(
    names: list[str], mapping: Mapping, geometry_type: str | None, file_name: str
) -> str:
    """What the rows of a survey become: ``plants`` or ``green_spaces``.

    A mapping file's ``records`` decides. Otherwise a layer of polygons whose columns name no
    species but do name the areas (a park survey: name, type, area) is green spaces; a layer
    with a species column is plants of whatever form its geometry allows (massifs, hedges).
    A column that reads as a name or type of area as well as a species (``НАИМЕН``,
    ``ВИД_ОБЪЕКТА``) counts as the former; a mapping file settles any doubt.
    """
    if mapping.records:
        return mapping.records
    if geometry_type not in POLYGONAL or "species" in mapping.columns | mapping.defaults:
        return "plants"
    green = {n: c.field for n in names if (c := recognise(n, GREEN_RULES))}
    if "name" not in green.values():
        return "plants"
    species = [n for n in names if (c := recognise(n)) and c.field == "species"]
    return (
        "plants" if any(green.get(n) not in ("name", "kind") for n in species) else "green_spaces"
    )


def resolve_green_columns(names: list[str], mapping: Mapping, file_name: str) -> dict[str, Column]:
    """Field → column for a layer of green spaces; the name is required."""
    by_field: dict[str, Column] = {}
    for field_name, source in mapping.columns.items():
        if field_name in GREEN_FIELDS and source:
            if source not in names:
                raise MappingError(
                    f"{file_name}: the mapping names column {source!r} for {field_name}, but the "
                    f"file has only: {', '.join(names)}"
                )
            by_field[field_name] = Column(source, field_name)
    taken = {c.source for c in by_field.values()}
    for name in names:
        found = recognise(name, GREEN_RULES) if name not in taken else None
        if found and found.field not in by_field and mapping.columns.get(found.field) != "":
            by_field[found.field] = found
            taken.add(name)
    if "name" not in by_field and "name" not in mapping.defaults:
        raise MappingError(
            f"{file_name}: no column holds the green space's name (columns seen: "
            f'{", ".join(names)}); name it in a mapping file: [columns] name = "<column>"'
        )
    return by_field
