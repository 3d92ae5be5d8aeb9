"""Where a planted tree came from: event → shipment → batch (→ parent batches) → seed lot.

Planting events (issue 6) name the shipment line their stock came from once the receiving akimat
links them; survival checks of those events then report per nursery, species and seed provenance.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from registry.access import Actor, require_nursery_read, require_region_write
from registry.audit.services import record_changes
from registry.errors import InvalidValue, NotFound
from registry.inventory.services import get_plant
from registry.nursery.models import (
    Batch,
    Nursery,
    NurserySection,
    SeedLot,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)
from registry.nursery.services import resolve_nursery
from registry.planting.models import (
    PlantingEvent,
    PlantingEventPlant,
    PlantingPlan,
    PlantingPlanLine,
    PlantingUnit,
)
from registry.planting.rules import rate
from registry.species.models import Species


def link_planting(
    session: Session, actor: Actor, event_id: int, shipment_line_id: int
) -> PlantingEvent:
    """Record that a planting event used stock of a received shipment line.

    The line must have arrived in the event's region, hold the same species, have been received
    before planting, and still have plants not yet accounted to other events.
    """
    event = session.scalar(
        select(PlantingEvent).where(PlantingEvent.id == event_id).with_for_update()
    )
    if event is None:
        raise NotFound(f"planting event {event_id} does not exist", id=event_id)
    require_region_write(session, actor, event.region_id, "link", "planting event", event.id)
    line = session.scalar(
        select(ShipmentLine).where(ShipmentLine.id == shipment_line_id).with_for_update()
    )
    if line is None:
        raise NotFound(f"shipment line {shipment_line_id} does not exist", id=shipment_line_id)
    shipment = session.get(Shipment, line.shipment_id)
    batch = session.get(Batch, line.batch_id)
    if shipment.status is not ShipmentStatus.RECEIVED:
        raise InvalidValue("shipment_line", f"confirm receipt of {shipment.number} first", line.id)
    if shipment.region_id != event.region_id:
        raise InvalidValue("shipment_line", f"{shipment.number} went to another region", line.id)
    if batch.species_id != event.species_id:
        raise InvalidValue("shipment_line", "the line holds another species", line.id)
    if PlantingUnit(event.unit) is not PlantingUnit.PIECES:
        raise InvalidValue("event", "only plantings counted in pieces come from nursery batches")
    if event.planted_on < shipment.received_on:
        raise InvalidValue(
            "event",
            f"planted on {event.planted_on} before the stock arrived on {shipment.received_on}",
            event.id,
        )
    used = session.scalar(
        select(func.coalesce(func.sum(PlantingEvent.quantity), 0)).where(
            PlantingEvent.shipment_line_id == line.id, PlantingEvent.id != event.id
        )
    )
    left = line.quantity_received - int(used)
    if event.quantity > left:
        raise InvalidValue(
            "shipment_line",
            f"only {left} of the {line.quantity_received} received are not yet planted",
            int(event.quantity),
        )
    changes = {
        "shipment_line_id": (event.shipment_line_id, line.id),
        "batch_id": (event.batch_id, batch.id),
    }
    event.shipment_line_id, event.batch_id = line.id, batch.id
    session.flush()
    record_changes(session, actor, "planting_event", event.id, event.region_id, changes, "link")
    return event


def set_plan_line_nursery(
    session: Session, actor: Actor, plan_line_id: int, nursery: str | int
) -> PlantingPlanLine:
    """Name the nursery expected to supply a plan line."""
    line = session.get(PlantingPlanLine, plan_line_id)
    if line is None:
        raise NotFound(f"plan line {plan_line_id} does not exist", id=plan_line_id)
    plan = session.get(PlantingPlan, line.plan_id)
    require_region_write(session, actor, plan.region_id, "choose the nursery of", "plan line")
    chosen = resolve_nursery(session, nursery)
    changes = {"nursery_id": (line.nursery_id, chosen.id)}
    line.nursery_id = chosen.id
    session.flush()
    record_changes(session, actor, "planting_plan_line", line.id, plan.region_id, changes)
    return line


def _lineage(session: Session, batch: Batch) -> list[dict[str, Any]]:
    """The batch and the batches it was transplanted from, newest first."""
    chain = []
    current: Batch | None = batch
    while current is not None and len(chain) < 10:
        section = session.get(NurserySection, current.section_id)
        chain.append(
            {
                "batch": current.code,
                "section": section.name,
                "section_kind": section.kind.value,
                "started_on": current.started_on.isoformat(),
                "root_system": current.root_system.value,
                "stage": current.stage.value,
                "grade": current.grade,
                "standard": current.standard,
            }
        )
        current = session.get(Batch, current.parent_batch_id) if current.parent_batch_id else None
    return chain


def provenance_of_plant(session: Session, actor: Actor, plant_id: int) -> dict[str, Any]:
    """The provenance card of a planted tree, as far back as the records reach (staff only)."""
    require_nursery_read(session, actor)
    plant = get_plant(session, actor, plant_id)
    event = session.scalar(
        select(PlantingEvent)
        .join(PlantingEventPlant, PlantingEventPlant.event_id == PlantingEvent.id)
        .where(PlantingEventPlant.plant_id == plant.id)
    )
    card: dict[str, Any] = {"plant_id": plant.id, "inventory_number": plant.inventory_number}
    if event is None:
        return {**card, "known": False, "reason": "no planting event created this plant"}
    card["event"] = {
        "id": event.id,
        "planted_on": event.planted_on.isoformat(),
        "performer": event.performer,
        "quantity": float(event.quantity),
    }
    if event.batch_id is None:
        return {**card, "known": False, "reason": "the planting event names no nursery stock"}
    batch = session.get(Batch, event.batch_id)
    nursery = session.get(Nursery, batch.nursery_id)
    species = session.get(Species, batch.species_id)
    card.update(
        known=True,
        species={
            "latin": species.latin,
            "ru": species.name_ru,
            "kk": species.name_kk,
            "en": species.name_en,
        },
        nursery={"code": nursery.code, "name": nursery.name, "operator": nursery.operator},
        batches=_lineage(session, batch),
    )
    if event.shipment_line_id is not None:
        line = session.get(ShipmentLine, event.shipment_line_id)
        shipment = session.get(Shipment, line.shipment_id)
        card["shipment"] = {
            "number": shipment.number,
            "dispatched_on": shipment.dispatched_on.isoformat(),
            "received_on": shipment.received_on.isoformat() if shipment.received_on else None,
            "shipped": line.quantity_shipped,
            "received": line.quantity_received,
            "zoning_override": shipment.zoning_override,
        }
    root = session.get(Batch, _root_batch_id(session, batch))
    lot = session.get(SeedLot, root.seed_lot_id) if root.seed_lot_id else None
    if lot is not None:
        card["seed_lot"] = {
            "code": lot.code,
            "collection_place": lot.collection_place,
            "seed_zone": lot.seed_zone,
            "collection_year": lot.collection_year,
            "germination_pct": float(lot.germination_pct),
            "certificate_no": lot.certificate_no,
        }
    else:
        card["supplier"] = root.supplier
    return card


def _root_batch_id(session: Session, batch: Batch) -> int:
    current = batch
    while current.parent_batch_id is not None:
        current = session.get(Batch, current.parent_batch_id)
    return current.id


SURVIVAL_SQL = """
    SELECT n.code AS nursery, s.latin AS species,
           coalesce(sl.seed_zone, 'supplier: ' || b.supplier) AS seed_zone,
           coalesce(sl.collection_place, '') AS collection_place,
           CASE WHEN sl.id IS NULL THEN b.supplier END AS supplier,
           count(*) AS events, sum(e.quantity)::bigint AS planted,
           coalesce(sum(e.quantity) FILTER (WHERE c1.id IS NOT NULL), 0)::bigint AS checked_1,
           coalesce(sum(c1.alive), 0)::bigint AS alive_1,
           round(100 * sum(c1.alive) / nullif(sum(e.quantity) FILTER (WHERE c1.id IS NOT NULL), 0),
                 1) AS survival_1_pct,
           coalesce(sum(e.quantity) FILTER (WHERE c3.id IS NOT NULL), 0)::bigint AS checked_3,
           coalesce(sum(c3.alive), 0)::bigint AS alive_3,
           round(100 * sum(c3.alive) / nullif(sum(e.quantity) FILTER (WHERE c3.id IS NOT NULL), 0),
                 1) AS survival_3_pct
    FROM planting_events e
    JOIN batches b ON b.id = e.batch_id
    JOIN nurseries n ON n.id = b.nursery_id
    JOIN species s ON s.id = e.species_id
    LEFT JOIN seed_lots sl ON sl.id = b.seed_lot_id
    LEFT JOIN survival_checks c1 ON c1.event_id = e.id AND c1.season = 1
    LEFT JOIN survival_checks c3 ON c3.event_id = e.id AND c3.season = 3
    WHERE e.unit = 'pieces' AND e.replaces_event_id IS NULL
      AND (CAST(:nursery AS int) IS NULL OR n.id = :nursery)
      AND (CAST(:region AS int) IS NULL OR e.region_id = :region)
    GROUP BY n.code, s.latin, 3, 4, 5
    ORDER BY n.code, s.latin, 3
"""


def survival_by_provenance(
    session: Session, actor: Actor, nursery: str | int | None = None
) -> list[dict[str, Any]]:
    """Survival after the 1st and 3rd season per nursery, species and seed provenance.

    Batches transplanted from a sown batch carry its seed lot, so provenance survives schooling.
    """
    require_nursery_read(session, actor)
    nursery_id = resolve_nursery(session, nursery).id if nursery else None
    rows = session.execute(text(SURVIVAL_SQL), {"nursery": nursery_id, "region": None})
    return [dict(row._mapping) for row in rows]


SEED_FIGURES = ("planted", "checked_1", "alive_1", "checked_3", "alive_3")


def survival_by_seed_origin(session: Session, region_id: int) -> list[dict[str, Any]]:
    """Survival after the 1st and 3rd season of a region's plantings per seed provenance: the
    seed zone and place the seed lot was collected in, or the supplier of bought stock.

    The same rows as ``survival_by_provenance`` (only plantings traced to a nursery batch),
    summed over nurseries and species; the caller has checked that the region may be read.
    Rates are ``None`` where no one has checked yet (not measured, never zero).
    """
    found: dict[tuple, dict[str, Any]] = {}
    params = {"nursery": None, "region": region_id}
    for row in session.execute(text(SURVIVAL_SQL), params).mappings():
        supplier = row["supplier"]
        zone = None if supplier is not None else row["seed_zone"]
        key = (zone, row["collection_place"] or None, supplier)
        group = found.setdefault(
            key,
            {"seed_zone": key[0], "collection_place": key[1], "supplier": key[2]}
            | dict.fromkeys(SEED_FIGURES, 0),
        )
        for figure in SEED_FIGURES:
            group[figure] += int(row[figure])
    origins = sorted(found.values(), key=lambda g: (-g["planted"], str(g["seed_zone"])))
    for group in origins:
        group["rate_1"] = rate(group["alive_1"], group["checked_1"])
        group["rate_3"] = rate(group["alive_3"], group["checked_3"])
    return origins
