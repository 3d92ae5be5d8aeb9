"""Coordinate reference systems offered by the OGC API (Part 2) and the exports.

Jasyl stores EPSG:4326; clients may ask for the same in OGC's lon/lat order (CRS84, the default),
in EPSG's lat/lon order, in Web Mercator, or in the UTM zones that cover Kazakhstan.
"""

from __future__ import annotations

from dataclasses import dataclass

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"


@dataclass(frozen=True)
class Crs:
    uri: str
    srid: int
    lat_first: bool = False  # EPSG:4326 by the book: latitude, then longitude

    @property
    def decimals(self) -> int:
        """Enough digits for ~1 cm: 7 for degrees, 2 for metres."""
        return 7 if self.srid == 4326 else 2


SUPPORTED = {
    c.uri: c
    for c in (
        Crs(CRS84, 4326),
        Crs(EPSG_URI.format(4326), 4326, lat_first=True),
        Crs(EPSG_URI.format(3857), 3857),
        Crs(EPSG_URI.format(32641), 32641),
        Crs(EPSG_URI.format(32642), 32642),
        Crs(EPSG_URI.format(32643), 32643),
    )
}
DEFAULT = SUPPORTED[CRS84]


def lookup(uri: str) -> Crs | None:
    """The ``Crs`` for a URI, also accepting the short ``EPSG:NNNN`` and ``[EPSG:NNNN]`` forms."""
    key = uri.strip().strip("[]")
    if key.upper().startswith("EPSG:"):
        key = EPSG_URI.format(key.split(":", 1)[1])
    if key.upper() in {"CRS84", "OGC:CRS84"}:
        key = CRS84
    return SUPPORTED.get(key)


def geometry_sql(column: str, crs: Crs) -> str:
    """SQL turning a stored EPSG:4326 ``column`` into ``crs`` with its axis order."""
    expression = column if crs.srid == 4326 else f"ST_Transform({column}, {crs.srid})"
    return f"ST_FlipCoordinates({expression})" if crs.lat_first else expression
