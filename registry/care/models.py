"""Care plans and care works: planned volume against done volume, with units, dates and cost.

A care work is one row from plan to done: planned fields are set when it is planned, done
fields when it is carried out, so "planned vs done" is a comparison within the row. It is
attached to a plant, a green space, or a drawn area (at least one).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, Timestamped, pg_enum
from registry.inventory.models import Versioned
from registry.planting.models import PlanStatus


class CareKind(enum.StrEnum):
    WATERING = "watering"
    PRUNING_FORMATIVE = "pruning_formative"
    PRUNING_SANITARY = "pruning_sanitary"
    CROWN_REDUCTION = "crown_reduction"
    SANITARY_FELLING = "sanitary_felling"
    STUMP_REMOVAL = "stump_removal"
    FERTILISING = "fertilising"
    PEST_CONTROL = "pest_control"
    MOWING = "mowing"
    WINTER_PROTECTION = "winter_protection"
    IRRIGATION_REPAIR = "irrigation_repair"


class CareUnit(enum.StrEnum):
    PIECES = "pieces"  # trees, stumps
    RUNNING_M = "running_m"  # hedges, irrigation pipe
    M2 = "m2"  # lawns mowed
    M3 = "m3"  # water
    HA = "ha"  # sprayed area


class CarePlan(Timestamped, Versioned, Base):
    __tablename__ = "care_plans"
    __table_args__ = (CheckConstraint("year BETWEEN 2000 AND 2100", name="plan_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("regions.id"), index=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[PlanStatus] = mapped_column(
        pg_enum(PlanStatus, "plan_status"), default=PlanStatus.DRAFT
    )
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CareWork(Timestamped, Versioned, Base):
    __tablename__ = "care_works"
    __table_args__ = (
        Index("ix_care_works_region_id_year", "region_id", "year"),
        CheckConstraint(
            "plant_id IS NOT NULL OR green_space_id IS NOT NULL OR area IS NOT NULL",
            name="has_target",
        ),
        CheckConstraint(
            "(planned_volume IS NULL OR planned_volume > 0) "
            "AND (done_volume IS NULL OR done_volume > 0)",
            name="volumes_positive",
        ),
        CheckConstraint(
            "(planned_cost IS NULL OR planned_cost >= 0) AND (done_cost IS NULL OR done_cost >= 0)",
            name="costs_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    region_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("regions.id"))
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("care_plans.id", ondelete="CASCADE"), index=True
    )
    year: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[CareKind] = mapped_column(pg_enum(CareKind, "care_kind"))
    unit: Mapped[CareUnit] = mapped_column(pg_enum(CareUnit, "care_unit"))
    planned_volume: Mapped[Decimal | None] = mapped_column(Numeric(14, 1))
    planned_on: Mapped[date | None] = mapped_column(Date)
    planned_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    done_volume: Mapped[Decimal | None] = mapped_column(Numeric(14, 1))
    done_on: Mapped[date | None] = mapped_column(Date)
    done_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    plant_id: Mapped[int | None] = mapped_column(ForeignKey("plants.id"), index=True)
    green_space_id: Mapped[int | None] = mapped_column(ForeignKey("green_spaces.id"))
    area: Mapped[WKBElement | None] = mapped_column(
        Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=True
    )
    performer: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
