"""Zonal NDVI against an independent reference: coverage worked out by hand, sums in plain NumPy.

The other NDVI tests compare with exactextract, which the code itself calls: they prove the
plumbing, not the statistics. Here the polygons are rectangles whose edges fall inside pixels
(each pixel's covered share is the product of its overlaps along x and along y) and a triangle
along the pixel diagonals (a pixel under it is whole or exactly half covered), so every weight
is known without any geometry library, and the figures follow from weighted sums in NumPy.
Agreement is to 1e-6: exactextract keeps its coverage fractions in single precision.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from rasterio.crs import CRS
from rasterio.transform import from_origin

from gis.ndvi import NdviImage, compute_ndvi, zonal_figures

PIXEL = 10.0
ROWS, COLS = 60, 80
WEST, NORTH = 500_000.0, 5_660_000.0  # UTM 42N, near Astana
THRESHOLD = 0.35


def synthetic_image() -> NdviImage:
    """Random red/NIR digital numbers (uint16), some nodata pixels and a nodata block."""
    rng = np.random.default_rng(23)
    red = rng.integers(200, 4000, (ROWS, COLS), dtype=np.uint16)
    nir = rng.integers(200, 6000, (ROWS, COLS), dtype=np.uint16)
    invalid = rng.random((ROWS, COLS)) < 0.05
    invalid[10:20, 50:70] = True  # a cloud mask
    values = compute_ndvi(red, nir, invalid)
    return NdviImage(values, from_origin(WEST, NORTH, PIXEL, PIXEL), CRS.from_epsg(32642), None)


def overlaps(low: float, high: float, edges: np.ndarray) -> np.ndarray:
    """Length of [low, high] inside each pixel [edges[i], edges[i+1]], in pixels (0…1)."""
    return np.clip(np.minimum(high, edges[1:]) - np.maximum(low, edges[:-1]), 0, None) / PIXEL


def rectangle_coverage(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """Each pixel's covered share of the axis-aligned rectangle, by hand: x overlap × y overlap."""
    columns = overlaps(x0, x1, WEST + PIXEL * np.arange(COLS + 1))
    row_tops = NORTH - PIXEL * np.arange(ROWS + 1)  # rows run southwards
    rows = np.clip(np.minimum(y1, row_tops[:-1]) - np.maximum(y0, row_tops[1:]), 0, None) / PIXEL
    return np.outer(rows, columns)


def triangle_coverage(col: int, row: int, legs: int) -> np.ndarray:
    """The right triangle with its right angle at pixel corner (col, row+legs) (south-west) and
    legs of ``legs`` pixels north and east: pixels below its diagonal whole, on it half."""
    coverage = np.zeros((ROWS, COLS))
    for i in range(legs):  # i: pixels north of the south leg
        for j in range(legs):  # j: pixels east of the west leg
            if i + j < legs - 1:
                coverage[row + legs - 1 - i, col + j] = 1.0
            elif i + j == legs - 1:
                coverage[row + legs - 1 - i, col + j] = 0.5
    return coverage


def triangle(col: int, row: int, legs: int) -> shapely.Polygon:
    x, y = WEST + col * PIXEL, NORTH - (row + legs) * PIXEL
    return shapely.Polygon([(x, y), (x + legs * PIXEL, y), (x, y + legs * PIXEL)])


def reference(values: np.ndarray, coverage: np.ndarray, area: float) -> dict[str, float]:
    """The figures by weighted sums: mean, min, max, vegetated share, pixels, covered share."""
    valid = ~np.isnan(values) & (coverage > 0)
    weights = np.where(valid, coverage, 0.0)
    data = np.where(valid, values, 0.0)
    return {
        "mean": float((weights * data).sum() / weights.sum()),
        "minimum": float(values[valid].min()),
        "maximum": float(values[valid].max()),
        "vegetated_share": float(weights[data > THRESHOLD].sum() / weights.sum()),
        "pixels": float(weights.sum()),
        "covered_share": float(weights.sum() * PIXEL * PIXEL / area),
    }


CASES = {
    # inside, edges a third and a quarter into pixels
    "inside": (WEST + 33.3, NORTH - 412.5, WEST + 257.7, NORTH - 101.25),
    # across the cloud mask: part of the area has no valid pixel
    "cloud": (WEST + 455.0, NORTH - 230.0, WEST + 640.0, NORTH - 85.0),
    # off the west and north edges: about two thirds outside the image
    "off_edge": (WEST - 120.0, NORTH - 92.0, WEST + 64.0, NORTH + 77.0),
    # smaller than one pixel, inside one
    "tiny": (WEST + 402.0, NORTH - 507.0, WEST + 406.5, NORTH - 503.0),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rectangles_match_hand_computed_coverage(case: str) -> None:
    image = synthetic_image()
    x0, y0, x1, y1 = CASES[case]
    polygon = shapely.box(x0, y0, x1, y1)
    found = zonal_figures(image, [polygon], THRESHOLD, crs=image.crs)[0]
    expected = reference(image.values, rectangle_coverage(x0, y0, x1, y1), polygon.area)
    for name, value in expected.items():
        assert getattr(found, name) == pytest.approx(value, rel=1e-6, abs=1e-9), name


def test_the_coverage_cases_are_what_they_claim() -> None:
    """The reference's own premises: shares under 1 where the test says part is missing."""
    image = synthetic_image()
    shares = {}
    for case, (x0, y0, x1, y1) in CASES.items():
        polygon = shapely.box(x0, y0, x1, y1)
        coverage = rectangle_coverage(x0, y0, x1, y1)
        shares[case] = reference(image.values, coverage, polygon.area)["covered_share"]
    assert shares["off_edge"] == pytest.approx(64 * 92 / (184 * 169) * 0.95, abs=0.05)
    assert (
        0.4 < shares["cloud"] < 0.9
        and shares["inside"] > 0.9
        and shares["tiny"] == pytest.approx(1)
    )


def test_triangle_on_pixel_diagonals_matches_half_covered_pixels() -> None:
    image = synthetic_image()
    polygon = triangle(col=5, row=25, legs=20)
    found = zonal_figures(image, [polygon], THRESHOLD, crs=image.crs)[0]
    expected = reference(image.values, triangle_coverage(5, 25, 20), polygon.area)
    for name, value in expected.items():
        assert getattr(found, name) == pytest.approx(value, rel=1e-6, abs=1e-9), name


def test_many_polygons_at_once_give_each_its_own_figures() -> None:
    """One exactextract pass over several polygons: no figure leaks from one to another."""
    image = synthetic_image()
    polygons = [shapely.box(*CASES[case]) for case in sorted(CASES)]
    polygons.append(triangle(col=5, row=25, legs=20))
    found = zonal_figures(image, polygons, THRESHOLD, crs=image.crs)
    coverages = [rectangle_coverage(*CASES[case]) for case in sorted(CASES)]
    coverages.append(triangle_coverage(5, 25, 20))
    for figures, coverage, polygon in zip(found, coverages, polygons, strict=True):
        expected = reference(image.values, coverage, polygon.area)
        assert figures.mean == pytest.approx(expected["mean"], rel=1e-6)
        assert figures.covered_share == pytest.approx(expected["covered_share"], rel=1e-6)
