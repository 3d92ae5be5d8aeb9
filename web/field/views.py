"""``/api/v1/field``: the API a phone's outbox syncs with, and the work-area download.

``POST /api/v1/field/changes`` takes one change at a time and applies it exactly once (the
phone's UUID; a replay answers the stored result with ``Idempotent-Replayed: true``);
``GET /api/v1/field/changes?uuids=`` says which arrived; ``PUT …/changes/<uuid>/photos/<uuid>``
keeps a photo once; ``GET /api/v1/field/area`` sends a work area (``count_only`` its size first).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, current_app, g, jsonify

from registry.access import require_signed_in
from registry.basemaps import Basemap
from registry.errors import InvalidValue
from registry.field import services
from registry.field.areas import Area, AreaRules, area_contents, area_size
from registry.field.services import Change
from web.actors import current_actor
from web.api.views import plant_input
from web.basemap.views import basemap_layers
from web.bounds import body_limit
from web.db import request_session
from web.field.schemas import AddPlant, EditPlant
from web.photos.views import PHOTO_REQUEST_BYTES, photo_view, sent_photo, uploads

api = Blueprint("field_api", __name__, url_prefix="/api/v1/field")
REPLAYED = "Idempotent-Replayed"


@api.before_request
def sign_in_first() -> None:
    """Field mode is staff work: the public hears 401 before anything about its request is
    judged (its query, its body, the UUIDs in its path)."""
    with request_session() as session:
        require_signed_in(session, current_actor(), "use", "field mode")


def uuid_in_path(name: str, value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise InvalidValue(name, "is not a UUID", value[:40]) from None


def settings() -> Any:
    return current_app.config["JASYL_SETTINGS"]


def change_from(session, given: Any) -> Change:
    """The declared change → the service's ``Change`` (plant fields in the services' names)."""
    sent = given.payload.model_dump(mode="json", exclude_unset=True)
    payload = given.payload.model_dump(exclude_unset=True)
    if isinstance(given, AddPlant | EditPlant):
        payload = plant_input(session, payload)
    whole = json.dumps(given.model_dump(mode="json", exclude_unset=True), sort_keys=True)
    return Change(
        uuid=given.uuid,
        kind=given.kind,
        payload=payload,
        content_sha256=hashlib.sha256(whole.encode()).hexdigest(),
        sent=sent,
        base_version=getattr(given, "base_version", None),
        recorded_at=given.recorded_at,
        gps_accuracy_m=given.gps_accuracy_m,
        gps_fixes=given.gps_fixes,
    )


@api.post("/changes")
def send_change():
    actor = current_actor()
    with request_session() as session:
        change = change_from(session, g.body.root)
        outcome = services.apply_change(session, actor, change)
    body = {
        "uuid": str(change.uuid),
        "kind": change.kind,
        "plant_id": outcome.answer.get("plant_id", outcome.answer.get("id")),
        "result": outcome.answer,
    }
    return jsonify(body), outcome.status, {REPLAYED: "true" if outcome.replayed else "false"}


@api.get("/changes")
def received():
    wanted = [UUID(u) for u in g.query.uuids.split(",")]
    with request_session() as session:
        return jsonify({"received": services.changes_received(session, current_actor(), wanted)})


@api.put("/changes/<change_uuid>/photos/<photo_uuid>")
@body_limit(PHOTO_REQUEST_BYTES)
def send_photo(change_uuid: str, photo_uuid: str):
    actor = current_actor()
    change, photo_key = (
        uuid_in_path("change_uuid", change_uuid),
        uuid_in_path("photo_uuid", photo_uuid),
    )
    with request_session() as session:
        data, name = sent_photo()
        photo, replayed = services.store_photo(
            session, actor, change, photo_key, data, name, uploads()
        )
        session.flush()
        session.refresh(photo)
        view = photo_view(photo)
    return jsonify(view), 200, {REPLAYED: "true" if replayed else "false"}


def area_asked() -> Area:
    bbox = tuple(float(n) for n in g.query.bbox.split(",")) if g.query.bbox else None
    return Area(green_space=g.query.green_space, region=g.query.region, bbox=bbox)


def field_basemap() -> Basemap | None:
    """The basemap field mode draws and keeps: the first self-hosted one (its tiles can be
    fetched by area), else the first configured (only the tiles viewed are kept)."""
    basemaps = current_app.config["BASEMAPS"]
    return next((b for b in basemaps if b.file is not None), basemaps[0] if basemaps else None)


def area_rules() -> AreaRules:
    basemap = field_basemap()
    vector = basemap is not None and basemap_layers()[basemap.id].vector
    return AreaRules(settings().field_area_max_plants, settings().field_budget_mb, basemap, vector)


@api.get("/area")
def area():
    """A work area's size (``count_only``), or its plants and green spaces, built as JSON by the
    database and passed through untouched (10,000 plants are ~4 MB: no Python objects each)."""
    actor, area, rules = current_actor(), area_asked(), area_rules()
    with request_session() as session:
        size = area_size(session, actor, area, rules)
        if g.query.count_only:
            return jsonify({"size": size})
        plants, spaces = area_contents(session, actor, area, rules)
    body = f'{{"size": {json.dumps(size)}, "plants": {plants}, "green_spaces": {spaces}}}'
    return Response(body, mimetype="application/json", headers={"Cache-Control": "no-store"})
