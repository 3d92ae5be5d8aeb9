"""Recording fellings, the compensatory planting they oblige, and whether it was done.

The obligation (trees × the region's ratio for the case) is fixed when the felling is recorded.
Fulfilment is computed: planting events naming the permit, each counted by its latest survival
check (or as planted while unchecked). An obligation whose due date passed without enough
surviving compensatory plants is overdue, and the ministry's list shows it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from registry.access import (
    Actor,
    require_ministry,
    require_national_read,
    require_region_read,
    require_region_write,
)
from registry.audit.services import record_changes, record_creation
from registry.errors import DuplicateRecord, InvalidValue
from registry.felling import rules
from registry.felling.models import (
    CompensationCase,
    CompensationRatio,
    FellingPermit,
    FellingPermitPlant,
    FellingReason,
    Protection,
)
from registry.inventory.models import Plant, PlantStatus
from registry.inventory.services import remove_plant
from registry.planting.rules import choice
from registry.regions.services import resolve_region


def ratio_for(session: Session, region_id: int, case: CompensationCase) -> int:
    own = session.scalar(
        select(CompensationRatio.ratio).where(
            CompensationRatio.region_id == region_id, CompensationRatio.case == case
        )
    )
    return own if own is not None else rules.DEFAULT_RATIOS[case]


def ratios(session: Session, region: str | int) -> dict[str, dict[str, Any]]:
    """Each case's ratio in ``region`` and whether it is the region's own or the national one."""
    found = resolve_region(session, region)
    own = dict(
        session.execute(
            select(CompensationRatio.case, CompensationRatio.ratio).where(
                CompensationRatio.region_id == found.id
            )
        ).all()
    )
    return {
        case.value: {
            "ratio": own.get(case, default),
            "source": "region" if case in own else "national",
        }
        for case, default in rules.DEFAULT_RATIOS.items()
    }


def set_ratio(
    session: Session, actor: Actor, region: str | int, case: Any, ratio: Any
) -> CompensationRatio:
    """A region's own ratio for a case; past obligations keep the ratio they were fixed with."""
    found = resolve_region(session, region)
    require_ministry(session, actor, "set", "compensation ratio", region_id=found.id)
    chosen = choice(CompensationCase, "case", case)
    value = rules.check_ratio(ratio)
    row = session.scalar(
        select(CompensationRatio)
        .where(CompensationRatio.region_id == found.id, CompensationRatio.case == chosen)
        .with_for_update()
    )
    old = row.ratio if row else rules.DEFAULT_RATIOS[chosen]
    if row is None:
        row = CompensationRatio(region_id=found.id, case=chosen, ratio=value)
        session.add(row)
    row.ratio, row.updated_by = value, actor.user_id
    session.flush()
    record_changes(
        session, actor, "compensation_ratio", row.id, found.id, {chosen.value: (old, value)}
    )
    return row


def _felled_plants(session: Session, plant_ids: list[int]) -> list[Plant]:
    if not plant_ids:
        raise InvalidValue("plant_ids", "name at least one plant from the inventory")
    plants = list(session.scalars(select(Plant).where(Plant.id.in_(plant_ids)).order_by(Plant.id)))
    missing = sorted(set(plant_ids) - {p.id for p in plants})
    if missing:
        raise InvalidValue("plant_ids", "no such plant in the inventory", missing[0])
    for plant in plants:
        if plant.status is not PlantStatus.ALIVE and plant.status is not PlantStatus.DEAD:
            raise InvalidValue(
                "plant_ids", f"plant {plant.id} is already {plant.status.value}", plant.id
            )
    if len({p.region_id for p in plants}) > 1:
        raise InvalidValue("plant_ids", "one permit covers plants of one region only")
    return plants


def record_felling(
    session: Session,
    actor: Actor,
    number: str,
    plant_ids: list[int],
    reason: Any,
    felled_on: date,
    legal: bool = True,
    protection: Any = Protection.NONE,
    due_on: date | None = None,
    holder: str = "",
    notes: str = "",
) -> FellingPermit:
    """Fell listed plants under a permit (or record an illegal felling) and fix the obligation."""
    number = (number or "").strip()
    if not number:
        raise InvalidValue("number", "a permit (or act) number is required")
    if felled_on > date.today():
        raise InvalidValue("felled_on", "cannot be in the future", felled_on.isoformat())
    plants = _felled_plants(session, plant_ids)
    region_id = plants[0].region_id
    require_region_write(session, actor, region_id, "fell", "plant")
    clash = session.scalar(
        select(FellingPermit.id).where(
            FellingPermit.region_id == region_id, FellingPermit.number == number
        )
    )
    if clash is not None:
        raise DuplicateRecord(
            f"number: permit {number!r} is already recorded in this region (id {clash})",
            field="number",
            value=number,
            existing_id=clash,
        )
    chosen_reason = choice(FellingReason, "reason", reason)
    chosen_protection = choice(Protection, "protection", protection or Protection.NONE)
    case = rules.compensation_case(chosen_reason, bool(legal), chosen_protection)
    ratio = ratio_for(session, region_id, case)
    trees = sum(p.quantity for p in plants)
    permit = FellingPermit(
        region_id=region_id,
        number=number,
        reason=chosen_reason,
        legal=bool(legal),
        protection=chosen_protection,
        case=case,
        felled_on=felled_on,
        holder=holder.strip(),
        trees=trees,
        ratio=ratio,
        owed=trees * ratio,
        due_on=rules.check_due(felled_on, due_on),
        notes=notes.strip(),
        created_by=actor.user_id,
    )
    session.add(permit)
    session.flush()
    for plant in plants:
        session.add(
            FellingPermitPlant(permit_id=permit.id, plant_id=plant.id, trees=plant.quantity)
        )
        remove_plant(
            session,
            actor,
            plant.id,
            plant.version,
            PlantStatus.REMOVED,
            f"felled {felled_on.isoformat()} under permit {number}",
        )
    record_creation(
        session,
        actor,
        "felling_permit",
        permit.id,
        region_id,
        {
            "number": number,
            "case": case,
            "trees": trees,
            "ratio": ratio,
            "owed": permit.owed,
            "due_on": permit.due_on,
            "plant_ids": [p.id for p in plants],
        },
    )
    return permit


OBLIGATIONS = text(
    """
    WITH done AS (
        SELECT e.felling_permit_id AS permit_id,
               sum(e.quantity) FILTER (WHERE e.replaces_event_id IS NULL) AS planted,
               sum(e.quantity) FILTER (WHERE e.replaces_event_id IS NOT NULL) AS replanted,
               sum(coalesce(last.alive, e.quantity)) AS surviving,
               bool_and(last.alive IS NOT NULL) AS all_checked
        FROM planting_events e
        LEFT JOIN LATERAL (
            SELECT s.alive FROM survival_checks s WHERE s.event_id = e.id
            ORDER BY s.season DESC LIMIT 1) last ON true
        WHERE e.felling_permit_id IS NOT NULL
        GROUP BY e.felling_permit_id
    )
    SELECT p.id, p.number, r.iso_code AS region, p.region_id, p.case::text AS case,
           p.reason::text AS reason, p.legal, p.felled_on, p.trees, p.ratio, p.owed, p.due_on,
           coalesce(d.planted, 0) AS planted, coalesce(d.replanted, 0) AS replanted,
           coalesce(d.surviving, 0) AS surviving, coalesce(d.all_checked, false) AS verified
    FROM felling_permits p
    JOIN regions r ON r.id = p.region_id
    LEFT JOIN done d ON d.permit_id = p.id
    WHERE (CAST(:region_id AS smallint) IS NULL OR p.region_id = :region_id)
      AND (CAST(:year AS integer) IS NULL OR EXTRACT(year FROM p.felled_on) = :year)
    ORDER BY p.due_on, p.id
    """
)


def obligation_status(row: dict[str, Any], today: date) -> str:
    """fulfilled (enough surviving plants), overdue (due date passed without them), or open."""
    if row["surviving"] >= row["owed"]:
        return "fulfilled"
    return "overdue" if row["due_on"] < today else "open"


def obligation_rows(
    session: Session, region_id: int | None, year: int | None, today: date
) -> list[dict[str, Any]]:
    rows = []
    for row in session.execute(OBLIGATIONS, {"region_id": region_id, "year": year}).mappings():
        item = dict(row)
        for key in ("planted", "replanted", "surviving"):
            item[key] = float(item[key])
        item["status"] = obligation_status(item, today)
        item["outstanding"] = max(0.0, item["owed"] - item["surviving"])
        rows.append(item)
    return rows


def obligations(
    session: Session,
    actor: Actor,
    region: str | int | None = None,
    year: int | None = None,
    status: str | None = None,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """Compensation obligations with their fulfilment; the whole country for the ministry."""
    region_id = None
    if region is not None:
        region_id = resolve_region(session, region).id
        require_region_read(session, actor, region_id, "compensation obligations")
    else:
        require_national_read(session, actor, "compensation obligations")
    if status not in (None, "open", "overdue", "fulfilled"):
        raise InvalidValue("status", "must be one of open, overdue, fulfilled", status)
    rows = obligation_rows(session, region_id, year, today or date.today())
    return [r for r in rows if status is None or r["status"] == status]
