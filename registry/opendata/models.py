"""NDVI images and the per-green-space figures computed from them.

Each image keeps its acquisition date, so a green space's rows over several images are its
vegetation history. The coloured Web Mercator overlay is stored with the image: the map shows it
without the original file.
"""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    LargeBinary,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base


class NdviImage(Base):
    """One image, known by its content: recording the same file(s) again replaces its figures."""

    __tablename__ = "ndvi_images"
    __table_args__ = (UniqueConstraint("file_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    acquired_on: Mapped[date] = mapped_column(Date, index=True)
    file_name: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str] = mapped_column(Text)
    source_crs: Mapped[str] = mapped_column(Text)
    red_band: Mapped[int] = mapped_column(SmallInteger)
    nir_band: Mapped[int] = mapped_column(SmallInteger)
    threshold: Mapped[float] = mapped_column(Float)
    pixel_size: Mapped[float] = mapped_column(Float)
    footprint: Mapped[WKBElement] = mapped_column(
        Geometry("POLYGON", srid=4326, spatial_index=True)
    )
    overlay_png: Mapped[bytes] = mapped_column(LargeBinary)
    overlay_west: Mapped[float] = mapped_column(Float)
    overlay_south: Mapped[float] = mapped_column(Float)
    overlay_east: Mapped[float] = mapped_column(Float)
    overlay_north: Mapped[float] = mapped_column(Float)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GreenSpaceNdvi(Base):
    """NDVI of one green space on one image: coverage-weighted mean, extremes, vegetated share."""

    __tablename__ = "green_space_ndvi"
    __table_args__ = (
        UniqueConstraint("image_id", "green_space_id"),
        CheckConstraint("vegetated_share BETWEEN 0 AND 1", name="share_fraction"),
        CheckConstraint("covered_share BETWEEN 0 AND 1", name="covered_fraction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(
        ForeignKey("ndvi_images.id", ondelete="CASCADE"), index=True
    )
    green_space_id: Mapped[int] = mapped_column(
        ForeignKey("green_spaces.id", ondelete="CASCADE"), index=True
    )
    acquired_on: Mapped[date] = mapped_column(Date)
    ndvi_mean: Mapped[float] = mapped_column(Float)
    ndvi_min: Mapped[float] = mapped_column(Float)
    ndvi_max: Mapped[float] = mapped_column(Float)
    vegetated_share: Mapped[float] = mapped_column(Float)
    pixels: Mapped[float] = mapped_column(Float)
    # Share of the green space under valid pixels; NULL for figures recorded before it was kept.
    covered_share: Mapped[float | None] = mapped_column(Float)
