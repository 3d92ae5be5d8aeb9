"""A survey of green spaces (parks, squares, boulevards): one registry green space per polygon.

Such layers are small (a city has hundreds of green spaces, not millions), so each record goes
through ``registry.inventory.services.create_green_space`` itself: the same rules, region
derivation and audit as a green space drawn on the map. ``importers.fields.record_kind``
decides when a layer is one of these.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import CRS
from sqlalchemy import select
from sqlalchemy.orm import Session

from importers import crs as crs_rules
from importers.fields import GREEN_FIELDS, Column, Mapping
from importers.rows import astray_from, empty
from importers.sources import Batch
from registry.errors import InvalidValue
from registry.inventory.models import GreenSpace, GreenSpaceCategory
from registry.regions.models import Region
from registry.regions.services import RegionPieces
from registry.text import fold

# Folded word (or its start) → the registry's category, Russian, Kazakh and English.
CATEGORY_WORDS = (
    ("общ", GreenSpaceCategory.PUBLIC),
    ("жалпы", GreenSpaceCategory.PUBLIC),
    ("public", GreenSpaceCategory.PUBLIC),
    ("огранич", GreenSpaceCategory.LIMITED),
    ("шектеул", GreenSpaceCategory.LIMITED),
    ("limited", GreenSpaceCategory.LIMITED),
    ("спец", GreenSpaceCategory.SPECIAL),
    ("арнайы", GreenSpaceCategory.SPECIAL),
    ("special", GreenSpaceCategory.SPECIAL),
)
KIND_WORDS = {
    "парк": "park",
    "саябак": "park",
    "сквер": "square",
    "бульвар": "boulevard",
    "аллея": "alley",
    "сад": "garden",
    "бак": "garden",
    "лесопарк": "forest_park",
}


@dataclass(frozen=True)
class Area:
    """One valid-looking record of the layer: its row and the green space's values."""

    row: int
    values: dict[str, Any]


@dataclass(frozen=True)
class Refusal:
    row: int
    field: str
    value: Any
    code: str
    message: str


def category_of(value: Any) -> GreenSpaceCategory:
    if empty(value):
        return GreenSpaceCategory.PUBLIC
    key = fold(str(value))
    for start, category in CATEGORY_WORDS:
        if key.startswith(start) or key == category.value:
            return category
    valid = ", ".join(c.value for c in GreenSpaceCategory)
    raise InvalidValue("category", f"is not a category of green space ({valid})", value)


def kind_of(value: Any) -> str:
    """The kind of green space: ``park``, ``square``, ``boulevard`` … or the surveyor's word."""
    if empty(value):
        return "park"
    word = " ".join(str(value).split())
    return KIND_WORDS.get(fold(word), word)


class AreaReader:
    """Turns batches of a green-space layer into ``Area`` records and ``Refusal`` rows."""

    def __init__(
        self,
        columns: dict[str, Column],
        mapping: Mapping,
        source_crs: CRS,
        region: tuple[Region, RegionPieces],
    ) -> None:
        self.columns, self.mapping, self.source_crs = columns, mapping, source_crs
        self.target, self.pieces = region

    def read(self, batch: Batch, geometry: np.ndarray) -> Iterator[Area | Refusal]:
        geometry = shapely.force_2d(geometry)
        present = ~(shapely.is_missing(geometry) | shapely.is_empty(geometry))
        lonlat = np.full(len(geometry), None, dtype=object)
        lonlat[present] = crs_rules.to_wgs84(geometry[present], self.source_crs)
        regions = np.zeros(len(geometry), dtype=np.int64)
        regions[present] = self.pieces.regions_at(shapely.point_on_surface(lonlat[present]))
        for i in range(len(geometry)):
            row = batch.first_row + i
            if not present[i]:
                yield Refusal(row, "geometry", None, "invalid_geometry", "a location is required")
            elif regions[i] != self.target.id:
                yield self._astray(row, lonlat[i], int(regions[i]))
            else:
                yield from self._area(row, batch, i, lonlat[i])

    def _area(self, row: int, batch: Batch, i: int, shape: Any) -> Iterator[Area | Refusal]:
        cells = {name: self._cell(batch, i, name) for name in GREEN_FIELDS}
        try:
            values = {
                "name": "" if empty(cells.get("name")) else str(cells["name"]).strip(),
                "kind": kind_of(cells.get("kind")),
                "category": category_of(cells.get("category")),
                "balance_holder": ""
                if empty(cells.get("balance_holder"))
                else cells["balance_holder"],
                "notes": "" if empty(cells.get("notes")) else str(cells["notes"]),
                "geom": shape,
            }
        except InvalidValue as exc:
            column = self.columns.get(exc.field)
            yield Refusal(
                row, column.source if column else exc.field, exc.value, "invalid_value", exc.reason
            )
            return
        yield Area(row, values)

    def _cell(self, batch: Batch, i: int, name: str) -> Any:
        column = self.columns.get(name)
        value = batch.frame[column.source].iloc[i] if column else None
        value = self.mapping.values.get(name, {}).get(str(value), value)
        return self.mapping.defaults.get(name) if empty(value) else value

    def _astray(self, row: int, shape: Any, region_id: int) -> Refusal:
        spot = shapely.point_on_surface(shape)
        code, message = astray_from(self.pieces, self.target, region_id, spot)
        return Refusal(row, "geometry", None, code, message)


def existing_names(session: Session, region_id: int) -> dict[str, int]:
    """Green spaces already in the region, by folded name: a survey does not make them twice."""
    found = session.execute(
        select(GreenSpace.name, GreenSpace.id).where(GreenSpace.region_id == region_id)
    )
    return {fold(name): space_id for name, space_id in found}
