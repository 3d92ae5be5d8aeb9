"""A region's yearly report to the ministry: editions, their status and the locked snapshot.

``content`` is the report as generated from the registry. While an edition is a draft it is
rebuilt on request; from submission on it is a snapshot that nothing rewrites. A correction
is a new edition (``edition`` + 1), never an edit of a submitted one.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, pg_enum


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
