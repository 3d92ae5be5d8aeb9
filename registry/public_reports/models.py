"""A resident's report and its photos.

The public number is the only handle a resident has: random (not a sequence), so nobody can walk
through others' reports. The contact is for the foresters only; the public status page never shows
it, nor the description, nor anything but "received" until a forester publishes the report.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from registry.public_reports.rules import KINDS, STATUSES


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PublicReport(Base):
    __tablename__ = "public_reports"
    __table_args__ = (
        CheckConstraint(_one_of("kind", KINDS), name="known_kind"),
        CheckConstraint(_one_of("status", STATUSES), name="known_status"),
        CheckConstraint("status <> 'rejected' OR reason <> ''", name="rejection_has_reason"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[str] = mapped_column(String(9), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326))
    region_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("regions.id"), index=True)
    plant_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("plants.id", ondelete="SET NULL"), index=True
    )
    contact: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="received")
    reason: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_to_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("public_reports.id"), index=True
    )
    inspection_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("inspections.id", ondelete="SET NULL")
    )
    care_work_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("care_works.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PublicReportPhoto(Base):
    """A photo sent with a report, re-encoded without its metadata (no EXIF, no GPS)."""

    __tablename__ = "public_report_photos"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("public_reports.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(32), unique=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def relative_path(self) -> str:
        """Where the cleaned JPEG lies under the uploads folder."""
        return f"public_reports/{self.report_id}/{self.token}.jpg"
