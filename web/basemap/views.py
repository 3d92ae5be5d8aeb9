"""``/basemap/<id>/<z>/<x>/<y>.<format>``: tiles of the self-hosted basemaps, and the basemap
layers every map page draws under its data.

What the deployment configured (``JASYL_BASEMAPS``) is resolved once when the app is built:
each archive's tile format is read from the file, and the hosts of third-party tile services
become the only hosts the Content-Security-Policy lets the page load images from.
"""

from __future__ import annotations

from dataclasses import dataclass

import folium
from flask import Blueprint, Flask, Response, abort, current_app

from gis.basemap import MEDIA_TYPES, BadArchive, NotATile, archive_format, read_tile
from registry.basemaps import SETTING, Basemap
from registry.errors import InvalidValue

bp = Blueprint("basemap", __name__, url_prefix="/basemap")
EXTENSION = "jasyl.basemaps"
MAX_AGE = 86400  # a basemap archive changes when an administrator replaces the file
MAP_MAX_ZOOM = 19  # beyond an archive's own zooms its deepest tiles are stretched
THIRD_PARTY_REFERRER = "strict-origin-when-cross-origin"


@dataclass(frozen=True)
class BasemapLayer:
    """A configured basemap with the tile URL the page asks (ours for a file)."""

    basemap: Basemap
    tile_url: str
    format: str = "png"


def basemap_layers(app: Flask | None = None) -> dict[str, BasemapLayer]:
    return (app or current_app).extensions[EXTENSION]


def resolve(basemap: Basemap) -> BasemapLayer:
    """The basemap with its tile URL; an archive that cannot be read, or holds no images (vector
    tiles are not drawn yet), stops the app naming the basemap and the file."""
    if basemap.file is None:
        return BasemapLayer(basemap, basemap.url or "")
    where = f"{SETTING} {basemap.id}.file"
    try:
        found = archive_format(basemap.file)
    except BadArchive as exc:
        raise InvalidValue(where, str(exc)) from None
    if found not in MEDIA_TYPES:
        raise InvalidValue(where, f"holds {found} tiles; only images (png, jpg, webp) are drawn")
    return BasemapLayer(basemap, f"/basemap/{basemap.id}/{{z}}/{{x}}/{{y}}.{found}", found)


@bp.get("/<basemap_id>/<int(signed=True):z>/<int(signed=True):x>/<int(signed=True):y>.<ext>")
def tile(basemap_id: str, z: int, x: int, y: int, ext: str) -> Response:
    layer = basemap_layers().get(basemap_id)
    if layer is None or layer.basemap.file is None:
        abort(404, f"no self-hosted basemap {basemap_id!r}")
    if ext != layer.format:
        abort(404, f"basemap {basemap_id!r} has {layer.format} tiles, not {ext}")
    try:
        data = read_tile(layer.basemap.file, z, x, y)
    except NotATile as exc:
        abort(400, f"not a tile address: {exc}")
    headers = {"Cache-Control": f"public, max-age={MAX_AGE}"}
    if data is None:  # valid, but the archive covers less than the world
        return Response(status=204, headers=headers)
    return Response(data, mimetype=MEDIA_TYPES[layer.format], headers=headers)


def add_basemaps(m: folium.Map, language: str) -> dict[str, str]:
    """Each basemap as a base layer of the switcher, the first shown; under the data layers
    (``zIndex`` 0, below theirs) whichever is chosen later. Returns the page script's variable
    name of each, by basemap id (the address names the basemap by its id)."""
    names = {}
    for i, layer in enumerate(basemap_layers().values()):
        names[layer.basemap.id] = tile_layer(layer, language, shown=i == 0).add_to(m).get_name()
    return names


def tile_layer(layer: BasemapLayer, language: str, shown: bool) -> folium.TileLayer:
    basemap = layer.basemap
    # A tile service may demand to know which site asks (OpenStreetMap's tile usage policy
    # does); the page's own Referrer-Policy sends no Referer across origins, so a third party's
    # tiles carry the origin alone, never the path.
    third_party = {"referrer_policy": THIRD_PARTY_REFERRER} if basemap.url else {}
    return folium.TileLayer(
        tiles=layer.tile_url,
        attr=basemap.attribution,
        name=basemap.name(language),
        max_zoom=MAP_MAX_ZOOM,
        max_native_zoom=basemap.max_zoom,
        subdomains=basemap.subdomains,
        overlay=False,
        show=shown,
        z_index=0,
        class_name=f"basemap basemap-{basemap.id}",
        **third_party,
    )


def init_app(app: Flask) -> None:
    """Resolve the configured basemaps, let the CSP allow their hosts, serve the archives."""
    basemaps: tuple[Basemap, ...] = app.config["BASEMAPS"]
    app.extensions[EXTENSION] = {b.id: resolve(b) for b in basemaps}
    app.config["CSP_TILE_HOSTS"] = tuple(dict.fromkeys(h for b in basemaps for h in b.hosts))
    app.register_blueprint(bp)
