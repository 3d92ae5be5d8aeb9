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


# A unit as reports name it (and a mapping's [units] takes it): "ДИАМ_СМ" is in cm.
LATIN_UNITS = {"см": "cm", "мм": "mm", "м": "m", "км": "km", "м2": "m2", "кв": "m2", "га": "ha",
               "дюйм": "in", "inch": "in", "inches": "in", "фут": "ft", "foot": "ft",
               "feet": "ft", "sqft": "ft2", "ac": "acre"}  # fmt: skip
_TOKENS = re.compile(r"[^\w№]+")
# Column names of whole locations: WKT geometry, or a coordinate pair in one cell.
WKT_WORDS = ("wkt", "geom", "the_geom", "геометр")
LAT_WORDS = ("lat", "широт", "ендік", "ендик")
LON_WORDS = ("lon", "lng", "долгот", "бойлық", "бойлык")
PAIR_WORDS = ("coord", "koord", "координат", "коорд")


class MappingError(JasylError, ValueError):
    code = "mapping"


# The worked example of ``jasyl import --help`` and the README (a test imports it as written).
MAPPING_EXAMPLE = """\
# survey.csv, ";"-separated, as a contractor sent it:
#   Номер;Род;Вид;Координаты (lat, lon);ОБХВАТ_СМ;Высота;Дата
#   A-1;Ulmus;pumila;51.1282, 71.4304;94;8,5;2024-05-14
# mapping.toml (TOML; the same keys in YAML work too):
[columns]                       # field = "column"; "" ignores what a name would give
inventory_number = "Номер"
species = ["Род", "Вид"]        # several columns joined with a space: "Ulmus pumila"
lat_lon = "Координаты (lat, lon)"   # one "lat, lon" cell; lon_lat = for "lon, lat";
                                # wkt = "WKT" for POINT (71.43 51.12) or polygons;
                                # else x = "…" and y = "…" (longitude, latitude)
trunk_circumference = "ОБХВАТ_СМ"
height = "Высота"
[units]                         # when the column name does not say it
height = "m"
[values.condition]              # cell value = what the registry understands
"хорошее" = 1
[defaults]                      # for empty cells or a missing column
quantity = 1
"""
# A mapping file's top-level keys and what each holds (the error for an unknown one lists them).
SECTIONS = {
    "columns": "field = column, or a list of columns joined into one field",
    "units": "field = unit of its column",
    "values": "[values.FIELD] cell value = what the registry understands",
    "species": "alias = catalogue code or name",
    "defaults": "field = value for empty cells or a missing column",
    "crs": "EPSG code of the coordinates",
    "encoding": "text encoding of the file",
    "layer": "layer of a GeoPackage or sheet of a workbook",
    "records": "plants or green_spaces",
}
# Columns that hold a whole location: one "lat, lon" (or "lon, lat") pair, or WKT geometry.
LOCATION_FIELDS = ("lat_lon", "lon_lat", "wkt")


@dataclass
class Mapping:
    """A mapping file: column per field, units, value translations, species aliases, defaults.

    ``columns`` names one column per field; ``combined`` the fields made of several columns
    (``species = ["Genus", "Species"]``), joined with a space.
    """

    columns: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    species: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    crs: str | None = None
    encoding: str | None = None
    layer: str | None = None
    records: str | None = None  # "plants" or "green_spaces": forces what the rows become
    combined: dict[str, tuple[str, ...]] = field(default_factory=dict)


def load_mapping(path: Path | None) -> Mapping:
    """Read a TOML or YAML mapping file (the format is in the docstring of ``importers``).

    Every key is checked, so a typing slip ("colums", "heigth", a list where a table belongs)
    is an error naming the valid keys, never a key silently ignored or a traceback.
    """
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
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MappingError(f"{path.name}: the mapping file must be a table of sections")
    return _parse_mapping(data, path.name)


def _parse_mapping(data: dict[str, Any], name: str) -> Mapping:
    unknown = [str(key) for key in data if key not in SECTIONS]
    if unknown:
        listed = "; ".join(f"{key} ({what})" for key, what in SECTIONS.items())
        raise MappingError(f"{name}: unknown key {unknown[0]!r}; the valid keys are: {listed}")
    fields = FIELDS + GREEN_FIELDS + LOCATION_FIELDS
    columns = _table(data, "columns", name, fields)
    single, combined = _columns(columns, name)
    values = _table(data, "values", name, fields)
    for key, table in values.items():
        if not isinstance(table, dict):
            raise MappingError(
                f"{name}: [values.{key}] must be a table of cell value = meaning "
                f"(got {type(table).__name__} {table!r})"
            )
        for cell, meaning in table.items():
            _plain(meaning, f"[values.{key}] {cell!r}", name)
    for key, value in _table(data, "defaults", name, fields).items():
        _plain(value, f"[defaults] {key}", name)
    records = data.get("records")
    if records is not None and records not in RECORDS:
        raise MappingError(f"{name}: records = {records!r}; it must be one of {', '.join(RECORDS)}")
    units = _table(data, "units", name, fields)
    species = _table(data, "species", name)
    return Mapping(
        columns=single,
        units={k: _scalar(v, f"[units] {k}", name) for k, v in units.items()},
        values={k: {str(cell): meaning for cell, meaning in v.items()} for k, v in values.items()},
        species={str(k): _scalar(v, f"[species] {k!r}", name) for k, v in species.items()},
        defaults=_table(data, "defaults", name, fields),
        crs=_scalar(data["crs"], "crs", name) if data.get("crs") else None,
        encoding=_scalar(data["encoding"], "encoding", name) if data.get("encoding") else None,
        layer=_scalar(data["layer"], "layer", name) if data.get("layer") else None,
        records=records,
        combined=combined,
    )


def _table(
    data: dict[str, Any], section: str, name: str, keys: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """A section that must be a table, whose keys (when ``keys`` is given) must be fields."""
    table = data.get(section) or {}
    if not isinstance(table, dict):
        raise MappingError(
            f"{name}: [{section}] must be a table ({SECTIONS[section]}), "
            f"not {type(table).__name__} {table!r}"
        )
    for key in table:
        if keys is not None and key not in keys:
            known = ", ".join(dict.fromkeys(keys))
            raise MappingError(f"{name}: [{section}] {key!r} is not a field; fields: {known}")
    return table


def _columns(columns: dict[str, Any], name: str) -> tuple[dict[str, str], dict[str, tuple]]:
    """Split ``[columns]`` into one column per field and fields made of several columns."""
    single: dict[str, str] = {}
    combined: dict[str, tuple[str, ...]] = {}
    for key, source in columns.items():
        if isinstance(source, list) and source and all(isinstance(s, str) and s for s in source):
            if len(source) == 1:
                single[key] = source[0]
            else:
                combined[key] = tuple(source)
        elif isinstance(source, str | int) and not isinstance(source, bool):
            single[key] = str(source)
        else:
            raise MappingError(
                f"{name}: [columns] {key} = {source!r}; give a column name "
                f'({key} = "Column") or a list of column names ({key} = ["Genus", "Species"])'
            )
    return single, combined


def _plain(value: Any, key: str, name: str) -> None:
    """A meaning or default is one value (text, number, yes/no), never a list or table."""
    if not isinstance(value, str | int | float | bool):
        raise MappingError(f"{name}: {key} = {value!r}; it must be a single text or number")


def _scalar(value: Any, key: str, name: str) -> str:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise MappingError(f"{name}: {key} = {value!r}; it must be a single text or number")


@dataclass(frozen=True)
class Column:
    """One column the import reads: its name, the field it holds, the factor to our unit.

    ``parts`` names the file's columns when the mapping joins several into this one field
    (``source`` is then "Genus + Species", the name reports cite); ``unit`` is the unit the
    column name or the mapping gave, ``None`` when the registry's own is assumed.
    """

    source: str
    field: str
    factor: float = 1.0
    unit: str | None = None  # the file's unit when not the registry's (beside converted values)
    parts: tuple[str, ...] = ()


def tokens(name: str) -> list[str]:
    return [t for t in _TOKENS.split(fold(name).replace("_", " ")) if t]


def words(name: str) -> set[str]:
    """A column name's folded words, camelCase split too ("InventoryDate": inventory, date)."""
    spaced = re.sub(r"(?<=[a-zа-я])(?=[A-ZА-Я])", " ", name)
    return set(tokens(spaced))


def recognise(name: str, rules: tuple[tuple[str, tuple[str, ...]], ...] = RULES) -> Column | None:
    """The field a column name means (``ДИАМ_СМ`` → trunk diameter in cm), or ``None``."""
    parts = tokens(name)
    if not parts:
        return None
    if rules is RULES:
        location = _location(parts)
        if location:
            return Column(name, location)
    for field_name, prefixes in rules:
        if _matches(parts, field_name, prefixes):
            factor, unit = _unit_factor(field_name, parts[1:])
            return Column(name, field_name, factor, LATIN_UNITS.get(unit, unit) or None)
    return None


def _location(parts: list[str]) -> str | None:
    """A column holding a whole location: WKT, or a coordinate pair (order by the name)."""
    if parts[0].startswith(WKT_WORDS):
        return "wkt"
    lat = [i for i, p in enumerate(parts) if p.startswith(LAT_WORDS)]
    lon = [i for i, p in enumerate(parts) if p.startswith(LON_WORDS)]
    if lat and lon:
        return "lat_lon" if lat[0] < lon[0] else "lon_lat"
    if parts[0] in {"latlon", "latlng"}:
        return "lat_lon"
    if parts[0] in {"lonlat", "lnglat"}:
        return "lon_lat"
    if parts[0].startswith(PAIR_WORDS):
        return "coordinates"  # a pair whose order the name does not say: only proposed
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
    named = mapping.columns | mapping.combined | mapping.defaults
    if geometry_type not in POLYGONAL or "species" in named:
        return "plants"
    green = {n: c.field for n in names if (c := recognise(n, GREEN_RULES))}
    if "name" not in green.values():
        return "plants"
    species = [n for n in names if (c := recognise(n)) and c.field == "species"]
    return (
        "plants" if any(green.get(n) not in ("name", "kind") for n in species) else "green_spaces"
    )
