"""``/tiles/<layer>/<z>/<x>/<y>.pbf``: vector tiles with ETags, cache headers and a disk cache.

A tile and its version (``gis.tiles.tile_version``: the data's change counters where the tile
lies, bumped by each write's own transaction) are read in one snapshot, so the ETag and the
cached file named by that version always hold the bytes of that version: a 304 or a cache hit
is never stale, and an edit only renews the tiles around it.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from gis.plant_grid import refresh_dirty, refresh_dots
from gis.tile_cache import TileCache
from gis.tiles import (
    LAYERS,
    RAW_PLANTS_FROM_ZOOM,
    TileAddress,
    TileVersion,
    render_versioned,
    tile_version,
)
from registry.access import sees_internal_fields
from registry.db import engine_for
from registry.inventory.queries import parse_filter
from web.actors import current_actor
from web.db import read_connection

bp = Blueprint("tiles", __name__, url_prefix="/tiles")
MVT = "application/vnd.mapbox-vector-tile"
MAX_AGE = 300
# Seconds between lazy rebuilds of one region's plant grid (about a second of database time for
# 60,000 plants); edits in between are aggregated on the fly by the low-zoom tiles.
GRID_REBUILD_EVERY = 60.0
# Seconds between lazy rebuilds of one z14 cell's plant dots (0.1 s of database time for the
# densest cell); a cell edited meanwhile has its dots made on the fly by the z13–14 tiles.
DOTS_REBUILD_EVERY = 10.0


@bp.get("/<layer>/<int:z>/<int:x>/<int:y>.pbf")
def tile(layer: str, z: int, x: int, y: int) -> Response:
    if layer not in LAYERS:
        abort(404, f"no tile layer {layer!r}; layers: {', '.join(LAYERS)}")
    try:
        address = TileAddress(z, x, y)
    except ValueError as exc:
        abort(404, str(exc))
    internal = sees_internal_fields(current_actor())
    wanted = parse_filter(request.args.to_dict()) if layer == "plants" else None
    filters = wanted.sql_params() if wanted is not None and not wanted.empty else None
    folder = current_app.config.get("TILE_CACHE")
    cache = TileCache(folder) if folder and not filters else None
    with read_connection(serial=True) as connection:
        # Every statement is its own snapshot, so no transaction is opened (no BEGIN/ROLLBACK
        # round trips): the version and the bytes it names always come from one statement.
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if cache or request.if_none_match:
            version = tile_version(connection, layer, address)
            etag = _etag(version, internal)
            if request.if_none_match.contains(etag):
                return _answer(Response(status=304), etag, internal)
            body = cache.get(version, address, internal) if cache else None
            if body is not None:
                return _answer(_tile_response(body), etag, internal)
        rendered = render_versioned(connection, layer, address, internal, filters)
    version, body = rendered.version, rendered.body
    if cache:
        cache.put(version, address, internal, body)
    response = _answer(_tile_response(body), _etag(version, internal), internal)
    if rendered.behind:  # this tile made some precomputed plants on the fly; the next won't
        _rebuild_after(response, _refresh_grid if z < RAW_PLANTS_FROM_ZOOM else _refresh_dots)
    return response


def _etag(version: TileVersion, internal: bool) -> str:
    """Staff and the public get different bytes for the same data version (unpublished rows)."""
    return f"{version.layer}-{version.key}-{int(internal)}"


def _tile_response(body: bytes) -> Response:
    return Response(body or None, status=200 if body else 204, mimetype=MVT)


def _rebuild_after(response: Response, rebuild: Callable[[Engine], object]) -> None:
    """Run ``rebuild`` on the primary once the tile has been sent, so no map waits for it.

    Best effort: with the primary read-only or down (tiles then come from a replica), tiles
    keep making the stale parts on the fly, exact as ever.
    """
    engine, logger = engine_for(current_app.config["DATABASE_URL"]), current_app.logger

    def rebuild_quietly() -> None:
        try:
            rebuild(engine)
        except DBAPIError as exc:
            logger.warning("tile data rebuild skipped: %s", str(exc).splitlines()[0])

    response.call_on_close(rebuild_quietly)


def _refresh_grid(engine: Engine) -> None:
    """The plant grid of regions written since (skipped while another worker is at it)."""
    refresh_dirty(engine, rested=GRID_REBUILD_EVERY)


def _refresh_dots(engine: Engine) -> None:
    """The plant dots of z14 cells written since (skipped while another worker is at it)."""
    refresh_dots(engine, rested=DOTS_REBUILD_EVERY)


def _answer(response: Response, etag: str, internal: bool) -> Response:
    response.headers["Cache-Control"] = f"{'private' if internal else 'public'}, max-age={MAX_AGE}"
    response.set_etag(etag)
    response.vary.add("Cookie")  # signed-in staff see unpublished rows
    return response
