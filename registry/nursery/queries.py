"""Reading nursery stock: what is on hand, each batch's ledger, shipments, stock against plans.

Nothing here writes; each reader checks the actor's right to read the nursery first.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from registry.access import (
    Actor,
    require_nursery_read,
)
from registry.nursery import rules
from registry.nursery.models import (
    Batch,
    BatchMovement,
    MovementKind,
    Nursery,
    Shipment,
)
from registry.nursery.services import (
    resolve_nursery,
)
from registry.species.services import get_species

# -- reading -------------------------------------------------------------------------------------
STOCK_SQL = """
    SELECT n.code AS nursery, r.iso_code AS region, s.latin AS species,
           s.name_ru, s.name_kk, s.name_en,
           b.stage::text AS stage, b.grade, b.root_system::text AS root_system,
           count(*) AS batches, sum(b.quantity)::bigint AS quantity
    FROM batches b
    JOIN nurseries n ON n.id = b.nursery_id
    JOIN regions r ON r.id = n.region_id
    JOIN species s ON s.id = b.species_id
    WHERE b.quantity > 0
      AND (CAST(:nursery AS int) IS NULL OR b.nursery_id = :nursery)
      AND (CAST(:species AS int) IS NULL OR b.species_id = :species)
    GROUP BY n.code, r.iso_code, s.id, b.stage, b.grade, b.root_system
    ORDER BY n.code, s.latin, b.stage, b.grade NULLS FIRST
"""


def stock(
    session: Session,
    actor: Actor,
    nursery: str | int | None = None,
    species: str | int | None = None,
) -> list[dict[str, Any]]:
    """Stock on hand by nursery, species, stage, grade and root system (non-empty batches)."""
    require_nursery_read(session, actor)
    nursery_id = resolve_nursery(session, nursery).id if nursery else None
    species_id = get_species(session, species).id if species else None
    rows = session.execute(text(STOCK_SQL), {"nursery": nursery_id, "species": species_id})
    return [dict(row._mapping) for row in rows]


def batches_of(session: Session, actor: Actor, nursery: Nursery) -> list[Batch]:
    require_nursery_read(session, actor)
    query = select(Batch).where(Batch.nursery_id == nursery.id).order_by(Batch.code)
    return list(session.scalars(query))


def ledger(
    session: Session,
    actor: Actor,
    nursery: Nursery | None = None,
    batch_id: int | None = None,
    kind: str | None = None,
    since: Any = None,
    until: Any = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Movements, newest first, filtered by nursery, batch, kind and date range."""
    require_nursery_read(session, actor)
    query = (
        select(BatchMovement, Batch.code, Batch.nursery_id)
        .join(Batch, Batch.id == BatchMovement.batch_id)
        .order_by(BatchMovement.on_date.desc(), BatchMovement.id.desc())
        .limit(limit)
    )
    if nursery is not None:
        query = query.where(Batch.nursery_id == nursery.id)
    if batch_id is not None:
        query = query.where(BatchMovement.batch_id == int(batch_id))
    if kind:
        query = query.where(BatchMovement.kind == rules.check_choice("kind", kind, MovementKind))
    if since:
        query = query.where(BatchMovement.on_date >= rules.check_date("since", since))
    if until:
        query = query.where(BatchMovement.on_date <= rules.check_date("until", until))
    return [
        {
            "id": m.id,
            "batch_id": m.batch_id,
            "batch": code,
            "kind": m.kind.value,
            "quantity": m.quantity,
            "on": m.on_date.isoformat(),
            "cause": m.cause.value if m.cause else None,
            "reason": m.reason,
            "actor": m.actor,
            "reverses": m.reverses_id,
        }
        for m, code, _ in session.execute(query)
    ]


NATIONAL_SQL = """
    WITH moved AS (
        SELECT b.nursery_id,
               sum(m.quantity) FILTER (WHERE m.kind = 'sowing') AS sown,
               -sum(m.quantity) FILTER (WHERE m.kind = 'dispatch') AS dispatched,
               -sum(m.quantity) FILTER (WHERE m.kind = 'loss') AS lost
        FROM batch_movements m JOIN batches b ON b.id = m.batch_id
        WHERE m.on_date >= make_date(:year, 1, 1) AND m.on_date < make_date(:year + 1, 1, 1)
        GROUP BY b.nursery_id
    ), capacity AS (
        SELECT nursery_id, sum(capacity_per_year) AS capacity FROM nursery_sections GROUP BY 1
    ), held AS (
        SELECT nursery_id, sum(quantity) AS on_hand,
               sum(quantity) FILTER (WHERE stage = 'ready') AS ready
        FROM batches GROUP BY 1
    )
    SELECT n.code AS nursery, n.name, r.iso_code AS region,
           coalesce(h.on_hand, 0)::bigint AS on_hand, coalesce(h.ready, 0)::bigint AS ready,
           coalesce(m.sown, 0)::bigint AS sown, coalesce(m.dispatched, 0)::bigint AS dispatched,
           coalesce(m.lost, 0)::bigint AS lost, coalesce(c.capacity, 0)::bigint AS capacity,
           CASE WHEN c.capacity > 0 THEN round(100.0 * coalesce(m.sown, 0) / c.capacity, 1) END
               AS capacity_used_pct
    FROM nurseries n JOIN regions r ON r.id = n.region_id
    LEFT JOIN moved m ON m.nursery_id = n.id
    LEFT JOIN capacity c ON c.nursery_id = n.id
    LEFT JOIN held h ON h.nursery_id = n.id
    ORDER BY n.code
"""


def national_summary(
    session: Session, actor: Actor, year: int | None = None
) -> list[dict[str, Any]]:
    """Per nursery: stock on hand and ready, sown/dispatched/lost in ``year``, capacity used."""
    require_nursery_read(session, actor)
    rows = session.execute(text(NATIONAL_SQL), {"year": year or date.today().year})
    return [dict(row._mapping) for row in rows]


def shipments(
    session: Session, actor: Actor, nursery: Nursery | None = None, region_id: int | None = None
) -> list[Shipment]:
    require_nursery_read(session, actor)
    query = select(Shipment).order_by(Shipment.dispatched_on.desc(), Shipment.id.desc())
    if nursery is not None:
        query = query.where(Shipment.nursery_id == nursery.id)
    if region_id is not None:
        query = query.where(Shipment.region_id == region_id)
    return list(session.scalars(query))


PLAN_SHORTFALL_SQL = """
    WITH planned AS (
        SELECT p.region_id, l.species_id, sum(l.quantity)::bigint AS planned
        FROM planting_plan_lines l JOIN planting_plans p ON p.id = l.plan_id
        WHERE p.year = :year AND p.status = 'approved' AND l.unit = 'pieces'
        GROUP BY 1, 2
    ), shipped AS (
        SELECT s.region_id, b.species_id,
               sum(coalesce(sl.quantity_received, sl.quantity_shipped))::bigint AS shipped
        FROM shipment_lines sl JOIN shipments s ON s.id = sl.shipment_id
        JOIN batches b ON b.id = sl.batch_id
        WHERE s.dispatched_on >= make_date(:year - 1, 9, 1)
          AND s.dispatched_on < make_date(:year + 1, 1, 1)
        GROUP BY 1, 2
    ), ready AS (
        SELECT species_id, sum(quantity)::bigint AS ready
        FROM batches WHERE stage = 'ready' GROUP BY 1
    ), need AS (
        SELECT p.region_id, p.species_id, p.planned, coalesce(s.shipped, 0) AS shipped,
               greatest(p.planned - coalesce(s.shipped, 0), 0) AS still_needed
        FROM planned p LEFT JOIN shipped s USING (region_id, species_id)
    )
    SELECT r.iso_code AS region, sp.latin AS species, sp.name_ru, sp.name_kk, sp.name_en,
           n.planned, n.shipped,
           n.still_needed, coalesce(rd.ready, 0) AS ready_nationally,
           greatest(sum(n.still_needed) OVER (PARTITION BY n.species_id)
                    - coalesce(rd.ready, 0), 0) AS national_shortfall
    FROM need n JOIN regions r ON r.id = n.region_id JOIN species sp ON sp.id = n.species_id
    LEFT JOIN ready rd ON rd.species_id = n.species_id
    ORDER BY national_shortfall DESC, n.still_needed DESC, r.iso_code
"""


def stock_against_plans(session: Session, actor: Actor, year: int) -> list[dict[str, Any]]:
    """The year's approved planting plans (pieces) per region and species, against stock.

    ``shipped`` counts deliveries since the previous autumn (autumn stock feeds spring planting);
    ``national_shortfall`` is what the whole country's ready stock cannot cover for that species.
    """
    require_nursery_read(session, actor)
    return [dict(r._mapping) for r in session.execute(text(PLAN_SHORTFALL_SQL), {"year": year})]
