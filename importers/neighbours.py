"""Surveyed plants within a metre of a plant of the same species already in the region: probably
the same tree surveyed again and numbered anew (a warning, or a row error on request).

The region's plants are read once, before the import writes any, into a spatial index in
memory: for a file of one chunk (an upload of a street's trees) only those around its rows,
for a bigger one all of them. Each chunk is checked as it is validated, on the reading thread,
while the database merges the previous one. (Checked in SQL at the end, a million staged rows
first needed a spatial index of their own: 5 s after the reading, measured.) The plants an
import merges are therefore never its own neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.orm import Session

# 0.00002° is at least 1.26 m anywhere in Kazakhstan (lat ≤ 55.5°): every plant within 1 m
# is among the candidates; the distance itself is measured on the ellipsoid.
SEARCH_DEGREES = 0.00002
NEAR_METRES = 1.0
WGS84 = Geod(ellps="WGS84")
REGION_PLANTS = (
    "SELECT id, inventory_number, species_id, ST_AsBinary(geom) FROM plants "
    "WHERE region_id = :region"
)
AROUND = (
    " AND geom_3857 && jasyl_mercator_box(ST_Expand("
    "ST_MakeEnvelope(:west, :south, :east, :north, 4326), :margin))"
)


@dataclass(frozen=True)
class Neighbour:
    """Surveyed row ``index`` (of the chunk) lies ``metres`` from plant ``plant_id``."""

    index: int
    plant_id: int
    number: str
    metres: float


class ExistingPlants:
    """The region's plants (ids, numbers, species, shapes in degrees) and an STRtree of their
    boxes."""

    def __init__(self, rows: list) -> None:
        ids, numbers, species, shapes = zip(*rows, strict=True)
        self.ids = np.array(ids)
        self.numbers = np.array(numbers, dtype=object)
        self.species = np.array(species)
        self.shapes = shapely.from_wkb([bytes(s) for s in shapes])
        # The tree holds each plant's box widened by the search distance: a point in it is a
        # candidate, and every plant within 1 m is one, since 1 m is under SEARCH_DEGREES here
        # on both axes. A box test per point, not a distance (measured: 0.01 s against 0.14 s
        # a chunk of 50,000 rows in Astana).
        margin = np.array([-SEARCH_DEGREES, -SEARCH_DEGREES, SEARCH_DEGREES, SEARCH_DEGREES])
        self.tree = shapely.STRtree(shapely.box(*(shapely.bounds(self.shapes) + margin).T))

    @classmethod
    def load(
        cls, session: Session, region_id: int, around: np.ndarray | None = None
    ) -> ExistingPlants | None:
        """The region's plants as they are now (only those that may lie near the shapes
        ``around``, when given); ``None`` when there are none."""
        params: dict = {"region": region_id}
        query = REGION_PLANTS
        if around is not None:
            if not len(around):
                return None
            west, south, east, north = shapely.total_bounds(around)
            query += AROUND
            params.update(west=west, south=south, east=east, north=north, margin=SEARCH_DEGREES)
        rows = session.execute(text(query), params).all()
        return cls(rows) if rows else None

    def near(self, spots: np.ndarray, species: np.ndarray, numbers: np.ndarray) -> list[Neighbour]:
        """Rows (``spots``: points in degrees) within ``NEAR_METRES`` of a plant of the same
        species under another inventory number, each pair once, in row order."""
        rows, plants = self.tree.query(spots)
        same = (species[rows] == self.species[plants]) & (numbers[rows] != self.numbers[plants])
        rows, plants = rows[same], plants[same]
        if not len(rows):
            return []
        # The nearest point of a hedge or massif; a point's own place.
        ends = shapely.get_coordinates(shapely.shortest_line(spots[rows], self.shapes[plants]))
        _, _, metres = WGS84.inv(ends[0::2, 0], ends[0::2, 1], ends[1::2, 0], ends[1::2, 1])
        order = np.lexsort((plants, rows))
        return [
            Neighbour(int(rows[i]), int(self.ids[plants[i]]), self.numbers[plants[i]], metres[i])
            for i in order
            if metres[i] < NEAR_METRES
        ]
