"""The national tree-benefits report on a large generated registry, beside a naive recomputation.

Generates (in its own database, ``<configured>_bench_benefits``, kept for re-runs unless
``--fresh``) N plants over the 20 regions: trees of the species with a benefit method and
shrubs without one, DBH 5–140 cm (some missing), heights (some missing), conditions I–VI (some
not assessed), bypassing the triggers, then counts them once with the repair function. Times,
in the same run:

- the national benefits report (``registry.benefits.services.report``: the region rows of
  ``benefit_tallies``, which the triggers keep current, valued at the year's prices) against a
  naive recomputation: every plant's figures by ``jasyl_plant_benefit``, summed per region
  (checked equal, region by region, before anything is timed);
- what keeping the tallies costs a bulk insert: ``--bulk`` plants in one statement (as the
  importer's merge does) with the benefits trigger on and off, each rolled back;
- what keeping them costs a real import (the goal: ≤ 5 % of a 1M-row import): ``jasyl import``
  of a generated ``--import-rows`` survey (``bench.importer.generate``) as its own process into
  an empty registry of its own (``<configured>_bench_benefits_import``), with the benefits'
  INSERT trigger on (it books each chunk the import copies, revision 0028) and disabled for the
  run (everything else the same), in turn; and the trigger's own time in each import as
  ``pg_stat_user_functions`` counts it (``track_functions = all`` for that database). That time
  is spent on the import's writing thread while its reading thread works on the next chunk: the
  wall clocks' difference is what the import pays, the function's time what the server works.

The issue's size: ``python -m bench.benefits`` (5,000,000 plants); smaller with ``--plants``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench import importer
from bench.harness import Timing, machine, measure, report
from bench.reports import bench_database
from registry.access import Actor
from registry.benefits import services
from registry.db import engine_for

GOAL_MS = 300.0
GOAL_IMPORT_SHARE = 5.0  # % of an import's wall time
# The benefits triggers' function, and what sums a live import's chunks beside it (0031).
KEEPING = ("jasyl_benefit_tally", "jasyl_tally_benefits")
# Keeping "off" in a live import: the second connection sums nothing (the bench's database only).
SUMS_NOTHING = """CREATE OR REPLACE FUNCTION jasyl_tally_benefits(rows regclass, sums regclass)
    RETURNS void LANGUAGE sql AS $$ SELECT $$"""
YEAR = 2026
# Plants as a survey gives them: the species with a method (and one shrub in ten without one).
PLANTS = """
    INSERT INTO plants (region_id, inventory_number, species_id, planting_form, geom, quantity,
                        height_m, trunk_diameter_cm, condition, status, address, notes,
                        hazardous, published, version)
    SELECT r.id, :prefix || g, s.species_id, 'solitary',
           ST_SetSRID(ST_MakePoint(r.x + random() * 0.05, r.y + random() * 0.05), 4326), 1,
           CASE WHEN g % 3 = 0 THEN NULL ELSE 3 + (g % 200) / 10.0 END,
           CASE WHEN g % 17 = 0 THEN NULL ELSE 5 + (g * 13) % 1350 / 10.0 END,
           CASE WHEN g % 11 = 0 THEN NULL ELSE 1 + g % 6 END,
           CASE WHEN g % 23 = 0 THEN 'dead'::plant_status ELSE 'alive' END,
           '', '', false, true, 1
    FROM generate_series(1, :plants) g
    JOIN bench_regions r ON r.n = 1 + g % 20
    JOIN bench_species s ON s.n = 1 + (g * 7) % (SELECT count(*) FROM bench_species)
"""
SETUP = [
    """CREATE TEMP TABLE bench_regions ON COMMIT DROP AS
       SELECT row_number() OVER (ORDER BY id) AS n, id,
              ST_X(ST_PointOnSurface(boundary)) AS x, ST_Y(ST_PointOnSurface(boundary)) AS y
       FROM regions""",
    # Ten trees with a method for every shrub without one.
    """CREATE TEMP TABLE bench_species ON COMMIT DROP AS
       SELECT row_number() OVER (ORDER BY sort, id) AS n, id AS species_id FROM (
           SELECT s.id, (s.id % 10 = 0) AS sort FROM species s
           WHERE EXISTS (SELECT 1 FROM species_benefit_methods m WHERE m.species_id = s.id)
              OR s.id % 10 = 0) x""",
]
NAIVE = text(
    """
    SELECT r.iso_code AS region, sum(CASE WHEN b.kind = 'computed' THEN p.quantity END) AS trees,
           sum(b.co2_stored_kg) AS stored, sum(b.co2_sequestered_kg) AS sequestered,
           count(*) FILTER (WHERE b.kind = 'no_method') AS without_method
    FROM (SELECT jasyl_benefit_constants() AS k OFFSET 0) kc,
         plants p JOIN regions r ON r.id = p.region_id, jasyl_plant_benefit(p, kc.k) b
    GROUP BY r.iso_code ORDER BY r.iso_code
    """
)


def generate(url: str, plants: int) -> None:
    engine = engine_for(url)
    with engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM plants")).scalar()
    if have:
        print(f"re-using the {have:,} generated plants in the bench database")
        return
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SET session_replication_role = replica"))
        for statement in SETUP:
            conn.execute(text(statement))
        conn.execute(text(PLANTS), {"plants": plants, "prefix": "B-"})
        conn.execute(text("SET session_replication_role = origin"))
        conn.execute(text("SELECT jasyl_rebuild_benefit_tallies()"))
    took = time.perf_counter() - start
    print(f"generated {plants:,} plants and counted their benefits in {took:.0f} s")


def same_figures(ours: list[dict], naive: list) -> int:
    """The report's figures equal the naive ones, region by region; how many regions."""
    by_region = {row.region: row for row in naive}
    assert {r["region"] for r in ours} == set(by_region), "the regions differ"
    for row in ours:
        expected = by_region[row["region"]]
        assert row["trees"] == int(expected.trees or 0), row["region"]
        assert row["plants_without_method"] == expected.without_method, row["region"]
        assert abs(row["co2_stored_t"] - float(expected.stored or 0) / 1000) < 0.001
        assert (
            abs(row["co2_sequestered_t_per_year"] - float(expected.sequestered or 0) / 1000) < 0.001
        )
    return len(ours)


def bulk_insert(url: str, n: int, with_benefits: bool) -> float:
    """Seconds to insert ``n`` plants in one statement, rolled back; optionally without the
    benefits trigger (disabled inside the same rolled-back transaction)."""
    with engine_for(url).connect() as conn, conn.begin() as transaction:
        for statement in SETUP:
            conn.execute(text(statement))
        if not with_benefits:
            conn.execute(text("ALTER TABLE plants DISABLE TRIGGER plants_benefits_insert"))
        start = time.perf_counter()
        conn.execute(text(PLANTS), {"plants": n, "prefix": "BULK-"})
        elapsed = time.perf_counter() - start
        transaction.rollback()
    return elapsed


def bulk_cost(url: str, n: int, rounds: int) -> None:
    on: list[float] = []
    off: list[float] = []
    for i in range(rounds):  # interleaved and in turn first, so load and caches favour neither
        for with_benefits in (True, False) if i % 2 == 0 else (False, True):
            (on if with_benefits else off).append(bulk_insert(url, n, with_benefits))
    with_trigger, without = Timing("benefits trigger on", on), Timing("benefits trigger off", off)
    report(f"bulk insert of {n:,} plants, benefits trigger on vs off", with_trigger, without)
    share = (with_trigger.median - without.median) / without.median * 100
    print(f"keeping the benefit tallies adds {share:.1f} % to the insert (goal ≤ 5 %)")
    total, triggers = trigger_times(url, n)
    own = triggers.get("plants_benefits_insert", 0.0)
    others = ", ".join(f"{name} {ms:.0f} ms" for name, ms in triggers.items())
    print(
        f"EXPLAIN ANALYZE: insert {total:.0f} ms; benefits trigger {own:.0f} ms "
        f"({100 * own / total:.1f} %); all triggers: {others}"
    )


def trigger_times(url: str, n: int) -> tuple[float, dict[str, float]]:
    """The insert's total and each trigger's own time (ms), as EXPLAIN ANALYZE measures them:
    the share that wall clocks on a busy machine blur."""
    with engine_for(url).connect() as conn, conn.begin() as transaction:
        for statement in SETUP:
            conn.execute(text(statement))
        plan = conn.execute(
            text("EXPLAIN (ANALYZE, FORMAT JSON) " + PLANTS), {"plants": n, "prefix": "BULK-"}
        ).scalar_one()[0]
        transaction.rollback()
    return plan["Execution Time"], {t["Trigger Name"]: t["Time"] for t in plan.get("Triggers", [])}


def keeping_seconds(url: str) -> float:
    """Seconds spent so far in the benefits triggers' function, by ``pg_stat_user_functions``."""
    with engine_for(url).connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        spent = conn.execute(
            text("SELECT sum(total_time) FROM pg_stat_user_functions WHERE funcname = ANY(:f)"),
            {"f": list(KEEPING)},
        ).scalar()
    return (spent or 0.0) / 1000


def benefits_trigger(url: str, enabled: bool) -> None:
    """The benefits' INSERT trigger and a live import's sums beside it on or off, in the
    bench's own database only."""
    switch = "ENABLE" if enabled else "DISABLE"
    with engine_for(url).begin() as conn:
        conn.execute(text(f"ALTER TABLE plants {switch} TRIGGER plants_benefits_insert"))
        if not enabled:
            definition = "SELECT pg_get_functiondef('jasyl_tally_benefits'::regproc)"
            _kept_sums.append(conn.execute(text(definition)).scalar_one())
            conn.execute(text(SUMS_NOTHING))
        elif _kept_sums:
            conn.execute(text(_kept_sums.pop()))


_kept_sums: list[str] = []  # the real jasyl_tally_benefits while "off" stands in for it


def timed_import(url: str, survey: Path, keeping: bool) -> tuple[float, float]:
    """One ``jasyl import`` of ``survey`` as its own process: (wall s, keeping s). The registry
    is emptied and compacted before (``bench.importer.remove_import``), tallies included."""
    importer.remove_import(url, survey.name)
    with engine_for(url).begin() as conn:
        conn.execute(text("SELECT jasyl_rebuild_benefit_tallies()"))
    importer.settle(url)
    engine_for(url).dispose()  # the removal's server process goes, its trigger times reported
    time.sleep(1.0)
    benefits_trigger(url, keeping)
    before = keeping_seconds(url)
    try:
        jasyl = str(Path(sys.executable).with_name("jasyl"))
        command = [jasyl, "import", str(survey), "--region", "KZ-71", "--json"]
        run = importer.run_timed(command, {**os.environ, "DATABASE_URL": url})
    finally:
        benefits_trigger(url, True)
    # "write" is the reading thread waiting for the database: where a chunk's trigger shows
    importer.phases(f"trigger {'on' if keeping else 'off'}", run.wall, run.output)
    time.sleep(1.0)  # the import's server process reports its function times as it exits
    return run.wall, keeping_seconds(url) - before


def import_cost(rows: int, rounds: int) -> None:
    """What keeping the benefit tallies costs a real import of ``rows`` survey points."""
    url = bench_database(True, "benefits_import")
    with engine_for(url).connect() as conn:
        name = conn.execute(text("SELECT current_database()")).scalar_one()
        conn.execute(text(f"ALTER DATABASE \"{name}\" SET track_functions = 'all'"))
        conn.commit()
    with tempfile.TemporaryDirectory(prefix="jasyl-bench-benefits-") as folder:
        survey = importer.generate(Path(folder), rows, url)
        on: list[float] = []
        off: list[float] = []
        booked: list[float] = []
        for i in range(rounds):  # interleaved and in turn first, as the bulk inserts
            for keeping in (True, False) if i % 2 == 0 else (False, True):
                wall, spent = timed_import(url, survey, keeping)
                (on if keeping else off).append(wall)
                if keeping:
                    booked.append(spent)
        importer.remove_import(url, survey.name)
    engine_for(url).dispose()
    kept, not_kept = Timing("benefits trigger on", on), Timing("benefits trigger off", off)
    report(f"jasyl import of {rows:,} survey points, benefit tallies kept or not", kept, not_kept)
    share = (kept.median - not_kept.median) / not_kept.median * 100
    own = statistics.median(booked)
    print(
        f"import wall time: keeping the benefit tallies adds {share:.1f} % (median of {rounds}; "
        f"goal ≤ {GOAL_IMPORT_SHARE:.0f} %). The trigger's own time: {own:.2f} s = "
        f"{100 * own / kept.median:.1f} % of the import's {kept.median:.1f} s "
        "(pg_stat_user_functions; spent beside the reading, not all of it waited for)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=int, default=5_000_000)
    parser.add_argument("--fresh", action="store_true", help="regenerate the data set")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--naive-repeat", type=int, default=3)
    parser.add_argument(
        "--bulk", type=int, default=100_000, help="plants in the bulk insert (0: none)"
    )
    parser.add_argument("--bulk-rounds", type=int, default=2)
    parser.add_argument(
        "--import-rows", type=int, default=1_000_000, help="survey points imported (0: none)"
    )
    parser.add_argument("--import-rounds", type=int, default=2)
    parser.add_argument(
        "--only-keeping",
        action="store_true",
        help="only what keeping the tallies costs (bulk insert, import): no 5M report",
    )
    args = parser.parse_args()
    print(machine())
    if not args.only_keeping:
        national_report(args)
    if args.bulk:
        bulk_cost(bench_database(False, "benefits"), args.bulk, args.bulk_rounds)
    if args.import_rows:
        import_cost(args.import_rows, args.import_rounds)
    print(f"at the end: {machine()}")


def national_report(args: argparse.Namespace) -> None:
    """The report's median at ``--plants`` beside the naive recomputation, figures checked."""
    url = bench_database(args.fresh, "benefits")
    generate(url, args.plants)
    actor = Actor.system("bench")
    with Session(engine_for(url)) as session:
        ours = services.report(session, actor, YEAR)
        naive = session.execute(NAIVE).all()
        print(f"figures equal for {same_figures(ours, naive)} regions")
        candidate = measure(
            "national benefits report (tallies)",
            lambda: services.report(session, actor, YEAR),
            repeat=args.repeat,
            warmup=1,
        )
        baseline = measure(
            "naive recomputation from the plants",
            lambda: session.execute(NAIVE).all(),
            repeat=args.naive_repeat,
            warmup=0,
        )
    ratio_title = f"national benefits report at {args.plants:,} plants (goal ≤ {GOAL_MS:.0f} ms)"
    report(ratio_title, candidate, baseline)
    verdict = "met" if candidate.median * 1000 <= GOAL_MS else "NOT met"
    print(f"median {candidate.median * 1000:.1f} ms: goal {verdict}")


if __name__ == "__main__":
    main()
