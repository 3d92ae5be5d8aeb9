"""A work area for offline use: its plants and green spaces, and the basemap tiles under them.

A forester picks a green space, their region or a rectangle drawn on the map; the phone is told
the area's size first (plants, green spaces, basemap tiles z13–z18, in bytes) and the download
is refused beyond ``JASYL_FIELD_AREA_MAX_PLANTS`` plants or ``JASYL_FIELD_BUDGET_MB`` in all.
An area holds only what the forester may read (``access.readable_regions``: a forester's own
region), so a rectangle over a regional border brings nobody else's trees.

Tiles are counted only for a self-hosted basemap (a file the app serves): the bytes the archive
holds over the area are measured, and the phone fetches them itself. A third party's tiles are
never fetched by area (OpenStreetMap's tile usage policy forbids bulk downloads): the phone keeps
only those the forester viewed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.basemap import TileRange, tile_ranges, tiles_held
from registry.access import Actor, readable_regions, require_signed_in
from registry.basemaps import Basemap
from registry.errors import InvalidValue, TooLarge

PLANT_JSON = """json_build_object(
    'id', p.id, 'version', p.version, 'region_id', p.region_id,
    'inventory_number', p.inventory_number, 'species_id', p.species_id,
    'green_space_id', p.green_space_id, 'planting_form', p.planting_form,
    'quantity', p.quantity, 'planting_year', p.planting_year, 'age_years', p.age_years,
    'height_m', p.height_m, 'trunk_diameter_cm', p.trunk_diameter_cm,
    'crown_diameter_m', p.crown_diameter_m, 'condition', p.condition,
    'hazardous', p.hazardous, 'status', p.status, 'address', p.address, 'notes', p.notes,
    'lon', round(ST_X(ST_PointOnSurface(p.geom))::numeric, 7),
    'lat', round(ST_Y(ST_PointOnSurface(p.geom))::numeric, 7))"""
SPACE_JSON = """json_build_object(
    'id', s.id, 'version', s.version, 'region_id', s.region_id, 'name', s.name,
    'category', s.category, 'kind', s.kind,
    'geometry', ST_AsGeoJSON(s.geom, 6)::json)"""
IN_SPACE = (
    "(p.green_space_id = :space"
    " OR ST_Intersects(p.geom, (SELECT geom FROM green_spaces WHERE id = :space)))"
)
IN_REGION = "p.region_id = :region"
IN_BOX = "p.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326)"
SPACE_IN_SPACE = "s.id = :space"
SPACE_IN_REGION = "s.region_id = :region"
SPACE_IN_BOX = "s.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326)"
READABLE = "(:every_region OR {t}.region_id = ANY(CAST(:regions AS integer[])))"
KINDS = (
    ("green_space", IN_SPACE, SPACE_IN_SPACE),
    ("region", IN_REGION, SPACE_IN_REGION),
    ("bbox", IN_BOX, SPACE_IN_BOX),
)
# One constant statement per kind of area (a plan each can use its index for).
COUNTS = {
    kind: text(
        f"SELECT (SELECT count(*) FROM plants p WHERE {plants}"  # noqa: S608 (constants)
        f" AND {READABLE.format(t='p')}),"
        f" (SELECT count(*) FROM green_spaces s WHERE {spaces} AND {READABLE.format(t='s')})"
    )
    for kind, plants, spaces in KINDS
}
CONTENTS = {
    kind: text(
        f"SELECT (SELECT coalesce(json_agg({PLANT_JSON} ORDER BY p.id), '[]')::text"  # noqa: S608
        f" FROM plants p WHERE {plants} AND {READABLE.format(t='p')}),"
        f" (SELECT coalesce(json_agg({SPACE_JSON} ORDER BY s.id), '[]')::text"
        f" FROM green_spaces s WHERE {spaces} AND {READABLE.format(t='s')})"
    )
    for kind, plants, spaces in KINDS
}
# The box the basemap tiles must cover: a rectangle is its own; a green space or region the
# extent of what the forester downloads of it.
EXTENTS = {
    kind: text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(g) AS e"  # noqa: S608
        f" FROM (SELECT p.geom AS g FROM plants p WHERE {plants} AND {READABLE.format(t='p')}"
        f" UNION ALL SELECT s.geom FROM green_spaces s WHERE {spaces}"
        f" AND {READABLE.format(t='s')}) AS kept) AS box"
    )
    for kind, plants, spaces in KINDS
}
BYTES_PER_PLANT = 420  # measured by bench.field: the JSON of one plant, about
BYTES_PER_SPACE = 2_000
TILE_ZOOMS = (13, 18)  # from a district's streets to a single tree's surroundings
MEASURE_AT_MOST = 50_000  # tile addresses looked up one by one; beyond, an estimate
BYTES_PER_TILE = 25_000  # a raster street tile, about (the estimate beyond MEASURE_AT_MOST)
MIB = 1024 * 1024


@dataclass(frozen=True)
class Area:
    """A work area: a green space, a region, or a box (west, south, east, north in degrees)."""

    green_space: int | None = None
    region: int | None = None
    bbox: tuple[float, float, float, float] | None = None

    @property
    def kind(self) -> str:
        chosen = [k for k in ("green_space", "region", "bbox") if getattr(self, k) is not None]
        if len(chosen) != 1:
            raise InvalidValue("area", "choose exactly one of green_space, region or bbox")
        return chosen[0]

    @property
    def parameters(self) -> dict[str, Any]:
        west, south, east, north = self.bbox or (None, None, None, None)
        if self.bbox is not None and not (west < east and south < north):
            raise InvalidValue(
                "bbox", "must be west,south,east,north with west < east, south < north"
            )
        return {
            "space": self.green_space,
            "region": self.region,
            "west": west,
            "south": south,
            "east": east,
            "north": north,
        }


@dataclass(frozen=True)
class AreaRules:
    """What bounds a download (``JASYL_FIELD_AREA_MAX_PLANTS``, ``JASYL_FIELD_BUDGET_MB``) and
    the basemap whose tiles go with it (None: no basemap is drawn), with whether its tiles are
    vector tiles (as its archive said when the app started)."""

    max_plants: int
    budget_mb: int
    basemap: Basemap | None = None
    vector_tiles: bool = False


def scoped(actor: Actor, area: Area) -> dict[str, Any]:
    """The area's query parameters with the regions ``actor`` may read."""
    regions = readable_regions(actor)
    return {
        **area.parameters,
        "every_region": regions is None,
        "regions": sorted(regions or ()),
    }


def area_size(session: Session, actor: Actor, area: Area, rules: AreaRules) -> dict[str, Any]:
    """How much a work area holds, told before anything is downloaded: its plants and green
    spaces, the basemap tiles over it, and whether it fits the limits (else why not)."""
    require_signed_in(session, actor, "download", "a work area")
    parameters = scoped(actor, area)
    plants, spaces = session.execute(COUNTS[area.kind], parameters).one()
    data_bytes = plants * BYTES_PER_PLANT + spaces * BYTES_PER_SPACE
    tiles = area_tiles(session, area, parameters, rules)
    total = data_bytes + (tiles or {}).get("bytes", 0)
    size = {
        "plants": plants,
        "green_spaces": spaces,
        "max_plants": rules.max_plants,
        "approximate_bytes": data_bytes,
        "tiles": tiles,
        "total_bytes": total,
        "budget_bytes": rules.budget_mb * MIB,
    }
    size["refusal"] = refusal(size, rules)
    size["allowed"] = size["refusal"] is None
    return size


def refusal(size: dict[str, Any], rules: AreaRules) -> str | None:
    """Why an area may not be downloaded, naming the setting it exceeds (None: it may)."""
    if size["plants"] > rules.max_plants:
        return (
            f"holds {size['plants']} plants, more than JASYL_FIELD_AREA_MAX_PLANTS "
            f"({rules.max_plants}) allows: choose a smaller area"
        )
    if size["total_bytes"] > size["budget_bytes"]:
        return (
            f"needs about {size['total_bytes'] / MIB:.1f} MB with its basemap tiles, more than "
            f"JASYL_FIELD_BUDGET_MB ({rules.budget_mb} MB) allows: choose a smaller area"
        )
    return None


def area_tiles(
    session: Session, area: Area, parameters: dict[str, Any], rules: AreaRules
) -> dict[str, Any] | None:
    """The basemap tiles z13–z18 over the area: for a self-hosted archive, the ranges the phone
    fetches and their measured count and bytes; for a third party's, only that it is not
    fetched by area (``bulk`` false)."""
    basemap = rules.basemap
    if basemap is None:
        return None
    if basemap.file is None:
        return {"basemap": basemap.id, "bulk": False, "count": 0, "bytes": 0}
    box = area.bbox or session.execute(EXTENTS[area.kind], parameters).one()
    zooms = tile_zooms(basemap, rules.vector_tiles)
    ranges = tile_ranges(box, zooms) if None not in box else []
    addresses = sum(r.count for r in ranges)
    if addresses > MEASURE_AT_MOST:
        count, size, measured = addresses, addresses * BYTES_PER_TILE, False
    else:
        (count, size), measured = tiles_held(basemap.file, ranges), True
    return {
        "basemap": basemap.id,
        "bulk": True,
        "count": count,
        "bytes": size,
        "measured": measured,
        "ranges": [_range(r) for r in ranges],
    }


def tile_zooms(basemap: Basemap, vector_tiles: bool) -> range:
    """The zooms of the archive that draw the map at z13–z18: those for images; for vector
    tiles one less, since the page draws zoom z from the data of z − 1 (protomaps-leaflet's
    512-pixel data tiles), so z13 offline needs z12's."""
    low, high = TILE_ZOOMS
    if vector_tiles:
        low, high = low - 1, high - 1
    return range(low, min(high, basemap.max_zoom) + 1)


def _range(r: TileRange) -> dict[str, int]:
    return {"z": r.z, "x0": r.x0, "x1": r.x1, "y0": r.y0, "y1": r.y1}


def area_contents(session: Session, actor: Actor, area: Area, rules: AreaRules) -> tuple[str, str]:
    """The plants and green spaces of a work area as two JSON arrays (built by the database),
    or ``TooLarge`` when its size exceeds a limit (the message names the setting)."""
    size = area_size(session, actor, area, rules)
    if not size["allowed"]:
        over_plants = size["plants"] > rules.max_plants
        raise TooLarge("area", size["refusal"], size["plants" if over_plants else "total_bytes"])
    plants, spaces = session.execute(CONTENTS[area.kind], scoped(actor, area)).one()
    return plants, spaces
