"""A region's yearly report to the ministry: editions, their status and the locked snapshot.

``content`` is the report as generated from the registry. While an edition is a draft it is
rebuilt on request; from submission on it is a snapshot that nothing rewrites. A correction
is a new edition (``edition`` + 1), never an edit of a submitted one.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from registry.care.models import CareKind, CareUnit
from registry.db import Base, pg_enum
from registry.inventory.models import PlantStatus


class ReportStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"


class RegionReport(Base):
    __tablename__ = "region_reports"
    __table_args__ = (
        UniqueConstraint("region_id", "year", "edition"),
        CheckConstraint("edition >= 1", name="edition_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("regions.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    edition: Mapped[int] = mapped_column(SmallInteger, default=1)
    status: Mapped[ReportStatus] = mapped_column(
        pg_enum(ReportStatus, "report_status"), default=ReportStatus.DRAFT
    )
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    built_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_comment: Mapped[str] = mapped_column(Text, default="")


class InventoryTally(Base):
    """Plants and their quantity per region, species, status and condition grade.

    Kept current by statement-level triggers on ``plants`` (migration 0012), in the writing
    transaction, so a report's inventory figures add up a few hundred rows, never millions,
    and are never stale. Services never write it.
    """

    __tablename__ = "inventory_tallies"
    # No primary key: a plant's species and condition may be unknown (revision 0023), and those
    # tally apart under one key whose NULLs are not distinct.
    __table_args__ = (
        UniqueConstraint(
            "region_id", "species_id", "status", "condition", postgresql_nulls_not_distinct=True
        ),
    )
    __mapper_args__ = {"primary_key": ["region_id", "species_id", "status", "condition"]}

    region_id: Mapped[int] = mapped_column(SmallInteger)
    species_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[PlantStatus] = mapped_column(pg_enum(PlantStatus, "plant_status"))
    condition: Mapped[int | None] = mapped_column(SmallInteger)
    plants: Mapped[int] = mapped_column(Integer, default=0)
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)


class CareTally(Base):
    """Care works per region, year, kind and unit: planned vs done volume and cost.

    Kept current by statement-level triggers on ``care_works`` (migration 0012), so the care
    figures of a report are the registry's at query time without summing every work.
    """

    __tablename__ = "care_tallies"

    region_id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    kind: Mapped[CareKind] = mapped_column(pg_enum(CareKind, "care_kind"), primary_key=True)
    unit: Mapped[CareUnit] = mapped_column(pg_enum(CareUnit, "care_unit"), primary_key=True)
    works: Mapped[int] = mapped_column(Integer, default=0)
    done_works: Mapped[int] = mapped_column(Integer, default=0)
    planned_volume: Mapped[Decimal] = mapped_column(Numeric(16, 1), default=0)
    done_volume: Mapped[Decimal] = mapped_column(Numeric(16, 1), default=0)
    planned_cost: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=0)
    done_cost: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=0)
