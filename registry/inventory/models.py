"""Green spaces, plants and inspections.

Geometries are stored in EPSG:4326. A generated ``geom_3857`` copy with its own GiST index serves
the vector tiles without a per-request transform. ``region_id`` is derived from the geometry by the
database (trigger ``jasyl_set_region``), never trusted from input.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Double,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, Timestamped, pg_enum


def trigram_index(name: str, column: str, where: str | None = None) -> Index:
    """A ``pg_trgm`` GIN index: ``ILIKE '%text%'`` answered from the index, a miss too; with
    ``where``, of the rows it holds only (a query then says the same condition)."""
    return Index(
        name,
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
        postgresql_where=text(where) if where else None,
    )


class GreenSpaceCategory(enum.StrEnum):
    """ГОСТ 28329-89 triad: общего / ограниченного пользования / специального назначения."""

    PUBLIC = "public"
    LIMITED = "limited"
    SPECIAL = "special"


class PlantingForm(enum.StrEnum):
    SOLITARY = "solitary"
    ROW = "row"
    GROUP = "group"
    HEDGE = "hedge"
    MASSIF = "massif"


class PlantStatus(enum.StrEnum):
    ALIVE = "alive"
    DEAD = "dead"
    REMOVED = "removed"
    STUMP = "stump"
    VACANT = "vacant"


CONDITION_GRADES = {
    1: ("без признаков ослабления", "әлсіреу белгілерісіз", "healthy"),
    2: ("ослабленные", "әлсіреген", "weakened"),
    3: ("сильно ослабленные", "қатты әлсіреген", "severely weakened"),
    4: ("усыхающие", "қурап бара жатқан", "dying"),
    5: ("сухостой текущего года", "биылғы қурағандар", "dead this year"),
    6: ("сухостой прошлых лет", "өткен жылдардың қурағандары", "dead in earlier years"),
}
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI"}


class Versioned:
    """Optimistic locking: a save names the version it read; a newer one means a conflict."""

    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class GreenSpace(Timestamped, Versioned, Base):
    __tablename__ = "green_spaces"
    __table_args__ = (
        Index("ix_green_spaces_geom_3857", "geom_3857", postgresql_using="gist"),
        trigram_index("ix_green_spaces_name_trgm", "name"),  # search (revision 0021)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("regions.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    category: Mapped[GreenSpaceCategory] = mapped_column(
        pg_enum(GreenSpaceCategory, "green_space_category")
    )
    kind: Mapped[str] = mapped_column(Text, default="park")
    balance_holder: Mapped[str] = mapped_column(Text, default="")
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True)
    )
    geom_3857: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=3857, spatial_index=False),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )
    area_m2: Mapped[float] = mapped_column(
        Float, Computed("ST_Area(geom::geography)", persisted=True)
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class Plant(Timestamped, Versioned, Base):
    """One solitary tree or shrub (a point), or a row, group, hedge or massif of them."""

    __tablename__ = "plants"
    __table_args__ = (
        UniqueConstraint("region_id", "inventory_number"),
        Index("ix_plants_geom_3857", "geom_3857", postgresql_using="gist"),
        # search: any part of the address (revisions 0021, 0036); a number's start: below
        trigram_index("ix_plants_address_trgm", "address", where="address <> ''"),
        Index(
            "ix_plants_green_space_id",
            "green_space_id",
            postgresql_where=text("green_space_id IS NOT NULL"),
        ),
        CheckConstraint("condition BETWEEN 1 AND 6", name="condition_grade"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        # A vacant site or a stump may have no species; a living plant has one (revision 0023).
        CheckConstraint("species_id IS NOT NULL OR status <> 'alive'", name="species_unless_gone"),
        CheckConstraint(
            "GeometryType(geom) IN "
            "('POINT','LINESTRING','MULTILINESTRING','POLYGON','MULTIPOLYGON')",
            name="geometry_kind",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # No index of its own: the unique (region_id, inventory_number) serves region lookups.
    region_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("regions.id"))
    # Indexed where set (revision 0019): most plants, and every imported one, belong to none.
    green_space_id: Mapped[int | None] = mapped_column(
        ForeignKey("green_spaces.id", ondelete="SET NULL")
    )
    inventory_number: Mapped[str] = mapped_column(Text)
    species_id: Mapped[int | None] = mapped_column(ForeignKey("species.id"), index=True)
    planting_form: Mapped[PlantingForm] = mapped_column(pg_enum(PlantingForm, "planting_form"))
    # No index of its own: the one on geom_3857 serves box lookups too (revision 0019).
    geom: Mapped[WKBElement] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))
    geom_3857: Mapped[WKBElement] = mapped_column(
        Geometry("GEOMETRY", srid=3857, spatial_index=False),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    length_m: Mapped[Decimal | None] = mapped_column(Numeric(9, 1))
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(11, 1))
    planting_year: Mapped[int | None] = mapped_column(SmallInteger)
    age_years: Mapped[int | None] = mapped_column(SmallInteger)
    height_m: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    trunk_diameter_cm: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    crown_diameter_m: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    # None: not assessed (a survey without a condition says nothing of the plant's health).
    condition: Mapped[int | None] = mapped_column(SmallInteger)
    hazardous: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    status: Mapped[PlantStatus] = mapped_column(
        pg_enum(PlantStatus, "plant_status"), default=PlantStatus.ALIVE
    )
    address: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    # Recorded in field mode: the position's accuracy (metres) and the fixes averaged for it;
    # None: not measured (drawn on the map, imported, or recorded before revision 0030).
    gps_accuracy_m: Mapped[Decimal | None] = mapped_column(Numeric(7, 1))
    gps_fixes: Mapped[int | None] = mapped_column(SmallInteger)


# The map's search finds a plant by the start of its number in any case (revision 0034).
Index(
    "ix_plants_inventory_number_lower",
    func.lower(Plant.inventory_number).label("number_lower"),
    postgresql_ops={"number_lower": "text_pattern_ops"},
)


class Inspection(Base):
    """A dated condition observation: the history behind a plant's current condition."""

    __tablename__ = "inspections"
    __table_args__ = (CheckConstraint("condition BETWEEN 1 AND 6", name="condition_grade"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    plant_id: Mapped[int] = mapped_column(ForeignKey("plants.id", ondelete="CASCADE"), index=True)
    inspected_on: Mapped[date] = mapped_column(Date)
    inspector: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    condition: Mapped[int] = mapped_column(SmallInteger)
    hazardous: Mapped[bool] = mapped_column(Boolean, default=False)
    height_m: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    trunk_diameter_cm: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PlantGridCell(Base):
    """Plants counted per ~150 m cell (the z12 tile grid), per region: low-zoom tiles add these
    up instead of aggregating millions of plants per request. Kept by ``gis.plant_grid``."""

    __tablename__ = "plant_grid_cells"
    __table_args__ = (Index("ix_plant_grid_cells_geom", "geom", postgresql_using="gist"),)

    region_id: Mapped[int] = mapped_column(
        SmallInteger, ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True
    )
    published: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    cx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cy: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    plants: Mapped[int] = mapped_column(Integer)
    condition_sum: Mapped[int] = mapped_column(Integer)
    # The plants whose condition was assessed: the cell's mean grade is condition_sum / assessed.
    assessed: Mapped[int] = mapped_column(Integer, server_default="0")
    sum_x: Mapped[float] = mapped_column(Double)
    sum_y: Mapped[float] = mapped_column(Double)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=3857, spatial_index=False))


class PlantGridState(Base):
    """Whether a region's grid cells are behind its plants; triggers on ``plants`` set ``dirty``."""

    __tablename__ = "plant_grid_state"

    region_id: Mapped[int] = mapped_column(
        SmallInteger, ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True
    )
    dirty: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TileVersion(Base):
    """How often a map layer's data changed inside one z14 cell (~2.4 km at the equator).

    Triggers on ``plants`` and ``green_spaces`` (revision 0014) bump every cell a statement's old
    and new rows touch, in the writing transaction, so a tile's cache key (the sum over the cells
    it covers, ``gis.tiles.tile_version``) changes exactly when, and as soon as, its data do.
    """

    __tablename__ = "tile_versions"

    layer: Mapped[str] = mapped_column(Text, primary_key=True)
    cx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cy: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")


class PlantDot(Base):
    """One plant standing for the plants of its map dot at z13 or z14 (2 screen pixels).

    A dense city tile holds tens of thousands of plants, drawn as 4-pixel dots that cover each
    other; the tiles of those zooms draw one plant per dot instead (the worst condition first, so
    hazards never hide), with ``plants`` telling how many it stands for: a tenth of the features
    to encode, the same picture. Rebuilt per z14 cell by ``gis.plant_grid``; a cell whose plants
    changed since (``PlantDotCell``) is drawn from the plants themselves until then.
    """

    __tablename__ = "plant_dots"
    __table_args__ = (
        Index("ix_plant_dots_geom", "geom", postgresql_using="gist"),
        Index("ix_plant_dots_cell", "cx", "cy"),
    )

    plant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    cx: Mapped[int] = mapped_column(Integer)
    cy: Mapped[int] = mapped_column(Integer)
    published: Mapped[bool] = mapped_column(Boolean)
    plants: Mapped[int] = mapped_column(Integer)
    condition: Mapped[int | None] = mapped_column(SmallInteger)
    hazardous: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(Text)
    form: Mapped[str] = mapped_column(Text)
    species_id: Mapped[int | None] = mapped_column(Integer)
    planting_year: Mapped[int | None] = mapped_column(SmallInteger)
    geom: Mapped[WKBElement] = mapped_column(Geometry("GEOMETRY", srid=3857, spatial_index=False))


class PlantDotCell(Base):
    """A z14 cell's dots and the plants' change counter (``TileVersion``) they were built at:
    the dots stand for the plants exactly while the two counters agree."""

    __tablename__ = "plant_dot_cells"

    cx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cy: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
    refreshed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
