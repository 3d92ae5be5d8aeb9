"""The field page (``/field``): an installable web app that records plants without signal.

Served here: the page, its web manifest and icons (drawn at start-up by Pillow, our own), the
messages its script shows in kk/ru/en, the signed-in state it syncs with, and the service worker
at ``/field-sw.js`` (scope ``/field``). The worker is Workbox (``workbox-sw`` loading the
pinned ``workbox-*`` builds from ``/vendor``, no bundler and no CDN): it precaches the app shell
by content hash, and keeps the page, the messages and the species catalogue network-first, so the
page opens offline. The outbox, the work area and photos live in IndexedDB (``idb``), in
``web/static/field.js``.
"""

from __future__ import annotations

import hashlib
import io
import json
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from PIL import Image, ImageDraw

from web.actors import current_actor
from web.basemap.views import basemap_layers
from web.field.views import field_basemap
from web.i18n import LANGUAGES
from web.labels import STATUS_NAMES, condition_names
from web.vendor import PROTOMAPS_JS

bp = Blueprint("field", __name__)
STATIC = Path(__file__).resolve().parent.parent / "static"
VENDOR = Path(__file__).resolve().parent.parent / "node_modules"
ICON_SIZES = (192, 512)
SHELL = ("field-map.js", "field-area.js", "field.js", "field.css")
VENDORED = ("idb/build/umd.js", "leaflet/dist/leaflet.js", "leaflet/dist/leaflet.css")
WORKBOX = (
    *("workbox-core", "workbox-precaching", "workbox-routing", "workbox-strategies"),
    "workbox-expiration",  # the viewed tiles of a third party's basemap: capped, and aged out
)
MESSAGES = {
    "online": _l("Online"),
    "offline": _l("Offline: changes wait on this phone"),
    "unsent": _l("Unsent changes"),
    "sending": _l("Sending…"),
    "all_sent": _l("All changes are on the server"),
    "sign_in_to_send": _l("Sign in to send your changes; they stay on this phone until then."),
    "send_failed": _l("The server did not answer; the changes stay queued and are sent later."),
    "queued": _l("queued"),
    "sent": _l("sent"),
    "conflict": _l("conflict"),
    "refused": _l("refused"),
    "resolved": _l("resolved"),
    "add_plant": _l("New plant"),
    "edit_plant": _l("Change"),
    "inspect": _l("Inspection"),
    "remove": _l("Marked removed"),
    "no_position": _l("No position yet: press “Locate” and wait for a fix."),
    "fix_dropped": _l("A fix of ±%(m)s m was dropped: worse than %(max)s m."),
    "position": _l("Position ±%(m)s m from %(n)s fixes"),
    "no_gps": _l("This phone gives no position."),
    "saved": _l("Saved on the phone; it is sent when there is signal."),
    "area_size": _l("%(plants)s plants and %(spaces)s green spaces, about %(mb)s MB"),
    "area_too_large": _l("Too large: at most %(max)s plants per work area."),
    "area_kept_size": _l(
        "Kept on this phone: %(plants)s plants, %(spaces)s green spaces, %(mb)s MB"
    ),
    "tiles_size": _l("Basemap: %(count)s tiles z13–z18, %(mb)s MB"),
    "tiles_viewed_only": _l(
        "The basemap is a third party's and may not be downloaded by area: only the tiles you"
        " have viewed are kept for offline use."
    ),
    "area_over_budget": _l("Too large: about %(mb)s MB, more than the %(budget)s MB allowed."),
    "tiles_fetching": _l("Basemap tiles: %(done)s of %(count)s"),
    "tiles_kept": _l("Basemap tiles kept: %(count)s, %(mb)s MB"),
    "draw_rectangle": _l("Tap two opposite corners of the work area on the map."),
    "storage": _l("Storage used: %(used)s MB of %(quota)s MB"),
    "persistent_yes": _l("The browser keeps this data (persistent storage)."),
    "persistent_no": _l("The browser may clear this data when space runs low."),
    "old_unsent": _l("Some changes have waited more than 3 days: send them or export them."),
    "server_value": _l("On the server"),
    "your_value": _l("Yours"),
    "field": _l("Field"),
    "keep_server": _l("Keep the server's values"),
    "send_mine": _l("Send my choice"),
    "changed_by": _l("Changed by %(who)s at %(at)s"),
    "nothing_chosen": _l("Choose at least one of your values, or keep the server's."),
    "choose_area": _l("Choose a green space, your region or the box around you."),
    "added_offline": _l("added on this phone"),
    "photo_queued": _l("photo queued"),
    "exported": _l("Exported %(n)s unsent changes."),
    "dropped": _l("Removed from this phone; nothing about it is sent."),
    "other_user": _l("Changes recorded by %(who)s wait until they sign in on this phone."),
}


def shell_files() -> dict[str, Path]:
    """The app shell the worker precaches: URL → file."""
    files = {url_for("static", filename=name): STATIC / name for name in SHELL}
    files.update({f"/vendor/{name}": VENDOR / name for name in VENDORED})
    basemap = field_basemap()
    if basemap is not None and basemap_layers()[basemap.id].vector:  # drawn offline too
        files[PROTOMAPS_JS] = VENDOR / PROTOMAPS_JS.removeprefix("/vendor/")
    return files


def revision(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@bp.get("/field")
def index():
    basemap = field_basemap()
    return render_template(
        "field/index.html",
        statuses=STATUS_NAMES,
        grades=condition_names(),
        settings=current_app.config["JASYL_SETTINGS"],
        basemap=basemap_layers()[basemap.id] if basemap else None,
    )


@bp.get("/field/strings.<lang>.json")
def strings(lang: str):
    """The script's messages in ``lang``: precached for each language, so the page speaks it
    offline too."""
    if lang not in LANGUAGES:
        abort(404)
    with force_locale(lang):
        return jsonify({key: str(message) for key, message in MESSAGES.items()})


@bp.get("/field/session")
def session_state():
    """Who the phone syncs as, and a fresh CSRF token (the cached page's may be old)."""
    actor = current_actor()
    settings = current_app.config["JASYL_SETTINGS"]
    body = {
        "signed_in": actor.signed_in,
        "email": current_user.email if actor.signed_in and not actor.is_system else None,
        "region_id": actor.region_id,
        "csrf_token": generate_csrf(),
        "max_gps_error_m": settings.field_max_gps_error_m,
        "area_max_plants": settings.field_area_max_plants,
    }
    return jsonify(body), 200, {"Cache-Control": "no-store"}


@bp.get("/field/manifest.webmanifest")
def manifest():
    icons = [
        {"src": url_for("field.icon", size=s), "sizes": f"{s}x{s}", "type": "image/png"}
        for s in ICON_SIZES
    ]
    body = {
        "name": "Jasyl — field",
        "short_name": "Jasyl",
        "start_url": "/field",
        "scope": "/field",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1b5e20",
        "icons": icons,
    }
    return Response(json.dumps(body), mimetype="application/manifest+json")


@bp.get("/field/icon-<int:size>.png")
def icon(size: int):
    if size not in ICON_SIZES:
        abort(404)
    return Response(
        drawn_icon(size), mimetype="image/png", headers={"Cache-Control": "max-age=86400"}
    )


@cache
def drawn_icon(size: int) -> bytes:
    """A tree on green: a crown of three circles over a trunk, drawn at ``size`` pixels."""
    image = Image.new("RGB", (size, size), "#1b5e20")
    draw = ImageDraw.Draw(image)
    s = size / 16
    draw.rectangle((7 * s, 9 * s, 9 * s, 14 * s), fill="#6d4c41")
    for cx, cy, r in ((8, 6, 4), (5.5, 8, 3), (10.5, 8, 3)):
        draw.ellipse(((cx - r) * s, (cy - r) * s, (cx + r) * s, (cy + r) * s), fill="#a5d6a7")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


@bp.get("/field-sw.js")
def service_worker():
    """The worker, with this version's precache list (URLs and content hashes) written in: a
    changed file changes the worker's bytes, so phones update."""
    precache = [{"url": url, "revision": revision(path)} for url, path in shell_files().items()]
    precache += [
        {
            "url": url_for("field.icon", size=s),
            "revision": hashlib.sha256(drawn_icon(s)).hexdigest()[:16],
        }
        for s in ICON_SIZES
    ]
    precache.append({"url": url_for("field.manifest"), "revision": revision(Path(__file__))})
    warm = ["/field", "/api/v1/species"] + [f"/field/strings.{lang}.json" for lang in LANGUAGES]
    body = render_template(
        "field/sw.js",
        precache=precache,
        warm=warm,
        version=hashlib.sha256(json.dumps(precache).encode()).hexdigest()[:12],
        workbox=WORKBOX,
        viewed_tiles=current_app.config["JASYL_SETTINGS"].field_viewed_tiles,
    )
    headers = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/field"}
    return Response(body, mimetype="application/javascript", headers=headers)
