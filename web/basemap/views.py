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
from folium.elements import JSCSSMixin
from folium.template import Template

from gis.basemap import GZIP_MAGIC, MEDIA_TYPES, BadArchive, NotATile, archive_format, read_tile
from registry.basemaps import SETTING, Basemap
from registry.errors import InvalidValue
from web.vendor import PROTOMAPS_JS

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

    @property
    def vector(self) -> bool:
        return self.format == "pbf"


def basemap_layers(app: Flask | None = None) -> dict[str, BasemapLayer]:
    return (app or current_app).extensions[EXTENSION]


def resolve(basemap: Basemap) -> BasemapLayer:
    """The basemap with its tile URL and format. An archive says what it holds; one that cannot
    be read, holds neither images nor vector tiles, or contradicts the type the deployment
    stated stops the app naming the basemap and the file."""
    if basemap.file is None:
        served = "pbf" if basemap.type == "vector" else "png"
        return BasemapLayer(basemap, basemap.url or "", served)
    where = f"{SETTING} {basemap.id}.file"
    try:
        found = archive_format(basemap.file)
    except BadArchive as exc:
        raise InvalidValue(where, str(exc)) from None
    if found not in MEDIA_TYPES:
        raise InvalidValue(where, f"holds {found} tiles; only images (png, jpg, webp) or pbf")
    layer = BasemapLayer(basemap, f"/basemap/{basemap.id}/{{z}}/{{x}}/{{y}}.{found}", found)
    if basemap.type is not None and (basemap.type == "vector") != layer.vector:
        held = "vector tiles" if layer.vector else f"{found} images"
        raise InvalidValue(where, f"holds {held}, not the {basemap.type} tiles its type says")
    return layer


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
    if data.startswith(GZIP_MAGIC):  # stored gzipped: the browser unpacks it, not the page
        headers["Content-Encoding"] = "gzip"
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
    kind, native, extra = folium.TileLayer, basemap.max_zoom, {}
    if layer.vector:  # drawn afresh at every zoom from the deepest data, never stretched
        kind, native = VectorBasemap, MAP_MAX_ZOOM
        extra = {"flavor": "light", "lang": language, "max_data_zoom": basemap.max_zoom}
    return kind(
        tiles=layer.tile_url,
        attr=basemap.attribution,
        name=basemap.name(language),
        max_zoom=MAP_MAX_ZOOM,
        max_native_zoom=native,
        subdomains=basemap.subdomains,
        overlay=False,
        show=shown,
        z_index=0,
        class_name=f"basemap basemap-{basemap.id}",
        **third_party,
        **extra,
    )


class VectorBasemap(JSCSSMixin, folium.TileLayer):
    """Vector tiles drawn in the page by protomaps-leaflet (a Leaflet grid layer like any
    other in the switcher), in the Protomaps basemap's light style with names in the reader's
    language. Its script is loaded only by pages that have such a basemap."""

    default_js = [("protomaps_leaflet", PROTOMAPS_JS)]
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = protomapsL.leafletLayer(Object.assign(
                {url: {{ this.tiles|tojson }}}, {{ this.options|tojavascript }}
            ));
        {% endmacro %}
        """
    )


def init_app(app: Flask) -> None:
    """Resolve the configured basemaps, let the CSP allow their hosts, serve the archives."""
    basemaps: tuple[Basemap, ...] = app.config["BASEMAPS"]
    app.extensions[EXTENSION] = {b.id: resolve(b) for b in basemaps}
    app.config["CSP_TILE_HOSTS"] = tuple(dict.fromkeys(h for b in basemaps for h in b.hosts))
    app.register_blueprint(bp)
