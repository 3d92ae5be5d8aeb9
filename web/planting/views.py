"""``/api/v1/planting``, ``/api/v1/care``, ``/api/v1/felling``: the JSON API of planting work.

Each view parses input, calls one service with ``current_actor()`` (the services decide access)
and answers JSON; registry errors become JSON answers in ``web.errors`` (403, 404, 409, 422), and
change nothing, since each request is one unit of work.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import Blueprint, jsonify, request
from shapely.geometry import Point

from registry.access import require_signed_in
from registry.benefits.projection import project, survival_rates
from registry.care import services as care
from registry.errors import InvalidValue
from registry.felling import services as felling
from registry.planting import queries
from registry.planting import services as planting
from web.actors import current_actor
from web.api.views import body, coordinate, geometry_from
from web.db import request_session
from web.i18n import language

bp = Blueprint("planting", __name__, url_prefix="/api/v1")


@bp.before_request
def signed_in_only() -> None:
    """Anonymous requests get 401 before any input is read (``web.errors`` turns the refusal
    into 401 for the public)."""
    with request_session() as session:
        require_signed_in(session, current_actor(), request.method.lower(), "planting records")


# -- input and output -----------------------------------------------------------------------------
def day(data: dict[str, Any], field: str, required: bool = True) -> date | None:
    value = data.get(field)
    if value in (None, ""):
        if required:
            raise InvalidValue(field, "is required (YYYY-MM-DD)")
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidValue(field, "is not a date (YYYY-MM-DD)", value) from None


def whole(data: dict[str, Any], field: str) -> int | None:
    value = data.get(field)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not str(value).isdigit():
        raise InvalidValue(field, "is not an id", value)
    return int(value)


def plain(value: Any) -> Any:
    """JSON-safe: numbers stay numbers, dates and enums become strings."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def row_of(record: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: plain(getattr(record, f)) for f in fields}


PLAN_FIELDS = (
    "id",
    "region_id",
    "district",
    "year",
    "season",
    "title",
    "funding_source",
    "status",
    "version",
)
LINE_FIELDS = (
    "id",
    "plan_id",
    "species_id",
    "planting_form",
    "quantity",
    "unit",
    "green_space_id",
    "funding_source",
    "supplier",
    "notes",
)
EVENT_FIELDS = (
    "id",
    "region_id",
    "plan_line_id",
    "species_id",
    "planting_form",
    "planted_on",
    "quantity",
    "unit",
    "green_space_id",
    "performer_kind",
    "performer",
    "replaces_event_id",
    "felling_permit_id",
)
WORK_FIELDS = (
    "id",
    "region_id",
    "plan_id",
    "year",
    "kind",
    "unit",
    "planned_volume",
    "planned_on",
    "planned_cost",
    "done_volume",
    "done_on",
    "done_cost",
    "plant_id",
    "green_space_id",
    "version",
)
PERMIT_FIELDS = (
    "id",
    "region_id",
    "number",
    "reason",
    "legal",
    "protection",
    "case",
    "felled_on",
    "trees",
    "ratio",
    "owed",
    "due_on",
)


def shapes_from(data: dict[str, Any]) -> list:
    """``points`` ([[lon, lat], …]) and/or one GeoJSON ``geometry``."""
    shapes = []
    points = data.get("points") or []
    if not isinstance(points, list):
        raise InvalidValue("points", "must be a list of [lon, lat] pairs")
    for pair in points:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise InvalidValue("points", "each point is a [lon, lat] pair", pair)
        shapes.append(Point(coordinate(pair[0], "lon"), coordinate(pair[1], "lat")))
    single = geometry_from(dict(data))
    return shapes + ([single] if single is not None else [])


# -- planting -------------------------------------------------------------------------------------
@bp.post("/planting/plans")
def create_plan():
    data = body()
    with request_session() as session:
        plan = planting.create_plan(
            session,
            current_actor(),
            data.get("region", ""),
            data.get("year"),
            data.get("season"),
            data.get("title", ""),
            data.get("district", ""),
            data.get("funding_source", ""),
        )
        return jsonify(row_of(plan, PLAN_FIELDS)), 201


@bp.post("/planting/plans/<int:plan_id>/lines")
def add_line(plan_id: int):
    data = body()
    area = geometry_from(dict(data))
    with request_session() as session:
        line = planting.add_plan_line(
            session,
            current_actor(),
            plan_id,
            str(data.get("species", "")),
            data.get("quantity"),
            data.get("unit") or "pieces",
            data.get("planting_form"),
            whole(data, "green_space_id"),
            area,
            data.get("funding_source", ""),
            data.get("supplier", ""),
            data.get("notes", ""),
        )
        return jsonify(row_of(line, LINE_FIELDS)), 201


@bp.post("/planting/plans/<int:plan_id>/approve")
def approve_plan(plan_id: int):
    data = body()
    with request_session() as session:
        plan = planting.approve_plan(session, current_actor(), plan_id, whole(data, "version"))
        return jsonify(row_of(plan, PLAN_FIELDS))


@bp.get("/planting/plans/<int:plan_id>")
def show_plan(plan_id: int):
    with request_session() as session:
        plan = planting.get_plan(session, current_actor(), plan_id)
        lines = [row_of(line, LINE_FIELDS) for line in planting.plan_lines(session, plan.id)]
        projection = project(session, plan, survival_rates(session, plan.region_id))
        return jsonify({**row_of(plan, PLAN_FIELDS), "lines": lines, "projection": projection})


@bp.post("/planting/events")
def record_event():
    data = body()
    shapes = shapes_from(data)
    with request_session() as session:
        event = planting.record_planting(
            session,
            current_actor(),
            str(data.get("species", "")),
            day(data, "planted_on"),
            data.get("quantity"),
            data.get("unit") or "pieces",
            shapes,
            whole(data, "green_space_id"),
            whole(data, "plan_line_id"),
            data.get("planting_form"),
            data.get("performer_kind"),
            data.get("performer", ""),
            whole(data, "replaces_event_id"),
            whole(data, "felling_permit_id"),
            data.get("notes", ""),
        )
        plants = [p.id for p in planting.plants_of(session, event.id)]
        return jsonify({**row_of(event, EVENT_FIELDS), "plant_ids": plants}), 201


@bp.post("/planting/events/<int:event_id>/checks")
def record_check(event_id: int):
    data = body()
    with request_session() as session:
        actor = current_actor()
        planting.record_survival_check(
            session,
            actor,
            event_id,
            data.get("season"),
            day(data, "checked_on"),
            data.get("alive"),
            data.get("dead"),
            data.get("replaced", 0),
            data.get("inspector", ""),
            data.get("notes", ""),
        )
        return jsonify(planting.event_survival(session, actor, event_id)), 201


@bp.get("/planting/events/<int:event_id>/survival")
def event_survival(event_id: int):
    with request_session() as session:
        return jsonify(planting.event_survival(session, current_actor(), event_id))


@bp.get("/planting/planned")
def planned():
    """Planned plantings inside a map view (the map's "Planned plantings" layer), GeoJSON."""
    bbox = queries.parse_bbox(request.args.get("bbox"))
    year = whole(dict(request.args), "year") or date.today().year
    with request_session() as session:
        return jsonify(queries.planned_in_view(session, current_actor(), bbox, year, language()))


@bp.get("/planting/survival")
def survival():
    groups = tuple(g for g in request.args.get("by", "year,species").split(",") if g)
    unknown = set(groups) - {"year", "species", "form", "unit"}
    if unknown:
        raise InvalidValue("by", "may name year, species, form, unit", sorted(unknown)[0])
    with request_session() as session:
        rows = planting.survival_rates(
            session,
            current_actor(),
            request.args.get("region", ""),
            whole(dict(request.args), "year"),
            groups,
        )
        return jsonify(rows)


# -- care -----------------------------------------------------------------------------------------
@bp.post("/care/plans")
def create_care_plan():
    data = body()
    with request_session() as session:
        plan = care.create_care_plan(
            session,
            current_actor(),
            data.get("region", ""),
            data.get("year"),
            data.get("title", ""),
        )
        return jsonify(row_of(plan, ("id", "region_id", "year", "title", "status", "version"))), 201


@bp.post("/care/plans/<int:plan_id>/approve")
def approve_care_plan(plan_id: int):
    data = body()
    with request_session() as session:
        plan = care.approve_care_plan(session, current_actor(), plan_id, whole(data, "version"))
        return jsonify(row_of(plan, ("id", "region_id", "year", "title", "status", "version")))


@bp.post("/care/works")
def add_care_work():
    data = body()
    area = geometry_from(dict(data))
    with request_session() as session:
        work = care.add_care_work(
            session,
            current_actor(),
            data.get("kind"),
            data.get("unit"),
            whole(data, "plan_id"),
            data.get("year"),
            data.get("planned_volume"),
            day(data, "planned_on", False),
            data.get("planned_cost"),
            data.get("done_volume"),
            day(data, "done_on", False),
            data.get("done_cost"),
            whole(data, "plant_id"),
            whole(data, "green_space_id"),
            area,
            data.get("performer", ""),
            data.get("notes", ""),
        )
        return jsonify(row_of(work, WORK_FIELDS)), 201


@bp.post("/care/works/<int:work_id>/done")
def care_done(work_id: int):
    data = body()
    version = whole(data, "version")
    if version is None:
        raise InvalidValue("version", "the version you read is required (optimistic locking)")
    with request_session() as session:
        work = care.record_care_done(
            session,
            current_actor(),
            work_id,
            version,
            data.get("done_volume"),
            day(data, "done_on"),
            data.get("done_cost"),
        )
        return jsonify(row_of(work, WORK_FIELDS))


@bp.get("/care/summary")
def care_summary():
    with request_session() as session:
        return jsonify(
            care.care_summary(
                session,
                current_actor(),
                request.args.get("region", ""),
                whole(dict(request.args), "year"),
            )
        )


# -- felling --------------------------------------------------------------------------------------
@bp.post("/felling/permits")
def record_felling():
    data = body()
    plant_ids = data.get("plant_ids")
    if not isinstance(plant_ids, list) or not all(isinstance(i, int) for i in plant_ids):
        raise InvalidValue("plant_ids", "must be a list of plant ids", plant_ids)
    with request_session() as session:
        permit = felling.record_felling(
            session,
            current_actor(),
            data.get("number", ""),
            plant_ids,
            data.get("reason"),
            day(data, "felled_on"),
            bool(data.get("legal", True)),
            data.get("protection") or "none",
            day(data, "due_on", False),
            data.get("holder", ""),
            data.get("notes", ""),
        )
        return jsonify(row_of(permit, PERMIT_FIELDS)), 201


@bp.get("/felling/ratios")
def ratios():
    with request_session() as session:
        return jsonify(felling.ratios(session, request.args.get("region", "")))


@bp.put("/felling/ratios")
def set_ratio():
    data = body()
    with request_session() as session:
        actor = current_actor()
        region = data.get("region", "")
        felling.set_ratio(session, actor, region, data.get("case"), data.get("ratio"))
        return jsonify(felling.ratios(session, region))


@bp.get("/felling/obligations")
def obligations():
    with request_session() as session:
        rows = felling.obligations(
            session,
            current_actor(),
            request.args.get("region") or None,
            whole(dict(request.args), "year"),
            request.args.get("status") or None,
        )
        return jsonify(plain(rows))
