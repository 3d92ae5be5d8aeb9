"""Zonal NDVI: 10,000 green-space polygons over a large raster, ours against exactextract.

A synthetic 6,000 × 6,000 NDVI raster (5 m pixels, UTM 42N, 30 × 30 km, smooth fields plus noise
and a few nodata holes) and 10,000 polygons of 15–120 m radius (parks, squares, boulevards) are
made in memory from a fixed seed.

Ours is the function ``jasyl raster ndvi`` and the web upload call, ``gis.ndvi.zonal_figures``,
timed whole: the polygons arrive in EPSG:4326 as they are stored and are reprojected to the image's
UTM zone; mean, min, max, valid pixels and the vegetated share come out of one exactextract pass
(the NDVI and its 0/1 vegetated raster). The baseline is plain exactextract computing mean, min and
max over the same raster and the same polygons already in UTM, fed the same WKB features, so the
ratio is exactly what our additions cost. Runs alternate (``ROUNDS`` each) and medians are
compared; the values must agree within 1 %. Goal: ours ≤ 1.5 × exactextract's time.
For reference, exactextract fed a GeoDataFrame (its usual input) is timed once too.

    python -m bench.zonal [--size 6000] [--polygons 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import shapely
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource
from rasterio.crs import CRS
from rasterio.transform import from_origin

from bench.harness import Timing, machine, report
from gis.ndvi import WGS84, NdviImage, WkbPolygons, reproject_polygons, zonal_figures

SIZE = 6000
PIXEL = 5.0
POLYGONS = 10_000
ROUNDS = 5
GOAL = 1.5
THRESHOLD = 0.3


def synthetic_image(rng: np.random.Generator, size: int = SIZE) -> NdviImage:
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    values = 0.3 + 0.3 * np.sin(9 * x) * np.cos(7 * y) + rng.normal(0, 0.08, (size, size))
    values = values.astype(np.float64)
    values[rng.random((size, size)) < 0.002] = np.nan
    transform = from_origin(500_000, 5_680_000, PIXEL, PIXEL)
    return NdviImage(values, transform, CRS.from_epsg(32642), None)


def green_spaces(
    rng: np.random.Generator, image: NdviImage, count: int = POLYGONS
) -> list[shapely.Geometry]:
    x0, y0, x1, y1 = image.bounds
    polygons = []
    for _ in range(count):
        centre = shapely.Point(rng.uniform(x0 + 200, x1 - 200), rng.uniform(y0 + 200, y1 - 200))
        shape = centre.buffer(rng.uniform(15, 120), quad_segs=6)
        polygons.append(shapely.affinity.scale(shape, rng.uniform(0.4, 1.0), 1.0))
    return polygons


def agreement(ours: list, reference) -> bool:
    """Print how far our figures lie from exactextract's; True when all agree within 1 %."""
    means = np.array([f.mean for f in ours])
    expected = reference["mean"].to_numpy()
    gap = np.abs(means - expected)
    relative = gap / np.maximum(np.abs(expected), 0.1)  # values near 0 measured against 0.1
    same_min = np.allclose([f.minimum for f in ours], reference["min"])
    same_max = np.allclose([f.maximum for f in ours], reference["max"])
    print(f"mean NDVI: largest difference {gap.max():.6f}, largest relative {relative.max():.4%}; "
          f"min/max identical: {same_min} / {same_max}")  # fmt: skip
    return bool(relative.max() <= 0.01 and same_min and same_max)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=SIZE, help="raster width and height, pixels")
    parser.add_argument("--polygons", type=int, default=POLYGONS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    print(machine())
    rng = np.random.default_rng(2026)
    image = synthetic_image(rng, args.size)
    polygons = green_spaces(rng, image, args.polygons)
    stored = reproject_polygons(polygons, image.crs, WGS84)  # as green_spaces.geom holds them
    print(f"raster {args.size:,} × {args.size:,} px ({args.size * PIXEL / 1000:.0f} km square), "
          f"{args.polygons:,} polygons")  # fmt: skip

    source = NumPyRasterSource(image.values, *image.bounds, nodata=None,
                               srs_wkt=image.crs.to_wkt())  # fmt: skip

    def plain() -> object:
        features = WkbPolygons(polygons, image.crs)
        return exact_extract(source, features, ["mean", "min", "max"], output="pandas")

    ours_samples, reference_samples = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        ours = zonal_figures(image, stored, THRESHOLD)
        ours_samples.append(time.perf_counter() - start)
        start = time.perf_counter()
        reference = plain()
        reference_samples.append(time.perf_counter() - start)

    start = time.perf_counter()
    frame = gpd.GeoDataFrame(geometry=polygons, crs=image.crs)
    exact_extract(source, frame, ["mean", "min", "max"], output="pandas")
    print(f"(for reference: exactextract fed a GeoDataFrame {time.perf_counter() - start:.2f} s)")

    agree = agreement(ours, reference)
    ratio = report(
        f"zonal NDVI over {args.polygons:,} polygons",
        Timing("jasyl gis.ndvi.zonal_figures (full)", ours_samples),
        Timing("exactextract 0.3 mean/min/max (C++)", reference_samples),
    )
    slower = 1 / ratio
    verdict = "met" if slower <= GOAL and agree else "NOT met"
    print(f"ours takes {slower:.2f}× exactextract's time, values agree within 1 %: {agree} "
          f"(goal ≤ {GOAL}×: {verdict})")  # fmt: skip


if __name__ == "__main__":
    main()
