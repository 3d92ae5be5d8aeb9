"""What may be done with nursery stock: seed lots, sowing, counting, transplanting, losses.

Dispatch and receipt live in ``shipping``, reading the stock in ``queries``; both build on the
ledger here.

Every function works in the caller's unit of work and never commits. A batch is locked
(``SELECT … FOR UPDATE``) before its count changes, so two dispatches racing for the last plants
are served one after the other: the second sees what the first left and is refused with "only N
left". The count itself is moved only by ledger rows (a trigger adds each row's delta; a CHECK keeps
it at zero or above), so the service's check and the database's agree, and history is corrected
by counter-movements only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from registry.access import (
    Actor,
    require_nursery_write,
    require_role,
)
from registry.accounts.models import Role
from registry.audit.services import record_changes, record_creation
from registry.errors import DuplicateRecord, InvalidValue, NotFound
from registry.inventory.services import locate
from registry.nursery import rules
from registry.nursery.models import (
    Batch,
    BatchMovement,
    LossCause,
    MovementKind,
    Nursery,
    NurserySection,
    RootSystem,
    SectionKind,
    SeedLot,
    SeedLotMovement,
    SeedMovementKind,
    Stage,
)
from registry.regions.models import NATURAL_ZONES
from registry.species.models import Species
from registry.species.services import get_species
from registry.text import fold


# -- finding things -------------------------------------------------------------------------------
def list_nurseries(session: Session) -> list[Nursery]:
    return list(session.scalars(select(Nursery).order_by(Nursery.region_id, Nursery.code)))


def resolve_nursery(session: Session, reference: str | int) -> Nursery:
    """By id, code (``KST-AULIEKOL``) or name, case- and script-insensitively."""
    if isinstance(reference, int) or str(reference).strip().isdigit():
        found = session.get(Nursery, int(reference))
        if found:
            return found
    wanted = fold(str(reference))
    nurseries = list_nurseries(session)
    for nursery in nurseries:
        if wanted in {fold(nursery.code), fold(nursery.name)}:
            return nursery
    valid = ", ".join(n.code for n in nurseries) or "none yet"
    raise NotFound(f"unknown nursery {reference!r}; nurseries: {valid}", reference=str(reference))


def resolve_section(session: Session, nursery: Nursery, reference: str | int) -> NurserySection:
    sections = list(
        session.scalars(select(NurserySection).where(NurserySection.nursery_id == nursery.id))
    )
    wanted = fold(str(reference))
    for section in sections:
        if wanted in {str(section.id), fold(section.name), fold(section.kind.value)}:
            return section
    valid = ", ".join(s.name for s in sections)
    raise InvalidValue(
        "section", f"no such section in {nursery.code}; sections: {valid}", reference
    )


def get_batch(session: Session, batch_id: int | str) -> Batch:
    batch = session.get(Batch, int(batch_id)) if str(batch_id).isdigit() else None
    if batch is None:
        raise NotFound(f"batch {batch_id} does not exist", id=batch_id)
    return batch


def locked_batch(session: Session, batch_id: int | str) -> Batch:
    """The batch, locked until the unit of work ends, with its committed count re-read."""
    if not str(batch_id).isdigit():
        raise NotFound(f"batch {batch_id} does not exist", id=batch_id)
    batch = session.scalar(
        select(Batch)
        .where(Batch.id == int(batch_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if batch is None:
        raise NotFound(f"batch {batch_id} does not exist", id=batch_id)
    return batch


def _locked_seed_lot(session: Session, lot_id: int) -> SeedLot:
    lot = session.scalar(
        select(SeedLot)
        .where(SeedLot.id == lot_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if lot is None:
        raise NotFound(f"seed lot {lot_id} does not exist", id=lot_id)
    return lot


# -- nurseries and sections -----------------------------------------------------------------------
def create_nursery(
    session: Session,
    actor: Actor,
    code: str,
    name: str,
    operator: str,
    location: Point,
    site: BaseGeometry | None = None,
    zones: Iterable[str] | None = None,
) -> Nursery:
    """Register a nursery; its region comes from its location, its zones default to the region's."""
    require_role(session, actor, {Role.ADMIN}, "register", "nursery")
    code = code.strip().upper()
    if not code or not name.strip():
        raise InvalidValue("code" if not code else "name", "a nursery needs a code and a name")
    if session.scalar(select(Nursery.id).where(Nursery.code == code)) is not None:
        raise DuplicateRecord(f"code: nursery {code} already exists", field="code", value=code)
    region = locate(session, location)
    chosen = list(zones) if zones else list(region.zones)
    unknown = sorted(set(chosen) - set(NATURAL_ZONES))
    if unknown:
        raise InvalidValue("zones", f"must be among {', '.join(NATURAL_ZONES)}", unknown[0])
    if site is not None:
        if site.geom_type == "Polygon":
            site = MultiPolygon([site])
        if site.geom_type != "MultiPolygon" or not site.is_valid:
            raise InvalidValue("site", "must be a valid polygon", site.geom_type)
    nursery = Nursery(
        code=code,
        name=name.strip(),
        operator=operator.strip(),
        region_id=region.id,
        location=from_shape(location, 4326),
        site=from_shape(site, 4326) if site is not None else None,
        zones=chosen,
    )
    session.add(nursery)
    session.flush()
    record_creation(
        session, actor, "nursery", nursery.id, region.id, {"code": code, "name": nursery.name}
    )
    return nursery


def add_section(
    session: Session,
    actor: Actor,
    nursery: Nursery,
    name: str,
    kind: str | SectionKind,
    capacity_per_year: Any = 0,
    area_ha: Any = None,
) -> NurserySection:
    require_nursery_write(session, actor, nursery.id, "add a section to", "nursery", nursery.id)
    section = NurserySection(
        nursery_id=nursery.id,
        name=name.strip(),
        kind=rules.check_choice("kind", kind, SectionKind),
        capacity_per_year=rules.check_count("capacity_per_year", capacity_per_year, True),
        area_ha=area_ha,
    )
    session.add(section)
    session.flush()
    return section


# -- seed lots ------------------------------------------------------------------------------------
def register_seed_lot(
    session: Session,
    actor: Actor,
    nursery: Nursery,
    *,
    code: str,
    species: str | int,
    collection_place: str,
    seed_zone: str,
    collection_year: Any,
    weight_kg: Any,
    germination_pct: Any,
    certificate_no: str,
    storage: str = "",
    received_on: Any = None,
) -> SeedLot:
    """A seed lot with its passport; its weight enters the ledger as a receipt."""
    require_nursery_write(session, actor, nursery.id, "register", "seed lot")
    on = rules.check_date("received_on", received_on or date.today())
    year = rules.check_count("collection_year", collection_year)
    if not 1950 <= year <= on.year:
        raise InvalidValue("collection_year", f"must lie between 1950 and {on.year}", year)
    if not certificate_no.strip():
        raise InvalidValue("certificate_no", "a seed lot needs its certificate/passport number")
    if not collection_place.strip():
        raise InvalidValue("collection_place", "say where the seed was collected")
    if session.scalar(
        select(SeedLot.id).where(SeedLot.nursery_id == nursery.id, SeedLot.code == code.strip())
    ):
        raise DuplicateRecord(f"code: seed lot {code} already exists in {nursery.code}")
    lot = SeedLot(
        nursery_id=nursery.id,
        code=code.strip(),
        species_id=get_species(session, species).id,
        collection_place=collection_place.strip(),
        seed_zone=seed_zone.strip(),
        collection_year=year,
        germination_pct=rules.check_percent("germination_pct", germination_pct),
        certificate_no=certificate_no.strip(),
        storage=storage.strip(),
    )
    session.add(lot)
    session.flush()
    _seed_move(
        session,
        actor,
        lot,
        SeedMovementKind.RECEIPT,
        rules.check_weight("weight_kg", weight_kg),
        on,
        "received",
    )
    return lot


def _seed_move(
    session: Session,
    actor: Actor,
    lot: SeedLot,
    kind: SeedMovementKind,
    weight_kg: Decimal,
    on: date,
    reason: str,
    batch_id: int | None = None,
    reverses_id: int | None = None,
) -> SeedLotMovement:
    if lot.weight_kg + weight_kg < 0:
        raise InvalidValue(
            "weight_kg", f"only {lot.weight_kg} kg left in seed lot {lot.code}", float(-weight_kg)
        )
    movement = SeedLotMovement(
        seed_lot_id=lot.id,
        kind=kind,
        weight_kg=weight_kg,
        on_date=on,
        reason=reason,
        batch_id=batch_id,
        reverses_id=reverses_id,
        user_id=actor.user_id,
        actor=actor.label,
    )
    session.add(movement)
    session.flush()
    session.refresh(lot, ["weight_kg"])
    return movement


def use_seed(
    session: Session, actor: Actor, lot_id: int, kind: str, weight_kg: Any, on: Any, reason: str
) -> SeedLotMovement:
    """A stock-take difference or a loss of seed (kg), signed as given for stock-takes."""
    lot = _locked_seed_lot(session, lot_id)
    require_nursery_write(session, actor, lot.nursery_id, "change", "seed lot", lot.id)
    chosen = rules.check_choice("kind", kind, SeedMovementKind)
    if chosen not in {SeedMovementKind.STOCKTAKE, SeedMovementKind.LOSS}:
        raise InvalidValue("kind", "seed is taken out by sowing; record stocktake or loss", kind)
    if not reason.strip():
        raise InvalidValue("reason", "say why the seed weight changes")
    weight = rules.to_decimal("weight_kg", weight_kg)
    if weight is None or weight == 0:
        raise InvalidValue("weight_kg", "must be a non-zero weight in kilograms", weight_kg)
    if chosen is SeedMovementKind.LOSS:
        weight = -abs(weight)
    return _seed_move(session, actor, lot, chosen, weight, rules.check_date("on", on), reason)


def reverse_seed_movement(
    session: Session, actor: Actor, movement_id: int, reason: str, on: Any = None
) -> SeedLotMovement:
    """Undo a seed-lot ledger row (a mis-keyed receipt, loss or stock-take) by its counter-row."""
    original = session.get(SeedLotMovement, int(movement_id))
    if original is None:
        raise NotFound(f"seed movement {movement_id} does not exist", id=movement_id)
    if not reason.strip():
        raise InvalidValue("reason", "say why the movement is reversed")
    if original.kind in {SeedMovementKind.REVERSAL, SeedMovementKind.SOWING}:
        raise InvalidValue("movement", f"a {original.kind.value} is not reversed here", original.id)
    lot = _locked_seed_lot(session, original.seed_lot_id)
    require_nursery_write(session, actor, lot.nursery_id, "reverse", "seed movement", original.id)
    already = session.scalar(
        select(SeedLotMovement.id).where(SeedLotMovement.reverses_id == original.id)
    )
    if already is not None:
        raise DuplicateRecord(f"seed movement {original.id} was already reversed by {already}")
    day = rules.check_date("on", on or date.today(), original.on_date, "the movement reversed")
    return _seed_move(
        session,
        actor,
        lot,
        SeedMovementKind.REVERSAL,
        -original.weight_kg,
        day,
        reason,
        reverses_id=original.id,
    )


# -- batches and the ledger ----------------------------------------------------------------------
def record_movement(
    session: Session,
    actor: Actor,
    batch: Batch,
    kind: MovementKind,
    quantity: int,
    on: date,
    reason: str = "",
    cause: LossCause | None = None,
    reverses_id: int | None = None,
    paired_id: int | None = None,
) -> BatchMovement:
    """Append one ledger row to a locked batch; the trigger moves the count in step."""
    if quantity == 0:
        raise InvalidValue("quantity", "a movement must change the count", 0)
    if batch.quantity + quantity < 0:
        raise InvalidValue(
            "quantity",
            f"only {batch.quantity} left in batch {batch.code}",
            -quantity,
        )
    movement = BatchMovement(
        batch_id=batch.id,
        kind=kind,
        quantity=quantity,
        on_date=on,
        cause=cause,
        reason=reason.strip(),
        reverses_id=reverses_id,
        paired_id=paired_id,
        user_id=actor.user_id,
        actor=actor.label,
    )
    session.add(movement)
    session.flush()
    session.refresh(batch, ["quantity"])
    return movement


def next_id(session: Session, table: str) -> int:
    """The record's id drawn before insert: codes built from it never clash, even concurrently."""
    return session.scalar(text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"))


def _new_batch(
    session: Session, nursery: Nursery, on: date, code: str = "", **values: Any
) -> Batch:
    if code.strip() and session.scalar(
        select(Batch.id).where(Batch.nursery_id == nursery.id, Batch.code == code.strip())
    ):
        raise DuplicateRecord(f"code: batch {code.strip()} already exists in {nursery.code}")
    batch_id = next_id(session, "batches")
    batch = Batch(
        id=batch_id,
        nursery_id=nursery.id,
        code=code.strip() or f"{nursery.code}-{on.year}-{batch_id:05d}",
        version=1,
        **values,
    )
    session.add(batch)
    session.flush()
    session.refresh(batch, ["quantity"])
    return batch


def sow(
    session: Session,
    actor: Actor,
    nursery: Nursery,
    *,
    section: str | int,
    quantity: Any,
    on: Any,
    seed_lot_id: int | None = None,
    species: str | int | None = None,
    supplier: str = "",
    seed_weight_kg: Any = None,
    root_system: str | RootSystem = RootSystem.OPEN,
    age_years: Any = 0,
    stage: str | Stage = Stage.SOWN,
    code: str = "",
) -> Batch:
    """Start a batch: sown from a seed lot (taking its weight), or received from a supplier."""
    require_nursery_write(session, actor, nursery.id, "sow in", "nursery")
    place = resolve_section(session, nursery, section)
    count = rules.check_count("quantity", quantity)
    lot = None
    if seed_lot_id is not None:
        lot = _locked_seed_lot(session, int(seed_lot_id))
        if lot.nursery_id != nursery.id:
            raise InvalidValue(
                "seed_lot", f"seed lot {lot.code} belongs to another nursery", lot.id
            )
        chosen_species = session.get(Species, lot.species_id)
        if species is not None and get_species(session, species).id != chosen_species.id:
            raise InvalidValue(
                "species", f"seed lot {lot.code} holds {chosen_species.latin}", species
            )
        day = rules.check_date("on", on, date(lot.collection_year, 1, 1), "the seed's collection")
    else:
        if not supplier.strip():
            raise InvalidValue("supplier", "name the seed lot sown or the supplier of the stock")
        if species is None:
            raise InvalidValue("species", "name the species received")
        chosen_species = get_species(session, species)
        day = rules.check_date("on", on)
    batch = _new_batch(
        session,
        nursery,
        day,
        code,
        section_id=place.id,
        species_id=chosen_species.id,
        seed_lot_id=lot.id if lot else None,
        supplier=supplier.strip(),
        started_on=day,
        age_at_start=rules.check_count("age_years", age_years, True),
        root_system=rules.check_choice("root_system", root_system, RootSystem),
        stage=rules.check_choice("stage", stage, Stage),
    )
    kind = MovementKind.SOWING if lot else MovementKind.RECEIPT
    record_movement(
        session, actor, batch, kind, count, day, supplier.strip() or f"seed lot {lot.code}"
    )
    if lot is not None and seed_weight_kg not in (None, ""):
        weight = rules.check_weight("seed_weight_kg", seed_weight_kg)
        _seed_move(
            session,
            actor,
            lot,
            SeedMovementKind.SOWING,
            -weight,
            day,
            f"sown as {batch.code}",
            batch_id=batch.id,
        )
    record_creation(
        session,
        actor,
        "batch",
        batch.id,
        nursery.region_id,
        {"code": batch.code, "species": chosen_species.latin, "quantity": count, "on": day},
    )
    return batch


def count_batch(
    session: Session,
    actor: Actor,
    batch_id: int | str,
    counted: Any,
    on: Any,
    reason: str = "",
    germination: bool = False,
) -> BatchMovement | None:
    """A germination count or a stock-take: the ledger records the difference to the count."""
    batch = locked_batch(session, batch_id)
    require_nursery_write(session, actor, batch.nursery_id, "count", "batch", batch.id)
    found = rules.check_count("counted", counted, allow_zero=True)
    day = rules.check_date("on", on, batch.started_on, "the batch's sowing")
    if not germination and not reason.strip():
        raise InvalidValue("reason", "a stock-take correction needs a reason")
    difference = found - batch.quantity
    if germination and batch.stage is Stage.SOWN:
        batch.stage = Stage.SEEDLINGS
    if difference == 0:
        return None
    kind = MovementKind.GERMINATION if germination else MovementKind.STOCKTAKE
    return record_movement(
        session, actor, batch, kind, difference, day, reason or "germination count"
    )


def record_loss(
    session: Session,
    actor: Actor,
    batch_id: int | str,
    quantity: Any,
    cause: str | LossCause,
    on: Any,
    reason: str = "",
) -> BatchMovement:
    batch = locked_batch(session, batch_id)
    require_nursery_write(session, actor, batch.nursery_id, "record a loss in", "batch", batch.id)
    count = rules.check_count("quantity", quantity)
    chosen = rules.check_choice("cause", cause, LossCause)
    day = rules.check_date("on", on, batch.started_on, "the batch's sowing")
    return record_movement(
        session, actor, batch, MovementKind.LOSS, -count, day, reason, cause=chosen
    )


def transplant(
    session: Session,
    actor: Actor,
    batch_id: int | str,
    quantity: Any,
    to_section: str | int,
    on: Any,
    into_batch_id: int | None = None,
) -> Batch:
    """Move plants to another section: out of this batch, into a new (or given) batch there."""
    source = locked_batch(session, batch_id)
    require_nursery_write(session, actor, source.nursery_id, "transplant", "batch", source.id)
    nursery = session.get(Nursery, source.nursery_id)
    count = rules.check_count("quantity", quantity)
    day = rules.check_date("on", on, source.started_on, "the batch's sowing")
    section = resolve_section(session, nursery, to_section)
    if into_batch_id is not None:
        target = locked_batch(session, into_batch_id)
        if target.nursery_id != source.nursery_id or target.species_id != source.species_id:
            raise InvalidValue(
                "into_batch", "must be a batch of the same species here", into_batch_id
            )
    else:
        target = _new_batch(
            session,
            nursery,
            day,
            section_id=section.id,
            species_id=source.species_id,
            seed_lot_id=source.seed_lot_id,
            supplier=source.supplier,
            parent_batch_id=source.id,
            started_on=source.started_on,
            age_at_start=source.age_at_start,
            root_system=source.root_system,
            stage=Stage.TRANSPLANTED,
        )
    out = record_movement(
        session,
        actor,
        source,
        MovementKind.TRANSPLANT_OUT,
        -count,
        day,
        f"to {section.name} ({target.code})",
    )
    record_movement(
        session,
        actor,
        target,
        MovementKind.TRANSPLANT_IN,
        count,
        day,
        f"from {source.code}",
        paired_id=out.id,
    )
    return target


def set_stage(
    session: Session,
    actor: Actor,
    batch_id: int | str,
    stage: str | Stage,
    grade: Any = None,
    standard: str = "",
) -> Batch:
    """Advance a batch's stage; stock declared ready must carry its grade."""
    batch = locked_batch(session, batch_id)
    require_nursery_write(session, actor, batch.nursery_id, "grade", "batch", batch.id)
    wanted = rules.check_stage_change(batch.stage, rules.check_choice("stage", stage, Stage))
    chosen_grade = rules.check_grade(grade) if grade not in (None, "") else batch.grade
    if wanted is Stage.READY and chosen_grade is None:
        raise InvalidValue("grade", "stock declared ready needs its grade (1, 2 or 3)")
    changes = {}
    for field, new in (
        ("stage", wanted),
        ("grade", chosen_grade),
        ("standard", standard or batch.standard),
    ):
        if getattr(batch, field) != new:
            changes[field] = (getattr(batch, field), new)
            setattr(batch, field, new)
    if changes:
        batch.version += 1
        nursery = session.get(Nursery, batch.nursery_id)
        record_changes(session, actor, "batch", batch.id, nursery.region_id, changes)
    session.flush()
    return batch


def reverse_movement(
    session: Session, actor: Actor, movement_id: int | str, reason: str, on: Any = None
) -> list[BatchMovement]:
    """Undo a ledger row by its counter-movement (a transplant's two sides together)."""
    original = session.get(BatchMovement, int(movement_id)) if str(movement_id).isdigit() else None
    if original is None:
        raise NotFound(f"movement {movement_id} does not exist", id=movement_id)
    if not reason.strip():
        raise InvalidValue("reason", "say why the movement is reversed")
    if original.kind is MovementKind.REVERSAL:
        raise InvalidValue(
            "movement", "a reversal is itself reversed by a new movement", original.id
        )
    if original.kind is MovementKind.DISPATCH:
        raise InvalidValue(
            "movement", "a dispatch is settled by the akimat's receipt, not reversed", original.id
        )
    # A transplant's two sides: the "in" row names the "out" row it belongs to.
    movements = [original]
    movements += session.scalars(
        select(BatchMovement).where(
            (BatchMovement.paired_id == original.id) | (BatchMovement.id == original.paired_id)
        )
    )
    done = []
    # Lock in id order so two reversals of a transplant never deadlock.
    batches = {
        m.batch_id: locked_batch(session, m.batch_id)
        for m in sorted(movements, key=lambda m: m.batch_id)
    }
    for movement in movements:
        batch = batches[movement.batch_id]
        require_nursery_write(session, actor, batch.nursery_id, "reverse", "movement", movement.id)
        already = session.scalar(
            select(BatchMovement.id).where(BatchMovement.reverses_id == movement.id)
        )
        if already is not None:
            raise DuplicateRecord(
                f"movement {movement.id} was already reversed by movement {already}",
                existing_id=already,
            )
        day = rules.check_date("on", on or date.today(), movement.on_date, "the movement reversed")
        done.append(
            record_movement(
                session,
                actor,
                batch,
                MovementKind.REVERSAL,
                -movement.quantity,
                day,
                reason,
                reverses_id=movement.id,
            )
        )
    nursery = session.get(Nursery, batches[original.batch_id].nursery_id)
    record_changes(
        session,
        actor,
        "batch_movement",
        original.id,
        nursery.region_id,
        {"reversed_by": (None, [m.id for m in done])},
        action="reverse",
    )
    return done
