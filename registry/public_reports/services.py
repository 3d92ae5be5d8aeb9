"""Residents' reports: received from anyone, answered by the region's foresters.

A submission is judged whole before anything is written (kind, text, place, tree, photos);
its region comes from the place (or the tree, whose region wins), never from input. The same
kind on the same tree, or within 15 m, in the last 7 days, joins the first report instead of
opening another: the resident is told that report's number. Every forester step goes through
``registry.access`` and into the audit trail; none commits (the caller's unit of work does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.access import (
    Actor,
    require_region_read,
    require_region_write,
    require_some_region_read,
)
from registry.audit.services import record_changes, record_creation
from registry.errors import InvalidValue, NotFound
from registry.inventory.models import Plant
from registry.public_reports import photos as report_photos
from registry.public_reports import rules
from registry.public_reports.models import PublicReport


@dataclass(frozen=True)
class Draft:
    """What a resident sent (already typed by the web layer; every rule is judged here)."""

    kind: Any
    lon: Any
    lat: Any
    description: Any = ""
    plant_id: Any = None
    contact: Any = None
    photos: list[report_photos.Upload] = field(default_factory=list)


@dataclass(frozen=True)
class Receipt:
    """The stored report, and the first report it joined (whose number the resident follows)."""

    report: PublicReport
    joined: PublicReport | None

    @property
    def number(self) -> str:
        return (self.joined or self.report).number


# -- receiving ---------------------------------------------------------------------------------
def submit(session: Session, draft: Draft, uploads: Path) -> Receipt:
    """Judge and store a resident's report with its cleaned photos."""
    kind = rules.check_kind(draft.kind)
    description = rules.check_text("description", draft.description, rules.DESCRIPTION_CHARS)
    contact = rules.check_text("contact", draft.contact, rules.CONTACT_CHARS) or None
    point = Point(
        rules.check_coordinate("lon", draft.lon), rules.check_coordinate("lat", draft.lat)
    )
    plant = _reported_plant(session, kind, draft.plant_id)
    if plant is not None:
        point = to_shape(plant.geom).representative_point()
    region_id = plant.region_id if plant is not None else _region_at(session, point)
    cleaned = report_photos.cleaned(draft.photos)
    # Two residents reporting the same fallen tree at once must not both open a "first" report.
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"public_report:{kind}"))))
    first = _first_of_duplicates(session, kind, point, plant.id if plant else None)
    report = PublicReport(
        number=_unused_number(session),
        kind=kind,
        description=description,
        geom=from_shape(point, srid=4326),
        region_id=region_id,
        plant_id=plant.id if plant else None,
        contact=contact,
        status="received",
        reason="",
        published=False,
        joined_to_id=first.id if first else None,
    )
    session.add(report)
    session.flush()
    report_photos.keep(session, report, cleaned, uploads)
    snapshot = {"kind": kind, "plant_id": report.plant_id, "photos": len(cleaned)}
    snapshot |= {"joined_to": first.number} if first else {}
    record_creation(session, Actor.public(), "public_report", report.id, region_id, snapshot)
    return Receipt(report, first)


def _reported_plant(session: Session, kind: str, plant_id: Any) -> Plant | None:
    if plant_id is None:
        return None
    if kind in rules.PLACE_KINDS:
        raise InvalidValue("plant_id", f"a {kind} report is about a place, not a tree", plant_id)
    plant = session.get(Plant, plant_id) if isinstance(plant_id, int) else None
    if plant is None or not plant.published:
        raise InvalidValue("plant_id", "no published plant has this id", plant_id)
    return plant


def _region_at(session: Session, point: Point) -> int:
    region_id = session.scalar(
        select(func.jasyl_region_at(func.ST_GeomFromEWKB(from_shape(point, srid=4326))))
    )
    if region_id is None:
        raise InvalidValue(
            "lon", f"lon {point.x:.5f}, lat {point.y:.5f} lies outside Kazakhstan's regions"
        )
    return region_id


def _first_of_duplicates(
    session: Session, kind: str, point: Point, plant_id: int | None
) -> PublicReport | None:
    """The earliest open report of this kind on this tree or within 15 m in the last 7 days."""
    here = func.geography(func.ST_GeomFromEWKB(from_shape(point, srid=4326)))
    near = func.ST_DWithin(func.geography(PublicReport.geom), here, rules.DUPLICATE_METRES)
    same_place = near if plant_id is None else (PublicReport.plant_id == plant_id) | near
    since = func.now() - timedelta(days=rules.DUPLICATE_DAYS)
    query = select(PublicReport).where(
        PublicReport.kind == kind,
        PublicReport.joined_to_id.is_(None),
        PublicReport.status.not_in(("rejected", "done")),
        PublicReport.created_at >= since,
        same_place,
    )
    return session.scalars(
        query.order_by(PublicReport.created_at, PublicReport.id).limit(1)
    ).first()


def _unused_number(session: Session) -> str:
    while True:
        number = rules.new_number()
        if session.scalar(select(PublicReport.id).where(PublicReport.number == number)) is None:
            return number


# -- following -----------------------------------------------------------------------------------
def public_status(session: Session, number: str) -> dict[str, Any]:
    """What anyone with the number may see: only "received" until a forester publishes it,
    then its kind, place and status (never the contact, the description or the photos)."""
    report = report_by_number(session, number)
    view: dict[str, Any] = {
        "number": report.number,
        "status": report.status if report.published else "received",
        "published": report.published,
        "received_on": report.created_at.date().isoformat(),
    }
    if report.published:
        place = to_shape(report.geom)
        view |= {"kind": report.kind, "lon": round(place.x, 6), "lat": round(place.y, 6)}
        view |= {"reason": report.reason or None, "plant_id": report.plant_id}
    return view


def report_by_number(session: Session, number: str) -> PublicReport:
    shaped = rules.normal_number(number)
    found = None
    if shaped is not None:
        found = session.scalar(select(PublicReport).where(PublicReport.number == shaped))
    if found is None:
        raise NotFound("no report has this number", number=str(number)[:20])
    if found.joined_to_id is not None:  # a joined report is followed through the first one
        return session.get(PublicReport, found.joined_to_id)
    return found


# -- the foresters' queue ------------------------------------------------------------------------
def queue(
    session: Session,
    actor: Actor,
    region_id: int | None = None,
    kind: str | None = None,
    status: str | None = None,
    limit: int = 500,
) -> list[PublicReport]:
    """First reports (not those joined to another) the actor may read, oldest first."""
    allowed = require_some_region_read(session, actor, "public reports")
    if region_id is not None:
        require_region_read(session, actor, region_id, "public reports")
    query = select(PublicReport).where(PublicReport.joined_to_id.is_(None))
    if region_id is not None:
        query = query.where(PublicReport.region_id == region_id)
    elif allowed is not None:
        query = query.where(PublicReport.region_id.in_(allowed))
    if kind:
        query = query.where(PublicReport.kind == rules.check_kind(kind))
    if status:
        if status not in rules.STATUSES:
            raise InvalidValue("status", f"must be one of {', '.join(rules.STATUSES)}", status)
        query = query.where(PublicReport.status == status)
    return list(
        session.scalars(query.order_by(PublicReport.created_at, PublicReport.id).limit(limit))
    )


def get_report(session: Session, actor: Actor, report_id: int) -> PublicReport:
    report = session.get(PublicReport, report_id)
    if report is None:
        raise NotFound(f"public report {report_id} does not exist", id=report_id)
    require_region_read(session, actor, report.region_id, "public reports", report.id)
    return report


def joined_to(session: Session, report: PublicReport) -> list[PublicReport]:
    query = select(PublicReport).where(PublicReport.joined_to_id == report.id)
    return list(session.scalars(query.order_by(PublicReport.id)))


def overdue(session: Session, days: int, region_id: int | None = None) -> int:
    """First reports still "received" after ``days`` days: nobody has answered them."""
    query = select(func.count()).where(
        PublicReport.joined_to_id.is_(None),
        PublicReport.status == "received",
        PublicReport.created_at < func.now() - timedelta(days=days),
    )
    if region_id is not None:
        query = query.where(PublicReport.region_id == region_id)
    return session.scalar(query) or 0


def published_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(PublicReport.published)) or 0


def locked_for(session: Session, actor: Actor, report_id: int, action: str) -> PublicReport:
    report = session.scalar(
        select(PublicReport).where(PublicReport.id == report_id).with_for_update()
    )
    if report is None:
        raise NotFound(f"public report {report_id} does not exist", id=report_id)
    require_region_write(session, actor, report.region_id, action, "public report", report.id)
    if report.joined_to_id is not None and action != "publish":
        raise InvalidValue("id", "this report was joined to another; answer that one", report.id)
    return report


def record_step(
    session: Session, actor: Actor, report: PublicReport, action: str, **values
) -> None:
    changes = {k: (getattr(report, k), v) for k, v in values.items() if getattr(report, k) != v}
    for name, (_, new) in changes.items():
        setattr(report, name, new)
    if "status" in changes and report.answered_at is None:
        report.answered_at = datetime.now().astimezone()
    report.updated_at = func.now()
    session.flush()
    record_changes(
        session, actor, "public_report", report.id, report.region_id, changes, action=action
    )
