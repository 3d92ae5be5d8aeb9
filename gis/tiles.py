"""Mapbox vector tiles built by PostGIS (``ST_AsMVT``); Python only picks the query and serves.

The SQL lives in ``gis/sql/*.sql`` and is read once. Low zooms get per-cell aggregates so a tile
never carries more than a few thousand features, whatever the size of the inventory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.engine import Connection

from registry.benefits.rules import CO2_CLASS_BREAKS_KG

SQL_DIR = Path(__file__).with_name("sql")
WORLD_METRES = 40_075_016.685578488
RAW_PLANTS_FROM_ZOOM = 13
# z13 and z14 draw a plant per 2-pixel dot (``plant_dots``); from z15 every plant is drawn.
DOTS_UNTIL_ZOOM = 14
DOTS_PER_TILE = 128
GRID_CELLS_PER_TILE = 64
MAX_ZOOM = 22
# Low zooms add up precomputed cells of the last aggregated zoom's grid (``gis.plant_grid``).
BASE_ZOOM = RAW_PLANTS_FROM_ZOOM - 1
BASE_CELL_METRES = WORLD_METRES / 2**BASE_ZOOM / GRID_CELLS_PER_TILE


@cache
def load_sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


@dataclass(frozen=True)
class TileAddress:
    z: int
    x: int
    y: int

    def __post_init__(self) -> None:
        if not 0 <= self.z <= MAX_ZOOM:
            raise ValueError(f"zoom {self.z} is outside 0–{MAX_ZOOM}")
        limit = 2**self.z
        if not (0 <= self.x < limit and 0 <= self.y < limit):
            raise ValueError(f"tile {self.x}/{self.y} does not exist at zoom {self.z}")

    @property
    def cell_metres(self) -> float:
        return WORLD_METRES / 2**self.z / GRID_CELLS_PER_TILE


LAYERS = ("plants", "green_spaces")
PLANT_QUERIES = (
    "plants_tile",
    "plants_dots_tile",
    "plant_dots_from_plants",
    "plants_grid_tile",
    "plants_cells_tile",
    "plant_filters",
    "plant_co2",
)
COLOURS = ("co2",)  # colour modes whose attribute the tiles carry only when asked (costly)
CONSTANTS = ", (SELECT jasyl_benefit_constants() AS k OFFSET 0) kc"
DIRTY_REGIONS = "SELECT region_id FROM plant_grid_state WHERE dirty"


NO_FILTERS = {
    "species": None,
    "conditions": None,
    "statuses": None,
    "regions": None,
    "year_from": None,
    "year_to": None,
}


@cache
def plant_filters() -> str:
    """The shared attribute filters of the plant tiles (``plant_filters.sql`` without its
    comment line), for splicing in at ``/*filters*/``."""
    return load_sql("plant_filters").split("\n", 1)[1]


@cache
def plant_sql(name: str) -> str:
    """A plant tile query with the shared attribute filters spliced in."""
    return load_sql(name).replace("/*filters*/", plant_filters())


def dots_from_plants(filters: str = "") -> str:
    """``plant_dots_from_plants.sql`` with the map's attribute filters (or none)."""
    return load_sql("plant_dots_from_plants").replace("/*filters*/", filters)


@cache
def plant_dots_sql() -> str:
    """The dot tile: stored dots of current cells, and the others made from the plants."""
    fresh = dots_from_plants(plant_filters())
    return load_sql("plants_dots_tile").replace("/*from_plants*/", fresh)


@cache
def with_co2(query: str) -> str:
    """``query`` (the plant or dot tile) with each plant's CO₂-stored class (``co2``) beside
    its other attributes: computed per plant by ``jasyl_plant_benefit`` (the card's figures),
    so only the tiles of the map's "CO₂ stored" mode pay for it. A dot takes the class of the
    plant it draws."""
    column = load_sql("plant_co2").split("\n", 2)[2].strip()
    dot = f", (SELECT {column} FROM plants p WHERE p.id = d.plant_id) AS co2"  # noqa: S608
    return (
        query.replace("/*co2*/", f", {column} AS co2")
        .replace("/*co2_dot*/", dot)
        .replace("/*co2_from*/", CONSTANTS)
    )


def dot_metres(z: int) -> float:
    """The side of a plant dot at zoom ``z``: 2 of the tile's 256 screen pixels."""
    return WORLD_METRES / 2**z / DOTS_PER_TILE


def tile_query(
    layer: str,
    tile: TileAddress,
    internal: bool,
    filters: Mapping[str, Any] | None = None,
    colour: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The SQL drawing ``tile`` of ``layer`` and its parameters (see ``render_tile``)."""
    params: dict[str, Any] = {"z": tile.z, "x": tile.x, "y": tile.y, "internal": internal}
    if colour is not None and colour not in COLOURS:
        raise ValueError(f"no colour mode {colour!r} in the tiles; modes: {', '.join(COLOURS)}")
    if layer == "plants":
        params.update({**NO_FILTERS, **(filters or {})})
        if tile.z < RAW_PLANTS_FROM_ZOOM and not filters:
            query = load_sql("plants_cells_tile")
            params.update(base=BASE_CELL_METRES, factor=2 ** (BASE_ZOOM - tile.z))
        elif tile.z < RAW_PLANTS_FROM_ZOOM:
            query, params["cell"] = plant_sql("plants_grid_tile"), tile.cell_metres
        elif tile.z <= DOTS_UNTIL_ZOOM:
            query = plant_dots_sql()
            params.update(dot=dot_metres(tile.z), filtered=bool(filters))
        else:
            query = plant_sql("plants_tile")
        if colour == "co2" and tile.z >= RAW_PLANTS_FROM_ZOOM:
            query, params["co2_breaks"] = with_co2(query), list(CO2_CLASS_BREAKS_KG)
    elif layer in LAYERS:
        query = load_sql(f"{layer}_tile")
    else:
        raise KeyError(layer)
    return query, params


def render_tile(
    connection: Connection,
    layer: str,
    tile: TileAddress,
    internal: bool,
    filters: Mapping[str, Any] | None = None,
    colour: str | None = None,
) -> bytes:
    """The tile's bytes (possibly empty) for ``layer``; ``internal`` includes unpublished rows.

    ``filters`` (plants only) narrows by species, condition, status, region and planting year;
    each value is a list or ``None`` for "any" (see ``NO_FILTERS``). Unfiltered low zooms come
    from the precomputed grid cells (regions still dirty are aggregated on the fly); filtered
    ones are aggregated on the fly. ``colour`` "co2" adds each plant's class of CO₂ stored
    (from z13; lower zooms draw cells, which have no such class).
    """
    query, params = tile_query(layer, tile, internal, filters, colour)
    data = connection.execute(statement(query), params).scalar()
    return bytes(data or b"")


GRID_DIRTY = "EXISTS (SELECT 1 FROM plant_grid_state WHERE dirty)"
DOTS_STALE = (
    "EXISTS (SELECT 1 FROM jasyl_dot_cells(ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096)"
    "::box2d) AS c WHERE NOT c.fresh)"
)


@cache
def statement(query: str) -> TextClause:
    """The parsed statement of a tile query: SQLAlchemy's ``text`` scans the few kilobytes of a
    tile query for bind parameters each time it is built, ~0.3 ms a tile, so build it once."""
    return text(query)


@cache
def versioned_sql(query: str) -> str:
    """``query`` (a tile's SQL from ``gis/sql``) with the tile's version beside its bytes, and
    whether a precomputed layer it reads (grid cells, dots) waits for a rebuild."""
    if "plant_grid_cells" in query:
        dirty = GRID_DIRTY
    else:
        dirty = DOTS_STALE if "plant_dots" in query else "false"
    combined = load_sql("tile_with_version").replace("/*version*/", load_sql("tile_version"))
    return combined.replace("/*grid_dirty*/", dirty).replace("/*tile*/", query)


@dataclass(frozen=True)
class RenderedTile:
    """A tile's bytes, their version, and whether the precomputed plants behind it (grid cells at
    low zooms, dots at z13–14) wait for a rebuild."""

    version: TileVersion
    body: bytes
    behind: bool


def render_versioned(
    connection: Connection,
    layer: str,
    tile: TileAddress,
    internal: bool,
    filters: Mapping[str, Any] | None = None,
    colour: str | None = None,
) -> RenderedTile:
    """The tile and its version from ONE statement, so they share one snapshot without a
    transaction around them (a request then costs one round trip: no BEGIN, no ROLLBACK)."""
    query, params = tile_query(layer, tile, internal, filters, colour)
    holder, version, data, behind = connection.execute(
        statement(versioned_sql(query)), {**params, "layer": layer}
    ).one()
    return RenderedTile(TileVersion(layer, holder, int(version)), bytes(data or b""), behind)


@dataclass(frozen=True)
class TileVersion:
    """What a tile's bytes depend on: its data's version where it was read, and the query."""

    layer: str
    holder: str
    version: int

    @property
    def key(self) -> str:
        """Short, never reused for other bytes: holder, query text and data version."""
        origin = f"{self.holder}|{tile_sql_fingerprint(self.layer)}".encode()
        return f"{hashlib.sha1(origin).hexdigest()[:12]}-{self.version}"  # noqa: S324 - a name


def tile_version(connection: Connection, layer: str, tile: TileAddress) -> TileVersion:
    """The version of ``tile``'s data, changed by the transaction of any write inside it.

    Read it in the same snapshot (transaction, REPEATABLE READ) as the tile it names.
    """
    if layer not in LAYERS:
        raise KeyError(layer)
    params = {"z": tile.z, "x": tile.x, "y": tile.y, "layer": layer}
    holder, version = connection.execute(text(load_sql("tile_version")), params).one()
    return TileVersion(layer, holder, int(version))


@cache
def tile_sql_fingerprint(layer: str) -> str:
    """A digest of the queries that draw ``layer``: new code never reads old cached tiles."""
    names = [f"{layer}_tile"] if layer != "plants" else list(PLANT_QUERIES)
    sql = "".join(load_sql(name) for name in names)
    return hashlib.sha1(sql.encode()).hexdigest()[:12]  # noqa: S324 - a name, not a secret
