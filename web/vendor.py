"""Third-party browser assets, served by the app itself (government networks have no CDN).

The files come from pinned npm packages (``web/package.json``), installed by ``make`` into
``web/node_modules``; this module serves them under ``/vendor/`` and points folium's classes at
them once, at start-up, because folium's ``add_js_link`` mutates class-level lists.
"""

from __future__ import annotations

from pathlib import Path

import folium
from flask import Blueprint, Flask, abort, send_from_directory
from folium.plugins import VectorGridProtobuf

NODE_MODULES = Path(__file__).with_name("node_modules")
LEAFLET_JS = "/vendor/leaflet/dist/leaflet.js"
LEAFLET_CSS = "/vendor/leaflet/dist/leaflet.css"
VECTORGRID_JS = "/vendor/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"
GEOMAN_JS = "/vendor/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js"
GEOMAN_CSS = "/vendor/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css"
CHART_JS = "/vendor/chart.js/dist/chart.umd.min.js"
PROTOMAPS_JS = "/vendor/protomaps-leaflet/dist/protomaps-leaflet.js"  # vector basemaps only
SERVED_PACKAGES = frozenset({"leaflet", "leaflet.vectorgrid", "@geoman-io", "chart.js"}) | {
    "protomaps-leaflet",
    "idb",  # field mode's outbox (IndexedDB); then Workbox, loaded by its service worker
    *("workbox-sw", "workbox-core", "workbox-precaching", "workbox-routing", "workbox-strategies"),
    "workbox-expiration",
}

bp = Blueprint("vendor", __name__)


@bp.get("/vendor/<package>/<path:path>")
def asset(package: str, path: str):
    if package not in SERVED_PACKAGES:
        abort(404)
    response = send_from_directory(NODE_MODULES / package, path, max_age=86400)
    return response


def self_host_folium() -> None:
    """Point folium at our copies; drop the Bootstrap/jQuery/font links our pages do not use."""
    folium.Map.default_js = [("leaflet", LEAFLET_JS)]
    folium.Map.default_css = [("leaflet_css", LEAFLET_CSS)]
    VectorGridProtobuf.default_js = [("vectorGrid", VECTORGRID_JS)]


def compact_folium_json() -> None:
    """folium writes its data (the region outlines above all) as JSON with a space after every
    comma and colon; without them the same data weigh 5–6 KB less, which the map page needs to
    stay under its 300 KB budget (``bench.page``) with the basemap, address and "where am I"
    scripts. Every folium template shares this one Jinja environment."""
    policies = folium.Map._template.environment.policies
    policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":")}


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        vendor={
            "leaflet_js": LEAFLET_JS,
            "leaflet_css": LEAFLET_CSS,
            "geoman_js": GEOMAN_JS,
            "geoman_css": GEOMAN_CSS,
            "chart_js": CHART_JS,
            "protomaps_js": PROTOMAPS_JS,
        }
    )
    if not (NODE_MODULES / "leaflet").exists():
        app.logger.warning("web/node_modules is missing: run `make` to install the map assets")
    self_host_folium()
    compact_folium_json()
    app.register_blueprint(bp)
