"""Writing rows to GIS and office files: GeoPackage, shapefile, GeoJSON, CSV, XLSX.

Rows come in batches (``{"fid": id, <property>: value, ..., "wkb": bytes}``) and each batch is
written before the next is read, so an export of millions of plants holds one batch in memory.
Shapefiles get a ``.cpg`` (UTF-8: Kazakh letters are not in CP1251), field names cut to the DBF's
10 characters by one fixed rule, and a ``.fields.csv`` sidecar mapping each short name back.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from openpyxl import Workbook

FORMATS = ("gpkg", "shp", "geojson", "csv", "xlsx")
DBF_NAME_LENGTH = 10
PANDAS_TYPES = {"integer": "Int64", "number": "float64", "boolean": "boolean"}
SHAPE_FAMILIES = {
    "Point": "points",
    "MultiPoint": "points",
    "LineString": "lines",
    "MultiLineString": "lines",
    "Polygon": "polygons",
    "MultiPolygon": "polygons",
}


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # string | integer | number | boolean | date-time


def shorten_names(names: Iterable[str], length: int = DBF_NAME_LENGTH) -> dict[str, str]:
    """Full name → DBF name: the first ``length`` characters; on a clash, a numbered stem.

    The same list of names always gives the same short names, so files made on different days
    line up, and the sidecar says what each short name stands for.
    """
    short: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        candidate = name[:length]
        number = 1
        while candidate.lower() in taken:
            suffix = f"_{number}"
            candidate = name[: length - len(suffix)] + suffix
            number += 1
        short[name] = candidate
        taken.add(candidate.lower())
    return short


def _plain(value: Any) -> Any:
    """Values as files hold them: date-times as ISO text."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def _frame(rows: list[dict[str, Any]], fields: list[Field]) -> gpd.GeoDataFrame:
    columns = {"id": pd.array([r["fid"] for r in rows], dtype="Int64")}
    for f in fields:
        values = [_plain(r[f.name]) for r in rows]
        columns[f.name] = pd.array(values, dtype=PANDAS_TYPES.get(f.type, "object"))
    geometry = shapely.from_wkb(np.array([bytes(r["wkb"]) for r in rows], dtype=object))
    return gpd.GeoDataFrame(columns, geometry=geometry, crs="EPSG:4326")


class OgrWriter:
    """GeoPackage (one layer, any geometry) or shapefiles (one file per geometry family)."""

    def __init__(self, path: Path, layer: str, fields: list[Field], driver: str) -> None:
        self.path, self.layer, self.fields, self.driver = path, layer, fields, driver
        self.written: dict[Path, bool] = {}
        self.names = shorten_names(["id", *(f.name for f in fields)])

    def write(self, rows: list[dict[str, Any]]) -> None:
        frame = _frame(rows, self.fields)
        if self.driver == "GPKG":
            self._append(self.path, frame, "Unknown")
            return
        frame = frame.rename(columns=self.names)
        families = frame.geometry.geom_type.map(SHAPE_FAMILIES)
        for family, part in frame.groupby(families, sort=False):
            self._append(self._shapefile_for(family), part, None)

    def _shapefile_for(self, family: str) -> Path:
        if not hasattr(self, "families"):
            self.families: dict[str, Path] = {}
        if family not in self.families:
            first = not self.families
            stem = self.path.stem if first else f"{self.path.stem}_{family}"
            self.families[family] = self.path.with_name(f"{stem}.shp")
        return self.families[family]

    def _append(self, target: Path, frame: gpd.GeoDataFrame, geometry_type: str | None) -> None:
        options: dict[str, Any] = {"layer": self.layer} if self.driver == "GPKG" else {}
        if self.driver == "ESRI Shapefile":
            options["encoding"] = "UTF-8"
            frame = frame.set_geometry(frame.geometry.apply(_multi_if_polygon))
        if geometry_type:
            options["geometry_type"] = geometry_type
        pyogrio.write_dataframe(
            frame, target, driver=self.driver, append=target in self.written, **options
        )
        self.written[target] = True

    def close(self) -> list[Path]:
        files = list(self.written) or [self.path]
        if not self.written:  # an empty export is still a valid, empty file
            empty = _frame([], self.fields)
            if self.driver == "ESRI Shapefile":
                empty = empty.rename(columns=self.names)
            self._append(self.path, empty, "Unknown" if self.driver == "GPKG" else "Point")
        if self.driver == "ESRI Shapefile":
            sidecar = self.path.with_suffix(".fields.csv")
            with sidecar.open("w", encoding="utf-8", newline="") as out:
                table = csv.writer(out)
                table.writerow(["short_name", "full_name", "type"])
                types = {"id": "integer", **{f.name: f.type for f in self.fields}}
                for full, short in self.names.items():
                    table.writerow([short, full, types[full]])
            files.append(sidecar)
        return files


def _multi_if_polygon(geometry: Any) -> Any:
    """A shapefile layer holds one type: polygons are written as multipolygons throughout."""
    if geometry is not None and geometry.geom_type == "Polygon":
        return shapely.MultiPolygon([geometry])
    if geometry is not None and geometry.geom_type == "LineString":
        return shapely.MultiLineString([geometry])
    return geometry


class GeoJsonText:
    """A GeoJSON FeatureCollection written feature by feature to any text stream."""

    def __init__(self, out: TextIO, layer: str, fields: list[Field]) -> None:
        self.out, self.fields = out, fields
        self.out.write(
            f'{{"type": "FeatureCollection", "name": {json.dumps(layer)}, "features": [\n'
        )
        self.first = True

    def write(self, rows: list[dict[str, Any]]) -> None:
        geometries = shapely.to_geojson(shapely.from_wkb([r["wkb"] for r in rows]))
        for row, geometry in zip(rows, geometries, strict=True):
            properties = {f.name: _plain(row[f.name]) for f in self.fields}
            text = json.dumps({"type": "Feature", "id": row["fid"], "properties": properties},
                              ensure_ascii=False)  # fmt: skip
            self.out.write(
                ("" if self.first else ",\n") + text[:-1] + f', "geometry": {geometry}}}'
            )
            self.first = False

    def finish(self) -> None:
        self.out.write("\n]}\n")


def _table_header(fields: list[Field]) -> list[str]:
    return ["id", *(f.name for f in fields), "lon", "lat", "wkt"]


def _table_rows(rows: list[dict[str, Any]], fields: list[Field]) -> Iterator[list[Any]]:
    """One list of cells a row: the geometry as WKT, points also as ``lon``/``lat``, which the
    importer (and Excel users) read directly."""
    shapes = shapely.from_wkb([bytes(r["wkb"]) for r in rows])
    wkts = shapely.to_wkt(shapes, rounding_precision=-1)
    points = shapely.get_type_id(shapes) == 0
    xs = np.where(points, shapely.get_x(shapes), np.nan)
    ys = np.where(points, shapely.get_y(shapes), np.nan)
    for row, x, y, wkt in zip(rows, xs, ys, wkts, strict=True):
        where = [None, None] if np.isnan(x) else [float(x), float(y)]
        yield [row["fid"], *(_plain(row[f.name]) for f in fields), *where, wkt]


class CsvText:
    """CSV rows written to any text stream (the BOM, for Excel, is the stream's business)."""

    def __init__(self, out: TextIO, layer: str, fields: list[Field]) -> None:
        self.fields = fields
        self.table = csv.writer(out)
        self.table.writerow(_table_header(fields))

    def write(self, rows: list[dict[str, Any]]) -> None:
        for values in _table_rows(rows, self.fields):
            self.table.writerow(["" if v is None else v for v in values])

    def finish(self) -> None:
        """Nothing trails the last row."""


TEXT_FORMATS: dict[str, type[GeoJsonText] | type[CsvText]] = {
    "geojson": GeoJsonText,
    "csv": CsvText,
}
BOM = "\ufeff"  # CSV starts with one, so Excel reads Cyrillic as UTF-8


class TextFileWriter:
    """GeoJSON or CSV (UTF-8; CSV with a BOM) into a file."""

    def __init__(self, path: Path, fmt: str, layer: str, fields: list[Field]) -> None:
        self.path = path
        self.out = path.open("w", encoding="utf-8", newline="")
        if fmt == "csv":
            self.out.write(BOM)
        self.text = TEXT_FORMATS[fmt](self.out, layer, fields)

    def write(self, rows: list[dict[str, Any]]) -> None:
        self.text.write(rows)

    def close(self) -> list[Path]:
        self.text.finish()
        self.out.close()
        return [self.path]


class XlsxWriter:
    """XLSX in openpyxl's write-only mode: rows go to a temporary file as they come."""

    def __init__(self, path: Path, layer: str, fields: list[Field]) -> None:
        self.path, self.fields = path, fields
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(layer[:31])
        self.sheet.append(_table_header(fields))

    def write(self, rows: list[dict[str, Any]]) -> None:
        for values in _table_rows(rows, self.fields):
            self.sheet.append(values)

    def close(self) -> list[Path]:
        self.book.save(self.path)
        return [self.path]


def open_writer(path: Path, fmt: str, layer: str, fields: list[Field]) -> Any:
    if fmt == "gpkg":
        return OgrWriter(path, layer, fields, "GPKG")
    if fmt == "shp":
        return OgrWriter(path, layer, fields, "ESRI Shapefile")
    if fmt in TEXT_FORMATS:
        return TextFileWriter(path, fmt, layer, fields)
    if fmt == "xlsx":
        return XlsxWriter(path, layer, fields)
    raise ValueError(f"unknown export format {fmt!r}; formats: {', '.join(FORMATS)}")


def stream_batches(
    fmt: str, layer: str, fields: list[Field], batches: Iterable[list[dict[str, Any]]]
) -> Iterator[bytes]:
    """GeoJSON or CSV as UTF-8 chunks, one a batch: a download starts with the first batch read
    and holds one batch in memory, however big the layer."""
    buffer = io.StringIO()
    if fmt == "csv":
        buffer.write(BOM)
    text = TEXT_FORMATS[fmt](buffer, layer, fields)
    yield _drain(buffer)  # the head goes out before the first row is read
    for rows in batches:
        text.write(rows)
        yield _drain(buffer)
    text.finish()
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    chunk = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return chunk


def write_batches(
    path: Path,
    fmt: str,
    layer: str,
    fields: list[Field],
    batches: Iterable[list[dict[str, Any]]],
    advance: Callable[[int], None] = lambda n: None,
) -> list[Path]:
    """Write every batch to ``path`` in ``fmt``; returns the files made (shapefile siblings too)."""
    writer = open_writer(path, fmt, layer, fields)
    for rows in batches:
        writer.write(rows)
        advance(len(rows))
    return writer.close()
