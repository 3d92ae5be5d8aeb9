"""Regions and their boundaries."""

from __future__ import annotations

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import ARRAY, ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base

NATURAL_ZONES = (
    "forest_steppe",
    "steppe",
    "dry_steppe",
    "semi_desert",
    "desert",
    "foothill",
    "mountain",
)


class Region(Base):
    """An oblast or a city of republican significance, keyed by its two-digit KATO prefix."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    kato: Mapped[str] = mapped_column(String(2), unique=True)
    iso_code: Mapped[str] = mapped_column(String(6), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    name_en: Mapped[str] = mapped_column(Text)
    name_ru: Mapped[str] = mapped_column(Text)
    name_kk: Mapped[str] = mapped_column(Text)
    centre: Mapped[str] = mapped_column(Text)
    zones: Mapped[list[str]] = mapped_column(ARRAY(Text))
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text))
    boundary: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True)
    )
    boundary_simple: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)
    )

    def name(self, locale: str = "en") -> str:
        return {"kk": self.name_kk, "ru": self.name_ru}.get(locale, self.name_en)


class RegionPart(Base):
    """Boundary pieces of at most 256 vertices: point-in-region lookups stay index-fast."""

    __tablename__ = "region_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(
        SmallInteger, ForeignKey("regions.id", ondelete="CASCADE"), index=True
    )
    geom: Mapped[WKBElement] = mapped_column(Geometry("POLYGON", srid=4326, spatial_index=True))
