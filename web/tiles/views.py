"""``/tiles/<layer>/<z>/<x>/<y>.pbf``: vector tiles with ETags, cache headers and a disk cache.

A tile and its version (``gis.tiles.tile_version``: the data's change counters where the tile
lies, bumped by each write's own transaction) are read in one snapshot, so the ETag and the
cached file named by that version always hold the bytes of that version: a 304 or a cache hit
is never stale, and an edit only renews the tiles around it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, abort, current_app, request
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import ETags
from werkzeug.http import quote_etag

from gis.plant_grid import refresh_dirty, refresh_dots
from gis.tile_cache import TileCache
from gis.tiles import (
    COLOURS,
    LAYERS,
    RAW_PLANTS_FROM_ZOOM,
    TileAddress,
    TileVersion,
    render_versioned,
    tile_version,
)
from registry.access import sees_internal_fields
from registry.db import engine_for
from registry.errors import InvalidValue
from registry.inventory.queries import parse_filter
from web.actors import current_actor
from web.db import read_connection

bp = Blueprint("tiles", __name__, url_prefix="/tiles")
MVT = "application/vnd.mapbox-vector-tile"
MAX_AGE = 300
# Seconds between lazy rebuilds of one region's plant grid after bulk writes (about a second of
# database time for 60,000 plants); meanwhile the low-zoom tiles aggregate it on the fly. (Edits
# keep the grid exact themselves: revision 0017.)
GRID_REBUILD_EVERY = 60.0
# Seconds between lazy rebuilds of one z14 cell's plant dots (0.3 s of database time for the
# densest cell); a cell edited meanwhile has its dots made on the fly by the z13–14 tiles.
DOTS_REBUILD_EVERY = 10.0


@dataclass(frozen=True)
class TileAnswer:
    """What to send for a tile: its bytes (``None``: not modified), ETag and audience, and the
    rebuild to run once it has gone out (``None``: nothing was made on the fly)."""

    body: bytes | None
    etag: str
    internal: bool
    rebuild: Callable[[Engine], object] | None = None

    @property
    def status(self) -> int:
        return 304 if self.body is None else 200 if self.body else 204

    @property
    def headers(self) -> list[tuple[str, str]]:
        audience = "private" if self.internal else "public"
        headers = [
            ("Cache-Control", f"{audience}, max-age={MAX_AGE}"),
            ("ETag", quote_etag(self.etag)),
            ("Vary", "Cookie"),  # signed-in staff see unpublished rows
        ]
        if self.body:
            headers.append(("Content-Type", MVT))
        return headers


def answer_tile(
    connection: Connection,
    layer: str,
    address: TileAddress,
    internal: bool,
    filters: dict | None,
    if_none_match: ETags,
    cache: TileCache | None,
    colour: str | None = None,
) -> TileAnswer:
    """The tile (or "not modified" when the client's ``If-None-Match`` holds its ETag), from
    ``cache`` when it holds this version. Shared by the Flask view and the public fast path
    (``web.tiles.public``)."""
    # Every statement is its own snapshot, so no transaction is opened (no BEGIN/ROLLBACK round
    # trips): the version and the bytes it names always come from one statement.
    connection = connection.execution_options(isolation_level="AUTOCOMMIT")
    if cache or if_none_match:
        version = tile_version(connection, layer, address)
        etag = _etag(version, internal, colour)
        if if_none_match.contains(etag):
            return TileAnswer(None, etag, internal)
        body = cache.get(version, address, internal) if cache else None
        if body is not None:
            return TileAnswer(body, etag, internal)
    rendered = render_versioned(connection, layer, address, internal, filters, colour)
    if cache:
        cache.put(rendered.version, address, internal, rendered.body)
    rebuild = None
    if rendered.behind:  # this tile made some precomputed plants on the fly; the next won't
        rebuild = _refresh_grid if address.z < RAW_PLANTS_FROM_ZOOM else _refresh_dots
    return TileAnswer(rendered.body, _etag(rendered.version, internal, colour), internal, rebuild)


def tile_cache(app: Flask, filters: dict | None) -> TileCache | None:
    """The disk cache of rendered tiles, if configured (filtered tiles are never cached)."""
    folder = app.config.get("TILE_CACHE")
    return TileCache(folder) if folder and not filters else None


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
    colour = colour_mode(layer, request.args.get("colour"))
    cache = tile_cache(current_app, filters) if colour is None else None
    with read_connection(serial=True) as connection:
        answer = answer_tile(
            connection, layer, address, internal, filters, request.if_none_match, cache, colour
        )
    response = Response(answer.body or None, status=answer.status, headers=answer.headers)
    if answer.rebuild:
        response.call_on_close(rebuild_quietly(current_app, answer.rebuild))
    return response


def colour_mode(layer: str, asked: str | None) -> str | None:
    """``?colour=co2``: the plant tiles with each plant's class of CO₂ stored (the map's "CO₂
    stored" mode); any other value is refused by name (422), not ignored."""
    if asked in (None, ""):
        return None
    if layer != "plants" or asked not in COLOURS:
        raise InvalidValue("colour", f"must be one of {', '.join(COLOURS)} (plants only)", asked)
    return asked


def _etag(version: TileVersion, internal: bool, colour: str | None = None) -> str:
    """Staff and the public get different bytes for the same data version (unpublished rows),
    and so does a colour mode that adds an attribute."""
    return f"{version.layer}-{version.key}-{int(internal)}" + (f"-{colour}" if colour else "")


def rebuild_quietly(app: Flask, rebuild: Callable[[Engine], object]) -> Callable[[], None]:
    """``rebuild`` on the primary, for running once the tile has been sent (no map waits for
    it). Best effort: with the primary read-only or down (tiles then come from a replica),
    tiles keep making the stale parts on the fly, exact as ever."""
    engine, logger = engine_for(app.config["DATABASE_URL"]), app.logger

    def run() -> None:
        try:
            rebuild(engine)
        except DBAPIError as exc:
            logger.warning("tile data rebuild skipped: %s", str(exc).splitlines()[0])

    return run


def _refresh_grid(engine: Engine) -> None:
    """The plant grid of regions written since (skipped while another worker is at it)."""
    refresh_dirty(engine, rested=GRID_REBUILD_EVERY, give_way=True)


def _refresh_dots(engine: Engine) -> None:
    """The plant dots of z14 cells written since (skipped while another worker is at it)."""
    refresh_dots(engine, rested=DOTS_REBUILD_EVERY, give_way=True)
