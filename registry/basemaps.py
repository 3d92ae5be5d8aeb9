"""The basemaps under the map's data (``JASYL_BASEMAPS``), read and checked once at start-up.

A deployment lists its street maps and imagery as JSON; the first is shown when a page opens,
the others are offered in the layer switcher. Each is either a third party's tile service (a
``url`` template, whose host the Content-Security-Policy then allows, and only that host) or a
self-hosted archive (a ``file``: an MBTiles or PMTiles file the app serves itself under
``/basemap/<id>/{z}/{x}/{y}.<ext>``), so a government deployment can depend on no third party.
Attribution is required: the map's sources (OpenStreetMap's licence among them) demand it.

A mistake in the list stops the app from starting with a message naming the entry and field,
rather than drawing a map that silently lacks its streets. An archive is opened when the web
app starts (``web.basemap``), not here: a command of the CLI that draws no map runs where the
file is not mounted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from registry.errors import InvalidValue

SETTING = "JASYL_BASEMAPS"
LANGUAGES = ("kk", "ru", "en")
ARCHIVES = (".mbtiles", ".pmtiles")
# Images, or vector tiles (Mapbox Vector Tiles) the page draws itself (protomaps-leaflet).
TYPES = ("raster", "vector")
MAX_ZOOM = 24
OSM_STANDARD = {
    "id": "osm",
    "name": {
        "kk": "Көше картасы (OpenStreetMap)",
        "ru": "Карта улиц (OpenStreetMap)",
        "en": "Street map (OpenStreetMap)",
    },
    "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "attribution": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
    " contributors",
    "max_zoom": 19,
}


@dataclass(frozen=True)
class Basemap:
    """One background layer: a tile URL template of a third party, or a file the app serves."""

    id: str
    names: Mapping[str, str]
    attribution: str
    max_zoom: int
    url: str | None = None
    file: Path | None = None
    subdomains: str = "abc"
    # What the deployment said; None lets the source say it: an archive declares its tiles'
    # format, a tile service without a type serves images.
    type: str | None = None

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["en"]

    @property
    def hosts(self) -> tuple[str, ...]:
        """The origins the browser fetches this basemap's tiles from (none for a file: the app
        serves it); ``{s}`` is spelled out once per subdomain, never widened to a wildcard."""
        if self.url is None:
            return ()
        parts = urlsplit(self.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if "{s}" not in origin:
            return (origin,)
        return tuple(origin.replace("{s}", s) for s in self.subdomains)


def load_basemaps(raw: str | None) -> tuple[Basemap, ...]:
    """The basemaps of the setting's JSON; unset means OpenStreetMap's standard layer, ``[]``
    none."""
    if raw is None or not raw.strip():
        return (parse_basemap(OSM_STANDARD, 0),)
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidValue(SETTING, f"is not JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(entries, list):
        raise InvalidValue(SETTING, "must be a JSON list of basemaps")
    basemaps = tuple(parse_basemap(entry, i) for i, entry in enumerate(entries))
    ids = [b.id for b in basemaps]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise InvalidValue(SETTING, f"each basemap needs its own id; used twice: {twice}")
    return basemaps


def parse_basemap(entry: object, index: int) -> Basemap:
    """One entry of the list, every field checked, each refusal naming entry and field."""
    where = f"{SETTING}[{index}]"
    if not isinstance(entry, dict):
        raise InvalidValue(where, "must be an object with id, name, url or file, attribution")
    unknown = set(entry) - {"id", "name", "url", "file", "attribution", "max_zoom", "type"}
    unknown -= {"subdomains"}
    if unknown:
        raise InvalidValue(where, f"unknown fields {sorted(unknown)}")
    basemap_id = entry.get("id")
    if not isinstance(basemap_id, str) or not basemap_id.isascii() or not basemap_id.isidentifier():
        reason = "must be a short name of latin letters, digits and _"
        raise InvalidValue(f"{where}.id", reason, basemap_id)
    attribution = entry.get("attribution")
    if not isinstance(attribution, str) or not attribution.strip():
        raise InvalidValue(f"{where}.attribution", "is required: the tiles' source must be named")
    basemap_type = entry.get("type")
    if basemap_type is not None and basemap_type not in TYPES:
        raise InvalidValue(f"{where}.type", f"must be one of {', '.join(TYPES)}", basemap_type)
    url, file = _source(entry, where)
    return Basemap(
        id=basemap_id,
        names=_names(entry.get("name"), f"{where}.name"),
        attribution=attribution,
        max_zoom=_max_zoom(entry.get("max_zoom", 19), f"{where}.max_zoom"),
        url=url,
        file=file,
        subdomains=_subdomains(entry.get("subdomains", "abc"), f"{where}.subdomains"),
        type=basemap_type,
    )


def _names(raw: object, where: str) -> dict[str, str]:
    """A name in each language ({"kk": …, "ru": …, "en": …}), or one name for all three."""
    if isinstance(raw, str) and raw.strip():
        return dict.fromkeys(LANGUAGES, raw.strip())
    if isinstance(raw, dict):
        names = {lang: raw.get(lang) for lang in LANGUAGES}
        missing = [lang for lang, name in names.items() if not isinstance(name, str) or not name]
        if not missing:
            return {lang: name.strip() for lang, name in names.items()}
        raise InvalidValue(where, f"lacks the name in {', '.join(missing)}")
    raise InvalidValue(where, 'must be a name, or names {"kk": …, "ru": …, "en": …}', raw)


def _source(entry: dict, where: str) -> tuple[str | None, Path | None]:
    """Exactly one of ``url`` (https, with {z}, {x}, {y}) and ``file`` (an archive's path)."""
    url, file = entry.get("url"), entry.get("file")
    if (url is None) == (file is None):
        raise InvalidValue(where, "needs exactly one of url (a tile service) and file (an archive)")
    if url is not None:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("https", "http") or not parts.netloc:
            raise InvalidValue(f"{where}.url", "must be an http(s) address", url)
        if not all(key in url for key in ("{z}", "{x}", "{y}")):
            raise InvalidValue(f"{where}.url", "must contain {z}, {x} and {y}", url)
        return url, None
    path = Path(file) if isinstance(file, str) else None
    if path is None or path.suffix.lower() not in ARCHIVES:
        raise InvalidValue(f"{where}.file", "must be an .mbtiles or .pmtiles file", file)
    if not path.is_absolute():
        raise InvalidValue(f"{where}.file", "must be an absolute path", file)
    return None, path  # opened when the web app starts: a command that draws no map needs none


def _max_zoom(raw: object, where: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= MAX_ZOOM:
        raise InvalidValue(where, f"must be a whole number from 0 to {MAX_ZOOM}", raw)
    return raw


def _subdomains(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw.isascii() or not raw.isalnum():
        raise InvalidValue(where, "must be letters or digits, one per subdomain (abc)", raw)
    return raw
