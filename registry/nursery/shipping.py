"""Plants leaving a nursery and arriving where they are planted: dispatch and receipt.

A dispatch locks each batch it takes from (through the ledger in ``services``), so two dispatches
racing for the last plants are served one after the other; a receipt records what arrived, so
what was lost on the road is a count, not a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.access import (
    Actor,
    require_nursery_read,
    require_nursery_write,
    require_region_write,
    require_zoning_override,
)
from registry.audit.models import AuditEntry
from registry.audit.services import record_changes, record_creation
from registry.errors import InvalidValue, NotFound
from registry.nursery import rules
from registry.nursery.models import (
    MovementKind,
    Nursery,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    Stage,
)
from registry.nursery.services import (
    locked_batch,
    next_id,
    record_movement,
)
from registry.regions.models import Region
from registry.regions.services import resolve_region
from registry.species.models import Species


# -- dispatch and receipt -------------------------------------------------------------------------
@dataclass(frozen=True)
class LineRequest:
    batch_id: int
    quantity: int


def parse_lines(pairs: Iterable[str | tuple[Any, Any]]) -> list[LineRequest]:
    """``BATCH:QTY`` strings or (batch, qty) pairs; one batch at most once per shipment."""
    lines: list[LineRequest] = []
    for pair in pairs:
        if isinstance(pair, str):
            batch, _, qty = pair.partition(":")
        else:
            batch, qty = pair
        if not str(batch).strip().isdigit():
            raise InvalidValue("lines", "each line is BATCH_ID:QUANTITY", pair)
        lines.append(LineRequest(int(batch), rules.check_count("quantity", qty)))
    if not lines:
        raise InvalidValue("lines", "a shipment needs at least one batch line")
    if len({line.batch_id for line in lines}) != len(lines):
        raise InvalidValue("lines", "name each batch once per shipment")
    return lines


def zoning_conflicts(session: Session, species_ids: Iterable[int], region: Region) -> list[Species]:
    species = session.scalars(select(Species).where(Species.id.in_(set(species_ids))))
    return [s for s in species if not rules.zones_suit(s.zones, region.zones)]


def dispatch(
    session: Session,
    actor: Actor,
    nursery: Nursery,
    region: str | int,
    lines: Iterable[str | tuple[Any, Any]],
    on: Any,
    consignee: str = "",
    override_reason: str = "",
) -> Shipment:
    """Ship ready stock to an akimat; batches are locked in id order, then checked and drawn."""
    require_nursery_write(session, actor, nursery.id, "dispatch from", "nursery")
    destination = resolve_region(session, region)
    requested = sorted(parse_lines(lines), key=lambda line: line.batch_id)
    day = rules.check_date("on", on)
    batches = [locked_batch(session, line.batch_id) for line in requested]
    for batch in batches:
        if batch.nursery_id != nursery.id:
            raise InvalidValue("lines", f"batch {batch.code} belongs to another nursery", batch.id)
        if batch.stage is not Stage.READY:
            raise InvalidValue(
                "lines",
                f"batch {batch.code} is {batch.stage.value}, not ready to dispatch",
                batch.id,
            )
        rules.check_date("on", day, batch.started_on, f"batch {batch.code}'s sowing")
    unsuited = zoning_conflicts(session, [b.species_id for b in batches], destination)
    if unsuited and not override_reason.strip():
        names = "; ".join(f"{s.latin} (zones {', '.join(s.zones)})" for s in unsuited)
        raise InvalidValue(
            "region",
            f"{destination.name_en} lies in {', '.join(destination.zones)}, which does not suit "
            f"{names}; an administrator may override with a reason",
            destination.iso_code,
        )
    if unsuited:
        require_zoning_override(session, actor, nursery.id, destination.id)
    shipment_id = next_id(session, "shipments")
    number = f"{nursery.code}-S{day:%Y}-{shipment_id:05d}"
    shipment = Shipment(
        id=shipment_id,
        number=number,
        nursery_id=nursery.id,
        region_id=destination.id,
        consignee=consignee.strip() or f"akimat of {destination.name_en}",
        dispatched_on=day,
        status=ShipmentStatus.DISPATCHED,
        zoning_override=override_reason.strip() if unsuited else None,
        created_by=actor.user_id,
    )
    session.add(shipment)
    session.flush()
    for line, batch in zip(requested, batches, strict=True):
        movement = record_movement(
            session,
            actor,
            batch,
            MovementKind.DISPATCH,
            -line.quantity,
            day,
            f"shipment {number} to {destination.iso_code}",
        )
        session.add(
            ShipmentLine(
                shipment_id=shipment.id,
                batch_id=batch.id,
                movement_id=movement.id,
                quantity_shipped=line.quantity,
            )
        )
    session.flush()
    record_creation(
        session,
        actor,
        "shipment",
        shipment.id,
        destination.id,
        {
            "number": number,
            "nursery": nursery.code,
            "lines": [(r.batch_id, r.quantity) for r in requested],
        },
    )
    if unsuited:
        session.add(
            AuditEntry(
                user_id=actor.user_id,
                actor=actor.label,
                action="zoning_override",
                entity="shipment",
                entity_id=shipment.id,
                region_id=destination.id,
                field="zoning",
                old_value={
                    "species": [s.latin for s in unsuited],
                    "region_zones": destination.zones,
                },
                new_value={"reason": override_reason.strip()},
            )
        )
    return shipment


def get_shipment(session: Session, actor: Actor, shipment_id: int) -> Shipment:
    require_nursery_read(session, actor)
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} does not exist", id=shipment_id)
    return shipment


def shipment_lines(session: Session, shipment_id: int) -> list[ShipmentLine]:
    query = select(ShipmentLine).where(ShipmentLine.shipment_id == shipment_id)
    return list(session.scalars(query.order_by(ShipmentLine.id)))


def receive(
    session: Session,
    actor: Actor,
    shipment_id: int | str,
    received: dict[int, Any] | Iterable[str],
    on: Any,
) -> Shipment:
    """The akimat confirms what arrived per line; what is missing is recorded lost in transit."""
    shipment = (
        session.scalar(select(Shipment).where(Shipment.id == int(shipment_id)).with_for_update())
        if str(shipment_id).isdigit()
        else None
    )
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} does not exist", id=shipment_id)
    require_region_write(
        session, actor, shipment.region_id, "confirm receipt of", "shipment", shipment.id
    )
    if shipment.status is ShipmentStatus.RECEIVED:
        raise InvalidValue(
            "shipment",
            f"shipment {shipment.number} was already received on {shipment.received_on}",
            shipment.number,
        )
    counts = _received_counts(received)
    day = rules.check_date("on", on, shipment.dispatched_on, "the dispatch")
    lines = shipment_lines(session, shipment.id)
    by_batch = {line.batch_id: line for line in lines}
    by_line = {line.id: line for line in lines}
    unknown = [k for k in counts if k not in by_line and k not in by_batch]
    if unknown:
        raise InvalidValue(
            "received", f"shipment {shipment.number} has no line or batch {unknown[0]}", unknown[0]
        )
    chosen: dict[int, int] = {}
    for key, count in counts.items():
        line = by_line.get(key) or by_batch[key]
        if count > line.quantity_shipped:
            raise InvalidValue(
                "received",
                f"batch {line.batch_id}: {count} received exceeds {line.quantity_shipped} shipped",
                count,
            )
        chosen[line.id] = count
    missing = [line.batch_id for line in lines if line.id not in chosen]
    if missing:
        raise InvalidValue("received", f"give the count received for batch {missing[0]} too")
    for line in lines:
        line.quantity_received = chosen[line.id]
    losses = {line.batch_id: line.quantity_shipped - chosen[line.id] for line in lines}
    shipment.status = ShipmentStatus.RECEIVED
    shipment.received_on = day
    shipment.received_by = actor.user_id
    session.flush()
    record_changes(
        session,
        actor,
        "shipment",
        shipment.id,
        shipment.region_id,
        {"status": ("dispatched", "received"), "lost_in_transit": (None, losses)},
        action="receive",
    )
    return shipment


def _received_counts(received: dict[int, Any] | Iterable[str]) -> dict[int, int]:
    if isinstance(received, dict):
        pairs = received.items()
    else:
        pairs = []
        for item in received:
            key, _, value = str(item).partition(":")
            if not key.strip().isdigit():
                raise InvalidValue("received", "each count is BATCH_ID:RECEIVED", item)
            pairs.append((key, value))
    return {int(k): rules.check_count("received", v, allow_zero=True) for k, v in pairs}
