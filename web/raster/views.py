"""``/raster/ndvi``: NDVI overlays for the map (Leaflet ``imageOverlay``), legend and history.

``GET /raster/ndvi`` lists the images with their overlay URL, corner coordinates and legend;
``GET /raster/ndvi/<id>.png`` is the coloured overlay (Web Mercator, transparent where unknown);
``GET /raster/ndvi/green_spaces/<id>`` is a green space's NDVI over time;
``/raster/ndvi/upload`` takes a new image from foresters (for their region) and administrators.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from gis.ndvi import LEGEND, Band
from registry.errors import AccessDenied, InvalidValue
from registry.opendata import ndvi as services
from web.actors import current_actor
from web.bounds import body_limit
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
                "covered_share": None if r.covered_share is None else round(r.covered_share, 4),
            }
            for r in rows
        ]
    return jsonify({"green_space_id": green_space_id, "ndvi": series})


@bp.route("/ndvi/upload", methods=["GET", "POST"])
@login_required
@body_limit("max_raster_bytes")
def upload() -> tuple[str, int]:
    """A satellite image through ``record_ndvi``; the result or the reason it was refused."""
    form = {"red": "", "nir": "", "date": "", "threshold": str(services.DEFAULT_THRESHOLD),
            **request.form.to_dict()}  # fmt: skip
    errors: dict[str, str] = {}
    record = None
    if request.method == "POST":
        image = request.files.get("image")
        try:
            if image is None or not image.filename:
                raise InvalidValue("image", _("Choose a GeoTIFF image."))
            red, nir = _number(form, "red", int), _number(form, "nir", int)
            threshold = _number(form, "threshold", float)
            when = date.fromisoformat(form["date"]) if form["date"] else None
            with tempfile.TemporaryDirectory(prefix="jasyl-ndvi-") as folder:
                name = Path(image.filename.replace("\\", "/")).name.lstrip(".") or "image.tif"
                path = Path(folder) / name  # never outside the folder: no "..", no directories
                image.save(path)
                with request_session() as session:
                    record = services.record_ndvi(
                        session,
                        current_actor(),
                        Band(path, red),
                        Band(path, nir),
                        when,
                        threshold,
                    )
        except AccessDenied:
            raise
        except ValueError as exc:  # InvalidValue (a JasylError) or a malformed date
            field = getattr(exc, "field", "date").lstrip("-")
            errors[field] = getattr(exc, "message", str(exc))
    status = 422 if errors else 200
    return render_template("raster/upload.html", form=form, errors=errors, record=record), status


def _number(form: dict[str, str], name: str, kind: type) -> int | float:
    try:
        return kind(form.get(name, ""))
    except ValueError:
        raise InvalidValue(name, _("must be a number"), form.get(name)) from None
