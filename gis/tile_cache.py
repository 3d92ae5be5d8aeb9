"""Rendered vector tiles kept on disk under their data version, so they can never be stale.

A tile's file name is its ``gis.tiles.TileVersion`` key: the database that holds the data, the
queries that draw it and the version of the data inside the tile, which every write to that
area bumps in its own transaction. A changed area therefore asks for a name that is not on disk
yet; nothing has to be invalidated or expired. Each tile keeps only its newest file (writing one
removes the others), and the whole folder may be deleted at any time: it is rebuilt on demand.
Files are written under a temporary name and renamed, so concurrent workers never read half a
tile.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from gis.tiles import TileAddress, TileVersion
from registry.storage import write_atomically


@dataclass(frozen=True)
class TileCache:
    """A folder of rendered tiles: ``<layer>/<audience>/<z>/<x>/<y>/<key>.pbf``."""

    root: Path

    def path(self, version: TileVersion, tile: TileAddress, internal: bool) -> Path:
        audience = "staff" if internal else "public"
        folder = self.root / version.layer / audience / str(tile.z) / str(tile.x) / str(tile.y)
        return folder / f"{version.key}.pbf"

    def get(self, version: TileVersion, tile: TileAddress, internal: bool) -> bytes | None:
        """The tile's bytes at exactly this version, or ``None`` if not rendered yet."""
        try:
            return self.path(version, tile, internal).read_bytes()
        except OSError:
            return None

    def put(self, version: TileVersion, tile: TileAddress, internal: bool, body: bytes) -> None:
        """Keep ``body`` under its version and drop the tile's older files (best effort: a full
        or read-only disk only costs the next request a render)."""
        target = self.path(version, tile, internal)
        with suppress(OSError):
            write_atomically(target, body)
            for older in target.parent.glob("*.pbf"):
                if older != target:
                    older.unlink(missing_ok=True)
