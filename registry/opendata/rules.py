"""Reading the OGC API query parameters into a ``FeatureQuery``; pure, no database.

Every refusal is an ``InvalidValue`` naming the parameter, why, and what was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from gis import crs as crs_
from registry.errors import InvalidValue
from registry.opendata.collections import Collection
from registry.opendata.cql import CqlFilter, filter_language, parse_filter

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
STANDARD_PARAMETERS = frozenset(
    {"f", "limit", "bbox", "bbox-crs", "crs", "datetime", "after", "lang"}
    | {"filter", "filter-lang", "filter-crs"}
)
TRUE_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass(frozen=True)
class FeatureQuery:
    """What a client asked of a collection: a window, a time span, attribute values, a page."""

    limit: int = DEFAULT_LIMIT
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: crs_.Crs = crs_.DEFAULT
    start: datetime | None = None
    end: datetime | None = None
    filters: dict[str, object] = field(default_factory=dict)
    after: int | None = None
    crs: crs_.Crs = crs_.DEFAULT
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    cql: CqlFilter | None = None  # ``filter`` (OGC API – Features Part 3)


def parse_limit(raw: str | None, maximum: int = MAX_LIMIT) -> int:
    """``limit``: 1 or more; above the maximum it is clamped, as OGC API Features allows."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise InvalidValue("limit", "must be a whole number", raw) from None
    if value < 1:
        raise InvalidValue("limit", "must be at least 1", raw)
    return min(value, maximum)


def parse_bbox(raw: str, bbox_crs: crs_.Crs) -> tuple[float, float, float, float]:
    """``bbox``: 4 numbers (or 6, heights ignored), in ``bbox_crs`` axis order."""
    try:
        numbers = [float(part) for part in raw.split(",")]
    except ValueError:
        raise InvalidValue("bbox", "must be 4 or 6 comma-separated numbers", raw) from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise InvalidValue("bbox", "must be 4 or 6 comma-separated numbers", raw)
    if bbox_crs.lat_first:
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    x1, y1, x2, y2 = numbers
    if y1 > y2 or (bbox_crs.srid != 4326 and x1 > x2):
        raise InvalidValue("bbox", "the lower corner must come before the upper corner", raw)
    return x1, y1, x2, y2


def parse_instant(raw: str, name: str = "datetime") -> datetime | None:
    """One end of a ``datetime`` interval: RFC 3339, or a date; ``..`` or empty is open."""
    if raw in ("", ".."):
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidValue(
            name, "must be an RFC 3339 date-time, a date, or an interval a/b", raw
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_datetime(raw: str) -> tuple[datetime | None, datetime | None]:
    """``datetime``: an instant (a date means that whole day) or an interval ``a/b``."""
    if "/" in raw:
        first, _, second = raw.partition("/")
        start, end = parse_instant(first), parse_instant(second)
        if start and end and start > end:
            raise InvalidValue("datetime", "the interval ends before it starts", raw)
        return start, end
    instant = parse_instant(raw)
    if len(raw) == 10 and instant is not None:
        return instant, instant.replace(hour=23, minute=59, second=59, microsecond=999999)
    return instant, instant


def parse_crs(raw: str | None, name: str) -> crs_.Crs:
    if not raw:
        return crs_.DEFAULT
    found = crs_.lookup(raw)
    if found is None:
        raise InvalidValue(name, f"is not offered; use one of {', '.join(crs_.SUPPORTED)}", raw)
    return found


def parse_value(name: str, kind: str, raw: str) -> object:
    """A property filter's value in the property's own type; ``1,2,3`` is any of (numbers)."""
    if kind in ("integer", "number") and "," in raw:
        return [parse_value(name, kind, part.strip()) for part in raw.split(",") if part.strip()]
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        raise InvalidValue(name, f"must be a {kind}", raw) from None
    if kind == "boolean":
        if raw.lower() not in TRUE_WORDS:
            raise InvalidValue(name, "must be true or false", raw)
        return TRUE_WORDS[raw.lower()]
    if kind == "date-time":
        raise InvalidValue(name, "cannot be filtered on; use datetime=", raw)
    return raw


def parse_query(
    collection: Collection, args: Mapping[str, str], internal: bool, max_limit: int = MAX_LIMIT
) -> FeatureQuery:
    """Turn request parameters into a ``FeatureQuery``; unknown parameters are refused."""
    filters: dict[str, object] = {}
    for name, raw in args.items():
        if name in STANDARD_PARAMETERS:
            continue
        prop = collection.prop(name, internal)
        if prop is None:
            names = ", ".join(p.name for p in collection.visible(internal))
            raise InvalidValue(name, f"is not a parameter of {collection.id}; properties: {names}")
        filters[name] = parse_value(name, prop.type, raw)
    bbox_crs = parse_crs(args.get("bbox-crs"), "bbox-crs")
    start = end = None
    if args.get("datetime"):
        start, end = parse_datetime(args["datetime"])
    cql = None
    filter_crs = parse_crs(args.get("filter-crs"), "filter-crs")  # checked even when unused
    filter_language(args.get("filter-lang"))  # likewise
    if args.get("filter"):
        cql = parse_filter(
            collection, args["filter"], args.get("filter-lang"), internal, filter_crs
        )
    after = args.get("after")
    if after is not None and not after.lstrip("-").isdigit():
        raise InvalidValue("after", "must be a feature id from a next link", after)
    return FeatureQuery(
        limit=parse_limit(args.get("limit"), max_limit),
        bbox=parse_bbox(args["bbox"], bbox_crs) if args.get("bbox") else None,
        bbox_crs=bbox_crs,
        start=start,
        end=end,
        filters=filters,
        after=int(after) if after is not None else None,
        crs=parse_crs(args.get("crs"), "crs"),
        cql=cql,
    )


MAP_FILTERS = {
    "species": "species_id",
    "status": "status",
    "region": "region",
    "condition": "condition",
}


def parse_map_filters(
    collection: Collection, args: Mapping[str, str], internal: bool
) -> FeatureQuery:
    """The map's filter form (species id, condition list, status, region, planted from/to) as a
    ``FeatureQuery``, so "download what I see" exports exactly what the tiles show."""
    renamed = {MAP_FILTERS.get(k, k): v for k, v in args.items() if v not in ("", None)}
    lower, upper = renamed.pop("year_from", None), renamed.pop("year_to", None)
    query = parse_query(collection, renamed, internal)
    if lower is None and upper is None:
        return query
    if collection.prop("planting_year", internal) is None:
        raise InvalidValue("year_from", f"{collection.id} has no planting year")
    years = (
        parse_value("year_from", "integer", lower) if lower else None,
        parse_value("year_to", "integer", upper) if upper else None,
    )
    return FeatureQuery(**{**query.__dict__, "ranges": {"planting_year": years}})
