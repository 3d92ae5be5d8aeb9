"""Species (and genus-level taxa, for surveys that write only "тополь")."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ARRAY, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base

LIFE_FORMS = ("tree", "shrub")
LEAF_TYPES = ("broadleaf", "conifer")


class Species(Base):
    __tablename__ = "species"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    latin: Mapped[str] = mapped_column(Text)
    name_ru: Mapped[str] = mapped_column(Text)
    name_kk: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    rank: Mapped[str] = mapped_column(String(8))
    genus: Mapped[str] = mapped_column(Text)
    life_form: Mapped[str] = mapped_column(String(8))
    leaf_type: Mapped[str] = mapped_column(String(10))
    max_height_m: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    max_trunk_diameter_cm: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    zones: Mapped[list[str]] = mapped_column(ARRAY(Text))
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text))

    def name(self, locale: str = "en") -> str:
        return {"kk": self.name_kk, "ru": self.name_ru, "la": self.latin}.get(locale, self.name_en)
