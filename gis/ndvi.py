"""NDVI from a multiband image, and its statistics over polygons (no domain rules here).

NDVI = (NIR − red) / (NIR + red), computed in float64 so that 8/16-bit integers cannot wrap
around (200 + 100 in uint8 is 44). Pixels that are nodata in either band, or where both bands
are zero, are NaN and count for nothing. Zonal figures weight each pixel by the share of it the
polygon covers, as exactextract does: interior pixels weigh 1; pixels the boundary crosses weigh
their covered share (see ``coverage``), so small green spaces on 5–10 m pixels get honest means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import rasterio
import shapely
from rasterio.crs import CRS
from rasterio.errors import RasterioIOError
from rasterio.transform import Affine, array_bounds
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_geom
from rasterio.windows import Window, from_bounds
from shapely.geometry.base import BaseGeometry

from registry.errors import InvalidValue

WEB_MERCATOR = CRS.from_epsg(3857)
SUBSAMPLES = 8
WGS84 = CRS.from_epsg(4326)
# Brown (bare, built-up) → yellow → greens (vegetation), for NDVI −0.2 … 0.8.
LEGEND = (
    (-0.2, (165, 0, 38)),
    (0.0, (244, 109, 67)),
    (0.2, (254, 224, 139)),
    (0.4, (166, 217, 106)),
    (0.6, (26, 152, 80)),
    (0.8, (0, 104, 55)),
)


@dataclass(frozen=True)
class NdviImage:
    """NDVI on the image's own grid, with what is needed to place it and date it."""

    values: np.ndarray  # float64, NaN where unknown
    transform: Affine
    crs: CRS
    acquired_on: date | None

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return array_bounds(*self.values.shape, self.transform)

    def footprint_wgs84(self) -> BaseGeometry:
        """The image's outline in EPSG:4326 (densified, so curved edges stay right)."""
        box = shapely.segmentize(shapely.box(*self.bounds), max(self.pixel_size * 16, 1e-9))
        return shapely.geometry.shape(transform_geom(self.crs, WGS84, box.__geo_interface__))

    @property
    def pixel_size(self) -> float:
        return abs(self.transform.a)


@dataclass(frozen=True)
class ZoneFigures:
    mean: float
    minimum: float
    maximum: float
    vegetated_share: float  # of the covered, valid area: NDVI above the threshold
    pixels: float  # coverage-weighted count of valid pixels


def compute_ndvi(red: np.ndarray, nir: np.ndarray, invalid: np.ndarray | None = None) -> np.ndarray:
    """NDVI of two bands of any numeric type; ``invalid`` pixels and 0/0 become NaN."""
    red64 = red.astype(np.float64)
    nir64 = nir.astype(np.float64)
    total = nir64 + red64
    with np.errstate(divide="ignore", invalid="ignore"):
        values = (nir64 - red64) / total
    values[total == 0] = np.nan
    if invalid is not None:
        values[invalid] = np.nan
    return values


def _image_date(tags: dict[str, str]) -> date | None:
    stamp = tags.get("TIFFTAG_DATETIME") or tags.get("ACQUISITIONDATETIME") or ""
    for layout in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(stamp[:19], layout).date()
        except ValueError:
            continue
    return None


def read_ndvi(path: Path, red: int, nir: int) -> NdviImage:
    """Open ``path`` and compute its NDVI; a clear ``InvalidValue`` for every kind of bad file."""
    try:
        source = rasterio.open(path)
    except RasterioIOError as exc:
        reason = "does not exist" if not Path(path).exists() else "is not a readable raster image"
        raise InvalidValue("image", f"{reason} ({str(exc).splitlines()[0]})", str(path)) from None
    with source:
        if source.crs is None:
            raise InvalidValue(
                "image", "has no coordinate reference system (georeference it first)", str(path)
            )
        for name, band in (("red", red), ("nir", nir)):
            if not 1 <= band <= source.count:
                raise InvalidValue(
                    f"--{name}",
                    f"band {band} does not exist: {Path(path).name} has {source.count} band(s)",
                    band,
                )
        if red == nir:
            raise InvalidValue("--nir", "must be a different band from --red", nir)
        try:
            bands = source.read([red, nir], masked=True)
        except RasterioIOError as exc:
            raise InvalidValue("image", f"cannot be read ({exc})", str(path)) from None
        invalid = np.ma.getmaskarray(bands[0]) | np.ma.getmaskarray(bands[1])
        values = compute_ndvi(bands[0].data, bands[1].data, invalid)
        return NdviImage(values, source.transform, source.crs, _image_date(source.tags()))


def _window_of(image: NdviImage, bounds: tuple[float, float, float, float]) -> Window | None:
    rows, cols = image.values.shape
    window = from_bounds(*bounds, transform=image.transform)
    col0, row0 = max(0, math.floor(window.col_off)), max(0, math.floor(window.row_off))
    col1 = min(cols, math.ceil(window.col_off + window.width))
    row1 = min(rows, math.ceil(window.row_off + window.height))
    if col1 <= col0 or row1 <= row0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def coverage(polygon: BaseGeometry, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    """Share of each pixel of a grid covered by ``polygon`` (in the grid's CRS), 0…1.

    Pixels the boundary touches are found exactly (GEOS ``intersects`` on prepared geometry);
    those the polygon holds entirely weigh 1; boundary pixels weigh the share of a
    ``SUBSAMPLES``² lattice of points inside the polygon (within 1/64 of the exact area each,
    and errors of opposite sign cancel along a boundary).
    """
    a, _, c, _, e, f = transform[:6]
    height, width = shape
    rows, cols = np.divmod(np.arange(height * width), width)
    x0, y0 = c + cols * a, f + rows * e
    shapely.prepare(polygon)
    boundary = polygon.boundary
    shapely.prepare(boundary)
    weights = shapely.contains_xy(polygon, x0 + a / 2, y0 + e / 2).astype(np.float64)
    # Pixels near the boundary: those holding a point of it (sampled every half pixel) and their
    # neighbours; GEOS then says exactly which of these the boundary touches.
    points = shapely.get_coordinates(shapely.segmentize(boundary, abs(a) / 2))
    near = np.zeros((height + 4, width + 4), dtype=bool)  # two pixels of margin on each side
    pc = np.clip(np.floor((points[:, 0] - c) / a).astype(int), -1, width) + 1
    pr = np.clip(np.floor((points[:, 1] - f) / e).astype(int), -1, height) + 1
    for dr in (0, 1, 2):
        for dc in (0, 1, 2):
            near[pr + dr, pc + dc] = True
    candidates = np.flatnonzero(near[2:-2, 2:-2])
    boxes = shapely.box(x0[candidates], y0[candidates] + e, x0[candidates] + a, y0[candidates])
    touched = shapely.intersects(boundary, boxes)
    crossed, boxes = candidates[touched], boxes[touched]
    if crossed.size:
        steps = (np.arange(SUBSAMPLES) + 0.5) / SUBSAMPLES
        dx, dy = np.meshgrid(steps * a, steps * e)
        xs = x0[crossed, None] + dx.ravel()[None, :]
        ys = y0[crossed, None] + dy.ravel()[None, :]
        share = shapely.contains_xy(polygon, xs, ys).mean(axis=1)
        # a sliver smaller than one lattice cell still counts (for min/max), a mere touch does not
        empty = np.flatnonzero(share == 0)
        if empty.size:
            slivers = ~shapely.touches(polygon, boxes[empty])
            share[empty[slivers]] = 0.5 / SUBSAMPLES**2
        weights[crossed] = share
    return weights.reshape(shape)


def zone_figures(image: NdviImage, polygon: BaseGeometry, threshold: float) -> ZoneFigures | None:
    """NDVI over ``polygon`` (in the image's CRS); ``None`` when no valid pixel is covered."""
    window = _window_of(image, polygon.bounds)
    if window is None:
        return None
    r0, c0 = int(window.row_off), int(window.col_off)
    values = image.values[r0 : r0 + int(window.height), c0 : c0 + int(window.width)]
    transform = rasterio.windows.transform(window, image.transform)
    weights = coverage(polygon, transform, values.shape)
    valid = (weights > 0) & ~np.isnan(values)
    if not valid.any():
        return None
    w, v = weights[valid], values[valid]
    total = float(w.sum())
    return ZoneFigures(
        mean=float((w * v).sum() / total),
        minimum=float(v.min()),
        maximum=float(v.max()),
        vegetated_share=float(w[v > threshold].sum() / total),
        pixels=total,
    )


def to_image_crs(image: NdviImage, geometry_wgs84: BaseGeometry) -> BaseGeometry:
    return shapely.geometry.shape(
        transform_geom(WGS84, image.crs, geometry_wgs84.__geo_interface__)
    )


def colour(values: np.ndarray) -> np.ndarray:
    """RGBA (uint8) for NDVI values along ``LEGEND``; NaN is transparent."""
    stops = np.array([s for s, _ in LEGEND])
    colours = np.array([c for _, c in LEGEND], dtype=np.float64)
    clipped = np.clip(np.nan_to_num(values, nan=stops[0]), stops[0], stops[-1])
    rgba = np.zeros((*values.shape, 4), dtype=np.uint8)
    for channel in range(3):
        rgba[..., channel] = np.interp(clipped, stops, colours[:, channel]).astype(np.uint8)
    rgba[..., 3] = np.where(np.isnan(values), 0, 210)
    return rgba


def overlay_png(image: NdviImage) -> tuple[bytes, tuple[float, float, float, float]]:
    """The NDVI coloured and warped to Web Mercator as PNG, and its (W, S, E, N) in degrees.

    Leaflet's ``imageOverlay`` stretches a picture linearly between two corners on a Mercator
    map, so the picture itself must be in Web Mercator.
    """
    rows, cols = image.values.shape
    transform, width, height = calculate_default_transform(
        image.crs, WEB_MERCATOR, cols, rows, *image.bounds
    )
    warped = np.full((height, width), np.nan)
    reproject(image.values, warped, src_transform=image.transform, src_crs=image.crs,
              dst_transform=transform, dst_crs=WEB_MERCATOR, src_nodata=np.nan,
              dst_nodata=np.nan, resampling=Resampling.nearest)  # fmt: skip
    rgba = colour(warped)
    memory = rasterio.MemoryFile()
    with memory.open(driver="PNG", width=width, height=height, count=4, dtype="uint8") as png:
        png.write(np.moveaxis(rgba, -1, 0))
    west, south, east, north = array_bounds(height, width, transform)
    (lon0, lon1), (lat0, lat1) = rasterio.warp.transform(
        WEB_MERCATOR, WGS84, [west, east], [south, north]
    )
    return memory.read(), (lon0, lat0, lon1, lat1)
