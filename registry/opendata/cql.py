"""CQL2 filters (OGC API – Features Part 3) as SQL conditions on a collection's published columns.

The ``cql2`` library parses and validates the text and JSON encodings; this module walks the
standard's JSON form and maps it onto SQLAlchemy expressions. Only a collection's properties that
the reader may see can be named (``Collection.prop``: the public never reaches internal fields),
each standing for the SQL of the fixed catalogue; every literal is a bound parameter, so nothing a
client sends becomes SQL text. Anything else (an unknown property, an operator not offered, a
value of the wrong type) is an ``InvalidValue`` for ``filter`` that says what and why.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import cql2
import shapely
from sqlalchemy import (
    Text,
    and_,
    any_,
    bindparam,
    cast,
    false,
    func,
    literal_column,
    not_,
    or_,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from gis import crs as crs_
from registry.errors import InvalidValue
from registry.opendata.collections import Collection, Property

LANGUAGES = ("cql2-text", "cql2-json")
GEOMETRY = "geometry"  # the queryable naming a collection's geometry
COMPARISONS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
SPATIAL = {
    "s_intersects": "ST_Intersects",
    "s_disjoint": "ST_Disjoint",
    "s_equals": "ST_Equals",
    "s_touches": "ST_Touches",
    "s_within": "ST_Within",
    "s_contains": "ST_Contains",
    "s_overlaps": "ST_Overlaps",
    "s_crosses": "ST_Crosses",
}
SUPPORTED = "and, or, not, =, <>, <, <=, >, >=, like, in, between, is null, " + ", ".join(SPATIAL)
DIALECT = postgresql.dialect(paramstyle="named")  # :name placeholders, as text() reads them
NUMERIC = ("integer", "number")


@dataclass(frozen=True)
class CqlFilter:
    """A parsed ``filter``: what the client sent, and the condition it stands for."""

    source: str
    condition: ColumnElement[bool]

    def sql(self) -> tuple[str, dict[str, Any]]:
        """The condition as SQL with ``:name`` placeholders, and the values bound to them."""
        compiled = self.condition.compile(dialect=DIALECT)
        return str(compiled), dict(compiled.params)


def filter_language(raw: str | None) -> str:
    """``filter-lang``: cql2-text when not given; checked even without a ``filter`` (a
    parameter the registry would silently ignore is a mistake the client should hear of)."""
    language = raw or "cql2-text"
    if language not in LANGUAGES:
        raise InvalidValue("filter-lang", f"must be one of {', '.join(LANGUAGES)}", language)
    return language


def parse_filter(
    collection: Collection,
    raw: str,
    language: str | None,
    internal: bool,
    filter_crs: crs_.Crs = crs_.DEFAULT,
) -> CqlFilter:
    """Parse ``raw`` (``filter``) in ``language`` (``filter-lang``) against ``collection``."""
    language = filter_language(language)
    try:
        expression = cql2.parse_text(raw) if language == "cql2-text" else cql2.parse_json(raw)
        expression.validate()
    except (cql2.ParseError, cql2.ValidationError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:300]
        raise InvalidValue("filter", f"is not valid {language}: {reason}", raw) from None
    translation = _Translation(collection, internal, filter_crs, raw)
    try:
        return CqlFilter(raw, translation.condition(expression.to_json()))
    except (IndexError, KeyError, TypeError) as exc:  # an operator short of its arguments
        raise translation.refuse(f"is malformed ({type(exc).__name__}: {exc})") from None


class _Translation:
    """One filter's walk: the collection's allow-listed columns and numbered bound values."""

    def __init__(self, collection: Collection, internal: bool, crs: crs_.Crs, raw: str) -> None:
        self.collection = collection
        self.internal = internal
        self.crs = crs
        self.raw = raw
        self.bound = 0

    def refuse(self, reason: str) -> InvalidValue:
        return InvalidValue("filter", reason, self.raw)

    def bind(self, value: object) -> ColumnElement[Any]:
        self.bound += 1
        return bindparam(f"cql_{self.bound}", value, type_=NullType())  # no ::cast after it

    def condition(self, node: object) -> ColumnElement[bool]:
        if isinstance(node, bool):
            return true() if node else false()
        if not isinstance(node, dict) or "op" not in node:
            raise self.refuse(f"expected a condition, found {json.dumps(node, ensure_ascii=False)}")
        op, args = str(node["op"]), list(node.get("args", []))
        if op in ("and", "or"):
            parts = [self.condition(arg) for arg in args]
            return and_(*parts) if op == "and" else or_(*parts)
        if op == "not":
            return not_(self.condition(args[0]))
        if op in COMPARISONS:
            return self.compare(op, args[0], args[1])
        if op == "like":
            column, prop = self.property(args[0])
            self.expect_kind(prop, ("string",), "like")
            return column.like(self.bind(self.literal(args[1], prop)))
        if op == "in":
            column, prop = self.property(args[0])
            if not isinstance(args[1], list) or not args[1]:
                raise self.refuse("IN needs a list of values")
            return column == any_(self.bind([self.literal(v, prop) for v in args[1]]))
        if op == "between":
            column, prop = self.property(args[0])
            self.expect_kind(prop, (*NUMERIC, "date-time"), "between")
            low, high = (self.bind(self.literal(v, prop)) for v in args[1:3])
            return column.between(low, high)
        if op == "isNull":
            return self.property(args[0])[0].is_(None)
        if op in SPATIAL:
            shapes = [self.shape(arg) for arg in args[:2]]
            return self.indexed(op, args[:2], getattr(func, SPATIAL[op])(*shapes), shapes)
        raise self.refuse(f"the operator {op!r} is not supported; supported: {SUPPORTED}")

    def indexed(
        self, op: str, args: list, test: ColumnElement[Any], shapes: list[ColumnElement[Any]]
    ) -> ColumnElement[Any]:
        """``test`` with the box lookup that lets the collection's spatial index find the
        candidates, when it is kept on a Web Mercator copy (plants): every predicate but
        ``s_disjoint`` implies that the boxes overlap."""
        mercator = self.collection.mercator
        at = [isinstance(a, dict) and a.get("property") == GEOMETRY for a in args]
        if not mercator or op == "s_disjoint" or at.count(True) != 1:
            return test
        other = shapes[at.index(False)]
        return and_(literal_column(mercator).op("&&")(func.jasyl_mercator_box(other)), test)

    def property(self, node: object) -> tuple[ColumnElement[Any], Property]:
        """The column behind ``{"property": name}``; only the reader's queryables exist."""
        if not isinstance(node, dict) or "property" not in node:
            raise self.refuse(f"expected a property, found {json.dumps(node, ensure_ascii=False)}")
        name = str(node["property"])
        if name == GEOMETRY:
            raise self.refuse(f"{GEOMETRY!r} can only be used in spatial functions ({SUPPORTED})")
        prop = self.collection.prop(name, self.internal)
        if prop is None:
            names = ", ".join(queryable_names(self.collection, self.internal))
            raise self.refuse(
                f"{name!r} is not a queryable of {self.collection.id}; queryables: {names}"
            )
        return literal_column(prop.sql), prop

    def expect_kind(self, prop: Property, kinds: tuple[str, ...], op: str) -> None:
        if prop.type not in kinds:
            raise self.refuse(f"{op.upper()} does not apply to {prop.name} ({prop.type})")

    def compare(self, op: str, left: object, right: object) -> ColumnElement[bool]:
        is_prop = [isinstance(side, dict) and "property" in side for side in (left, right)]
        if not any(is_prop):
            raise self.refuse("a comparison needs a property on at least one side")
        if all(is_prop):
            (a, first), (b, second) = self.property(left), self.property(right)
            if first.type != second.type and not {first.type, second.type} <= set(NUMERIC):
                raise self.refuse(f"{first.name} ({first.type}) and {second.name} "
                                  f"({second.type}) cannot be compared")  # fmt: skip
            return COMPARISONS[op](a, b)
        if is_prop[0]:
            column, prop = self.property(left)
            return COMPARISONS[op](column, self.bind(self.literal(right, prop)))
        column, prop = self.property(right)
        return COMPARISONS[op](self.bind(self.literal(left, prop)), column)

    def literal(self, value: object, prop: Property) -> object:
        """``value`` in ``prop``'s type (whole numbers stay integers, so indexes apply)."""
        kind = prop.type
        if kind in NUMERIC and isinstance(value, int | float) and not isinstance(value, bool):
            return int(value) if kind == "integer" and float(value).is_integer() else value
        if kind == "string" and isinstance(value, str):
            return value
        if kind == "boolean" and isinstance(value, bool):
            return value
        if kind == "date-time" and isinstance(value, dict) and {"date", "timestamp"} & set(value):
            return self.instant(value)
        shown = json.dumps(value, ensure_ascii=False)
        article = "an" if kind[0] in "aeiou" else "a"
        raise self.refuse(f"{prop.name} is {article} {kind}; {shown} is not")

    def instant(self, value: dict[str, Any]) -> date | datetime:
        """``{"date": …}`` or ``{"timestamp": …}`` (RFC 3339; UTC when no offset is given)."""
        try:
            if "date" in value:
                return date.fromisoformat(str(value["date"]))
            stamp = datetime.fromisoformat(str(value["timestamp"]).replace("Z", "+00:00"))
        except ValueError as exc:
            raise self.refuse(f"not a valid date or timestamp: {exc}") from None
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)

    def shape(self, node: object) -> ColumnElement[Any]:
        """The collection's geometry, a GeoJSON geometry or a ``BBOX`` (in ``filter-crs``)."""
        if isinstance(node, dict) and "property" in node:
            if node["property"] != GEOMETRY:
                raise self.refuse(f"spatial functions take the property {GEOMETRY!r}, "
                                  f"not {node['property']!r}")  # fmt: skip
            return literal_column(self.collection.geometry)
        if isinstance(node, dict) and "bbox" in node:
            box = [float(v) for v in node["bbox"]]
            box = [box[0], box[1], box[3], box[4]] if len(box) == 6 else box
            if self.crs.lat_first:
                box = [box[1], box[0], box[3], box[2]]
            corners = [self.bind(v) for v in box]
            return self.to_storage(func.ST_MakeEnvelope(*corners, self.bind(self.crs.srid)))
        if isinstance(node, dict) and "type" in node:
            text = json.dumps(node)
            try:
                parsed = shapely.from_geojson(text)
            except shapely.errors.GEOSException as exc:
                raise self.refuse(f"not a valid GeoJSON geometry ({exc})") from None
            if not shapely.is_valid(parsed):
                raise self.refuse(f"not a valid geometry: {shapely.is_valid_reason(parsed)}")
            parsed = func.ST_GeomFromGeoJSON(cast(self.bind(text), Text))
            geometry = func.ST_SetSRID(parsed, self.bind(self.crs.srid))
            if self.crs.lat_first:
                geometry = func.ST_FlipCoordinates(geometry)
            return self.to_storage(geometry)
        raise self.refuse(f"expected a geometry, found {json.dumps(node, ensure_ascii=False)}")

    def to_storage(self, geometry: ColumnElement[Any]) -> ColumnElement[Any]:
        return geometry if self.crs.srid == 4326 else func.ST_Transform(geometry, 4326)


def queryable_names(collection: Collection, internal: bool) -> list[str]:
    return [GEOMETRY, *(p.name for p in collection.visible(internal))]
