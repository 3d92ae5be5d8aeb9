"""What the phones sent: each field change and each photo once, keyed by the UUID the phone made.

A change's row is written in the same transaction as the change itself, so either both exist or
neither does; a replay of the UUID finds the row and is answered with the stored result, never
applied twice. Only applied changes are kept: a refused one (a conflict, a bad value, another
region) leaves nothing, so the phone may send it again once the forester has resolved it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base


class FieldChange(Base):
    """One change applied from a phone: its kind, the plant it touched, and the answer given."""

    __tablename__ = "field_changes"

    uuid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    content_sha256: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    plant_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("plants.id", ondelete="SET NULL"), index=True
    )
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    gps_accuracy_m: Mapped[Decimal | None] = mapped_column(Numeric(7, 1))
    gps_fixes: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[int] = mapped_column(SmallInteger)
    answer: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class FieldPhoto(Base):
    """A photo a phone sent for one of its changes, kept once per photo UUID."""

    __tablename__ = "field_photos"

    uuid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    change_uuid: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("field_changes.uuid", ondelete="CASCADE"), index=True
    )
    photo_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("plant_photos.id", ondelete="CASCADE")
    )
    content_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
