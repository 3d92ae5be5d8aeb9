"""Reference data of the benefit method and the totals the database keeps per green space.

Every coefficient and price carries its source. ``benefit_tallies`` holds physical quantities
only (kg CO₂, m³ of rain); money is those × the price in effect, computed at read time, so a new
price moves every total at once without rewriting a row.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base

EQUATION_FORMS = ("volume", "ln", "log10", "difference")
GROWTH_CLASSES = ("slow", "moderate", "fast")


class BenefitEquation(Base):
    """One published biomass equation: its form, coefficients, fitted DBH range and source.

    Forms (D = DBH cm, H = height m, AGB kg dry): ``volume`` V = a·D^b·H^c (m³) × wood density;
    ``ln`` ln AGB = a + b·ln D; ``log10`` log₁₀ AGB = a + b·log₁₀ D; ``difference``
    AGB = a·D^b − c·D^d. ``urban`` equations were fitted on open-grown city trees; forest ones
    are × 0.8. ``roots``: ``utd`` total = AGB / 0.78, ``itree`` total = AGB × 1.26.
    """

    __tablename__ = "benefit_equations"
    __table_args__ = (
        CheckConstraint("form IN ('volume', 'ln', 'log10', 'difference')", name="form_known"),
        CheckConstraint("roots IN ('utd', 'itree')", name="roots_known"),
    )

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    form: Mapped[str] = mapped_column(Text)
    a: Mapped[float] = mapped_column(Double)
    b: Mapped[float] = mapped_column(Double)
    c: Mapped[float | None] = mapped_column(Double)
    d: Mapped[float | None] = mapped_column(Double)
    dbh_min_cm: Mapped[float | None] = mapped_column(Double)
    dbh_max_cm: Mapped[float | None] = mapped_column(Double)
    urban: Mapped[bool] = mapped_column(Boolean)
    roots: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)


class SpeciesBenefitMethod(Base):
    """How a catalogue tree species' benefits are computed; a species without a row (shrubs,
    saxaul) has no method and is counted as such, never estimated."""

    __tablename__ = "species_benefit_methods"
    __table_args__ = (
        CheckConstraint("growth_class IN ('slow', 'moderate', 'fast')", name="growth_known"),
    )

    species_id: Mapped[int] = mapped_column(
        ForeignKey("species.id", ondelete="CASCADE"), primary_key=True
    )
    # The equation with height, used when the tree's height was measured; else ``equation_d``.
    equation_dh: Mapped[str | None] = mapped_column(ForeignKey("benefit_equations.code"))
    equation_d: Mapped[str] = mapped_column(ForeignKey("benefit_equations.code"))
    density_kg_m3: Mapped[float | None] = mapped_column(Double)
    growth_class: Mapped[str] = mapped_column(Text)
    # Leaf area (m²) = a + b·D (UTD TS6); without it no rain interception is computed.
    leaf_area_a: Mapped[float | None] = mapped_column(Double)
    leaf_area_b: Mapped[float | None] = mapped_column(Double)
    fallback: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")


class BenefitConstant(Base):
    __tablename__ = "benefit_constants"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[float] = mapped_column(Double)
    source: Mapped[str] = mapped_column(Text)


class RegionPrecipitation(Base):
    """A region's yearly precipitation and rain events; no row or no events: no interception."""

    __tablename__ = "region_precipitation"

    region_id: Mapped[int] = mapped_column(
        SmallInteger, ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True
    )
    annual_mm: Mapped[float] = mapped_column(Double)
    rain_events_per_year: Mapped[float | None] = mapped_column(Double)
    source: Mapped[str] = mapped_column(Text)


class BenefitPrice(Base):
    """A dated price: ₸ per t CO₂ (basis ``kz_ets`` or ``scc``) or per m³ of storm water
    (``tariff``), for one region or (region NULL) the whole country."""

    __tablename__ = "benefit_prices"
    __table_args__ = (
        UniqueConstraint(
            "region_id", "item", "basis", "valid_from", postgresql_nulls_not_distinct=True
        ),
        CheckConstraint("item IN ('co2', 'stormwater')", name="item_known"),
        CheckConstraint("kzt >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int | None] = mapped_column(SmallInteger, ForeignKey("regions.id"))
    item: Mapped[str] = mapped_column(Text)
    basis: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[date] = mapped_column(Date)
    kzt: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    unit: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)


class BenefitTally(Base):
    """Physical benefits per region and green space (NULL: plants outside any).

    Kept current by statement-level triggers on ``plants`` (migration 0026), in the writing
    transaction, like ``inventory_tallies``; services never write it. Per-plant figures are
    rounded to 0.001 before they are added, so the sums are exact and equal a recomputation.
    """

    __tablename__ = "benefit_tallies"
    __table_args__ = (
        UniqueConstraint("region_id", "green_space_id", postgresql_nulls_not_distinct=True),
    )
    __mapper_args__ = {"primary_key": ["region_id", "green_space_id"]}

    region_id: Mapped[int] = mapped_column(SmallInteger)
    green_space_id: Mapped[int | None] = mapped_column(Integer)
    plants: Mapped[int] = mapped_column(Integer, default=0)
    trees: Mapped[int] = mapped_column(BigInteger, default=0)
    without_method: Mapped[int] = mapped_column(Integer, default=0)
    without_dbh: Mapped[int] = mapped_column(Integer, default=0)
    outside_range: Mapped[int] = mapped_column(Integer, default=0)
    not_assessed: Mapped[int] = mapped_column(Integer, default=0)
    without_rain: Mapped[int] = mapped_column(Integer, default=0)
    co2_stored_kg: Mapped[Decimal] = mapped_column(Numeric(20, 3), default=0)
    co2_sequestered_kg: Mapped[Decimal] = mapped_column(Numeric(20, 3), default=0)
    rain_m3: Mapped[Decimal] = mapped_column(Numeric(20, 3), default=0)
