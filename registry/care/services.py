"""Care plans and care works: what is planned, what was done, where, at what cost.

A work is attached to a plant, a green space or a drawn area; its region follows from that
target (never from input). Planned and done sides live on one row so "planned vs done" needs no
matching; recording the done side names the version read (optimistic locking).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.access import (
    Actor,
    require_national_read,
    require_region_read,
    require_region_write,
)
from registry.audit.services import record_changes, record_creation
from registry.care.models import CareKind, CarePlan, CareUnit, CareWork
from registry.errors import InvalidValue
from registry.inventory.models import Plant
from registry.inventory.rules import to_decimal
from registry.inventory.services import get_locked, stamp
from registry.planting import rules as planting_rules
from registry.planting.models import PlanStatus
from registry.planting.services import approve_draft, check_version, region_of_target
from registry.regions.models import Region
from registry.regions.services import resolve_region
from registry.reports.models import CareTally


def _amount(field: str, value: Any, strictly_positive: bool = True) -> Decimal | None:
    number = to_decimal(field, value)
    if number is None:
        return None
    if number < 0 or (strictly_positive and number == 0):
        bound = "greater than zero" if strictly_positive else "zero or more"
        raise InvalidValue(field, f"must be {bound}", value)
    return number


def _day(field: str, value: date | None) -> date | None:
    if value is not None and value > date.today() and field == "done_on":
        raise InvalidValue(field, "cannot be in the future", value.isoformat())
    return value


def create_care_plan(
    session: Session, actor: Actor, region: str | int, year: Any, title: str = ""
) -> CarePlan:
    found = resolve_region(session, region)
    require_region_write(session, actor, found.id, "create", "care plan")
    plan = CarePlan(
        region_id=found.id,
        year=planting_rules.check_year(year),
        title=title.strip(),
        status=PlanStatus.DRAFT,
        version=1,
        updated_by=actor.user_id,
    )
    session.add(plan)
    session.flush()
    record_creation(
        session, actor, "care_plan", plan.id, found.id, {"year": plan.year, "title": title}
    )
    return plan


def approve_care_plan(
    session: Session, actor: Actor, plan_id: int, expected_version: int | None = None
) -> CarePlan:
    return approve_draft(session, actor, CarePlan, plan_id, expected_version, "care plan")


def _target_region(
    session: Session, plant_id: int | None, green_space_id: int | None, area: BaseGeometry | None
) -> Region:
    if plant_id is not None:
        plant = session.get(Plant, plant_id)
        if plant is None:
            raise InvalidValue("plant_id", "no such plant", plant_id)
        return session.get(Region, plant.region_id)
    found = region_of_target(session, green_space_id, area)
    if found is None:
        raise InvalidValue("target", "attach the work to a plant, a green space or an area")
    return found


def add_care_work(
    session: Session,
    actor: Actor,
    kind: Any,
    unit: Any,
    plan_id: int | None = None,
    year: Any = None,
    planned_volume: Any = None,
    planned_on: date | None = None,
    planned_cost: Any = None,
    done_volume: Any = None,
    done_on: date | None = None,
    done_cost: Any = None,
    plant_id: int | None = None,
    green_space_id: int | None = None,
    area: BaseGeometry | None = None,
    performer: str = "",
    notes: str = "",
) -> CareWork:
    """A planned work (in a care plan or not), or one done without a plan."""
    region = _target_region(session, plant_id, green_space_id, area)
    require_region_write(session, actor, region.id, "record", "care work")
    plan = None
    if plan_id is not None:
        plan = session.get(CarePlan, plan_id)
        if plan is None or plan.region_id != region.id:
            raise InvalidValue("plan_id", "no such care plan in the work's region", plan_id)
    planned, done = _amount("planned_volume", planned_volume), _amount("done_volume", done_volume)
    if planned is None and done is None:
        raise InvalidValue("planned_volume", "give the planned volume, the done volume, or both")
    if done is not None and done_on is None:
        raise InvalidValue("done_on", "a done volume needs the date it was done")
    when = year or (plan.year if plan else None) or (planned_on or done_on or date.today()).year
    work = CareWork(
        region_id=region.id,
        plan_id=plan_id,
        year=planting_rules.check_year(when),
        kind=planting_rules.choice(CareKind, "kind", kind),
        unit=planting_rules.choice(CareUnit, "unit", unit),
        planned_volume=planned,
        planned_on=planned_on,
        planned_cost=_amount("planned_cost", planned_cost, strictly_positive=False),
        done_volume=done,
        done_on=_day("done_on", done_on),
        done_cost=_amount("done_cost", done_cost, strictly_positive=False),
        plant_id=plant_id,
        green_space_id=green_space_id,
        area=from_shape(area, srid=4326) if area is not None else None,
        performer=performer.strip(),
        notes=notes.strip(),
        version=1,
        updated_by=actor.user_id,
    )
    session.add(work)
    session.flush()
    record_creation(
        session,
        actor,
        "care_work",
        work.id,
        region.id,
        {
            "kind": work.kind,
            "unit": work.unit,
            "planned_volume": planned,
            "done_volume": done,
            "plan_id": plan_id,
            "plant_id": plant_id,
            "green_space_id": green_space_id,
        },
    )
    return work


def record_care_done(
    session: Session,
    actor: Actor,
    work_id: int,
    expected_version: int,
    done_volume: Any,
    done_on: date,
    done_cost: Any = None,
) -> CareWork:
    """The done side of a planned work."""
    work = get_locked(session, CareWork, work_id, "care work")
    require_region_write(session, actor, work.region_id, "record", "care work", work.id)
    check_version(work, expected_version, "care work")
    values = {
        "done_volume": _amount("done_volume", done_volume),
        "done_on": _day("done_on", done_on),
        "done_cost": _amount("done_cost", done_cost, strictly_positive=False),
    }
    if values["done_volume"] is None:
        raise InvalidValue("done_volume", "is required")
    changes = {k: (getattr(work, k), v) for k, v in values.items() if getattr(work, k) != v}
    for field, (_, new) in changes.items():
        setattr(work, field, new)
    stamp(work, actor)
    session.flush()
    record_changes(session, actor, "care_work", work.id, work.region_id, changes)
    return work


def care_rows(session: Session, region_id: int | None, year: int | None) -> list[dict[str, Any]]:
    """Planned vs done volume and cost per kind and unit (callers check access).

    Summed at query time from ``care_tallies``, which the database moves with every write to
    ``care_works`` in the same transaction: the registry's figures now, without a full scan.
    """
    t = CareTally
    query = select(
        t.kind,
        t.unit,
        func.sum(t.works).label("works"),
        func.sum(t.done_works).label("done_works"),
        func.sum(t.planned_volume).label("planned_volume"),
        func.sum(t.done_volume).label("done_volume"),
        func.sum(t.planned_cost).label("planned_cost"),
        func.sum(t.done_cost).label("done_cost"),
    )
    if region_id is not None:
        query = query.where(t.region_id == region_id)
    if year is not None:
        query = query.where(t.year == year)
    query = query.group_by(t.kind, t.unit).having(func.sum(t.works) > 0).order_by(t.kind, t.unit)
    return [
        {
            "kind": row.kind.value,
            "unit": row.unit.value,
            "works": int(row.works),
            "done_works": int(row.done_works),
            "planned_volume": float(row.planned_volume),
            "done_volume": float(row.done_volume),
            "planned_cost": float(row.planned_cost),
            "done_cost": float(row.done_cost),
        }
        for row in session.execute(query)
    ]


def care_summary(
    session: Session, actor: Actor, region: str | int | None, year: int | None = None
) -> list[dict[str, Any]]:
    """Planned vs done per kind of work: one region, or the country for the ministry."""
    if region is None:
        require_national_read(session, actor, "care works")
        return care_rows(session, None, year)
    found = resolve_region(session, region)
    require_region_read(session, actor, found.id, "care works")
    return care_rows(session, found.id, year)
