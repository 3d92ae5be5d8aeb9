"""``/tiles/<layer>/<z>/<x>/<y>.pbf``: vector tiles with ETags and cache headers."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import DBAPIError

from gis.plant_grid import refresh_dirty
from gis.tiles import LAYERS, RAW_PLANTS_FROM_ZOOM, TileAddress, layer_version, render_tile
from registry.access import sees_internal_fields
from registry.db import engine_for
from registry.inventory.queries import parse_filter
from web.actors import current_actor
from web.db import read_connection

bp = Blueprint("tiles", __name__, url_prefix="/tiles")
MVT = "application/vnd.mapbox-vector-tile"
MAX_AGE = 300


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
    if layer == "plants" and z < RAW_PLANTS_FROM_ZOOM and not filters:
        # Rebuild the grid of regions written since (on the primary; skipped if another worker
        # is at it, and the tile then aggregates those regions on the fly).
        # Best effort: with the primary read-only or down (tiles then come from a replica),
        # the tile still aggregates the dirty regions on the fly.
        try:
            refresh_dirty(engine_for(current_app.config["DATABASE_URL"]))
        except DBAPIError as exc:
            current_app.logger.warning("grid refresh skipped: %s", str(exc).splitlines()[0])
    with read_connection() as connection:
        etag = f"{layer}-{layer_version(connection, layer)}-{int(internal)}"
        cache = f"{'private' if internal else 'public'}, max-age={MAX_AGE}"
        if request.if_none_match.contains(etag):
            response = Response(status=304, headers={"Cache-Control": cache})
        else:
            body = render_tile(connection, layer, address, internal, filters)
            response = Response(
                body or None,
                status=200 if body else 204,
                mimetype=MVT,
                headers={"Cache-Control": cache},
            )
    response.set_etag(etag)
    response.vary.add("Cookie")  # signed-in staff see unpublished rows
    return response
