"""Tiles of a self-hosted basemap, read from an MBTiles (SQLite) or a PMTiles file.

An MBTiles archive is opened read-only for each request: opening costs well under a millisecond
and no SQLite handle is shared between threads. A PMTiles archive is kept open, one reader per
file and process (``open_pmtiles``): its header and directories are read once, not for every tile
(reopening it cost 328 tiles/s against MBTiles' 720, ``python -m bench.tiles``); the reader is
keyed by the file's path, size and modification time, so an archive replaced on disk is read
afresh. MBTiles rows count ``tile_row`` from the south (TMS); the web map counts ``y`` from the
north (XYZ).
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pmtiles.tile import (
    MagicNumberNotFound,
    TileType,
    deserialize_directory,
    deserialize_header,
    find_tile,
    zxy_to_tileid,
)

MAX_ZOOM = 30
MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "avif": "image/avif",
    "pbf": "application/x-protobuf",  # Mapbox Vector Tiles, drawn by the page
}
GZIP_MAGIC = b"\x1f\x8b"  # vector tiles are usually stored gzipped, in MBTiles and PMTiles
PMTILES_FORMATS = {
    TileType.PNG: "png",
    TileType.JPEG: "jpg",
    TileType.WEBP: "webp",
    TileType.AVIF: "avif",
    TileType.MVT: "pbf",
}
DIRECTORY_DEPTH = 4  # PMTiles v3: a root directory and at most three levels of leaves


class NotATile(ValueError):
    """z/x/y outside the tile pyramid: no archive could ever hold it."""


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse what is not a tile address, naming the number that is wrong and its range."""
    if not 0 <= z <= MAX_ZOOM:
        raise NotATile(f"zoom {z} is outside 0–{MAX_ZOOM}")
    side = 1 << z
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value < side:
            raise NotATile(f"{name} {value} is outside 0–{side - 1} at zoom {z}")


class BadArchive(ValueError):
    """A file that is no MBTiles or PMTiles archive this module can read."""


def archive_format(path: Path) -> str:
    """The tiles' format as the archive declares it (``png``, ``jpg``, …; png if it is silent),
    read once at start-up, so a file that is no archive is refused then, not at each tile."""
    try:
        if is_pmtiles(path):
            return PMTILES_FORMATS.get(open_pmtiles(path).header["tile_type"], "png")
        with _mbtiles(path) as db:
            db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 1")
            row = db.execute("SELECT value FROM metadata WHERE name = 'format'").fetchone()
    except (OSError, ValueError, sqlite3.DatabaseError, MagicNumberNotFound) as exc:
        raise BadArchive(f"{path} is not a readable {path.suffix[1:]} file: {exc}") from None
    return (row[0] if row else "png").lower()


def is_pmtiles(path: Path) -> bool:
    return path.suffix.lower() == ".pmtiles"


def read_tile(path: Path, z: int, x: int, y: int) -> bytes | None:
    """The tile at z/x/y (XYZ), or None when the archive holds none there."""
    check_tile(z, x, y)
    if is_pmtiles(path):
        data = open_pmtiles(path).tile(z, x, y)
    else:
        with _mbtiles(path) as db:
            row = db.execute(
                "SELECT tile_data FROM tiles"
                " WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, (1 << z) - 1 - y),
            ).fetchone()
        data = row[0] if row else None
    return bytes(data) if data else None


class _mbtiles:
    """A read-only SQLite connection, closed on leaving (sqlite3's own ``with`` only commits)."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


# -- PMTiles, kept open --------------------------------------------------------------------------
class OpenPmtiles:
    """A PMTiles file kept open with its header read and its directories remembered.

    Reads are ``os.pread`` at an offset (no shared file position) and the directory cache is
    ``lru_cache`` (which guards itself), so one instance serves every thread of a worker. Not an
    ``mmap``: a file overwritten in place while mapped would kill the worker (SIGBUS) instead of
    answering a short read."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.header = deserialize_header(self.read(0, 127))
        self.directory = lru_cache(maxsize=4096)(self._directory)

    def __del__(self) -> None:
        if getattr(self, "fd", None) is not None:  # None: the file could not be opened
            os.close(self.fd)

    def read(self, offset: int, length: int) -> bytes:
        return os.pread(self.fd, length, offset)

    def _directory(self, offset: int, length: int) -> list:
        return deserialize_directory(self.read(offset, length))

    def entry(self, z: int, x: int, y: int):
        """The directory entry of the tile at z/x/y (its offset and length), or None."""
        tile_id = zxy_to_tileid(z, x, y)
        offset, length = self.header["root_offset"], self.header["root_length"]
        for _ in range(DIRECTORY_DEPTH):
            found = find_tile(self.directory(offset, length), tile_id)
            if found is None:
                return None
            if found.run_length > 0:
                return found
            offset, length = self.header["leaf_directory_offset"] + found.offset, found.length
        return None

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        found = self.entry(z, x, y)
        if found is None:
            return None
        return self.read(self.header["tile_data_offset"] + found.offset, found.length)


_OPEN: dict[Path, tuple[tuple[int, int], OpenPmtiles]] = {}
_OPENING = threading.Lock()


def open_pmtiles(path: Path) -> OpenPmtiles:
    """This process's reader of ``path``, opened again only when the file was replaced (its
    size or modification time changed)."""
    stat = path.stat()
    stamp = (stat.st_size, stat.st_mtime_ns)
    kept = _OPEN.get(path)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    with _OPENING:
        kept = _OPEN.get(path)
        if kept is None or kept[0] != stamp:
            kept = (stamp, OpenPmtiles(path))
            _OPEN[path] = kept
    return kept[1]


# -- the tiles over an area ----------------------------------------------------------------------
@dataclass(frozen=True)
class TileRange:
    """The tiles of one zoom covering a box: columns ``x0``–``x1``, rows ``y0``–``y1`` (XYZ)."""

    z: int
    x0: int
    x1: int
    y0: int
    y1: int

    @property
    def count(self) -> int:
        return (self.x1 - self.x0 + 1) * (self.y1 - self.y0 + 1)

    def tiles(self) -> Iterable[tuple[int, int, int]]:
        for x in range(self.x0, self.x1 + 1):
            for y in range(self.y0, self.y1 + 1):
                yield self.z, x, y


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The web map's tile (XYZ) holding a point at zoom ``z``."""
    side = 1 << z
    lat = max(min(lat, 85.0511), -85.0511)
    x = int((lon + 180.0) / 360.0 * side)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * side)
    return min(max(x, 0), side - 1), min(max(y, 0), side - 1)


def tile_ranges(bbox: tuple[float, float, float, float], zooms: Iterable[int]) -> list[TileRange]:
    """The tiles covering ``bbox`` (west, south, east, north in degrees) at each zoom."""
    west, south, east, north = bbox
    ranges = []
    for z in zooms:
        x0, y0 = tile_xy(west, north, z)
        x1, y1 = tile_xy(east, south, z)
        ranges.append(TileRange(z, x0, x1, y0, y1))
    return ranges


def tiles_held(path: Path, ranges: list[TileRange]) -> tuple[int, int]:
    """How many of the tiles in ``ranges`` the archive holds, and their bytes, measured: an
    MBTiles file sums its rows, a PMTiles file its directory entries (no tile is read)."""
    if is_pmtiles(path):
        archive = open_pmtiles(path)
        found = [archive.entry(*t) for r in ranges for t in r.tiles()]
        return sum(1 for e in found if e), sum(e.length for e in found if e)
    count = size = 0
    with _mbtiles(path) as db:
        for r in ranges:
            side = 1 << r.z
            n, total = db.execute(
                "SELECT count(*), coalesce(sum(length(tile_data)), 0) FROM tiles"
                " WHERE zoom_level = ? AND tile_column BETWEEN ? AND ?"
                " AND tile_row BETWEEN ? AND ?",
                (r.z, r.x0, r.x1, side - 1 - r.y1, side - 1 - r.y0),
            ).fetchone()
            count, size = count + n, size + total
    return count, size
