"""Pages: a resident's report form and its status page, the foresters' queue on a map and one
report's answers, and the photos sent (for the region's staff only).

Forms post back; the services judge. A refused value is shown beside the form with the field
it names (422), the data as it was.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import login_required
from geoalchemy2.shape import to_shape

from registry.access import require_region_read, require_signed_in
from registry.care.models import CareKind, CareUnit
from registry.errors import InvalidValue, JasylError, NotFound
from registry.inventory.services import get_plant
from registry.photos.rules import MAX_PHOTO_BYTES
from registry.public_reports import answers, rules, services
from registry.public_reports.models import PublicReport, PublicReportPhoto
from registry.regions.services import list_regions, resolve_region
from web.actors import current_actor
from web.bounds import body_limit
from web.db import request_session
from web.i18n import language
from web.photos.views import uploads
from web.public_reports import receiving
from web.public_reports.api import REPORT_REQUEST_BYTES, queued_view
from web.public_reports.labels import kind_names, status_names
from web.public_reports.schemas import HONEYPOT

bp = Blueprint("public_reports", __name__)


# -- residents -----------------------------------------------------------------------------------
def _number(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


def _place(args) -> dict[str, Any]:
    """The tree or place the map's "Report" link named."""
    place: dict[str, Any] = {"lon": args.get("lon", ""), "lat": args.get("lat", "")}
    plant_id = args.get("plant", "")
    if plant_id.isdigit():
        with request_session() as session:
            plant = get_plant(session, current_actor(), int(plant_id))
            spot = to_shape(plant.geom).representative_point()
            place |= {"plant_id": plant.id, "inventory_number": plant.inventory_number}
            place |= {"lon": round(spot.x, 7), "lat": round(spot.y, 7)}
    return place


def _form_page(place: dict[str, Any], form: dict[str, Any], error: JasylError | None = None):
    kinds = rules.TREE_KINDS if place.get("plant_id") else rules.KINDS
    page = render_template(
        "public_reports/new.html",
        place=place,
        form=form,
        error=error,
        kinds=[(k, kind_names()[k]) for k in kinds],
        honeypot=HONEYPOT,
    )
    return page, 422 if error else 200


@bp.get("/report")
def new_report():
    return _form_page(_place(request.args), {})


@bp.post("/report")
@body_limit(REPORT_REQUEST_BYTES)
def send_report():
    form = request.form
    place = _place(form)
    files = [f for f in request.files.getlist("photos") if f.filename]
    draft = services.Draft(
        kind=form.get("kind"),
        lon=_number(form.get("lon", "")),
        lat=_number(form.get("lat", "")),
        description=form.get("description", ""),
        plant_id=place.get("plant_id"),
        contact=form.get("contact", ""),
        photos=[(f.stream.read(MAX_PHOTO_BYTES + 1), f.filename) for f in files],
    )
    try:
        receipt = receiving.receive(draft, form.get(HONEYPOT))
    except InvalidValue as error:
        return _form_page(place, form.to_dict(), error)
    return redirect(url_for("public_reports.status_page", number=receipt.number, sent=1))


@bp.get("/report/<number>")
def status_page(number: str):
    with request_session() as session:
        shown = services.public_status(session, number)
    return render_template(
        "public_reports/status.html",
        report=shown,
        sent=request.args.get("sent") == "1",
        kinds=kind_names(),
        statuses=status_names(),
        steps=("received", "accepted", "planned", "done"),
    )


# -- the foresters' queue ------------------------------------------------------------------------
@bp.get("/public-reports/queue")
@login_required
def queue_page():
    actor = current_actor()
    kind, status = request.args.get("kind") or None, request.args.get("status") or None
    region = request.args.get("region") or None
    with request_session() as session:
        region_id = resolve_region(session, region).id if region else None
        found = services.queue(session, actor, region_id, kind, status)
        items = [queued_view(session, r) for r in found]
        regions = list_regions(session)
    return render_template(
        "public_reports/queue.html",
        items=items,
        markers=json.dumps(
            [{k: i[k] for k in ("id", "number", "kind", "status", "lon", "lat")} for i in items]
        ),
        chosen={"kind": kind, "status": status, "region": region},
        regions=regions,
        lang=language(),
        kinds=kind_names(),
        statuses=status_names(),
        overdue_days=current_app.config["JASYL_SETTINGS"].open_data.report_answer_days,
    )


def _report_page(report_id: int, error: JasylError | None = None, form: dict | None = None):
    with request_session() as session:
        report = services.get_report(session, current_actor(), report_id)
        view = queued_view(session, report)
        joined = [r.number for r in services.joined_to(session, report)]
    page = render_template(
        "public_reports/report.html",
        report=view,
        joined=joined,
        error=error,
        form=form or {},
        kinds=kind_names(),
        statuses=status_names(),
        next_steps=rules.NEXT_STEPS[view["status"]],
        care_kinds=[k.value for k in CareKind],
        care_units=[u.value for u in CareUnit],
        today=date.today().isoformat(),
    )
    return page, 422 if error else 200


@bp.get("/public-reports/<int:report_id>")
@login_required
def report_page(report_id: int):
    return _report_page(report_id)


def _accept_fields(form) -> dict[str, Any]:
    action = form.get("action", "")
    if action == "inspection":
        fields = {"condition": _whole(form.get("condition")), "notes": form.get("notes", "")}
        return fields | {"hazardous": form.get("hazardous") == "on"}
    fields = {"unit": form.get("unit"), "notes": form.get("notes", "")}
    fields |= {"planned_volume": form.get("planned_volume") or None}
    fields |= {
        "planned_on": date.fromisoformat(form["planned_on"]) if form.get("planned_on") else None
    }
    return fields | ({"kind": form.get("kind")} if action == "care" else {})


def _whole(value: str | None) -> int | str | None:
    return int(value) if value and value.isdigit() else value


ANSWERS = {
    "accept": lambda s, a, i, f: answers.accept(s, a, i, f.get("action", ""), **_accept_fields(f)),
    "reject": lambda s, a, i, f: answers.reject(s, a, i, f.get("reason", "")),
    "status": lambda s, a, i, f: answers.advance(s, a, i, f.get("status", "")),
    "merge": lambda s, a, i, f: answers.merge(s, a, i, f.get("into", "")),
    "publish": lambda s, a, i, f: answers.publish(s, a, i, f.get("published") == "1"),
}


@bp.post("/public-reports/<int:report_id>/<step>")
@login_required
def answer(report_id: int, step: str):
    if step not in ANSWERS:
        raise NotFound(f"no such step {step!r}")
    try:
        with request_session() as session:
            ANSWERS[step](session, current_actor(), report_id, request.form)
    except (InvalidValue, ValueError) as error:
        shown = error if isinstance(error, InvalidValue) else InvalidValue("date", str(error))
        return _report_page(report_id, shown, request.form.to_dict())
    return redirect(url_for("public_reports.report_page", report_id=report_id))


@bp.get("/public-reports/photos/<int:photo_id>")
def photo(photo_id: int):
    """A photo a resident sent: for the staff who may read the report's region."""
    actor = current_actor()
    with request_session() as session:
        require_signed_in(session, actor, "see", "public report photos")
        found = session.get(PublicReportPhoto, photo_id)
        report = session.get(PublicReport, found.report_id) if found else None
        if report is None:
            raise NotFound(f"photo {photo_id} does not exist", id=photo_id)
        require_region_read(session, actor, report.region_id, "public report photos", report.id)
        path = uploads() / found.relative_path
    if not path.is_file():
        raise NotFound(f"photo {photo_id}: its file is missing on the server", id=photo_id)
    response = send_file(path, mimetype="image/jpeg", max_age=300, conditional=True)
    response.cache_control.private = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def overdue_reports(region_id: int | None = None) -> int:
    """Reports nobody answered within ``JASYL_REPORT_ANSWER_DAYS`` (the region's, or all)."""
    days = current_app.config["JASYL_SETTINGS"].open_data.report_answer_days
    with request_session() as session:
        return services.overdue(session, days, region_id)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["overdue_reports"] = overdue_reports
    app.jinja_env.globals["report_answer_days"] = lambda: (
        current_app.config["JASYL_SETTINGS"].open_data.report_answer_days
    )
