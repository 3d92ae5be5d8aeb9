"""Does partitioning ``plants`` by region pay? Measured on copies of the demo plants.

``python -m bench.partitioning [--copies 7] [--plants N]``

Builds, in a scratch schema of the configured database, two copies of the plants table with the
columns tiles and reports read: ``flat`` (one table, GiST on ``geom_3857``, btree on
``region_id``) and ``by_region`` (LIST-partitioned into 20 regions, the same indexes per
partition). The demo's three cities are replicated ``--copies`` times, shifted east and spread
over the 20 regions, to stand for a national inventory. Then it times, both ways:

- a z14 plant tile in a city centre (the map's hot path: a spatial filter, no region);
- a region's report (species, count, mean condition for one region);
- replacing one region's plants (what a full re-import of a region's survey does).

The scratch schema is dropped at the end. ``--plants N`` copies instead N plants generated over
Astana in a scratch database of its own (dropped at the end): for a registry without the demo
data, such as the tests' (``tests/test_benchmarks_run.py``).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

from bench.harness import machine, measure, report
from bench.tiles import CITIES, tile_of
from bench.tiles_scale import drop_database, load_plants, scratch_database
from registry import migrate
from registry.config import load_settings
from registry.db import engine_for

REGIONS = 20
BUILD = [
    "DROP SCHEMA IF EXISTS bench_partitioning CASCADE",
    "CREATE SCHEMA bench_partitioning",
    """CREATE TABLE bench_partitioning.flat (
        id bigint, region_id smallint, geom_3857 geometry, condition smallint,
        species_id integer, status text, published boolean)""",
    """INSERT INTO bench_partitioning.flat
       SELECT p.id * 100 + k, ((p.region_id + k * 3) % 20) + 1,
              ST_Translate(p.geom_3857, k * 60000.0, 0), p.condition, p.species_id,
              p.status::text, p.published
       FROM plants p CROSS JOIN generate_series(0, CAST(:copies AS integer) - 1) AS k""",
    """CREATE TABLE bench_partitioning.by_region (LIKE bench_partitioning.flat)
       PARTITION BY LIST (region_id)""",
    """DO $$ BEGIN FOR r IN 1..20 LOOP
         EXECUTE format('CREATE TABLE bench_partitioning.%I PARTITION OF '
                        'bench_partitioning.by_region FOR VALUES IN (%s)', 'by_region_' || r, r);
       END LOOP; END $$""",
    "INSERT INTO bench_partitioning.by_region SELECT * FROM bench_partitioning.flat",
    # A region's incoming survey, as an import stages it (no indexes).
    "CREATE TABLE bench_partitioning.survey AS SELECT * FROM bench_partitioning.flat",
    "CREATE INDEX ON bench_partitioning.flat USING gist (geom_3857)",
    "CREATE INDEX ON bench_partitioning.flat (region_id)",
    "CREATE INDEX ON bench_partitioning.by_region USING gist (geom_3857)",
    "CREATE INDEX ON bench_partitioning.by_region (region_id)",
    "ANALYZE bench_partitioning.flat",
    "ANALYZE bench_partitioning.by_region",
    """CREATE FUNCTION bench_partitioning.truncate_region(r integer) RETURNS void
       LANGUAGE plpgsql AS $$ BEGIN
         EXECUTE format('TRUNCATE bench_partitioning.%I', 'by_region_' || r);
       END $$""",
]
COUNT = "SELECT count(*) FROM bench_partitioning.flat"
BUSIEST = "SELECT region_id FROM bench_partitioning.flat GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
TILE = """
    SELECT ST_AsMVT(t, 'plants', 4096, 'geom', 'id') FROM (
        SELECT id, ST_AsMVTGeom(geom_3857, ST_TileEnvelope(:z, :x, :y), 4096, 64, true) AS geom,
               condition, species_id
        FROM bench_partitioning.TABLE
        WHERE geom_3857 && ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096) AND published
    ) t
"""
REGION_REPORT = """
    SELECT species_id, count(*), avg(condition) FROM bench_partitioning.TABLE
    WHERE region_id = :region GROUP BY species_id
"""
QUERIES = {
    table: {"tile": TILE.replace("TABLE", table), "report": REGION_REPORT.replace("TABLE", table)}
    for table in ("flat", "by_region")
}
EMPTY_REGION = {
    "flat": "DELETE FROM bench_partitioning.flat WHERE region_id = :r",
    "by_region": "SELECT bench_partitioning.truncate_region(:r)",
}
RELOAD_REGION = {
    table: "INSERT INTO bench_partitioning.TABLE SELECT * FROM bench_partitioning.survey "
    "WHERE region_id = :r".replace("TABLE", table)
    for table in ("flat", "by_region")
}
DROP = "DROP SCHEMA IF EXISTS bench_partitioning CASCADE"


def build(conn, copies: int) -> int:
    for statement in BUILD:
        conn.execute(text(statement), {"copies": copies} if ":copies" in statement else {})
    return conn.execute(text(COUNT)).scalar()


def replace_region(conn, table: str, region: int) -> None:
    """Empty and reload a region's plants, as a full re-import would; rolled back after."""
    with conn.begin_nested() as step:
        conn.execute(text(EMPTY_REGION[table]), {"r": region})
        conn.execute(text(RELOAD_REGION[table]), {"r": region})
        step.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=7, help="copies of the demo plants")
    parser.add_argument("--plants", type=int, help="generated plants in a scratch database")
    args = parser.parse_args()
    print(machine())
    with plants_database(args.plants) as url:
        compare(engine_for(url), args.copies)


@contextmanager
def plants_database(generated: int | None) -> Iterator[str]:
    """The configured database, or a scratch one holding ``generated`` plants over Astana."""
    base = load_settings().database_url
    if not generated:
        yield base
        return
    name, url = scratch_database(base)
    try:
        migrate.upgrade(url)
        load_plants(url, generated)
        yield url
    finally:
        engine_for(url).dispose()
        drop_database(base, name)


def compare(engine: Engine, copies: int) -> None:
    """Both tables built from the plants in ``engine``'s database, timed, then dropped."""
    with engine.connect() as conn:
        rows = build(conn, copies)
        conn.commit()
        region = conn.execute(text(BUSIEST)).scalar()
        print(f"{rows:,} plants in {REGIONS} regions; region {region} is the busiest")
        try:
            tiles = [tile_of(lon, lat, 14) for lon, lat in CITIES]

            def tile(table: str):
                def run() -> None:
                    for t in tiles:
                        conn.execute(text(QUERIES[table]["tile"]), vars(t))

                return run

            report(
                f"z14 plant tiles ({len(tiles)} per run)",
                measure("partitioned by region (20)", tile("by_region")),
                measure("one table (baseline)", tile("flat")),
            )

            def region_report(table: str):
                query = text(QUERIES[table]["report"])
                return lambda: conn.execute(query, {"region": region}).all()

            report(
                "one region's species report",
                measure("partitioned by region (20)", region_report("by_region"), repeat=10),
                measure("one table (baseline)", region_report("flat"), repeat=10),
            )
            conn.commit()
            with conn.begin():
                report(
                    "replace one region's plants (re-import)",
                    measure(
                        "partitioned: TRUNCATE the partition",
                        lambda: replace_region(conn, "by_region", region),
                        repeat=3,
                        warmup=1,
                    ),
                    measure(
                        "one table: DELETE by region (baseline)",
                        lambda: replace_region(conn, "flat", region),
                        repeat=3,
                        warmup=1,
                    ),
                )
        finally:
            conn.rollback()
            conn.execute(text(DROP))
            conn.commit()


if __name__ == "__main__":
    main()
