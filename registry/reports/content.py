"""What a region's yearly report says: its sections, read from the registry, never typed.

Planting by species and form (planned vs planted, replanting apart), survival of the recent
cohorts and by seed provenance, care works planned vs done, felling and compensation, green
spaces planted, the inventory by condition, and the projected benefits of the year's approved
planting plans. ``build_content`` gathers them as plain JSON,
which the workflow (``services``) stores as an edition's snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.access import (
    Actor,
    require_region_read,
)
from registry.benefits.projection import plans_projections
from registry.care.services import care_rows
from registry.felling.services import obligation_rows
from registry.inventory.models import GreenSpace, PlantStatus
from registry.nursery.provenance import survival_by_seed_origin
from registry.planting import rules
from registry.planting.models import PlanStatus, PlantingEvent, PlantingPlan, PlantingPlanLine
from registry.planting.services import SURVIVAL_FIGURES, tally_rows
from registry.regions.models import Region
from registry.regions.services import resolve_region
from registry.reports.models import InventoryTally
from registry.species.models import Species

SURVIVAL_COHORTS = 4  # the report year and the three before: 1st- and 3rd-season checks fall in it
Progress = Callable[[str], None]


def _species_names(session: Session) -> dict[int, dict[str, str]]:
    return {
        s.id: {
            "species": s.code,
            "latin": s.latin,
            "name_ru": s.name_ru,
            "name_kk": s.name_kk,
            "name_en": s.name_en,
        }
        for s in session.scalars(select(Species))
    }


def planned_rows(
    session: Session,
    region_id: int | None,
    year: int | None,
    by_region: bool = False,
    by_year: bool = False,
) -> list[dict[str, Any]]:
    """Quantities of approved plans' lines per species, form and unit (and region, year)."""
    line, plan = PlantingPlanLine, PlantingPlan
    keys = [line.species_id, line.planting_form, line.unit]
    if by_region:
        keys.insert(0, plan.region_id)
    if by_year:
        keys.insert(0, plan.year)
    query = (
        select(*keys, func.sum(line.quantity).label("planned"))
        .join(plan, plan.id == line.plan_id)
        .where(plan.status == PlanStatus.APPROVED)
        .group_by(*keys)
    )
    if region_id is not None:
        query = query.where(plan.region_id == region_id)
    if year is not None:
        query = query.where(plan.year == year)
    return [dict(row) for row in session.execute(query).mappings()]


def planting_section(session: Session, region_id: int, year: int, names: dict) -> list[dict]:
    rows: dict[tuple, dict[str, Any]] = {}
    for item in tally_rows(session, ("species", "form", "unit"), region_id, year):
        rows[(item["species"], item["form"], item["unit"])] = {
            "planned": 0.0,
            "planted": item["planted"],
            "replanted": item["replanted"],
            "compensatory": item["compensatory"],
            "events": item["events"],
        }
    for item in planned_rows(session, region_id, year):
        key = (item["species_id"], item["planting_form"].value, item["unit"].value)
        rows.setdefault(
            key,
            {"planned": 0.0, "planted": 0.0, "replanted": 0.0, "compensatory": 0.0, "events": 0},
        )["planned"] = float(item["planned"])
    return [
        {
            **names[species],
            "planting_form": form,
            "unit": unit,
            **values,
            "done_pct": rules.rate(values["planted"], values["planned"]),
        }
        for (species, form, unit), values in sorted(
            rows.items(), key=lambda kv: (names[kv[0][0]]["latin"], kv[0][1], kv[0][2])
        )
    ]


def survival_section(session: Session, region_id: int, year: int, names: dict) -> list[dict]:
    rows = []
    for cohort in range(year - SURVIVAL_COHORTS + 1, year + 1):
        for item in tally_rows(session, ("year", "species", "unit"), region_id, cohort):
            if item["planted"] or item["checked_1"] or item["checked_3"]:
                rows.append(
                    {
                        "planting_year": cohort,
                        **names[item["species"]],
                        "unit": item["unit"],
                        **{k: item[k] for k in SURVIVAL_FIGURES},
                    }
                )
    return rows


def felling_section(session: Session, region_id: int, year: int, today: date) -> dict[str, Any]:
    rows = obligation_rows(session, region_id, None, today)
    of_year = [r for r in rows if r["felled_on"].year == year]
    return {
        "permits": len(of_year),
        "trees_felled": sum(r["trees"] for r in of_year),
        "owed": sum(r["owed"] for r in of_year),
        "by_case": {
            case: sum(r["trees"] for r in of_year if r["case"] == case)
            for case in sorted({r["case"] for r in of_year})
        },
        "obligations": [
            {
                k: (v.isoformat() if isinstance(v, date) else v)
                for k, v in r.items()
                if k not in ("region_id",)
            }
            for r in rows
            if r["felled_on"].year == year or r["status"] != "fulfilled"
        ],
        "overdue": sum(1 for r in rows if r["status"] == "overdue"),
        "outstanding": sum(r["outstanding"] for r in rows),
    }


def green_space_section(session: Session, region_id: int, year: int) -> list[dict[str, Any]]:
    """Where the year's planting went: the drill-down from a region to its green spaces."""
    e = PlantingEvent
    query = (
        select(GreenSpace.id, GreenSpace.name, e.unit, func.count(), func.sum(e.quantity))
        .join(e, e.green_space_id == GreenSpace.id)
        .where(e.region_id == region_id, e.year == year)
        .group_by(GreenSpace.id, GreenSpace.name, e.unit)
        .order_by(func.sum(e.quantity).desc(), GreenSpace.id)
    )
    return [
        {
            "green_space_id": gid,
            "name": name,
            "unit": unit.value,
            "events": n,
            "quantity": float(quantity),
        }
        for gid, name, unit, n, quantity in session.execute(query)
    ]


NOT_ASSESSED = "not_assessed"  # the key of unassessed plants among a report's condition grades


def inventory_section(session: Session, region_id: int) -> dict[str, Any]:
    """Plants by condition (alive) and by status, from ``inventory_tallies`` (kept current by
    the database with every write to ``plants``): a few hundred rows, not the whole region."""
    t = InventoryTally
    by_condition = session.execute(
        select(t.condition, func.sum(t.quantity))
        .where(t.region_id == region_id, t.status == PlantStatus.ALIVE)
        .group_by(t.condition)
        .having(func.sum(t.plants) > 0)
    ).all()
    by_status = session.execute(
        select(t.status, func.sum(t.quantity))
        .where(t.region_id == region_id)
        .group_by(t.status)
        .having(func.sum(t.plants) > 0)
    ).all()
    graded = sorted((c, n) for c, n in by_condition if c is not None)
    unassessed = [n for c, n in by_condition if c is None]
    return {
        # Grades "1"–"6", then the plants whose condition no one assessed: apart, never as I.
        "alive_by_condition": {str(c): int(n) for c, n in graded}
        | ({NOT_ASSESSED: int(unassessed[0])} if unassessed else {}),
        "by_status": {s.value: int(n) for s, n in sorted(by_status, key=lambda r: r[0].value)},
        "alive": int(sum(n for _, n in by_condition)),
    }


def build_content(
    session: Session, region: Region, year: int, progress: Progress | None = None
) -> dict[str, Any]:
    """The whole report of ``region`` for ``year`` as plain JSON, from the registry."""
    step = progress or (lambda _: None)
    names = _species_names(session)
    today = date.today()
    step("planting")
    planting = planting_section(session, region.id, year, names)
    step("survival")
    survival = survival_section(session, region.id, year, names)
    step("seed origins")
    seed_origins = survival_by_seed_origin(session, region.id)
    step("care")
    care = care_rows(session, region.id, year)
    step("felling")
    felling = felling_section(session, region.id, year, today)
    step("inventory")
    inventory = inventory_section(session, region.id)
    green_spaces = green_space_section(session, region.id, year)
    step("plans")
    projections = plans_projections(session, region.id, year)
    totals = {
        key: sum(r[key] for r in planting if r["unit"] == "pieces")
        for key in ("planned", "planted", "replanted", "compensatory")
    }
    return {
        "region": {
            "iso": region.iso_code,
            "kato": region.kato,
            "name_en": region.name_en,
            "name_ru": region.name_ru,
            "name_kk": region.name_kk,
        },
        "year": year,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "planting": planting,
        "planting_totals_pieces": totals,
        "survival": survival,
        "seed_origins": seed_origins,  # all the region's plantings traced to a nursery batch
        "care": care,
        "felling": felling,
        "inventory": inventory,
        "green_spaces": green_spaces,
        "plan_projections": projections,  # the year's approved plans after 10, 20, 30 years
    }


def readable_region(session: Session, actor: Actor, region: str | int) -> Region:
    """The region, once ``actor`` may read its figures."""
    found = resolve_region(session, region)
    require_region_read(session, actor, found.id, "report")
    return found
