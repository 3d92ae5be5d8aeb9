"""Opening a survey file of any supported kind and reading it in batches.

Shapefiles (also inside a ``.zip``), GeoPackages and GeoJSON are streamed with pyogrio's Arrow
reader, text decoded in the encoding ``importers.encoding`` chose; CSV and XLSX files are read
whole (they are small by nature) and their points built later from coordinate columns.
Every problem with the file itself is a ``SourceError`` naming the file and what is wrong.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely

from importers.bounds import archive_problem
from importers.encoding import Decision, shapefile_encoding, text_encoding
from registry.config import load_limits
from registry.errors import JasylError

VECTOR_SUFFIXES = {".shp", ".gpkg", ".geojson", ".json"}
TABLE_SUFFIXES = {".csv", ".txt", ".xlsx"}
BATCH_SIZE = 50_000
ENCODING_SAMPLE = 2_000_000  # bytes of a text file read to decide its encoding


class SourceError(JasylError, ValueError):
    code = "file"


@dataclass
class Batch:
    """Consecutive records: attributes, geometries (``None`` for tables), first row number."""

    frame: pd.DataFrame
    geometry: np.ndarray | None
    first_row: int


@dataclass
class Source:
    """An opened survey: what the importer needs to know before reading the records."""

    file_name: str
    path: Path
    kind: str
    encoding: Decision
    crs: str | None
    columns: list[str]
    total: int
    layer: str | None = None
    table: pd.DataFrame | None = field(default=None, repr=False)
    geometry_type: str | None = None  # GDAL's name for a vector layer's, e.g. "Polygon"
    # Columns the mapping joins into one field: "Genus + Species" → ("Genus", "Species").
    joined: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def batches(self, size: int | None = None) -> Iterator[Batch]:
        size = size or BATCH_SIZE  # read when called, so a test can make chunks small
        if self.table is not None:
            for start in range(0, len(self.table), size):
                frame = self._join(self.table.iloc[start : start + size])
                yield Batch(frame, None, start + 1)
            return
        for batch in self._vector_batches(size):
            batch.frame = self._join(batch.frame)
            yield batch

    def sample(self, rows: int = 1000) -> pd.DataFrame:
        """The attributes of the first records: what column detection looks at besides names."""
        if self.table is not None:
            return self.table.head(rows)
        try:
            return pyogrio.read_dataframe(
                self.path,
                layer=self.layer,
                max_features=rows,
                read_geometry=False,
                encoding=self._gdal_encoding(),
            )
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            raise SourceError(
                f"{self.file_name}: cannot read the records ({_first(exc)})"
            ) from None

    def shapes(self, columns: list[str], wkt: str | None = None) -> pd.DataFrame | None:
        """Each record's kind of shape (point, line, polygon) and ``columns``, for a layer that
        may mix them: one declaring no geometry type ("Unknown"), or a table with a WKT column.
        ``None`` for a layer of one type."""
        if self.table is not None:
            if wkt is None:
                return None
            from importers.detection import parse_wkt

            frame = self.table[columns].copy()
            geometry = np.array(parse_wkt(self.table[wkt].tolist()), dtype=object)
        elif self.geometry_type in (None, "Unknown", "Geometry"):
            try:
                read = pyogrio.read_dataframe(
                    self.path, layer=self.layer, columns=columns, encoding=self._gdal_encoding()
                )
            except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
                message = f"{self.file_name}: cannot read the records ({_first(exc)})"
                raise SourceError(message) from None
            frame, geometry = pd.DataFrame(read[columns]), read.geometry.to_numpy()
        else:
            return None
        frame["kind"] = [_KINDS.get(k, "none") for k in shapely.get_type_id(geometry)]
        return frame

    def _join(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Add the joined columns: the parts' texts, empty ones left out, one space between."""
        if not self.joined:
            return frame
        frame = frame.copy()
        for name, parts in self.joined.items():
            joined = frame[parts[0]].map(_text)
            for part in parts[1:]:
                joined = joined.str.cat(frame[part].map(_text), sep=" ")
            joined = joined.str.replace(r"\s+", " ", regex=True).str.strip()
            frame[name] = joined.where(joined != "", None)
        return frame

    def _vector_batches(self, size: int) -> Iterator[Batch]:
        options = {"layer": self.layer, "batch_size": size, "encoding": self._gdal_encoding()}
        options["use_pyarrow"] = True
        first = 1
        try:
            with pyogrio.open_arrow(self.path, **options) as (meta, reader):
                geometry_name = _geometry_column(reader.schema, meta["geometry_name"])
                for record_batch in reader:
                    wkb = record_batch.column(geometry_name)
                    frame = record_batch.drop_columns([geometry_name]).to_pandas()
                    yield Batch(frame, geometries(wkb), first)
                    first += len(frame)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            raise SourceError(
                f"{self.file_name}: cannot read the records ({_first(exc)})"
            ) from None

    def _gdal_encoding(self) -> str | None:
        return self.encoding.gdal_name if self.kind == "shapefile" else None


# A 2D point's WKB, little-endian: what nearly every record of a point survey is.
_POINT_WKB = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])


def geometries(wkb: pa.Array) -> np.ndarray:
    """A batch's geometries from GDAL's WKB column. When every one is a plain 2D point, the
    coordinates are read straight from the Arrow buffer and the points built at once
    (``shapely.points``): ``from_wkb`` parsed them one by one, ~3.5 s of a million-row
    import's reading. Anything else (NULLs, other shapes, Z, NaN, big-endian) goes through
    ``from_wkb`` as before."""
    points = _plain_points(wkb)
    if points is not None:
        return points
    return shapely.from_wkb(wkb.to_numpy(zero_copy_only=False), on_invalid="warn")


def _plain_points(wkb: pa.Array) -> np.ndarray | None:
    if len(wkb) == 0 or wkb.null_count or not pa.types.is_binary(wkb.type):
        return None
    _, offsets, data = wkb.buffers()
    ends = np.frombuffer(offsets, dtype=np.int32)[wkb.offset : wkb.offset + len(wkb) + 1]
    if not (np.diff(ends) == _POINT_WKB.itemsize).all():
        return None
    raw = np.frombuffer(data, dtype=np.uint8)[ends[0] : ends[-1]].view(_POINT_WKB)
    if (raw["order"] != 1).any() or (raw["type"] != 1).any():
        return None
    x, y = raw["x"], raw["y"]
    if np.isnan(x).any() or np.isnan(y).any():  # POINT EMPTY, which from_wkb knows
        return None
    return shapely.points(x, y)


_KINDS = {0: "point", 4: "point", 1: "line", 5: "line", 3: "polygon", 6: "polygon"}


def _text(value: object) -> str:
    if value is None or isinstance(value, float) and value != value:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _geometry_column(schema, named: str) -> str:
    """GDAL names the WKB column after the layer's geometry, or ``wkb_geometry`` when unnamed."""
    for item in schema:
        if (item.metadata or {}).get(b"ARROW:extension:name") == b"geoarrow.wkb":
            return item.name
    return named or "wkb_geometry"


def open_source(
    path: Path, stack: ExitStack, *, layer: str | None = None, encoding: str | None = None
) -> Source:
    """Open ``path`` (unpacking a ``.zip`` into a folder ``stack`` removes afterwards)."""
    if not path.exists():
        raise SourceError(f"{path.name}: no such file")
    if path.is_file() and path.stat().st_size == 0:
        raise SourceError(f"{path.name}: the file is empty (0 bytes)")
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return open_source(_unzip(path, stack), stack, layer=layer, encoding=encoding)
    if suffix in TABLE_SUFFIXES:
        return _open_table(path, layer, encoding)
    if suffix in VECTOR_SUFFIXES:
        return _open_vector(path, layer, encoding)
    known = ", ".join(sorted(VECTOR_SUFFIXES | TABLE_SUFFIXES | {".zip"}))
    raise SourceError(f"{path.name}: unsupported file type {suffix or '(none)'}; use {known}")


def _unzip(path: Path, stack: ExitStack) -> Path:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise SourceError(f"{path.name}: not a readable ZIP archive") from None
    with archive:
        if problem := archive_problem(archive, load_limits()):  # from its directory alone
            raise SourceError(f"{path.name}: {problem}; nothing was unpacked")
        members = [m for m in archive.namelist() if not m.startswith("__MACOSX/")]
        surveys = [m for m in members if Path(m).suffix.lower() in VECTOR_SUFFIXES | TABLE_SUFFIXES]
        if not surveys:
            raise SourceError(
                f"{path.name}: the ZIP holds no shapefile, GeoPackage, GeoJSON or CSV"
            )
        if len(surveys) > 1:
            listed = ", ".join(sorted(surveys))
            raise SourceError(
                f"{path.name}: the ZIP holds {len(surveys)} surveys ({listed}); "
                "import them one at a time"
            )
        folder = Path(stack.enter_context(TemporaryDirectory(prefix="jasyl-import-")))
        try:
            archive.extractall(folder, [m for m in members if not m.endswith("/")])
        except (zipfile.BadZipFile, EOFError) as exc:  # a member whose data is not as declared
            raise SourceError(f"{path.name}: a damaged ZIP archive ({exc})") from None
    return folder / surveys[0]


def _open_vector(path: Path, layer: str | None, encoding: str | None) -> Source:
    kind = {".shp": "shapefile", ".gpkg": "geopackage"}.get(path.suffix.lower(), "geojson")
    if kind == "shapefile":
        if not path.with_suffix(".shx").exists() and not path.with_suffix(".SHX").exists():
            raise SourceError(f"{path.name}: the .shx index file is missing next to the .shp")
        _check_complete(path)
        decision = shapefile_encoding(path, encoding)
    else:
        decision = Decision("utf-8", f"{kind} (always UTF-8)")
        layer = _choose_layer(path, layer)
    try:
        info = pyogrio.read_info(
            path, layer=layer, encoding=decision.gdal_name if kind == "shapefile" else None
        )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise SourceError(f"{path.name}: cannot be read as a {kind} ({_first(exc)})") from None
    except UnicodeDecodeError:
        raise SourceError(
            f"{path.name}: a column name does not read as {decision.codec} (a UTF-8 name cut at "
            "10 bytes splits a letter); rename the columns or pass --encoding"
        ) from None
    return Source(
        file_name=path.name,
        path=path,
        kind=kind,
        encoding=decision,
        crs=info["crs"],
        columns=[str(c) for c in info["fields"]],
        total=int(info["features"]),
        layer=layer,
        geometry_type=info.get("geometry_type"),
    )


def _check_complete(shp: Path) -> None:
    """A ``.shp`` cut short (an interrupted copy) loses geometries silently in GDAL: refuse it."""
    shx = shp.with_suffix(".shx") if shp.with_suffix(".shx").exists() else shp.with_suffix(".SHX")
    index = shx.read_bytes()
    records = (len(index) - 100) // 8
    if records <= 0:
        return
    offset, length = struct.unpack(">ii", index[-8:])
    needed = (offset + 4 + length) * 2
    size = shp.stat().st_size
    if size < needed:
        whole = sum(
            1
            for i in range(records)
            if sum(struct.unpack(">ii", index[100 + 8 * i : 108 + 8 * i])) * 2 + 8 <= size
        )
        raise SourceError(
            f"{shp.name}: the file is truncated ({size:,} of {needed:,} bytes; "
            f"{whole} of {records} shapes complete)"
        )


def _choose_layer(path: Path, layer: str | None) -> str | None:
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as exc:
        raise SourceError(f"{path.name}: cannot be opened ({_first(exc)})") from None
    if layer is not None:
        if layer not in layers:
            raise SourceError(f"{path.name}: no layer {layer!r}; layers: {', '.join(layers)}")
        return layer
    if len(layers) > 1:
        raise SourceError(
            f"{path.name}: holds {len(layers)} layers ({', '.join(layers)}); "
            "choose one with --layer"
        )
    return layers[0] if layers else None


def _open_table(path: Path, sheet: str | None, encoding: str | None) -> Source:
    if path.suffix.lower() == ".xlsx":
        frame, decision = _read_xlsx(path, sheet), Decision("utf-8", "xlsx (Unicode)")
    else:
        raw = path.read_bytes()
        decision = text_encoding(_sample(raw), encoding, path.name)
        frame = _read_csv(_decode(raw, decision, path.name), path.name)
    kind = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    return Source(
        file_name=path.name,
        path=path,
        kind=kind,
        encoding=decision,
        crs=None,
        columns=list(frame.columns),
        total=len(frame),
        layer=sheet,
        table=frame,
    )


def _sample(raw: bytes) -> bytes:
    """The first 2 MB of a text file, cut at the end of a line: a cut in the middle of a
    two-byte letter made valid UTF-8 look like no encoding at all."""
    if len(raw) <= ENCODING_SAMPLE:
        return raw
    end = raw.rfind(b"\n", 0, ENCODING_SAMPLE)
    if end > 0:
        return raw[: end + 1]
    cut = raw[:ENCODING_SAMPLE]  # one very long line: drop a partial UTF-8 letter at the end
    for back in range(1, 4):
        if cut[-back] & 0xC0 == 0xC0:  # the lead byte of a letter: is it whole?
            needed = 2 if cut[-back] < 0xE0 else 3 if cut[-back] < 0xF0 else 4
            return cut[:-back] if needed > back else cut
        if cut[-back] & 0xC0 != 0x80:
            break
    return cut


def _decode(raw: bytes, decision: Decision, file_name: str) -> str:
    """The whole file in the chosen encoding; where it does not read, say where (line, byte)."""
    try:
        return raw.decode(decision.codec, errors="strict")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SourceError(
            f"{file_name}: line {line:,} (byte {exc.start:,}) does not read as "
            f"{decision.codec}, the encoding {decision.source} from the start of the file; "
            "pass --encoding (cp1251, cp866, kz1048 or utf-8)"
        ) from None


def _read_csv(text: str, file_name: str) -> pd.DataFrame:
    sample = text[:20_000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise SourceError(f"{file_name}: the table has no records under its header")
    header = [h.strip() for h in rows[0]]
    width = len(header)
    for number, row in enumerate(rows[1:], start=1):
        if len(row) != width:
            raise SourceError(
                f"{file_name}: record {number} has {len(row)} cells, the header has {width} "
                f"(delimiter {delimiter!r})"
            )
    return pd.DataFrame(rows[1:], columns=header, dtype=object).replace({"": None})


def _read_xlsx(path: Path, sheet: str | None) -> pd.DataFrame:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise SourceError(f"{path.name}: not a readable XLSX workbook ({_first(exc)})") from None
    if sheet is not None and sheet not in book.sheetnames:
        raise SourceError(f"{path.name}: no sheet {sheet!r}; sheets: {', '.join(book.sheetnames)}")
    rows = [r for r in book[sheet or book.sheetnames[0]].iter_rows(values_only=True) if any(r)]
    book.close()
    if len(rows) < 2:
        raise SourceError(f"{path.name}: the sheet has no records under its header")
    header = [str(h).strip() if h is not None else f"column {i + 1}" for i, h in enumerate(rows[0])]
    return pd.DataFrame([list(r) for r in rows[1:]], columns=header, dtype=object)


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
