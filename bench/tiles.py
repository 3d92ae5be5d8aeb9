"""Tile rendering: our stored-3857 + GiST query against pg_tileserv's shape (the baseline).

The baseline uses the 4326 index with the tile envelope transformed, and transforms each
geometry per request, as pg_tileserv's docs recommend. Runs on the configured database with
the demo data (``make bench`` loads it). For each zoom it renders the same tiles around the
demo cities both ways and prints the medians and the ratio.
"""

from __future__ import annotations

import math

from sqlalchemy import text

from bench.harness import measure, report
from gis.tiles import TileAddress, render_tile
from registry.db import current_engine

CITIES = [(71.4304, 51.1282), (76.9286, 43.2389)]
BASELINE_RAW = text(
    """
    SELECT ST_AsMVT(tile, 'plants', 4096, 'geom', 'id') FROM (
        SELECT p.id, ST_AsMVTGeom(ST_Transform(p.geom, 3857), ST_TileEnvelope(:z, :x, :y),
                                  4096, 64, true) AS geom,
               p.condition, p.status::text AS status, p.species_id, p.planting_year,
               p.hazardous, p.planting_form::text AS form
        FROM plants p
        WHERE p.published
          AND p.geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096), 4326)
        LIMIT 50000) AS tile
    """
)


def tile_of(lon: float, lat: float, z: int) -> TileAddress:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return TileAddress(z, x, y)


def main() -> None:
    engine = current_engine()
    with engine.connect() as conn:
        plants = conn.execute(text("SELECT count(*) FROM plants")).scalar()
        print(f"plants in the database: {plants:,}")
        for z in (14, 15, 16):
            tiles = [tile_of(lon, lat, z) for lon, lat in CITIES]

            def ours(tiles=tiles) -> None:
                for t in tiles:
                    render_tile(conn, "plants", t, internal=False)

            def baseline(tiles=tiles) -> None:
                for t in tiles:
                    conn.execute(BASELINE_RAW, {"z": t.z, "x": t.x, "y": t.y}).scalar()

            report(
                f"plants tiles at z{z} ({len(tiles)} tiles per run)",
                measure("geom_3857 + GiST (ours)", ours),
                measure("4326 index + ST_Transform (baseline)", baseline),
            )


if __name__ == "__main__":
    main()
