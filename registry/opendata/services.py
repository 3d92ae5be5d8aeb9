"""Reading the published layers: GeoJSON pages built by PostGIS, extents, rows for exports.

Pages are keyed on the collection's id (``WHERE id > :after ORDER BY id``) so the millionth
feature costs what the first does; there is no OFFSET anywhere. Who sees what is asked of
``registry.access`` once per call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg.errors import QueryCanceled
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from gis import crs as crs_
from gis.export import FORMATS, TEXT_FORMATS, Field, shorten_names, stream_batches, write_batches
from registry.access import Actor, sees_internal_fields
from registry.config import load_limits
from registry.errors import InvalidValue, NotFound
from registry.opendata.collections import Collection
from registry.opendata.rules import FeatureQuery
from registry.regions.services import resolve_region


@dataclass(frozen=True)
class Page:
    """One page of features as GeoJSON text, and where the next page starts (if any)."""

    features: list[str]
    next_after: int | None

    @property
    def number_returned(self) -> int:
        return len(self.features)


def _properties_sql(collection: Collection, internal: bool) -> str:
    pairs = ", ".join(f"'{p.name}', {p.sql}" for p in collection.visible(internal))
    return f"json_build_object({pairs})"


def _feature_sql(collection: Collection, internal: bool, crs: crs_.Crs) -> str:
    geometry = crs_.geometry_sql(collection.geometry, crs)
    return (
        f"json_build_object('type', 'Feature', 'id', {collection.key}, "
        f"'geometry', ST_AsGeoJSON({geometry}, {crs.decimals})::json, "
        f"'properties', {_properties_sql(collection, internal)})::text"
    )


def _conditions(
    session: Session, collection: Collection, query: FeatureQuery, internal: bool
) -> tuple[list[str], dict[str, Any]]:
    """WHERE clauses and their parameters; values are always bound, never spliced."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if collection.published and not internal:
        clauses.append(collection.published)
    if query.bbox is not None:
        envelope = "ST_MakeEnvelope(:x1, :y1, :x2, :y2, :bbox_srid)"
        if query.bbox_crs.srid != 4326:
            envelope = f"ST_Transform({envelope}, 4326)"
        clauses.append(collection.overlaps_box(envelope))
        clauses.append(f"ST_Intersects({collection.geometry}, {envelope})")
        x1, y1, x2, y2 = query.bbox
        params.update(x1=x1, y1=y1, x2=x2, y2=y2, bbox_srid=query.bbox_crs.srid)
    if collection.temporal and query.start is not None:
        clauses.append(f"{collection.temporal} >= :start")
        params["start"] = query.start
    if collection.temporal and query.end is not None:
        clauses.append(f"{collection.temporal} <= :end")
        params["end"] = query.end
    for number, (name, value) in enumerate(query.filters.items()):
        if name == "region" and collection.region:
            clauses.append(f"{collection.region} = :region_id")
            params["region_id"] = resolve_region(session, str(value)).id
            continue
        prop = collection.prop(name, internal)
        if isinstance(value, list):
            clauses.append(f"{prop.sql} = ANY(:f{number})")
        else:
            clauses.append(f"{prop.sql} = :f{number}")
        params[f"f{number}"] = value
    for number, (name, (lower, upper)) in enumerate(query.ranges.items()):
        prop = collection.prop(name, internal)
        if lower is not None:
            clauses.append(f"{prop.sql} >= :lo{number}")
            params[f"lo{number}"] = lower
        if upper is not None:
            clauses.append(f"{prop.sql} <= :hi{number}")
            params[f"hi{number}"] = upper
    if query.cql is not None:
        condition, bound = query.cql.sql()
        clauses.append(f"({condition})")
        params.update(bound)
    if query.after is not None:
        clauses.append(f"{collection.key} > :after")
        params["after"] = query.after
    return clauses, params


def _where(clauses: list[str]) -> str:
    return f"WHERE {' AND '.join(clauses)}" if clauses else ""


def feature_page(
    session: Session, actor: Actor, collection: Collection, query: FeatureQuery
) -> Page:
    """Up to ``query.limit`` features after ``query.after``, ordered by id."""
    internal = sees_internal_fields(actor)
    clauses, params = _conditions(session, collection, query, internal)
    params["fetch"] = query.limit + 1
    sql = (
        f"SELECT {collection.key} AS fid, "  # noqa: S608
        f"{_feature_sql(collection, internal, query.crs)} AS feature "
        f"FROM {collection.source} {_where(clauses)} ORDER BY {collection.key} LIMIT :fetch"
    )
    rows = session.execute(text(sql), params).all()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return Page([r.feature for r in rows], rows[-1].fid if more else None)


def feature(
    session: Session, actor: Actor, collection: Collection, fid: int, crs: crs_.Crs = crs_.DEFAULT
) -> str:
    """One feature as GeoJSON text; unpublished ones do not exist for the public."""
    internal = sees_internal_fields(actor)
    clauses = [f"{collection.key} = :fid"]
    if collection.published and not internal:
        clauses.append(collection.published)
    sql = (
        f"SELECT {_feature_sql(collection, internal, crs)} "  # noqa: S608
        f"FROM {collection.source} {_where(clauses)}"
    )
    found = session.execute(text(sql), {"fid": fid}).scalar()
    if found is None:
        raise NotFound(f"{collection.id} has no feature {fid}", collection=collection.id, id=fid)
    return found


def extent(session: Session, actor: Actor, collection: Collection) -> dict[str, Any]:
    """The collection's spatial (CRS84) and temporal extent, as OGC API writes it."""
    clauses = (
        [] if sees_internal_fields(actor) or not collection.published else [collection.published]
    )
    column = collection.temporal or "NULL::timestamptz"
    temporal = f"min({column}) AS t0, max({column}) AS t1"
    sql = (
        f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), t0, t1 FROM ("  # noqa: S608
        f"SELECT ST_Extent({collection.geometry}) AS e, {temporal} "
        f"FROM {collection.source} {_where(clauses)}) x"
    )
    x1, y1, x2, y2, t0, t1 = session.execute(text(sql)).one()
    result: dict[str, Any] = {
        "spatial": {
            "bbox": [[x1, y1, x2, y2] if x1 is not None else [46.5, 40.5, 87.4, 55.5]],
            "crs": crs_.CRS84,
        }
    }
    if collection.temporal:
        result["temporal"] = {
            "interval": [[t0.isoformat() if t0 else None, t1.isoformat() if t1 else None]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return result


EXPORT_BATCH = 5000  # rows read (and held) at a time by exports and downloads
STREAMED_FORMATS = tuple(TEXT_FORMATS)  # written as they are read: GeoJSON, CSV


def feature_rows(
    session: Session,
    actor: Actor,
    collection: Collection,
    query: FeatureQuery,
    batch: int | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Every matching row as ``{property: value, ..., "wkb": bytes}``, in batches, by keyset.

    The exports stream through this: memory holds one batch whatever the layer's size.
    """
    batch = batch or EXPORT_BATCH
    internal = sees_internal_fields(actor)
    columns = ", ".join(f'{p.sql} AS "{p.name}"' for p in collection.visible(internal))
    after = query.after
    while True:
        page_query = FeatureQuery(**{**query.__dict__, "after": after})
        clauses, params = _conditions(session, collection, page_query, internal)
        params["batch"] = batch
        sql = (
            f"SELECT {collection.key} AS fid, {columns}, "  # noqa: S608
            f"ST_AsBinary({crs_.geometry_sql(collection.geometry, query.crs)}) AS wkb "
            f"FROM {collection.source} {_where(clauses)} ORDER BY {collection.key} LIMIT :batch"
        )
        rows = [dict(r._mapping) for r in session.execute(text(sql), params)]
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        after = rows[-1]["fid"]


# numberMatched is optional in OGC API – Features and must be exact when given: it is counted
# only when the planner expects the count to be cheap, and under a time limit even then.
COUNT_COST_LIMIT = 5_000.0  # planner cost units (~ pages read); all of 1M plants cost ~32,000
COUNT_TIMEOUT_MS = 100
SET_TIMEOUT = text("SELECT set_config('statement_timeout', :ms, true)")


def number_matched(
    session: Session,
    actor: Actor,
    collection: Collection,
    query: FeatureQuery,
    cost_limit: float | None = None,
    timeout_ms: int | None = None,
) -> int | None:
    """How many features match ``query`` whatever the page, or ``None`` when counting is not cheap.

    The count runs in a savepoint that is always rolled back, so its ``statement_timeout``
    ends with it and a cancelled count leaves the page's transaction usable.
    """
    cost_limit = COUNT_COST_LIMIT if cost_limit is None else cost_limit
    timeout_ms = COUNT_TIMEOUT_MS if timeout_ms is None else timeout_ms
    unpaged = FeatureQuery(**{**query.__dict__, "after": None})
    clauses, params = _conditions(session, collection, unpaged, sees_internal_fields(actor))
    sql = f"SELECT count(*) FROM {collection.source} {_where(clauses)}"  # noqa: S608
    savepoint = session.begin_nested()
    try:
        plan = session.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"), params).scalar()
        if plan[0]["Plan"]["Total Cost"] > cost_limit:
            return None
        session.execute(SET_TIMEOUT, {"ms": str(timeout_ms)})
        return int(session.execute(text(sql), params).scalar())
    except OperationalError as exc:
        if not isinstance(exc.orig, QueryCanceled):
            raise
        return None
    finally:
        savepoint.rollback()


def count_rows(session: Session, actor: Actor, collection: Collection, query: FeatureQuery) -> int:
    """How many rows match (for an export's progress bar; never on the paging path)."""
    clauses, params = _conditions(session, collection, query, sees_internal_fields(actor))
    sql = f"SELECT count(*) FROM {collection.source} {_where(clauses)}"  # noqa: S608
    return int(session.execute(text(sql), params).scalar())


@dataclass(frozen=True)
class Export:
    files: list[Path]
    rows: int


def export_layer(
    session: Session,
    actor: Actor,
    collection: Collection,
    query: FeatureQuery,
    fmt: str,
    path: Path,
    on_start: Callable[[int], None] = lambda total: None,
    advance: Callable[[int], None] = lambda n: None,
) -> Export:
    """Write what ``actor`` may see of ``collection`` (filtered by ``query``) to ``path``.

    Rows stream by keyset batches straight into the file; ``on_start`` gets the row count first
    (for a progress bar), ``advance`` each batch's size.
    """
    if fmt not in FORMATS:
        raise InvalidValue("format", f"must be one of {', '.join(FORMATS)}", fmt)
    if not path.parent.is_dir():
        raise InvalidValue("output", "the folder does not exist", str(path.parent))
    internal = sees_internal_fields(actor)
    fields = [Field(p.name, p.type) for p in collection.visible(internal)]
    total = count_rows(session, actor, collection, query)
    check_sheet_rows(fmt, total, collection.id)
    on_start(total)
    written = 0

    def counted(n: int) -> None:
        nonlocal written
        written += n
        advance(n)

    batches = feature_rows(session, actor, collection, query)
    files = write_batches(path, fmt, collection.id, fields, batches, counted)
    mapping = import_mapping(collection, internal, fmt)
    if mapping:
        sidecar = path.with_suffix(".mapping.toml")
        sidecar.write_text(mapping, encoding="utf-8")
        files.append(sidecar)
    return Export(files, written)


def check_sheet_rows(fmt: str, total: int, layer: str) -> None:
    """An XLSX sheet ends at row 1,048,576: refuse a larger export before writing any of it
    (it was cut, or ran for minutes to fail), and say which formats hold it."""
    most = load_limits().xlsx_max_rows
    if fmt == "xlsx" and total > most:
        raise InvalidValue(
            "format",
            f"{layer} has {total:,} rows; an XLSX sheet holds at most {most:,} below its "
            "header (JASYL_XLSX_MAX_ROWS): download it as GeoPackage (gpkg) or CSV, or narrow it "
            "with filters",
            fmt,
        )


def stream_layer(
    session: Session, actor: Actor, collection: Collection, query: FeatureQuery, fmt: str
) -> Iterator[bytes]:
    """What ``actor`` may see of ``collection`` as GeoJSON or CSV chunks, one per keyset batch.

    For downloads: the first bytes leave before the second batch is read, and memory holds
    one batch whatever the layer's size. ``session`` must stay open while this is consumed.
    """
    if fmt not in STREAMED_FORMATS:
        raise InvalidValue("format", f"streams only as {' or '.join(STREAMED_FORMATS)}", fmt)
    fields = [Field(p.name, p.type) for p in collection.visible(sees_internal_fields(actor))]
    batches = feature_rows(session, actor, collection, query)
    return stream_batches(fmt, collection.id, fields, batches)


def import_mapping(collection: Collection, internal: bool, fmt: str) -> str:
    """A mapping file for ``jasyl import --mapping``: which column refills which field.

    Written beside every export of a layer the importer takes, so the file goes back in
    unchanged whatever the importer's guesses from column names would have been.
    """
    props = [p for p in collection.visible(internal) if p.import_field]
    if not props:
        return ""
    names = {p.name: p.name for p in props}
    if fmt == "shp":
        names = shorten_names(["id", *(p.name for p in collection.visible(internal))])
    lines = [f"# Import mapping for this {collection.id} export (jasyl import --mapping).", "",
             "[columns]"]  # fmt: skip
    lines += [f'{p.import_field} = "{names[p.name]}"' for p in props]
    if fmt in ("csv", "xlsx"):
        lines += ['x = "lon"', 'y = "lat"']
    return "\n".join(lines) + "\n"
