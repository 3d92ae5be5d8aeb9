"""``/raster/ndvi``: NDVI overlays for the map (Leaflet ``imageOverlay``), legend and history.

``GET /raster/ndvi`` lists the images with their overlay URL, corner coordinates and legend;
``GET /raster/ndvi/<id>.png`` is the coloured overlay (Web Mercator, transparent where unknown);
``GET /raster/ndvi/green_spaces/<id>`` is a green space's NDVI over time.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, url_for

from gis.ndvi import LEGEND
from registry.opendata import services
from web.actors import current_actor
from web.db import request_session

bp = Blueprint("raster", __name__, url_prefix="/raster")
MAX_AGE = 3600


def legend() -> list[dict]:
    return [{"ndvi": value, "colour": "#{:02x}{:02x}{:02x}".format(*rgb)} for value, rgb in LEGEND]


@bp.get("/ndvi")
def images() -> Response:
    with request_session() as session:
        found = services.ndvi_images(session)
        listed = [
            {
                "id": image.id,
                "acquired_on": image.acquired_on.isoformat(),
                "file_name": image.file_name,
                "threshold": image.threshold,
                "overlay": url_for("raster.overlay", image_id=image.id),
                # Leaflet's L.imageOverlay(url, [[south, west], [north, east]])
                "bounds": [
                    [image.overlay_south, image.overlay_west],
                    [image.overlay_north, image.overlay_east],
                ],
            }
            for image in found
        ]
    return jsonify({"images": listed, "legend": legend()})


@bp.get("/ndvi/<int:image_id>.png")
def overlay(image_id: int) -> Response:
    with request_session() as session:
        image = services.ndvi_image(session, image_id)
        body = image.overlay_png
    return Response(
        body, mimetype="image/png", headers={"Cache-Control": f"public, max-age={MAX_AGE}"}
    )


@bp.get("/ndvi/green_spaces/<int:green_space_id>")
def history(green_space_id: int) -> Response:
    with request_session() as session:
        rows = services.ndvi_history(session, current_actor(), green_space_id)
        series = [
            {
                "image_id": r.image_id,
                "acquired_on": r.acquired_on.isoformat(),
                "mean": round(r.ndvi_mean, 4),
                "min": round(r.ndvi_min, 4),
                "max": round(r.ndvi_max, 4),
                "vegetated_share": round(r.vegetated_share, 4),
            }
            for r in rows
        ]
    return jsonify({"green_space_id": green_space_id, "ndvi": series})
