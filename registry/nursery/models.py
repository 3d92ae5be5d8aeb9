"""Nurseries, their sections, seed lots, batches of growing stock, ledgers and shipments.

Quantities are never edited in place: every change is a row in a ledger (``batch_movements`` in
pieces, ``seed_lot_movements`` in kilograms) and a database trigger adds that row's signed delta to
the batch's or lot's stock in the same transaction. A CHECK keeps stock at zero or above, a second
trigger refuses any direct change of the stock column and any update or delete of ledger rows,
so history can only be corrected by a counter-movement, from every door (service, import, psql).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, pg_enum


class SectionKind(enum.StrEnum):
    """Parts of a forest nursery (посевное, школьное, закрытый грунт, маточное отделение)."""

    SOWING = "sowing"
    SCHOOL = "school"
    CLOSED_ROOT = "closed_root"
    MOTHER = "mother"


class RootSystem(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Stage(enum.StrEnum):
    """Seeds sown → seedlings (сеянцы) → transplanted saplings (саженцы) → ready to dispatch."""

    SOWN = "sown"
    SEEDLINGS = "seedlings"
    TRANSPLANTED = "transplanted"
    READY = "ready"


STAGE_ORDER = {stage: n for n, stage in enumerate(Stage)}


class MovementKind(enum.StrEnum):
    SOWING = "sowing"
    RECEIPT = "receipt"
    GERMINATION = "germination"
    TRANSPLANT_OUT = "transplant_out"
    TRANSPLANT_IN = "transplant_in"
    STOCKTAKE = "stocktake"
    LOSS = "loss"
    DISPATCH = "dispatch"
    REVERSAL = "reversal"


class LossCause(enum.StrEnum):
    FROST = "frost"
    DROUGHT = "drought"
    PESTS = "pests"
    DISEASE = "disease"
    CULLING = "culling"
    OTHER = "other"


class SeedMovementKind(enum.StrEnum):
    RECEIPT = "receipt"
    SOWING = "sowing"
    STOCKTAKE = "stocktake"
    LOSS = "loss"
    REVERSAL = "reversal"


class ShipmentStatus(enum.StrEnum):
    DISPATCHED = "dispatched"
    RECEIVED = "received"


SECTION_KIND = pg_enum(SectionKind, "nursery_section_kind")
ROOT_SYSTEM = pg_enum(RootSystem, "root_system")
STAGE = pg_enum(Stage, "batch_stage")
MOVEMENT_KIND = pg_enum(MovementKind, "batch_movement_kind")
LOSS_CAUSE = pg_enum(LossCause, "loss_cause")
SEED_MOVEMENT_KIND = pg_enum(SeedMovementKind, "seed_movement_kind")
SHIPMENT_STATUS = pg_enum(ShipmentStatus, "shipment_status")
NURSERY_ENUMS = (
    "nursery_section_kind",
    "root_system",
    "batch_stage",
    "batch_movement_kind",
    "loss_cause",
    "seed_movement_kind",
    "shipment_status",
)


class Nursery(Base):
    __tablename__ = "nurseries"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(Text)
    region_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("regions.id"), index=True)
    location: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326))
    site: Mapped[WKBElement | None] = mapped_column(Geometry("MULTIPOLYGON", srid=4326))
    zones: Mapped[list[str]] = mapped_column(ARRAY(Text))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NurserySection(Base):
    __tablename__ = "nursery_sections"
    __table_args__ = (
        UniqueConstraint("nursery_id", "name"),
        CheckConstraint("capacity_per_year >= 0", name="capacity_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nursery_id: Mapped[int] = mapped_column(ForeignKey("nurseries.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[SectionKind] = mapped_column(SECTION_KIND)
    area_ha: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    capacity_per_year: Mapped[int] = mapped_column(Integer, default=0)


class SeedLot(Base):
    """A seed lot with its passport: where and when it was collected, how well it germinates."""

    __tablename__ = "seed_lots"
    __table_args__ = (
        UniqueConstraint("nursery_id", "code"),
        CheckConstraint("weight_kg >= 0", name="weight_not_negative"),
        CheckConstraint("germination_pct BETWEEN 0 AND 100", name="germination_is_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nursery_id: Mapped[int] = mapped_column(ForeignKey("nurseries.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    species_id: Mapped[int] = mapped_column(ForeignKey("species.id"))
    collection_place: Mapped[str] = mapped_column(Text)
    seed_zone: Mapped[str] = mapped_column(Text)
    collection_year: Mapped[int] = mapped_column(SmallInteger)
    germination_pct: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    certificate_no: Mapped[str] = mapped_column(Text)
    storage: Mapped[str] = mapped_column(Text, default="")
    # Kept in step with seed_lot_movements by a trigger; never written directly.
    weight_kg: Mapped[Decimal] = mapped_column(Numeric(12, 3), server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SeedLotMovement(Base):
    __tablename__ = "seed_lot_movements"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seed_lot_id: Mapped[int] = mapped_column(ForeignKey("seed_lots.id"), index=True)
    kind: Mapped[SeedMovementKind] = mapped_column(SEED_MOVEMENT_KIND)
    weight_kg: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    on_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("seed_lot_movements.id"), unique=True
    )
    user_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Batch(Base):
    """Plants of one species, sown or received together, grown on in one section."""

    __tablename__ = "batches"
    __table_args__ = (
        UniqueConstraint("nursery_id", "code"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("seed_lot_id IS NOT NULL OR supplier <> ''", name="seed_lot_or_supplier"),
        CheckConstraint("grade IS NULL OR grade BETWEEN 1 AND 3", name="grade_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nursery_id: Mapped[int] = mapped_column(ForeignKey("nurseries.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("nursery_sections.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    species_id: Mapped[int] = mapped_column(ForeignKey("species.id"), index=True)
    seed_lot_id: Mapped[int | None] = mapped_column(ForeignKey("seed_lots.id"), index=True)
    supplier: Mapped[str] = mapped_column(Text, default="")
    parent_batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    started_on: Mapped[date] = mapped_column(Date)
    age_at_start: Mapped[int] = mapped_column(SmallInteger, default=0)
    root_system: Mapped[RootSystem] = mapped_column(ROOT_SYSTEM)
    stage: Mapped[Stage] = mapped_column(STAGE)
    grade: Mapped[int | None] = mapped_column(SmallInteger)
    standard: Mapped[str] = mapped_column(Text, default="")
    # Kept in step with batch_movements by a trigger; never written directly.
    quantity: Mapped[int] = mapped_column(Integer, server_default="0")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def age_years(self, today: date | None = None) -> int:
        """Whole growing seasons since sowing (or since receipt, plus the age then)."""
        today = today or date.today()
        seasons = today.year - self.started_on.year
        return self.age_at_start + max(seasons, 0)


class BatchMovement(Base):
    """One change of a batch's count: signed pieces, when, who, why."""

    __tablename__ = "batch_movements"
    __table_args__ = (
        Index("ix_batch_movements_batch_id_on_date", "batch_id", "on_date"),
        CheckConstraint("quantity <> 0", name="moves_something"),
        CheckConstraint("kind <> 'loss' OR cause IS NOT NULL", name="loss_has_cause"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    kind: Mapped[MovementKind] = mapped_column(MOVEMENT_KIND)
    quantity: Mapped[int] = mapped_column(Integer)
    on_date: Mapped[date] = mapped_column(Date)
    cause: Mapped[LossCause | None] = mapped_column(LOSS_CAUSE)
    reason: Mapped[str] = mapped_column(Text, default="")
    paired_id: Mapped[int | None] = mapped_column(ForeignKey("batch_movements.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("batch_movements.id"), unique=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Shipment(Base):
    """Stock sent from a nursery to an akimat; the akimat confirms what arrived."""

    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    nursery_id: Mapped[int] = mapped_column(ForeignKey("nurseries.id"), index=True)
    region_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("regions.id"), index=True)
    consignee: Mapped[str] = mapped_column(Text, default="")
    dispatched_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ShipmentStatus] = mapped_column(SHIPMENT_STATUS)
    zoning_override: Mapped[str | None] = mapped_column(Text)
    received_on: Mapped[date | None] = mapped_column(Date)
    received_by: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"
    __table_args__ = (
        CheckConstraint("quantity_shipped > 0", name="ships_something"),
        CheckConstraint(
            "quantity_received IS NULL OR quantity_received BETWEEN 0 AND quantity_shipped",
            name="received_at_most_shipped",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    movement_id: Mapped[int] = mapped_column(ForeignKey("batch_movements.id"), unique=True)
    quantity_shipped: Mapped[int] = mapped_column(Integer)
    quantity_received: Mapped[int | None] = mapped_column(Integer)
    lost_in_transit: Mapped[int | None] = mapped_column(
        Integer, Computed("quantity_shipped - quantity_received", persisted=True)
    )
