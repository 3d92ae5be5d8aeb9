"""``/api/v1``: lists with filters and keyset paging, details, and writes for those allowed.

Each view parses its input, calls registry services with ``current_actor()`` and renders JSON;
access, validation and conflicts are the services' (errors become JSON in ``web.errors``).
State-changing requests need the session's CSRF token in ``X-CSRFToken``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, g, jsonify, render_template, request, url_for
from pydantic import BaseModel
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from registry.access import may_write_region, require_signed_in, sees_internal_fields
from registry.benefits.services import plant_benefits
from registry.errors import InvalidValue
from registry.inventory import queries, rules
from registry.inventory.services import (
    create_green_space,
    create_plant,
    get_plant,
    record_inspection,
    remove_plant,
    update_green_space,
    update_plant,
)
from registry.photos.services import photos_of
from registry.regions.services import list_regions, resolve_region
from registry.species.services import get_species, list_species
from web.actors import current_actor
from web.api import operations
from web.api.schemas import InspectionInput
from web.db import request_session
from web.i18n import language

bp = Blueprint("api", __name__, url_prefix="/api/v1")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@bp.before_request
def writers_sign_in_first() -> None:
    """The public learns it must sign in (401) before anything about its request is judged."""
    if request.method in WRITES:
        with request_session() as session:
            require_signed_in(session, current_actor(), request.method.lower(), "inventory records")


# -- input ----------------------------------------------------------------------------------------
# Each view's query and JSON body were judged against its declared schema (``web.api.operations``)
# before it runs: ``g.query`` and ``g.body`` hold the parsed models.
def body() -> dict[str, Any]:
    """The JSON object sent (already checked against the view's schema where one is declared)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidValue("body", "must be a JSON object")
    return data


def sent(model: BaseModel | None = None) -> dict[str, Any]:
    """The fields the client sent in the declared body, as plain JSON values."""
    model = g.body if model is None else model
    return model.model_dump(mode="json", exclude_unset=True) if model is not None else {}


def geometry_from(data: dict[str, Any]) -> BaseGeometry | None:
    """``geometry`` (GeoJSON) or ``lon``/``lat``, in EPSG:4326."""
    if "geometry" in data:
        try:
            return shape(data.pop("geometry"))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise InvalidValue("geometry", f"is not GeoJSON ({exc})") from None
    if "lon" in data or "lat" in data:
        return Point(
            coordinate(data.pop("lon", None), "lon"), coordinate(data.pop("lat", None), "lat")
        )
    return None


def coordinate(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(name, "is not a number", value)
    limit = 180 if name == "lon" else 90
    if not -limit <= value <= limit:  # NaN fails this too
        raise InvalidValue(name, f"must lie between -{limit} and {limit}", value)
    return float(value)


def plant_input(session, data: dict[str, Any]) -> dict[str, Any]:
    """API names → service fields: ``species`` may be a name or code, the location GeoJSON."""
    geometry = geometry_from(data)
    if geometry is not None:
        data["geom"] = geometry
    if "species" in data:
        data["species_id"] = get_species(session, str(data.pop("species"))).id
    return data


def next_link(endpoint: str, rows: list, limit: int) -> str | None:
    if len(rows) < limit:
        return None
    args = {k: v for k, v in request.args.items() if k != "after"}
    return url_for(endpoint, after=rows[-1].id, **args)


# -- plants ---------------------------------------------------------------------------------------
@bp.get("/plants")
def plants():
    actor = current_actor()
    wanted = queries.parse_filter(request.args.to_dict())
    limit = queries.page_size(g.query.limit)
    with request_session() as session:
        rows = queries.list_plants(session, actor, wanted, g.query.after, limit)
        items = [queries.plant_view(p, actor) for p in rows]
    return jsonify({"items": items, "next": next_link("api.plants", rows, limit)})


@bp.get("/plants/<int:plant_id>")
def plant(plant_id: int):
    actor = current_actor()
    with request_session() as session:
        found = get_plant(session, actor, plant_id)
        view = queries.plant_view(found, actor)
        view["benefits"] = plant_benefits(session, found)
        return jsonify(view)


@bp.post("/plants")
def add_plant():
    actor = current_actor()
    with request_session() as session:
        created = create_plant(session, actor, plant_input(session, sent()))
        view = queries.plant_view(created, actor)
    return jsonify(view), 201, {"Location": url_for("api.plant", plant_id=view["id"])}


@bp.patch("/plants/<int:plant_id>")
def change_plant(plant_id: int):
    actor = current_actor()
    data = sent()
    version = data.pop("version")
    with request_session() as session:
        changed = update_plant(session, actor, plant_id, version, plant_input(session, data))
        return jsonify(queries.plant_view(changed, actor))


@bp.delete("/plants/<int:plant_id>")
def delete_plant(plant_id: int):
    """Plants are never erased: "delete" marks them removed (or dead, a stump…), keeping history."""
    actor = current_actor()
    data = sent() or sent(g.query)
    if "version" not in data:
        raise InvalidValue("version", "the version you read is required (optimistic locking)")
    version = data["version"]
    status = rules.check_status(data.get("status") or "removed")
    reason = data.get("reason") or ""
    with request_session() as session:
        removed = remove_plant(session, actor, plant_id, version, status, reason)
        return jsonify(queries.plant_view(removed, actor))


@bp.get("/plants/<int:plant_id>/inspections")
def inspections(plant_id: int):
    actor = current_actor()
    with request_session() as session:
        rows = queries.plant_inspections(session, actor, plant_id)
        return jsonify({"items": [queries.inspection_view(i, actor) for i in rows]})


@bp.post("/plants/<int:plant_id>/inspections")
def add_inspection(plant_id: int):
    actor = current_actor()
    given: InspectionInput = g.body
    with request_session() as session:
        inspection = record_inspection(
            session,
            actor,
            plant_id,
            given.inspected_on or date.today(),
            given.condition,
            inspector=given.inspector or "",
            hazardous=bool(given.hazardous),
            height_m=given.height_m,
            trunk_diameter_cm=given.trunk_diameter_cm,
            notes=given.notes or "",
        )
        return jsonify(queries.inspection_view(inspection, actor)), 201


@bp.get("/plants/<int:plant_id>/history")
def plant_history(plant_id: int):
    return _history("plant", plant_id)


def _history(entity: str, entity_id: int):
    actor = current_actor()
    with request_session() as session:
        entries = queries.record_history(session, actor, entity, entity_id)
        return jsonify(
            {
                "items": [
                    {
                        "at": e.at.isoformat(),
                        "actor": e.actor,
                        "action": e.action,
                        "field": e.field,
                        "old": e.old_value,
                        "new": e.new_value,
                    }
                    for e in entries
                ]
            }
        )


@bp.get("/plants/at")
def at():
    """What is at a clicked point: the nearest plant within a few pixels, else a green space.

    ``kind=green_space`` skips the plants: a page opened for a green space (search hit, the
    dashboard's drill down) wants its card even where a tree stands at its centre.
    """
    actor = current_actor()
    lon, lat, zoom = g.query.lon, g.query.lat, g.query.z
    spaces_only = g.query.kind == "green_space"
    with request_session() as session:
        found = None if spaces_only else queries.plant_at(session, actor, lon, lat, zoom)
        if found is not None:
            return jsonify({"kind": "plant", "id": found.id, "html": plant_card(session, found)})
        space = queries.green_space_at(session, actor, lon, lat)
        if space is not None:
            html = green_space_card(session, space)
            return jsonify({"kind": "green_space", "id": space.id, "html": html})
    return jsonify({"kind": None, "html": None})


def plant_card(session, plant) -> str:
    actor = current_actor()
    internal = sees_internal_fields(actor)
    return render_template(
        "map/plant_card.html",
        plant=queries.plant_view(plant, actor),
        species=get_species(session, plant.species_id) if plant.species_id else None,
        inspections=queries.plant_inspections(session, actor, plant.id) if internal else [],
        history=queries.record_history(session, actor, "plant", plant.id) if internal else [],
        photos=photos_of(session, actor, plant.id),
        may_edit=may_write_region(actor, plant.region_id),
        internal=internal,
        lang=language(),
        benefits=plant_benefits(session, plant),
    )


def green_space_card(session, space) -> str:
    actor = current_actor()
    internal = sees_internal_fields(actor)
    return render_template(
        "map/green_space_card.html",
        space=queries.green_space_view(space, actor, geometry=False),
        history=queries.record_history(session, actor, "green_space", space.id) if internal else [],
        may_edit=may_write_region(actor, space.region_id),
    )


@bp.get("/search")
def find():
    actor = current_actor()
    with request_session() as session:
        return jsonify({"items": queries.search(session, actor, g.query.q)})


# -- green spaces ---------------------------------------------------------------------------------
@bp.get("/green_spaces")
def green_spaces():
    actor = current_actor()
    limit = queries.page_size(g.query.limit)
    wanted = queries.parse_filter({"region": g.query.region or ""})
    with request_session() as session:
        rows = queries.list_green_spaces(
            session, actor, wanted.region_ids, g.query.name or "", g.query.after, limit
        )
        items = [queries.green_space_view(s, actor) for s in rows]
    return jsonify({"items": items, "next": next_link("api.green_spaces", rows, limit)})


@bp.get("/green_spaces/<int:space_id>")
def green_space(space_id: int):
    actor = current_actor()
    with request_session() as session:
        return jsonify(
            queries.green_space_view(queries.get_green_space(session, actor, space_id), actor)
        )


@bp.post("/green_spaces")
def add_green_space():
    actor = current_actor()
    data = sent()
    geometry = geometry_from(data)
    if geometry is not None:
        data["geom"] = geometry
    with request_session() as session:
        view = queries.green_space_view(create_green_space(session, actor, data), actor)
    return jsonify(view), 201, {"Location": url_for("api.green_space", space_id=view["id"])}


@bp.patch("/green_spaces/<int:space_id>")
def change_green_space(space_id: int):
    actor = current_actor()
    data = sent()
    version = data.pop("version")
    geometry = geometry_from(data)
    if geometry is not None:
        data["geom"] = geometry
    with request_session() as session:
        changed = update_green_space(session, actor, space_id, version, data)
        return jsonify(queries.green_space_view(changed, actor))


@bp.get("/green_spaces/<int:space_id>/history")
def green_space_history(space_id: int):
    return _history("green_space", space_id)


# -- reference data -------------------------------------------------------------------------------
@bp.get("/regions")
def regions():
    with request_session() as session:
        items = [
            {
                "id": r.id,
                "iso_code": r.iso_code,
                "kato": r.kato,
                "name": r.name(language()),
                "name_kk": r.name_kk,
                "name_ru": r.name_ru,
                "name_en": r.name_en,
            }
            for r in list_regions(session)
        ]
    return jsonify({"items": items})


@bp.get("/regions/<reference>")
def region(reference: str):
    actor = current_actor()
    with request_session() as session:
        found = resolve_region(session, reference)
        numbers = queries.region_numbers(session, actor, found.id)
        numbers["by_species"] = [
            {"species_id": s.id, "latin": s.latin, "name": s.name(language()), "plants": n}
            for s, n in numbers["by_species"]
        ]
        return jsonify(
            {"id": found.id, "iso_code": found.iso_code, "name": found.name(language()), **numbers}
        )


@bp.get("/species")
def species():
    with request_session() as session:
        items = [
            {
                "id": s.id,
                "code": s.code,
                "latin": s.latin,
                "name": s.name(language()),
                "name_kk": s.name_kk,
                "name_ru": s.name_ru,
                "name_en": s.name_en,
                "life_form": s.life_form,
            }
            for s in list_species(session, g.query.search)
        ]
    return jsonify({"items": items})


@bp.get("/openapi.json")
def openapi():
    """Generated from the schemas that judge each request (``web.api.operations``)."""
    return jsonify(operations.document(current_app.url_map.iter_rules()))
