"""Low-zoom plant tiles at a million plants: precomputed grid cells against on-the-fly aggregation.

Creates a scratch database next to the configured one (dropped afterwards unless ``--keep``),
loads ~1,000,000 plants over Astana, rebuilds the region's grid cells (timed), then renders the
same z8–z12 tiles both ways: from ``plant_grid_cells`` (ours) and by aggregating every plant in
the tile per request (the baseline, ``gis/sql/plants_grid_tile.sql``). z14 raw tiles are printed
for scale. Run: ``python -m bench.tiles_scale [--plants N] [--repeat 10] [--keep]``.
"""

from __future__ import annotations

import argparse
import time
import uuid

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.harness import machine, measure, report
from bench.tiles import tile_of
from gis.plant_grid import refresh_dirty
from gis.tiles import NO_FILTERS, plant_sql, render_tile
from registry import migrate
from registry.config import load_settings
from registry.db import engine_for

ASTANA = (71.4304, 51.1282)
LOAD = text(
    """
    INSERT INTO plants (region_id, inventory_number, species_id, planting_form, geom, quantity,
                        planting_year, condition, status, published, address, notes)
    SELECT 71, 'B-' || n, 1 + (n % 40), 'solitary',
           ST_SetSRID(ST_MakePoint(:lon + (random() - 0.5) * 0.3 * sqrt(random()),
                                   :lat + (random() - 0.5) * 0.15 * sqrt(random())), 4326),
           1, 1960 + (n % 64), 1 + (n % 6), 'alive', n % 50 <> 0, '', ''
    FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS n
    """
)


def scratch_database(base_url: str, name: str | None = None) -> tuple[str, str]:
    """Create a database next to ``base_url`` (named, or a random scratch name); (name, URL)."""
    name = name or f"jasyl_bench_tiles_{uuid.uuid4().hex[:6]}"
    admin = make_url(base_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_database(base_url: str, name: str) -> None:
    admin = make_url(base_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_plants(url: str, count: int, batch: int = 200_000, offset: int = 0) -> float:
    """Random points over Astana, all filed under the city (the scratch database skips the
    per-row region lookup trigger, which would dominate the load and is not what is measured)."""
    engine = engine_for(url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE plants DISABLE TRIGGER plants_region"))
    start = time.perf_counter()
    for first in range(offset + 1, offset + count + 1, batch):
        with engine.begin() as conn:
            last = min(offset + count, first + batch - 1)
            conn.execute(LOAD, {"lon": ASTANA[0], "lat": ASTANA[1], "first": first, "last": last})
    with engine.begin() as conn:
        conn.execute(text("ANALYZE plants"))
    return time.perf_counter() - start


def compare(url: str, repeat: int = 10) -> None:
    engine = engine_for(url)
    started = time.perf_counter()
    rebuilt = refresh_dirty(engine)
    print(f"grid rebuilt for regions {rebuilt} in {time.perf_counter() - started:.2f} s")
    with engine.connect() as conn:
        cells = conn.execute(text("SELECT count(*) FROM plant_grid_cells")).scalar()
        print(f"grid cells: {cells:,}")
        on_the_fly = plant_sql("plants_grid_tile")
        for z in (8, 10, 11, 12):
            tile = tile_of(*ASTANA, z)

            def ours(tile=tile) -> None:
                render_tile(conn, "plants", tile, internal=False)

            def baseline(tile=tile) -> None:
                params = {"z": tile.z, "x": tile.x, "y": tile.y, "internal": False}
                params.update(NO_FILTERS, cell=tile.cell_metres)
                conn.execute(text(on_the_fly), params).scalar()

            report(
                f"plants tile z{z} (Astana centre)",
                measure("precomputed grid cells (ours)", ours, repeat=repeat, warmup=1),
                measure("aggregate on the fly (baseline)", baseline, max(2, repeat // 2), 1),
            )
        raw = tile_of(*ASTANA, 14)
        timing = measure(
            "raw plants z14", lambda: render_tile(conn, "plants", raw, False), repeat * 2
        )
        print(timing.line())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10, help="timed renders of each tile")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    print(machine())
    base = load_settings().database_url
    name, url = scratch_database(base)
    try:
        migrate.upgrade(url)
        print(f"loaded {args.plants:,} plants in {load_plants(url, args.plants):.1f} s ({name})")
        compare(url, args.repeat)
    finally:
        engine_for(url).dispose()
        if not args.keep:
            drop_database(base, name)


if __name__ == "__main__":
    main()
