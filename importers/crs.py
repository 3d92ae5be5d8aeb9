"""The coordinate system of a survey, and its coordinates in WGS 84.

Kazakh surveys use WGS 84 / UTM zones 38N–45N, Pulkovo 1942 Gauss-Krüger zones 8–15
(EPSG:28408–28415), their QazTRF-23 successors (EPSG:10942–10949) or plain lon/lat. The CRS
comes from ``--crs``, the mapping file or the file itself; a file without one whose coordinates
look projected is refused with the candidates that put its points in the named region.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from registry.errors import JasylError

KAZAKHSTAN_BOUNDS = (46.4, 40.5, 87.4, 55.5)
CANDIDATE_EPSG = (
    *range(32638, 32646),  # WGS 84 / UTM 38N–45N
    *range(28408, 28416),  # Pulkovo 1942 / Gauss-Krüger zones 8–15
    *range(10942, 10950),  # QazTRF-23 / Gauss-Krüger zones 8–15
)


class CrsError(JasylError, ValueError):
    code = "crs"


def parse_crs(value: str, where: str) -> CRS:
    text = str(value).strip()
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return CRS.from_user_input(text)
    except CRSError:
        raise CrsError(
            f"{where}: unknown coordinate system {value!r} (give an EPSG code)"
        ) from None


def looks_geographic(xs: np.ndarray, ys: np.ndarray) -> bool:
    finite = np.isfinite(xs) & np.isfinite(ys)
    if not finite.any():
        return True
    return bool((np.abs(xs[finite]) <= 180).all() and (np.abs(ys[finite]) <= 90).all())


def suggest(xs: np.ndarray, ys: np.ndarray, area: BaseGeometry | None) -> list[str]:
    """The Kazakh CRSs that put the median point of the survey inside ``area`` (or Kazakhstan)."""
    x, y = float(np.nanmedian(xs)), float(np.nanmedian(ys))
    found = []
    for epsg in CANDIDATE_EPSG:
        try:
            lon, lat = Transformer.from_crs(epsg, 4326, always_xy=True).transform(x, y)
        except CRSError:
            continue  # QazTRF-23 codes need PROJ data newer than some machines have
        if not (np.isfinite(lon) and np.isfinite(lat)):
            continue
        inside = (
            area.contains(shapely.Point(lon, lat))
            if area is not None
            else _in_kazakhstan_box(lon, lat)
        )
        if inside:
            found.append(f"EPSG:{epsg} ({CRS.from_epsg(epsg).name})")
    return found


def missing_crs_error(
    file_name: str, xs: np.ndarray, ys: np.ndarray, area: BaseGeometry | None, area_name: str
) -> CrsError:
    finite = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[finite], ys[finite]
    span = f"x {xs.min():.0f}…{xs.max():.0f}, y {ys.min():.0f}…{ys.max():.0f}"
    likely = suggest(xs, ys, area)
    advice = (
        f"likely: {', '.join(likely)}"
        if likely
        else f"no UTM or Gauss-Krüger zone of Kazakhstan places them in {area_name}"
    )
    return CrsError(
        f"{file_name}: the file has no coordinate system (.prj or metadata) and its coordinates "
        f"look projected ({span}); pass --crs ({advice})"
    )


def to_wgs84(geometries: np.ndarray, source: CRS) -> np.ndarray:
    """Reproject an array of shapely geometries to EPSG:4326 (lon, lat), vectorised."""
    if source.to_epsg() == 4326:
        return geometries
    transformer = Transformer.from_crs(source, 4326, always_xy=True)
    return shapely.transform(geometries, transformer.transform, interleaved=False)


# shapely's type ids → names, "" for a missing geometry (id -1, the last entry).
TYPE_NAMES = np.array(
    [
        "Point",
        "LineString",
        "LinearRing",
        "Polygon",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
        "GeometryCollection",
        "",
    ],
    dtype=object,
)
_POINT_EWKB = np.dtype(
    [("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")]
)


def type_names(geometries: np.ndarray) -> np.ndarray:
    """Each geometry's type name ("Point" …, "" for none), without a Python call per record."""
    return TYPE_NAMES[shapely.get_type_id(geometries)]


def ewkb_4326(geometries: np.ndarray) -> np.ndarray:
    """EWKB (little-endian, SRID 4326) of 2D geometries, as ``to_wkb(set_srid(g, 4326),
    include_srid=True)`` writes it. Points, nearly every record of a survey, are packed with
    numpy: ``set_srid`` copies each geometry, ~3 s of a million-row import's validation."""
    out = np.empty(len(geometries), dtype=object)
    points = (shapely.get_type_id(geometries) == 0) & ~shapely.is_empty(geometries)
    if points.any():
        packed = np.empty(int(points.sum()), dtype=_POINT_EWKB)
        packed["order"], packed["type"], packed["srid"] = 1, 1 | 0x20000000, 4326
        xy = shapely.get_coordinates(geometries[points])
        packed["x"], packed["y"] = xy[:, 0], xy[:, 1]
        raw, size = packed.tobytes(), _POINT_EWKB.itemsize
        chunks = (raw[i : i + size] for i in range(0, len(raw), size))  # bytes, not numpy's
        out[points] = np.fromiter(chunks, dtype=object, count=len(packed))  # S25, which drops NULs
    rest = ~points
    if rest.any():
        out[rest] = shapely.to_wkb(
            shapely.set_srid(geometries[rest], 4326), include_srid=True, byte_order=1
        )
    return out


def _in_kazakhstan_box(lon: float, lat: float) -> bool:
    west, south, east, north = KAZAKHSTAN_BOUNDS
    return west <= lon <= east and south <= lat <= north


def swapped(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Points outside Kazakhstan's box that would fall inside it with lon and lat exchanged."""
    west, south, east, north = KAZAKHSTAN_BOUNDS
    inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    turned = (lat >= west) & (lat <= east) & (lon >= south) & (lon <= north)
    return ~inside & turned
