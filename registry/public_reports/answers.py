"""A forester's answers to a report: accept it into an inspection, a care work or a felling
work (made by the existing services, linked to the report), reject it with a reason, move it on
to "work planned" and "done", join a duplicate to its first report, publish it.

Each step is the region's forester's (``registry.access.require_region_write``) and audited.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.access import Actor
from registry.care.models import CareKind, CareUnit
from registry.care.services import add_care_work
from registry.errors import InvalidValue
from registry.inventory.services import record_inspection
from registry.public_reports import rules
from registry.public_reports.models import PublicReport
from registry.public_reports.services import locked_for, record_step, report_by_number

ACTIONS = ("inspection", "care", "felling")


def accept_into_inspection(
    session: Session,
    actor: Actor,
    report_id: int,
    condition: Any,
    hazardous: bool = False,
    notes: str = "",
    inspected_on: date | None = None,
) -> PublicReport:
    """The forester went and looked: an inspection of the reported tree, the report accepted."""
    report = locked_for(session, actor, report_id, "accept")
    rules.check_step(report.status, "accepted")
    if report.plant_id is None:
        raise InvalidValue("action", "this report names no tree to inspect; plan a care work")
    inspection = record_inspection(
        session,
        actor,
        report.plant_id,
        inspected_on or date.today(),
        condition,
        hazardous=hazardous,
        notes=notes or f"public report {report.number}",
    )
    record_step(session, actor, report, "accept", status="accepted", inspection_id=inspection.id)
    return report


def accept_into_work(
    session: Session,
    actor: Actor,
    report_id: int,
    kind: Any,
    unit: Any,
    planned_volume: Any,
    planned_on: date | None = None,
    notes: str = "",
) -> PublicReport:
    """A care work (or, with kind ``sanitary_felling``, a felling) planned on the reported tree,
    or at the reported place: the report becomes "work planned"."""
    report = locked_for(session, actor, report_id, "accept")
    rules.check_step(report.status, "planned")
    work = add_care_work(
        session,
        actor,
        kind,
        unit,
        planned_volume=planned_volume,
        planned_on=planned_on,
        plant_id=report.plant_id,
        area=None if report.plant_id else to_shape(report.geom),
        notes=notes or f"public report {report.number}",
    )
    record_step(session, actor, report, "accept", status="planned", care_work_id=work.id)
    return report


INSPECTION_FIELDS = ("condition", "hazardous", "notes", "inspected_on")
WORK_FIELDS = ("kind", "unit", "planned_volume", "planned_on", "notes")


def accept(session: Session, actor: Actor, report_id: int, action: str, **given: Any):
    """Accept by action: ``inspection``, ``care`` or ``felling`` (a sanitary felling work);
    the fields another action takes are ignored."""
    if action == "inspection":
        fields = {k: v for k, v in given.items() if k in INSPECTION_FIELDS}
        return accept_into_inspection(session, actor, report_id, **{"condition": None, **fields})
    if action not in ("care", "felling"):
        raise InvalidValue("action", f"must be one of {', '.join(ACTIONS)}", action)
    fields = {"kind": None, "unit": None, "planned_volume": None}
    fields |= {k: v for k, v in given.items() if k in WORK_FIELDS}
    if action == "felling":
        fields |= {"kind": CareKind.SANITARY_FELLING, "unit": fields["unit"] or CareUnit.PIECES}
    return accept_into_work(session, actor, report_id, **fields)


def reject(session: Session, actor: Actor, report_id: int, reason: Any) -> PublicReport:
    report = locked_for(session, actor, report_id, "reject")
    rules.check_step(report.status, "rejected")
    why = rules.check_text("reason", reason, rules.REASON_CHARS, required=True)
    record_step(session, actor, report, "reject", status="rejected", reason=why)
    return report


def advance(session: Session, actor: Actor, report_id: int, status: Any) -> PublicReport:
    """Work planned, or done."""
    report = locked_for(session, actor, report_id, "answer")
    record_step(session, actor, report, "answer", status=rules.check_step(report.status, status))
    return report


def publish(session: Session, actor: Actor, report_id: int, published: bool = True):
    report = locked_for(session, actor, report_id, "publish")
    record_step(session, actor, report, "publish", published=bool(published))
    return report


def merge(session: Session, actor: Actor, report_id: int, into_number: Any) -> PublicReport:
    """Join a duplicate the automatic rule missed to the first report (same region), with any
    reports already joined to it."""
    report = locked_for(session, actor, report_id, "merge")
    first = report_by_number(session, str(into_number or ""))
    if first.id == report.id:
        raise InvalidValue("into", "a report cannot be joined to itself", into_number)
    if first.region_id != report.region_id:
        raise InvalidValue("into", "the first report lies in another region", into_number)
    followers = session.scalars(
        select(PublicReport).where(PublicReport.joined_to_id == report.id)
    ).all()
    for follower in followers:
        record_step(session, actor, follower, "merge", joined_to_id=first.id)
    record_step(session, actor, report, "merge", joined_to_id=first.id)
    return report
