"""A batch's geometries read from GDAL's Arrow WKB column (``importers.sources.geometries``):
plain 2D points straight from the buffer, anything else as ``shapely.from_wkb`` reads it."""

from __future__ import annotations

import geopandas
import pyarrow as pa
import pyogrio
import pytest
import shapely

from importers.sources import geometries

POINTS = [shapely.Point(512345.25, 5667890.5), shapely.Point(-1.5, 0.0), shapely.Point(71.4, 51.1)]


def _column(shapes: list, byte_order: int = 1) -> pa.Array:
    return pa.array(
        [None if s is None else shapely.to_wkb(s, byte_order=byte_order) for s in shapes],
        type=pa.binary(),
    )


def _same(read, expected) -> bool:
    return all(
        (a is None and b is None) or (a is not None and shapely.equals_exact(a, b, 0))
        for a, b in zip(read, expected, strict=True)
    ) and [str(a) for a in read] == [str(b) for b in expected]


def test_points_are_read_as_from_wkb_reads_them_also_from_a_slice() -> None:
    column = _column(POINTS * 3)
    assert _same(geometries(column), POINTS * 3)
    assert _same(geometries(column.slice(2, 4)), (POINTS * 3)[2:6])


@pytest.mark.parametrize(
    "shapes, byte_order",
    [
        ([*POINTS, None], 1),  # a record without a location
        ([*POINTS, shapely.Point()], 1),  # POINT EMPTY
        ([*POINTS, shapely.Point(1, 2, 3)], 1),  # Z
        (POINTS, 0),  # big-endian
        ([*POINTS, shapely.LineString([(0, 0), (1, 1)])], 1),
    ],
    ids=["null", "empty", "z", "big-endian", "line"],
)
def test_anything_but_plain_points_is_read_by_from_wkb(shapes, byte_order) -> None:
    column = _column(shapes, byte_order)
    expected = shapely.from_wkb(column.to_numpy(zero_copy_only=False))
    assert _same(geometries(column), list(expected))


def test_a_shapefile_batch_reads_the_same_points(tmp_path) -> None:
    path = tmp_path / "points.shp"
    frame = geopandas.GeoDataFrame({"n": [1, 2, 3]}, geometry=POINTS, crs="EPSG:32642")
    pyogrio.write_dataframe(frame, path)
    with pyogrio.open_arrow(path, use_pyarrow=True) as (meta, reader):
        batch = next(iter(reader))
    assert _same(geometries(batch.column("wkb_geometry")), POINTS)
