"""``/api/v1/public-reports``: anyone reports a tree or a place and follows it by number;
``/api/v1/report-queue``: the region's foresters answer (signed in, CSRF, ``registry.access``).

The report itself is CSRF-exempt: it comes without an account or a session, from the map or
any client, and changes nothing of anyone's; throttling, size limits and a honeypot guard it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, g, jsonify, request, url_for
from geoalchemy2.shape import to_shape
from pydantic import ValidationError

from registry.access import require_signed_in
from registry.errors import InvalidValue, TooLarge
from registry.photos.rules import MAX_PHOTO_BYTES
from registry.public_reports import answers, services
from registry.public_reports.photos import photos_of
from registry.public_reports.rules import MAX_PHOTOS
from registry.regions.services import resolve_region
from web.actors import current_actor
from web.api.contract import refusal
from web.bounds import body_limit
from web.db import request_session
from web.public_reports import receiving
from web.public_reports.schemas import HONEYPOT, ReportInput

api = Blueprint("public_reports_api", __name__, url_prefix="/api/v1")
REPORT_REQUEST_BYTES = MAX_PHOTOS * MAX_PHOTO_BYTES + 1024 * 1024
JSON_REPORT_BYTES = 64 * 1024  # the longest text fields several times over; never a photo


@api.before_request
def staff_sign_in_first() -> None:
    """The public hears 401 on the queue before anything about its request is judged."""
    if request.path.startswith("/api/v1/report-queue"):
        with request_session() as session:
            require_signed_in(session, current_actor(), "answer", "public reports")


def sent_report() -> tuple[ReportInput, list[tuple[bytes, str]]]:
    """The report as JSON, or as a multipart form with its photos (the same fields)."""
    try:
        if request.mimetype == "multipart/form-data":
            fields = {k: v for k, v in request.form.items() if v != ""}
            given = ReportInput.model_validate(fields, strict=False)
            files = [f for f in request.files.getlist("photos") if f.filename or f.content_length]
            if len(files) > MAX_PHOTOS:
                raise InvalidValue("photos", f"at most {MAX_PHOTOS} photos (got {len(files)})")
            return given, [(f.stream.read(MAX_PHOTO_BYTES + 1), f.filename or "") for f in files]
        if not request.is_json:
            raise InvalidValue("body", "send JSON (application/json) or multipart/form-data")
        if (request.content_length or 0) > JSON_REPORT_BYTES:
            raise TooLarge("body", f"a report without photos is at most {JSON_REPORT_BYTES} bytes")
        return ReportInput.model_validate_json(request.get_data(cache=True)), []
    except ValidationError as exc:
        raise refusal(exc) from None


def draft_of(given: ReportInput, photos: list[tuple[bytes, str]]) -> services.Draft:
    return services.Draft(
        kind=given.kind,
        lon=given.lon,
        lat=given.lat,
        description=given.description or "",
        plant_id=given.plant_id,
        contact=given.contact,
        photos=photos,
    )


@api.post("/public-reports")
@body_limit(REPORT_REQUEST_BYTES)
def submit():
    given, photos = sent_report()
    receipt = receiving.receive(draft_of(given, photos), getattr(given, HONEYPOT))
    answer = {
        "number": receipt.number,
        "status_url": url_for("public_reports.status_page", number=receipt.number),
        "status": "received",
        "joined": receipt.joined is not None,
    }
    where = url_for("public_reports_api.status", number=receipt.number)
    return jsonify(answer), 201, {"Location": where}


@api.get("/public-reports/<number>")
def status(number: str):
    with request_session() as session:
        return jsonify(services.public_status(session, number))


# -- the foresters' queue ------------------------------------------------------------------------
def queued_view(session, report) -> dict[str, Any]:
    place = to_shape(report.geom)
    joined = services.joined_to(session, report)
    photos = photos_of(session, [report.id] + [j.id for j in joined])
    return {
        "id": report.id,
        "number": report.number,
        "kind": report.kind,
        "status": report.status,
        "published": report.published,
        "region_id": report.region_id,
        "plant_id": report.plant_id,
        "lon": round(place.x, 6),
        "lat": round(place.y, 6),
        "description": report.description,
        "contact": report.contact,
        "reason": report.reason or None,
        "received_at": report.created_at.isoformat(),
        "joined": len(joined),
        "photos": [url_for("public_reports.photo", photo_id=p.id) for p in photos],
        "inspection_id": report.inspection_id,
        "care_work_id": report.care_work_id,
    }


def queue_of(session, query) -> list:
    region_id = resolve_region(session, query.region).id if query and query.region else None
    kind, status = (query.kind, query.status) if query else (None, None)
    return services.queue(session, current_actor(), region_id, kind, status)


@api.get("/report-queue")
def queue():
    with request_session() as session:
        items = [queued_view(session, r) for r in queue_of(session, g.query)]
    return jsonify({"items": items})


@api.get("/report-queue/<int:report_id>")
def queued(report_id: int):
    with request_session() as session:
        report = services.get_report(session, current_actor(), report_id)
        return jsonify(queued_view(session, report))


def _answered(step, report_id: int, **given: Any):
    with request_session() as session:
        report = step(session, current_actor(), report_id, **given)
        return jsonify(queued_view(session, report))


@api.post("/report-queue/<int:report_id>/accept")
def accept(report_id: int):
    given = g.body.model_dump(exclude_none=True)
    return _answered(answers.accept, report_id, **given)


@api.post("/report-queue/<int:report_id>/reject")
def reject(report_id: int):
    return _answered(answers.reject, report_id, reason=g.body.reason)


@api.post("/report-queue/<int:report_id>/status")
def step(report_id: int):
    return _answered(answers.advance, report_id, status=g.body.status)


@api.post("/report-queue/<int:report_id>/merge")
def merge(report_id: int):
    return _answered(answers.merge, report_id, into_number=g.body.into)


@api.post("/report-queue/<int:report_id>/publish")
def publish(report_id: int):
    return _answered(answers.publish, report_id, published=g.body.published)


def init_app(app: Flask) -> None:
    """The resident's report needs no CSRF token (no session to ride); 429 with Retry-After."""
    app.extensions["csrf"].exempt(f"{submit.__module__}.{submit.__name__}")
    receiving.init_app(app)
