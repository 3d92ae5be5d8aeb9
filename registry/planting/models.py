"""Planting plans (with lines), planting events, the plants they created, and survival checks.

Stable contract for the nursery work (issue 7, a later merge migration): ``planting_plan_lines``
and ``planting_events`` keep their columns; the nursery side adds ``planting_plan_lines.nursery_id``
(expected supplier; until then ``supplier`` holds its name as text) and
``planting_events.shipment_id`` / ``batch_id`` (the stock actually planted).

``planting_tallies`` is an aggregate the database keeps current by triggers on
``planting_events`` and ``survival_checks`` (migration 0004): the national report reads
thousands of tally rows instead of scanning a million events.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
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
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, Timestamped, pg_enum
from registry.inventory.models import PlantingForm, Versioned


class Season(enum.StrEnum):
    SPRING = "spring"
    AUTUMN = "autumn"


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class PlantingUnit(enum.StrEnum):
    """Pieces for trees and shrubs, running metres for hedges, m² for lawns and flowerbeds."""

    PIECES = "pieces"
    RUNNING_M = "running_m"
    M2 = "m2"


class Performer(enum.StrEnum):
    AKIMAT = "akimat"
    CONTRACTOR = "contractor"
    VOLUNTEERS = "volunteers"  # the "Taza Qazaqstan" action days


SURVIVAL_SEASONS = (1, 3)


class PlantingPlan(Timestamped, Versioned, Base):
    __tablename__ = "planting_plans"
    __table_args__ = (CheckConstraint("year BETWEEN 2000 AND 2100", name="plan_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("regions.id"), index=True)
    district: Mapped[str] = mapped_column(Text, default="")
    year: Mapped[int] = mapped_column(SmallInteger)
    season: Mapped[Season] = mapped_column(pg_enum(Season, "planting_season"))
    title: Mapped[str] = mapped_column(Text, default="")
    funding_source: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[PlanStatus] = mapped_column(
        pg_enum(PlanStatus, "plan_status"), default=PlanStatus.DRAFT
    )
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PlantingPlanLine(Base):
    """Species × quantity in the line's unit, where, paid from what, supplied by whom."""

    __tablename__ = "planting_plan_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("planting_plans.id", ondelete="CASCADE"), index=True
    )
    species_id: Mapped[int] = mapped_column(ForeignKey("species.id"))
    planting_form: Mapped[PlantingForm] = mapped_column(pg_enum(PlantingForm, "planting_form"))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 1))
    unit: Mapped[PlantingUnit] = mapped_column(pg_enum(PlantingUnit, "planting_unit"))
    green_space_id: Mapped[int | None] = mapped_column(ForeignKey("green_spaces.id"))
    area: Mapped[WKBElement | None] = mapped_column(
        Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=True
    )
    funding_source: Mapped[str] = mapped_column(Text, default="")
    supplier: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Expected supplying nursery (revision 0008, issue 7).
    nursery_id: Mapped[int | None] = mapped_column(ForeignKey("nurseries.id"), index=True)


class PlantingEvent(Base):
    """What was actually planted: when, where, by whom, against which plan line.

    ``replaces_event_id`` marks a replacement of dead plants of an earlier event: counted as
    replanting, never as new planting. ``felling_permit_id`` marks compensatory planting.
    """

    __tablename__ = "planting_events"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("replaces_event_id IS DISTINCT FROM id", name="not_self_replacing"),
        Index("ix_planting_events_region_id_year", "region_id", "year"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    region_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("regions.id"))
    plan_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("planting_plan_lines.id"), index=True
    )
    species_id: Mapped[int] = mapped_column(ForeignKey("species.id"))
    planting_form: Mapped[PlantingForm] = mapped_column(pg_enum(PlantingForm, "planting_form"))
    planted_on: Mapped[date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(
        SmallInteger, Computed("(EXTRACT(year FROM planted_on))::smallint", persisted=True)
    )
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 1))
    unit: Mapped[PlantingUnit] = mapped_column(pg_enum(PlantingUnit, "planting_unit"))
    green_space_id: Mapped[int | None] = mapped_column(ForeignKey("green_spaces.id"))
    performer_kind: Mapped[Performer] = mapped_column(pg_enum(Performer, "planting_performer"))
    performer: Mapped[str] = mapped_column(Text, default="")
    replaces_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("planting_events.id"), index=True
    )
    felling_permit_id: Mapped[int | None] = mapped_column(
        ForeignKey("felling_permits.id"), index=True
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The stock planted: shipment line and nursery batch it came from (revision 0008, issue 7).
    shipment_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("shipment_lines.id"), index=True
    )
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), index=True)


class PlantingEventPlant(Base):
    """The inventory records an event created (one per point, or one row/group/hedge)."""

    __tablename__ = "planting_event_plants"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("planting_events.id", ondelete="CASCADE"), primary_key=True
    )
    plant_id: Mapped[int] = mapped_column(
        ForeignKey("plants.id", ondelete="CASCADE"), primary_key=True, unique=True
    )


class SurvivalCheck(Base):
    """A re-count of an event after its 1st or 3rd growing season: alive, dead, replaced."""

    __tablename__ = "survival_checks"
    __table_args__ = (
        UniqueConstraint("event_id", "season"),
        CheckConstraint("season IN (1, 3)", name="season"),
        CheckConstraint("alive >= 0 AND dead >= 0 AND replaced >= 0", name="counts"),
        CheckConstraint("replaced <= dead", name="replaced_of_dead"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("planting_events.id", ondelete="CASCADE"))
    season: Mapped[int] = mapped_column(SmallInteger)
    checked_on: Mapped[date] = mapped_column(Date)
    alive: Mapped[Decimal] = mapped_column(Numeric(12, 1))
    dead: Mapped[Decimal] = mapped_column(Numeric(12, 1))
    replaced: Mapped[Decimal] = mapped_column(Numeric(12, 1), default=0)
    inspector: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PlantingTally(Base):
    """Kept current by the database (triggers of migration 0004); never written by services."""

    __tablename__ = "planting_tallies"

    region_id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    species_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    planting_form: Mapped[PlantingForm] = mapped_column(
        pg_enum(PlantingForm, "planting_form"), primary_key=True
    )
    unit: Mapped[PlantingUnit] = mapped_column(
        pg_enum(PlantingUnit, "planting_unit"), primary_key=True
    )
    events: Mapped[int] = mapped_column(Integer, default=0)
    planted: Mapped[Decimal] = mapped_column(Numeric(14, 1), default=0)
    replanted: Mapped[Decimal] = mapped_column(Numeric(14, 1), default=0)
    compensatory: Mapped[Decimal] = mapped_column(Numeric(14, 1), default=0)
    checked_1: Mapped[Decimal] = mapped_column(Numeric(14, 1), default=0)
    alive_1: Mapped[Decimal] = mapped_column(Numeric(14, 1), default=0)
    checked_3: Mapped[Decimal] = mapped_column(Numeric(14, 1), default=0)
    alive_3: Mapped[Decimal] = mapped_column(Numeric(14, 1), default=0)
