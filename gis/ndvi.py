"""NDVI from one multiband image or two single-band files, and its statistics over polygons.

NDVI = (NIR − red) / (NIR + red), computed in float64 so that 8/16-bit integers cannot wrap
around (200 + 100 in uint8 is 44). Digital numbers become reflectance first when the product
says so (``value × scale + offset``: Landsat Collection 2 is ×0.0000275 − 0.2, and an offset
changes NDVI). Red and NIR may come from separate files, as Landsat and Sentinel deliver them:
NIR is aligned onto red's grid (bilinear) unless both share one. Pixels that are nodata in
either band, or where both bands are zero, are NaN and count for nothing. No domain rules here.

Zonal figures come from exactextract (a maintained C++ library): each pixel weighs the exact
share of it the polygon covers, so small green spaces on 5–10 m pixels get honest means; the
NDVI stays in memory and is handed over as a numpy raster.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import rasterio
import shapely
from exactextract import Feature, FeatureSource, Operation, exact_extract
from exactextract.raster import NumPyRasterSource
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.errors import RasterioIOError
from rasterio.transform import Affine, array_bounds
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_geom
from shapely.geometry.base import BaseGeometry

from registry.errors import InvalidValue, TooLarge

WEB_MERCATOR = CRS.from_epsg(3857)
NODATA_BYTE = 255  # the vegetated-flag raster's nodata
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

    @property
    def pixel_area(self) -> float:
        return abs(self.transform.determinant)


@dataclass(frozen=True)
class ZoneFigures:
    mean: float
    minimum: float
    maximum: float
    vegetated_share: float  # of the covered, valid area: NDVI above the threshold
    pixels: float  # coverage-weighted count of valid pixels
    covered_share: float  # of the polygon's area: under valid pixels (not off-image, nodata)


@dataclass(frozen=True)
class Band:
    """One band of one file: ``--red B04.jp2`` (band 1) or ``--red scene.tif:3``."""

    path: Path
    number: int = 1

    @classmethod
    def parse(cls, option: str, text: str) -> Band:
        """``FILE[:BAND]``; a clear ``InvalidValue`` naming ``option`` for a bad band number."""
        name, colon, band = text.rpartition(":")
        if not colon or not name or "/" in band or "." in band:
            return cls(Path(text))  # no band given (or a colon inside the path)
        if not band.isdigit() or int(band) < 1:
            raise InvalidValue(option, "the band after ':' must be a number from 1", text)
        return cls(Path(name), int(band))

    def __str__(self) -> str:
        return f"{self.path.name}:{self.number}"


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


def check_pixels(source: rasterio.DatasetReader, name: str, max_pixels: int | None) -> None:
    pixels = source.width * source.height * source.count
    if max_pixels is not None and pixels > max_pixels:
        raise TooLarge(
            "image",
            f"has {source.width:,} × {source.height:,} pixels in {source.count} band(s) = "
            f"{pixels:,}, more than the {max_pixels:,} allowed (JASYL_RASTER_MAX_PIXELS); crop "
            "it to the area of interest or keep only the red and near-infrared bands",
            name,
        )


def _open(path: Path, max_pixels: int | None = None):
    """``rasterio.open``, or a clear ``InvalidValue`` for a missing, unreadable, unplaced file;
    an image of more than ``max_pixels`` (width × height × bands, from its header) is refused
    before any pixel is read: reading is what takes the memory."""
    try:
        source = rasterio.open(path)
    except RasterioIOError as exc:
        reason = "does not exist" if not Path(path).exists() else "is not a readable raster image"
        raise InvalidValue("image", f"{reason} ({str(exc).splitlines()[0]})", str(path)) from None
    try:
        check_pixels(source, Path(path).name, max_pixels)
    except TooLarge:
        source.close()
        raise
    if source.crs is None:
        source.close()
        raise InvalidValue(
            "image", "has no coordinate reference system (georeference it first)", str(path)
        )
    return source


def _read_band(source, option: str, band: int, scale: float, offset: float) -> np.ndarray:
    """One band as float64 reflectance, NaN where nodata."""
    if not 1 <= band <= source.count:
        raise InvalidValue(
            option, f"band {band} does not exist: {Path(source.name).name} has "
            f"{source.count} band(s)", band,
        )  # fmt: skip
    try:
        data = source.read(band, masked=True)
    except RasterioIOError as exc:
        raise InvalidValue("image", f"cannot be read ({exc})", source.name) from None
    values = data.data.astype(np.float64) * scale + offset
    values[np.ma.getmaskarray(data)] = np.nan
    return values


def _aligned(nir, values: np.ndarray, red) -> np.ndarray:
    """NIR ``values`` on red's grid: as they are when both share one, else warped (bilinear)."""
    if (nir.crs, nir.transform, nir.shape) == (red.crs, red.transform, red.shape):
        return values
    onto = np.full(red.shape, np.nan)
    reproject(values, onto, src_transform=nir.transform, src_crs=nir.crs,
              dst_transform=red.transform, dst_crs=red.crs, src_nodata=np.nan,
              dst_nodata=np.nan, resampling=Resampling.bilinear)  # fmt: skip
    if np.isnan(onto).all():
        raise InvalidValue("--nir", f"{Path(nir.name).name} does not overlap the red image")
    return onto


def read_bands(
    red: Band, nir: Band, scale: float = 1.0, offset: float = 0.0, max_pixels: int | None = None
) -> NdviImage:
    """NDVI of ``red`` and ``nir`` (one file or two) on red's grid, dated by red's tags."""
    if red.number == nir.number and Path(red.path).resolve() == Path(nir.path).resolve():
        raise InvalidValue("--nir", "must be a different band from --red", str(nir))
    if scale == 0:
        raise InvalidValue("--scale", "must not be 0 (every pixel would be 0/0)", scale)
    with _open(red.path, max_pixels) as red_source, _open(nir.path, max_pixels) as nir_source:
        red_values = _read_band(red_source, "--red", red.number, scale, offset)
        nir_values = _read_band(nir_source, "--nir", nir.number, scale, offset)
        nir_values = _aligned(nir_source, nir_values, red_source)
        values = compute_ndvi(red_values, nir_values, np.isnan(red_values) | np.isnan(nir_values))
        return NdviImage(values, red_source.transform, red_source.crs,
                         _image_date(red_source.tags()))  # fmt: skip


def read_ndvi(path: Path, red: int, nir: int, max_pixels: int | None = None) -> NdviImage:
    """NDVI of two bands of one multiband file (the web upload's case)."""
    return read_bands(Band(Path(path), red), Band(Path(path), nir), max_pixels=max_pixels)


class _WkbFeature(Feature):
    """One polygon handed to exactextract as WKB (no GeoJSON text round trip per feature)."""

    def __init__(self, wkb: bytes, number: int) -> None:
        Feature.__init__(self)
        self.wkb = wkb
        self.properties: dict[str, object] = {"id": number}

    def geometry(self) -> bytes:
        return self.wkb

    def set_geometry_format(self) -> str:
        return "wkb"

    def get(self, name: str) -> object:
        return self.properties[name]

    def set(self, name: str, value: object) -> None:
        self.properties[name] = value

    def fields(self) -> list[str]:
        return list(self.properties)


class WkbPolygons(FeatureSource):
    """Polygons (already in the raster's CRS) for ``exact_extract``, encoded to WKB at once."""

    def __init__(self, polygons: Sequence[BaseGeometry], crs: CRS) -> None:
        super().__init__()
        self.wkbs = shapely.to_wkb(np.asarray(polygons, dtype=object))
        self.wkt = crs.to_wkt()

    def count(self) -> int:
        return len(self.wkbs)

    def __iter__(self) -> Iterator[_WkbFeature]:
        for number, wkb in enumerate(self.wkbs):
            yield _WkbFeature(wkb, number)

    def srs_wkt(self) -> str:
        return self.wkt


def vegetated(values: np.ndarray, threshold: float) -> np.ndarray:
    """0/1 (uint8) where NDVI is at most / above ``threshold``, ``NODATA_BYTE`` where unknown.

    One byte a pixel, so the second raster costs an eighth of the NDVI itself; its
    coverage-weighted mean over a polygon is the vegetated share of the polygon's valid area.
    """
    flags = (values > threshold).view(np.uint8)
    flags[np.isnan(values)] = NODATA_BYTE
    return flags


def zonal_figures(
    image: NdviImage,
    polygons: Sequence[BaseGeometry],
    threshold: float,
    crs: CRS | str = WGS84,
) -> list[ZoneFigures | None]:
    """NDVI over each polygon (given in ``crs``), in one exactextract pass over the image.

    exactextract weighs every pixel by the exact share of it the polygon covers and skips NaN
    (nodata, 0/0) pixels; mean, min, max and the covered valid pixels come from the NDVI, the
    vegetated share from the 0/1 raster of ``vegetated``. ``None`` where a polygon covers no
    valid pixel (outside the image, or only nodata).
    """
    if not len(polygons):
        return []
    shapes = reproject_polygons(polygons, crs, image.crs)
    extent = image.bounds
    wkt = image.crs.to_wkt()
    ndvi = NumPyRasterSource(image.values, *extent, nodata=None, srs_wkt=wkt, name="ndvi")
    flags = NumPyRasterSource(vegetated(image.values, threshold), *extent, nodata=NODATA_BYTE,
                              srs_wkt=wkt, name="vegetated")  # fmt: skip
    operations = [Operation(stat, stat, ndvi) for stat in ("mean", "min", "max", "count")]
    operations.append(Operation("mean", "share", flags))
    table = exact_extract([ndvi, flags], WkbPolygons(shapes, image.crs), operations,
                          output="pandas")  # fmt: skip
    columns = [table[name].to_numpy(dtype=np.float64) for name in
               ("mean", "min", "max", "share", "count")]  # fmt: skip
    columns.append(covered_shares(columns[4], shapes, image.pixel_area))
    return [
        ZoneFigures(*(float(v) for v in row)) if row[4] > 0 and not math.isnan(row[0]) else None
        for row in zip(*columns, strict=True)
    ]


def covered_shares(pixels: np.ndarray, shapes: np.ndarray, pixel_area: float) -> np.ndarray:
    """Each polygon's share under valid pixels: its coverage-weighted pixel count over its area.

    Both areas are measured in the image's CRS, so the share holds in degrees too. A green
    space half off the image, or half under nodata (cloud mask, the scene's black edge), is 0.5.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = pixels * pixel_area / shapely.area(shapes)
    return np.clip(np.nan_to_num(shares), 0.0, 1.0)


def reproject_polygons(
    polygons: Sequence[BaseGeometry], source: CRS | str, target: CRS
) -> np.ndarray:
    """``polygons`` from ``source`` to ``target``, every vertex in one PROJ call."""
    shapes = np.asarray(polygons, dtype=object)
    if CRS.from_user_input(source) == target:
        return shapes
    transformer = Transformer.from_crs(source, target, always_xy=True)
    return shapely.transform(shapes, lambda xy: np.column_stack(transformer.transform(*xy.T)))


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
