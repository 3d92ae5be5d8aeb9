"""Planting plans, planting events (which create the inventory's plant records) and survival.

Every function works in the caller's unit of work, checks access through ``registry.access``,
validates through ``registry.planting.rules``, writes the audit trail and never commits.
Planting totals and survival figures are read from ``planting_tallies``, which the database
keeps current, so they cannot drift from the events and checks they sum.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.access import Actor, require_region_read, require_region_write
from registry.audit.services import record_changes, record_creation
from registry.errors import DuplicateRecord, InvalidValue, NotFound, StaleVersion
from registry.felling.models import FellingPermit
from registry.inventory.models import GreenSpace, Plant, PlantingForm
from registry.inventory.services import create_plant, get_locked, locate, stamp
from registry.planting import rules
from registry.planting.models import (
    PlanStatus,
    PlantingEvent,
    PlantingEventPlant,
    PlantingPlan,
    PlantingPlanLine,
    PlantingTally,
    PlantingUnit,
    SurvivalCheck,
)
from registry.regions.models import Region
from registry.regions.services import resolve_region
from registry.species.models import Species
from registry.species.services import get_species

Plan = TypeVar("Plan")  # a planting plan or a care plan (same status, version, region)


# -- shared steps ---------------------------------------------------------------------------------
def check_version(record: Any, expected: int | None, entity: str) -> None:
    """Optimistic locking as in the inventory: a save names the version it read."""
    if expected is None or record.version == expected:
        return
    raise StaleVersion(
        f"{entity} {record.id} was changed meanwhile (now version {record.version}, "
        f"you read version {expected}); reload and try again",
        current_version=record.version,
    )


def region_of_target(
    session: Session,
    green_space_id: int | None,
    geometry: BaseGeometry | None,
) -> Region | None:
    """The region of a green space or of a drawn area; ``None`` when neither is given."""
    if green_space_id is not None:
        space = session.get(GreenSpace, green_space_id)
        if space is None:
            raise InvalidValue("green_space_id", "no such green space", green_space_id)
        return session.get(Region, space.region_id)
    if geometry is not None:
        if geometry.is_empty or not geometry.is_valid:
            raise InvalidValue("area", "the geometry is empty or not valid")
        return locate(session, geometry)
    return None


def require_same_region(field: str, found: Region | None, expected_id: int, value: Any) -> None:
    if found is not None and found.id != expected_id:
        raise InvalidValue(field, f"lies in {found.iso_code}, not in the plan's region", value)


# -- plans ----------------------------------------------------------------------------------------
def create_plan(
    session: Session,
    actor: Actor,
    region: str | int,
    year: Any,
    season: Any,
    title: str = "",
    district: str = "",
    funding_source: str = "",
) -> PlantingPlan:
    """A draft plan of a region (and district) for one year and season."""
    found = resolve_region(session, region)
    require_region_write(session, actor, found.id, "create", "planting plan")
    plan = PlantingPlan(
        region_id=found.id,
        year=rules.check_year(year),
        season=rules.check_season(season),
        title=title.strip(),
        district=district.strip(),
        funding_source=funding_source.strip(),
        status=PlanStatus.DRAFT,
        version=1,
        updated_by=actor.user_id,
    )
    session.add(plan)
    session.flush()
    record_creation(
        session,
        actor,
        "planting_plan",
        plan.id,
        found.id,
        {"year": plan.year, "season": plan.season, "title": plan.title, "district": district},
    )
    return plan


def add_plan_line(
    session: Session,
    actor: Actor,
    plan_id: int,
    species: str | int,
    quantity: Any,
    unit: Any = PlantingUnit.PIECES,
    planting_form: Any = None,
    green_space_id: int | None = None,
    area: BaseGeometry | None = None,
    funding_source: str = "",
    supplier: str = "",
    notes: str = "",
) -> PlantingPlanLine:
    """Species × quantity in the line's unit, where, paid from what, supplied by whom."""
    plan = get_locked(session, PlantingPlan, plan_id, "planting plan")
    require_region_write(session, actor, plan.region_id, "edit", "planting plan", plan.id)
    if plan.status is not PlanStatus.DRAFT:
        raise InvalidValue("status", "an approved plan cannot change", plan.status.value)
    chosen_unit = rules.check_unit(unit)
    target = region_of_target(session, green_space_id, area)
    require_same_region(
        "green_space_id" if green_space_id else "area", target, plan.region_id, None
    )
    line = PlantingPlanLine(
        plan_id=plan.id,
        species_id=get_species(session, species).id,
        planting_form=rules.check_form(planting_form, chosen_unit),
        quantity=rules.check_quantity(quantity, chosen_unit),
        unit=chosen_unit,
        green_space_id=green_space_id,
        area=from_shape(area, srid=4326) if area is not None else None,
        funding_source=(funding_source or plan.funding_source).strip(),
        supplier=supplier.strip(),
        notes=notes.strip(),
    )
    session.add(line)
    session.flush()
    record_creation(
        session,
        actor,
        "planting_plan_line",
        line.id,
        plan.region_id,
        {
            "plan_id": plan.id,
            "species_id": line.species_id,
            "quantity": line.quantity,
            "unit": line.unit,
            "planting_form": line.planting_form,
        },
    )
    return line


def approve_plan(
    session: Session, actor: Actor, plan_id: int, expected_version: int | None = None
) -> PlantingPlan:
    """Draft → approved; an approved plan no longer changes and events may be booked on it."""

    def has_lines(plan: PlantingPlan) -> None:
        lines = session.scalar(
            select(func.count())
            .select_from(PlantingPlanLine)
            .where(PlantingPlanLine.plan_id == plan.id)
        )
        if not lines:
            raise InvalidValue("lines", "a plan without lines cannot be approved")

    return approve_draft(
        session, actor, PlantingPlan, plan_id, expected_version, "planting plan", has_lines
    )


def approve_draft(
    session: Session,
    actor: Actor,
    model: type[Plan],
    plan_id: int,
    expected_version: int | None,
    what: str,
    ready: Callable[[Plan], None] = lambda plan: None,
) -> Plan:
    """Draft → approved for a plan of either kind (planting, care): the row locked, the right
    to write in its region, its version, ``ready`` (what the kind needs first) and the audit
    entry (entity ``what`` with an underscore), so the two kinds approve alike."""
    plan = get_locked(session, model, plan_id, what)
    require_region_write(session, actor, plan.region_id, "approve", what, plan.id)
    check_version(plan, expected_version, what)
    if plan.status is PlanStatus.APPROVED:
        raise InvalidValue("status", "the plan is already approved", plan.status.value)
    ready(plan)
    plan.status, plan.approved_by, plan.approved_at = PlanStatus.APPROVED, actor.user_id, func.now()
    stamp(plan, actor)
    session.flush()
    entity = what.replace(" ", "_")
    record_changes(
        session, actor, entity, plan.id, plan.region_id, {"status": ("draft", "approved")}
    )
    return plan


def get_plan(session: Session, actor: Actor, plan_id: int) -> PlantingPlan:
    plan = session.get(PlantingPlan, plan_id)
    if plan is None:
        raise NotFound(f"planting plan {plan_id} does not exist", id=plan_id)
    require_region_read(session, actor, plan.region_id, "planting plan", plan.id)
    return plan


def plan_lines(session: Session, plan_id: int) -> list[PlantingPlanLine]:
    query = select(PlantingPlanLine).where(PlantingPlanLine.plan_id == plan_id)
    return list(session.scalars(query.order_by(PlantingPlanLine.id)))


def list_plans(
    session: Session, actor: Actor, region: str | int, year: int | None = None
) -> list[PlantingPlan]:
    found = resolve_region(session, region)
    require_region_read(session, actor, found.id, "planting plans")
    query = select(PlantingPlan).where(PlantingPlan.region_id == found.id)
    if year is not None:
        query = query.where(PlantingPlan.year == year)
    return list(session.scalars(query.order_by(PlantingPlan.year, PlantingPlan.id)))


# -- planting events ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Planting:
    """What an event plants, where: resolved before anything is written."""

    species: Species
    unit: PlantingUnit
    form: PlantingForm
    quantity: Decimal
    region: Region
    plant_shapes: list[tuple[BaseGeometry, int]]  # (location, quantity) of each plant record


def _shapes(
    session: Session,
    geometries: list[BaseGeometry],
    green_space_id: int | None,
    unit: PlantingUnit,
    form: PlantingForm,
    quantity: Any,
) -> tuple[Decimal, list[tuple[BaseGeometry, int]], Region]:
    """Points are one plant each; a line or polygon (or a green space) is one row/group/hedge."""
    if not geometries and green_space_id is None:
        raise InvalidValue("geom", "give the planted points, a line or polygon, or a green space")
    if geometries and all(g.geom_type == "Point" for g in geometries):
        if unit is not PlantingUnit.PIECES:
            raise InvalidValue("unit", "surveyed points are counted in pieces", unit.value)
        count = Decimal(len(geometries))
        if quantity not in (None, "") and rules.check_quantity(quantity, unit) != count:
            raise InvalidValue(
                "quantity",
                f"must equal the number of surveyed points ({len(geometries)})",
                quantity,
            )
        return count, [(g, 1) for g in geometries], locate(session, geometries[0])
    if len(geometries) > 1:
        raise InvalidValue("geom", "give either points, or one line or polygon", len(geometries))
    amount = rules.check_quantity(quantity, unit)
    if geometries:
        shape = geometries[0]
        region = locate(session, shape)
    else:
        space = session.get(GreenSpace, green_space_id)
        if space is None:
            raise InvalidValue("green_space_id", "no such green space", green_space_id)
        shape, region = to_shape(space.geom), session.get(Region, space.region_id)
    if unit is PlantingUnit.M2:
        return amount, [], region  # lawns and flowerbeds are not plant records
    pieces = int(amount) if unit is PlantingUnit.PIECES else 1
    if form is PlantingForm.SOLITARY:
        raise InvalidValue("planting_form", "a solitary plant is a point", form.value)
    return amount, [(shape, pieces)], region


def _check_replacement(
    session: Session, replaced_id: int, planting: Planting, planted_on: date
) -> PlantingEvent:
    """A replacement names the event whose dead plants it replaces, and never exceeds them."""
    replaced = session.get(PlantingEvent, replaced_id)
    if replaced is None:
        raise InvalidValue("replaces_event_id", "no such planting event", replaced_id)
    if replaced.region_id != planting.region.id or replaced.unit is not planting.unit:
        raise InvalidValue(
            "replaces_event_id", "must be an event of the same region and unit", replaced_id
        )
    if planted_on < replaced.planted_on:
        raise InvalidValue("planted_on", "a replacement cannot precede the planting it replaces")
    dead = session.scalar(
        select(SurvivalCheck.dead)
        .where(SurvivalCheck.event_id == replaced.id)
        .order_by(SurvivalCheck.season.desc())
        .limit(1)
    )
    if dead is None:
        raise InvalidValue(
            "replaces_event_id",
            "record a survival check with the dead plants of that event first",
            replaced_id,
        )
    already = session.scalar(
        select(func.coalesce(func.sum(PlantingEvent.quantity), 0)).where(
            PlantingEvent.replaces_event_id == replaced.id
        )
    )
    if planting.quantity > dead - already:
        raise InvalidValue(
            "quantity",
            f"event {replaced.id} has {rules.shown(dead - already)} dead {planting.unit.value} "
            "left to replace",
            str(planting.quantity),
        )
    return replaced


def _check_plan_line(session: Session, line_id: int, planting: Planting) -> None:
    line = session.get(PlantingPlanLine, line_id)
    if line is None:
        raise InvalidValue("plan_line_id", "no such plan line", line_id)
    plan = session.get(PlantingPlan, line.plan_id)
    if plan.status is not PlanStatus.APPROVED:
        raise InvalidValue("plan_line_id", "the plan is not approved yet", line_id)
    if plan.region_id != planting.region.id:
        raise InvalidValue("plan_line_id", "the plan is for another region", line_id)
    if line.species_id != planting.species.id or line.unit is not planting.unit:
        raise InvalidValue(
            "plan_line_id", "the line plans another species or unit than was planted", line_id
        )


def record_planting(
    session: Session,
    actor: Actor,
    species: str | int,
    planted_on: date,
    quantity: Any = None,
    unit: Any = PlantingUnit.PIECES,
    geometries: list[BaseGeometry] | None = None,
    green_space_id: int | None = None,
    plan_line_id: int | None = None,
    planting_form: Any = None,
    performer_kind: Any = None,
    performer: str = "",
    replaces_event_id: int | None = None,
    felling_permit_id: int | None = None,
    notes: str = "",
) -> PlantingEvent:
    """Record what was planted and create its plant records in the inventory."""
    chosen_unit = rules.check_unit(unit)
    rules.check_planted_on(planted_on)
    shapes = list(geometries or [])
    default_form = (
        PlantingForm.SOLITARY
        if shapes and all(g.geom_type == "Point" for g in shapes)
        else (PlantingForm.GROUP if chosen_unit is PlantingUnit.PIECES else None)
    )
    form = rules.check_form(planting_form or default_form, chosen_unit)
    amount, plant_shapes, region = _shapes(
        session, shapes, green_space_id, chosen_unit, form, quantity
    )
    require_region_write(session, actor, region.id, "record", "planting event")
    planting = Planting(
        get_species(session, species), chosen_unit, form, amount, region, plant_shapes
    )
    if plan_line_id is not None:
        _check_plan_line(session, plan_line_id, planting)
    if replaces_event_id is not None:
        replaced = _check_replacement(session, replaces_event_id, planting, planted_on)
        felling_permit_id = felling_permit_id or replaced.felling_permit_id
    if felling_permit_id is not None:
        permit = session.get(FellingPermit, felling_permit_id)
        if permit is None or permit.region_id != region.id:
            raise InvalidValue(
                "felling_permit_id", "no such felling permit in this region", felling_permit_id
            )
    event = PlantingEvent(
        region_id=region.id,
        plan_line_id=plan_line_id,
        species_id=planting.species.id,
        planting_form=form,
        planted_on=planted_on,
        quantity=amount,
        unit=chosen_unit,
        green_space_id=green_space_id,
        performer_kind=rules.check_performer(performer_kind),
        performer=performer.strip(),
        replaces_event_id=replaces_event_id,
        felling_permit_id=felling_permit_id,
        notes=notes.strip(),
        created_by=actor.user_id,
    )
    session.add(event)
    session.flush()
    _create_plants(session, actor, event, planting)
    record_creation(
        session,
        actor,
        "planting_event",
        event.id,
        region.id,
        {
            "species_id": event.species_id,
            "planted_on": planted_on,
            "quantity": amount,
            "unit": chosen_unit,
            "plan_line_id": plan_line_id,
            "replaces_event_id": replaces_event_id,
            "felling_permit_id": felling_permit_id,
        },
    )
    return event


def _create_plants(
    session: Session, actor: Actor, event: PlantingEvent, planting: Planting
) -> None:
    for shape, pieces in planting.plant_shapes:
        plant = create_plant(
            session,
            actor,
            {
                "species_id": planting.species.id,
                "geom": shape,
                "planting_form": planting.form,
                "quantity": pieces,
                "green_space_id": event.green_space_id,
                "planting_year": event.planted_on.year,
                "age_years": 0,
                "condition": 1,
                "notes": f"planting event {event.id}",
            },
        )
        if plant.region_id != event.region_id:
            raise InvalidValue("geom", "all plants of one event must lie in one region")
        session.add(PlantingEventPlant(event_id=event.id, plant_id=plant.id))
    session.flush()


def get_event(session: Session, actor: Actor, event_id: int) -> PlantingEvent:
    event = session.get(PlantingEvent, event_id)
    if event is None:
        raise NotFound(f"planting event {event_id} does not exist", id=event_id)
    require_region_read(session, actor, event.region_id, "planting event", event.id)
    return event


def plants_of(session: Session, event_id: int) -> list[Plant]:
    query = (
        select(Plant)
        .join(PlantingEventPlant, PlantingEventPlant.plant_id == Plant.id)
        .where(PlantingEventPlant.event_id == event_id)
    )
    return list(session.scalars(query.order_by(Plant.id)))


# -- survival -------------------------------------------------------------------------------------
def record_survival_check(
    session: Session,
    actor: Actor,
    event_id: int,
    season: Any,
    checked_on: date,
    alive: Any,
    dead: Any,
    replaced: Any = 0,
    inspector: str = "",
    notes: str = "",
) -> SurvivalCheck:
    """Re-count an event after its 1st or 3rd growing season."""
    event = get_locked(session, PlantingEvent, event_id, "planting event")
    require_region_write(session, actor, event.region_id, "check", "planting event", event.id)
    season_no, alive_n, dead_n, replaced_n = rules.check_survival(
        season, checked_on, event.planted_on, event.quantity, event.unit, alive, dead, replaced
    )
    exists = session.scalar(
        select(SurvivalCheck.id).where(
            SurvivalCheck.event_id == event.id, SurvivalCheck.season == season_no
        )
    )
    if exists is not None:
        raise DuplicateRecord(
            f"season {season_no} of planting event {event.id} is already checked (check {exists})",
            field="season",
            value=season_no,
            existing_id=exists,
        )
    check = SurvivalCheck(
        event_id=event.id,
        season=season_no,
        checked_on=checked_on,
        alive=alive_n,
        dead=dead_n,
        replaced=replaced_n,
        inspector=inspector.strip() or actor.label,
        user_id=actor.user_id,
        notes=notes.strip(),
    )
    session.add(check)
    session.flush()
    record_creation(
        session,
        actor,
        "survival_check",
        check.id,
        event.region_id,
        {
            "event_id": event.id,
            "season": season_no,
            "checked_on": checked_on,
            "alive": alive_n,
            "dead": dead_n,
            "replaced": replaced_n,
        },
    )
    return check


def event_survival(session: Session, actor: Actor, event_id: int) -> dict[str, Any]:
    """Planted, and alive/dead/replaced with the rate at each checked season, for one event."""
    event = get_event(session, actor, event_id)
    checks = session.scalars(
        select(SurvivalCheck)
        .where(SurvivalCheck.event_id == event.id)
        .order_by(SurvivalCheck.season)
    )
    replanted = session.scalar(
        select(func.coalesce(func.sum(PlantingEvent.quantity), 0)).where(
            PlantingEvent.replaces_event_id == event.id
        )
    )
    return {
        "event_id": event.id,
        "planted": float(event.quantity),
        "unit": event.unit.value,
        "replanted": float(replanted),
        "seasons": {
            c.season: {
                "checked_on": c.checked_on.isoformat(),
                "alive": float(c.alive),
                "dead": float(c.dead),
                "replaced": float(c.replaced),
                "rate": rules.rate(c.alive, event.quantity),
            }
            for c in checks
        },
    }


# What a survival row reports after its group: planted, replanted, and per check the plants
# checked, found alive and the rate (the CLI's columns, the yearly report's survival table).
SURVIVAL_FIGURES = (
    *("planted", "replanted"),
    *("checked_1", "alive_1", "rate_1"),
    *("checked_3", "alive_3", "rate_3"),
)
SURVIVAL_GROUPS = {
    "region": PlantingTally.region_id,
    "year": PlantingTally.year,
    "species": PlantingTally.species_id,
    "form": PlantingTally.planting_form,
    "unit": PlantingTally.unit,
}


def tally_rows(
    session: Session,
    group_by: tuple[str, ...],
    region_id: int | None = None,
    year: int | None = None,
) -> list[dict[str, Any]]:
    """Planted, replanted, compensatory and survival sums from the tallies, grouped.

    No access check: callers (reports, survival_rates) check it for the scope they ask.
    """
    columns = [SURVIVAL_GROUPS[g].label(g) for g in group_by]
    t = PlantingTally
    query = select(
        *columns,
        func.sum(t.events).label("events"),
        func.sum(t.planted).label("planted"),
        func.sum(t.replanted).label("replanted"),
        func.sum(t.compensatory).label("compensatory"),
        func.sum(t.checked_1).label("checked_1"),
        func.sum(t.alive_1).label("alive_1"),
        func.sum(t.checked_3).label("checked_3"),
        func.sum(t.alive_3).label("alive_3"),
    )
    if region_id is not None:
        query = query.where(t.region_id == region_id)
    if year is not None:
        query = query.where(t.year == year)
    if group_by:
        query = query.group_by(*columns).order_by(*columns)
    rows = []
    for row in session.execute(query).mappings():
        item = {k: (v.value if hasattr(v, "value") else v) for k, v in row.items()}
        for key in (
            "planted",
            "replanted",
            "compensatory",
            "checked_1",
            "alive_1",
            "checked_3",
            "alive_3",
        ):
            item[key] = float(item[key] or 0)
        item["events"] = int(item["events"] or 0)
        item["rate_1"] = rules.rate(item["alive_1"], item["checked_1"])
        item["rate_3"] = rules.rate(item["alive_3"], item["checked_3"])
        rows.append(item)
    return rows


def survival_rates(
    session: Session,
    actor: Actor,
    region: str | int,
    year: int | None = None,
    group_by: tuple[str, ...] = ("year", "species"),
) -> list[dict[str, Any]]:
    """Survival per year/species (or any grouping of the tallies) for one region."""
    found = resolve_region(session, region)
    require_region_read(session, actor, found.id, "survival")
    return tally_rows(session, group_by, found.id, year)
