"""Locations of a table's records (CSV, XLSX): X and Y columns, one "lat, lon" column, or WKT.

Spreadsheets carry their locations three ways: two number columns, one cell with both numbers
as a map application copies them ("51.1282, 71.4304"), or a geometry as WKT text
("POINT (71.43 51.12)", a polygon for a park). ``importers.detection`` decides which columns;
here each record's shape is built, and a cell that is not what its column promises is a row
problem naming the cell, never a silently empty location.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from importers.detection import PAIR, parse_wkt
from importers.fields import Column
from importers.report import Problem
from importers.rows import empty, whole
from registry.errors import InvalidValue
from registry.inventory import rules

LOCATION_HINT = (
    'no location columns: X and Y (or lon and lat), one "lat, lon" column or a WKT column; '
    'name them in a mapping file ([columns] x = "…" and y = "…", lat_lon = "…" or wkt = "…")'
)


def table_geometry(
    frame: pd.DataFrame, columns: dict[str, Column], file_name: str, first_row: int
) -> tuple[np.ndarray, list[Problem]] | None:
    """Each record's shape (``None`` where it has none) and the problems of its cells;
    ``None`` when the table has no location columns at all."""
    if "wkt" in columns:
        return _from_wkt(frame, columns["wkt"], file_name, first_row)
    for order in ("lat_lon", "lon_lat"):
        if order in columns:
            return _from_pairs(frame, columns[order], file_name, first_row)
    if "x" in columns and "y" in columns:
        problems: list[Problem] = []
        xs = _numbers(frame, columns["x"], file_name, first_row, problems)
        ys = _numbers(frame, columns["y"], file_name, first_row, problems)
        points = shapely.points(xs, ys)
        points[~(np.isfinite(xs) & np.isfinite(ys))] = None
        return points, problems
    return None


def _from_wkt(
    frame: pd.DataFrame, column: Column, file_name: str, first_row: int
) -> tuple[np.ndarray, list[Problem]]:
    cells = frame[column.source].to_numpy(dtype=object)
    shapes = np.empty(len(cells), dtype=object)
    shapes[:] = parse_wkt(cells)
    message = "is not a WKT geometry (such as POINT (71.43 51.12))"
    problems = [
        Problem(file_name, first_row + i, column.source, cells[i], "invalid_value", message)
        for i, shape in enumerate(shapes)
        if shape is None and not empty(cells[i])
    ]
    return shapes, problems


def _from_pairs(
    frame: pd.DataFrame, column: Column, file_name: str, first_row: int
) -> tuple[np.ndarray, list[Problem]]:
    cells = frame[column.source]
    parts = cells.astype("string").str.extract(PAIR)
    first, second = (pd.to_numeric(parts[i].str.replace(",", "."), errors="coerce") for i in (0, 1))
    ys, xs = (first, second) if column.field == "lat_lon" else (second, first)
    xs, ys = xs.to_numpy(dtype=float, na_value=np.nan), ys.to_numpy(dtype=float, na_value=np.nan)
    order = '"lat, lon"' if column.field == "lat_lon" else '"lon, lat"'
    message = f"is not a coordinate pair {order} (such as 51.1282, 71.4304)"
    problems = [
        Problem(file_name, first_row + i, column.source, cell, "invalid_value", message)
        for i, cell in enumerate(cells.to_numpy(dtype=object))
        if np.isnan(xs[i]) and not empty(cell)
    ]
    points = shapely.points(xs, ys)
    points[~(np.isfinite(xs) & np.isfinite(ys))] = None
    return points, problems


def _numbers(
    frame: pd.DataFrame,
    column: Column,
    file_name: str,
    first_row: int,
    problems: list[Problem],
) -> np.ndarray:
    values = frame[column.source].to_numpy(dtype=object)
    out = np.full(len(values), np.nan)
    for i, value in enumerate(values):
        try:
            number = rules.to_decimal(column.source, whole(value))
        except InvalidValue as exc:
            problems.append(
                Problem(file_name, first_row + i, column.source, value, "invalid_value", exc.reason)
            )
            continue
        if number is not None:
            out[i] = float(number)
    return out
