"""Felling permits (and acts of illegal felling), the plants felled, and compensation ratios.

The compensatory obligation is fixed on the permit when it is recorded (``ratio`` × felled
trees = ``owed``), so a later change of a region's ratio never rewrites past obligations.
Fulfilment is not stored: it is computed from the planting events that name the permit and
their survival checks.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, pg_enum


class FellingReason(enum.StrEnum):
    SANITARY = "sanitary"
    CONSTRUCTION = "construction"
    UTILITIES = "utilities"
    EMERGENCY = "emergency"
    ADJACENT_DEATH = "adjacent_death"  # died on an adjacent territory (Typical Rules p. 29-1)


class Protection(enum.StrEnum):
    NONE = "none"
    RED_BOOK = "red_book"
    RARE = "rare"


class CompensationCase(enum.StrEnum):
    """The cases of the national Typical Rules that carry a ratio (domain brief §1.4)."""

    PERMITTED = "permitted"
    ADJACENT = "adjacent"
    ILLEGAL = "illegal"
    ILLEGAL_RED_BOOK = "illegal_red_book"
    ILLEGAL_RARE = "illegal_rare"


class FellingPermit(Base):
    __tablename__ = "felling_permits"
    __table_args__ = (
        UniqueConstraint("region_id", "number"),
        CheckConstraint("trees > 0 AND ratio > 0 AND owed = trees * ratio", name="obligation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("regions.id"), index=True)
    number: Mapped[str] = mapped_column(Text)
    reason: Mapped[FellingReason] = mapped_column(pg_enum(FellingReason, "felling_reason"))
    legal: Mapped[bool] = mapped_column(Boolean)
    protection: Mapped[Protection] = mapped_column(pg_enum(Protection, "species_protection"))
    case: Mapped[CompensationCase] = mapped_column(pg_enum(CompensationCase, "compensation_case"))
    felled_on: Mapped[date] = mapped_column(Date)
    holder: Mapped[str] = mapped_column(Text, default="")
    trees: Mapped[int] = mapped_column(Integer)
    ratio: Mapped[int] = mapped_column(Integer)
    owed: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FellingPermitPlant(Base):
    __tablename__ = "felling_permit_plants"

    permit_id: Mapped[int] = mapped_column(
        ForeignKey("felling_permits.id", ondelete="CASCADE"), primary_key=True
    )
    plant_id: Mapped[int] = mapped_column(ForeignKey("plants.id"), primary_key=True)
    trees: Mapped[int] = mapped_column(Integer)


class CompensationRatio(Base):
    """A region's own ratio for a case; without a row the national default applies."""

    __tablename__ = "compensation_ratios"
    __table_args__ = (
        UniqueConstraint("region_id", "case"),
        CheckConstraint("ratio > 0", name="ratio_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("regions.id"))
    case: Mapped[CompensationCase] = mapped_column(pg_enum(CompensationCase, "compensation_case"))
    ratio: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
