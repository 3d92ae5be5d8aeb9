"""``/api/v1``: lists with filters and keyset paging, details, and writes for those allowed.

Each view parses its input, calls registry services with ``current_actor()`` and renders JSON;
access, validation and conflicts are the services' (errors become JSON in ``web.errors``).
State-changing requests need the session's CSRF token in ``X-CSRFToken``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, jsonify, render_template, request, url_for
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from registry.access import may_write_region, require_signed_in, sees_internal_fields
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
from web.api.openapi import document
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
def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidValue("body", "must be a JSON object")
    return data


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
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidValue(name, "is not a number", value) from None
    limit = 180 if name == "lon" else 90
    if not -limit <= number <= limit:
        raise InvalidValue(name, f"must lie between -{limit} and {limit}", value)
    return number


def required_version(data: dict[str, Any]) -> int:
    version = data.pop("version", None)
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidValue(
            "version", "the version you read is required (optimistic locking)", version
        )
    return version


def plant_input(session, data: dict[str, Any]) -> dict[str, Any]:
    """API names → service fields: ``species`` may be a name or code, the location GeoJSON."""
    geometry = geometry_from(data)
    if geometry is not None:
        data["geom"] = geometry
    if "species" in data:
        data["species_id"] = get_species(session, str(data.pop("species"))).id
    return data


def after_id() -> int:
    """The keyset cursor: the last id of the previous page."""
    raw = request.args.get("after") or "0"
    if not raw.isdigit() or int(raw) > 2**62:
        raise InvalidValue("after", "must be the id of the last record of the previous page", raw)
    return int(raw)


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
    limit = queries.page_size(request.args.get("limit"))
    after = after_id()
    with request_session() as session:
        rows = queries.list_plants(session, actor, wanted, after, limit)
        items = [queries.plant_view(p, actor) for p in rows]
    return jsonify({"items": items, "next": next_link("api.plants", rows, limit)})


@bp.get("/plants/<int:plant_id>")
def plant(plant_id: int):
    actor = current_actor()
    with request_session() as session:
        return jsonify(queries.plant_view(get_plant(session, actor, plant_id), actor))


@bp.post("/plants")
def add_plant():
    actor = current_actor()
    with request_session() as session:
        created = create_plant(session, actor, plant_input(session, body()))
        view = queries.plant_view(created, actor)
    return jsonify(view), 201, {"Location": url_for("api.plant", plant_id=view["id"])}


@bp.patch("/plants/<int:plant_id>")
def change_plant(plant_id: int):
    actor = current_actor()
    data = body()
    version = required_version(data)
    with request_session() as session:
        changed = update_plant(session, actor, plant_id, version, plant_input(session, data))
        return jsonify(queries.plant_view(changed, actor))


@bp.delete("/plants/<int:plant_id>")
def delete_plant(plant_id: int):
    """Plants are never erased: "delete" marks them removed (or dead, a stump…), keeping history."""
    actor = current_actor()
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        data = request.args.to_dict()
    version = required_version({"version": _int_or_raw(data.get("version"))})
    status = rules.check_status(data.get("status") or "removed")
    reason = str(data.get("reason") or "")
    with request_session() as session:
        removed = remove_plant(session, actor, plant_id, version, status, reason)
        return jsonify(queries.plant_view(removed, actor))


def _int_or_raw(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdigit() else value


@bp.get("/plants/<int:plant_id>/inspections")
def inspections(plant_id: int):
    actor = current_actor()
    with request_session() as session:
        rows = queries.plant_inspections(session, actor, plant_id)
        return jsonify({"items": [queries.inspection_view(i, actor) for i in rows]})


@bp.post("/plants/<int:plant_id>/inspections")
def add_inspection(plant_id: int):
    actor = current_actor()
    data = body()
    try:
        inspected_on = date.fromisoformat(str(data.get("inspected_on") or date.today()))
    except ValueError:
        raise InvalidValue(
            "inspected_on", "is not a date (YYYY-MM-DD)", data["inspected_on"]
        ) from None
    with request_session() as session:
        inspection = record_inspection(
            session,
            actor,
            plant_id,
            inspected_on,
            data.get("condition"),
            inspector=str(data.get("inspector") or ""),
            hazardous=bool(data.get("hazardous", False)),
            height_m=data.get("height_m"),
            trunk_diameter_cm=data.get("trunk_diameter_cm"),
            notes=str(data.get("notes") or ""),
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
    lon = coordinate(request.args.get("lon"), "lon")
    lat = coordinate(request.args.get("lat"), "lat")
    zoom = coordinate(request.args.get("z", 16), "z")
    spaces_only = request.args.get("kind") == "green_space"
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
        return jsonify({"items": queries.search(session, actor, request.args.get("q", ""))})


# -- green spaces ---------------------------------------------------------------------------------
@bp.get("/green_spaces")
def green_spaces():
    actor = current_actor()
    limit = queries.page_size(request.args.get("limit"))
    wanted = queries.parse_filter({"region": request.args.get("region", "")})
    with request_session() as session:
        rows = queries.list_green_spaces(
            session,
            actor,
            wanted.region_ids,
            request.args.get("name", ""),
            after_id(),
            limit,
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
    data = body()
    geometry = geometry_from(data)
    if geometry is not None:
        data["geom"] = geometry
    with request_session() as session:
        view = queries.green_space_view(create_green_space(session, actor, data), actor)
    return jsonify(view), 201, {"Location": url_for("api.green_space", space_id=view["id"])}


@bp.patch("/green_spaces/<int:space_id>")
def change_green_space(space_id: int):
    actor = current_actor()
    data = body()
    version = required_version(data)
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
            for s in list_species(session, request.args.get("search"))
        ]
    return jsonify({"items": items})


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())
