"""A photo of a plant: the record in the database, the image and its thumbnail on disk.

The files live under ``JASYL_HOME/uploads/photos/<plant id>/`` (so ``jasyl backup`` carries them)
and are named by a random token the server chose, never by the uploader's file name, which is
kept only as a label.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base


class PlantPhoto(Base):
    __tablename__ = "plant_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    plant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("plants.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(32), unique=True)
    extension: Mapped[str] = mapped_column(String(4))
    content_type: Mapped[str] = mapped_column(String(16))
    original_name: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def relative_path(self) -> str:
        """Where the image lies under the uploads folder."""
        return f"photos/{self.plant_id}/{self.token}.{self.extension}"

    @property
    def relative_thumbnail(self) -> str:
        return f"photos/{self.plant_id}/{self.token}.thumb.jpg"
