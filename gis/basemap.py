"""Tiles of a self-hosted basemap, read from an MBTiles (SQLite) or a PMTiles file.

The archive is opened read-only for each request: opening costs well under a millisecond, no
handle is shared between threads, and an archive replaced on disk is read afresh. MBTiles rows
count ``tile_row`` from the south (TMS); the web map counts ``y`` from the north (XYZ).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pmtiles.reader import MmapSource, Reader
from pmtiles.tile import MagicNumberNotFound, TileType

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
        if path.suffix.lower() == ".pmtiles":
            with path.open("rb") as f:
                tile_type = Reader(MmapSource(f)).header()["tile_type"]
            return PMTILES_FORMATS.get(tile_type, "png")
        with _mbtiles(path) as db:
            db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 1")
            row = db.execute("SELECT value FROM metadata WHERE name = 'format'").fetchone()
    except (OSError, ValueError, sqlite3.DatabaseError, MagicNumberNotFound) as exc:
        raise BadArchive(f"{path} is not a readable {path.suffix[1:]} file: {exc}") from None
    return (row[0] if row else "png").lower()


def read_tile(path: Path, z: int, x: int, y: int) -> bytes | None:
    """The tile at z/x/y (XYZ), or None when the archive holds none there."""
    check_tile(z, x, y)
    if path.suffix.lower() == ".pmtiles":
        with path.open("rb") as f:
            data = Reader(MmapSource(f)).get(z, x, y)
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
