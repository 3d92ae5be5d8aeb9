"""The national planting report and the ministry dashboard on a large generated registry.

Generates (in its own database, ``<configured>_bench_reports``, created and migrated here, kept
for re-runs unless ``--fresh``) N plants and M planting/care records across the 20 regions and
5 years, then times, in the same run:

- the national planting report (region × year × species, planned vs planted, replanting,
  survival) read from ``planting_tallies``, which triggers keep current, against one query over
  ``planting_events`` ⋈ ``survival_checks`` and the plan lines that computes the same figures
  (checked equal, group by group, before anything is timed);
- the dashboard's data for one year against the same figures by full scans;
- one region's yearly report (``build_content``) and its dashboard view (the drill down), as
  figures;
- what the tally triggers cost a bulk insert: 100,000 plants inserted in one statement (as the
  importer's merge does) with the statement-level tally triggers, and with them disabled, each
  rolled back.

Default sizes are the issue's (5,000,000 plants, 1,000,000 records): ``python -m bench.reports``;
smaller: ``python -m bench.reports --plants 500000 --records 1000000``.
"""

from __future__ import annotations

import argparse
import time

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.harness import Timing, machine, measure, report
from registry import migrate
from registry.access import Actor
from registry.config import load_settings
from registry.db import engine_for
from registry.regions.models import Region
from registry.reports.content import build_content
from registry.reports.dashboards import national_dashboard, national_planting, region_dashboard

YEARS = (2021, 2022, 2023, 2024, 2025)
GOAL_MS = 300.0

# Bulk generation bypasses the triggers (session_replication_role = replica): regions are
# given, not looked up, and the tallies are rebuilt once at the end with the same SQL functions
# a repair would use.
GENERATE = [
    "SET session_replication_role = replica",
    """
    CREATE TEMP TABLE bench_regions AS
    SELECT row_number() OVER (ORDER BY id) AS n, id,
           ST_X(ST_PointOnSurface(boundary)) AS x, ST_Y(ST_PointOnSurface(boundary)) AS y
    FROM regions
    """,
    """CREATE TEMP TABLE bench_species AS
       SELECT row_number() OVER (ORDER BY id) AS n, id FROM species""",
    """
    INSERT INTO plants (region_id, inventory_number, species_id, planting_form, geom, quantity,
                        condition, status, planting_year, address, notes, hazardous, published,
                        version)
    SELECT r.id, 'B-' || g, s.id, 'solitary',
           ST_SetSRID(ST_MakePoint(r.x + random() * 0.05, r.y + random() * 0.05), 4326), 1,
           1 + (g % 6), CASE WHEN g % 23 = 0 THEN 'dead'::plant_status ELSE 'alive' END,
           1990 + g % 35, '', '', false, true, 1
    FROM generate_series(1, :plants) g
    JOIN bench_regions r ON r.n = 1 + g % 20
    JOIN bench_species s ON s.n = 1 + (g * 7) % 60
    """,
    """
    INSERT INTO planting_plans (region_id, district, year, season, title, funding_source,
                                status, version)
    SELECT r.id, '', yr, 'spring', 'bench', '', 'approved', 1
    FROM bench_regions r CROSS JOIN unnest(CAST(:years AS int[])) yr
    """,
    """
    INSERT INTO planting_plan_lines (plan_id, species_id, planting_form, quantity, unit,
                                     funding_source, supplier, notes)
    SELECT p.id, s.id, 'solitary', 100 + (p.id * s.n) % 900, 'pieces', '', '', ''
    FROM planting_plans p JOIN bench_species s ON s.n <= 60
    """,
    """
    INSERT INTO planting_events (region_id, species_id, planting_form, planted_on, quantity,
                                 unit, performer_kind, performer, notes)
    SELECT r.id, s.id, 'group', make_date(2021 + (g / 1200) % 5, 4 + g % 6, 1 + g % 28),
           1 + g % 40, 'pieces', 'akimat', '', ''
    FROM generate_series(1, :events) g
    JOIN bench_regions r ON r.n = 1 + g % 20
    JOIN bench_species s ON s.n = 1 + (g / 20) % 60
    """,
    """
    INSERT INTO survival_checks (event_id, season, checked_on, alive, dead, replaced,
                                 inspector, notes)
    SELECT e.id, 1, e.planted_on + 150, a.alive, e.quantity - a.alive, 0, '', ''
    FROM planting_events e
    CROSS JOIN LATERAL (SELECT floor(e.quantity * (0.5 + random() * 0.5)) AS alive) a
    WHERE e.id % 10 < 6
    """,
    """
    INSERT INTO survival_checks (event_id, season, checked_on, alive, dead, replaced,
                                 inspector, notes)
    SELECT c.event_id, 3, c.checked_on + 730, floor(c.alive * 0.9), 0, 0, '', ''
    FROM survival_checks c WHERE c.event_id % 10 < 3 AND c.checked_on + 730 <= current_date
    """,
    """
    INSERT INTO planting_events (region_id, species_id, planting_form, planted_on, quantity,
                                 unit, performer_kind, performer, notes, replaces_event_id)
    SELECT e.region_id, e.species_id, e.planting_form, c.checked_on + 10, c.dead, e.unit,
           'contractor', '', '', e.id
    FROM planting_events e JOIN survival_checks c ON c.event_id = e.id AND c.season = 1
    WHERE c.dead > 0 AND e.id % 20 = 0
    """,
    """
    INSERT INTO care_works (region_id, year, kind, unit, planned_volume, planned_cost,
                            done_volume, done_on, done_cost, area, performer, notes, version)
    SELECT r.id, 2021 + g % 5,
           (enum_range(NULL::care_kind))[1 + g % 11], 'm2', 10 + g % 500, 1000 + g % 90000,
           CASE WHEN g % 4 = 0 THEN NULL ELSE 10 + g % 450 END,
           CASE WHEN g % 4 = 0 THEN NULL ELSE make_date(2021 + g % 5, 6, 1) END,
           CASE WHEN g % 4 = 0 THEN NULL ELSE 900 + g % 80000 END,
           ST_SetSRID(ST_MakePoint(r.x, r.y), 4326), '', '', 1
    FROM generate_series(1, :care) g JOIN bench_regions r ON r.n = 1 + (g * 17) % 20
    """,
    "SET session_replication_role = DEFAULT",
    "SELECT jasyl_rebuild_planting_tallies()",
    "SELECT jasyl_rebuild_inventory_tallies()",
    "SELECT jasyl_rebuild_care_tallies()",
    "ANALYZE",
]

# The baseline: the same figures in one statement straight from the events and their checks
# (no tallies), with the approved plan lines summed once per group and full-joined, as ours does
# (not a correlated subquery per group). ``same_figures`` checks both agree before any timing.
NAIVE_NATIONAL = text(
    """
    WITH done AS (
        SELECT e.region_id, e.year, e.species_id, count(*) AS events,
               sum(e.quantity) FILTER (WHERE e.replaces_event_id IS NULL) AS planted,
               sum(e.quantity) FILTER (WHERE e.replaces_event_id IS NOT NULL) AS replanted,
               sum(e.quantity) FILTER (WHERE e.felling_permit_id IS NOT NULL) AS compensatory,
               sum(e.quantity) FILTER (WHERE c1.alive IS NOT NULL) AS checked_1,
               sum(c1.alive) AS alive_1,
               sum(e.quantity) FILTER (WHERE c3.alive IS NOT NULL) AS checked_3,
               sum(c3.alive) AS alive_3
        FROM planting_events e
        LEFT JOIN survival_checks c1 ON c1.event_id = e.id AND c1.season = 1
        LEFT JOIN survival_checks c3 ON c3.event_id = e.id AND c3.season = 3
        GROUP BY 1, 2, 3
    ), plan AS (
        SELECT p.region_id, p.year, l.species_id, sum(l.quantity) AS planned
        FROM planting_plan_lines l JOIN planting_plans p ON p.id = l.plan_id
        WHERE p.status = 'approved' GROUP BY 1, 2, 3
    )
    SELECT r.iso_code AS region, year, s.code AS species, coalesce(events, 0) AS events,
           coalesce(planted, 0) AS planted, coalesce(replanted, 0) AS replanted,
           coalesce(compensatory, 0) AS compensatory, coalesce(checked_1, 0) AS checked_1,
           coalesce(alive_1, 0) AS alive_1, coalesce(checked_3, 0) AS checked_3,
           coalesce(alive_3, 0) AS alive_3, coalesce(planned, 0) AS planned
    FROM done FULL JOIN plan USING (region_id, year, species_id)
    JOIN regions r ON r.id = region_id JOIN species s ON s.id = species_id
    """
)
COMPARED = ("events", "planted", "replanted", "compensatory", "checked_1", "alive_1", "checked_3",
            "alive_3", "planned")  # fmt: skip


def same_figures(ours: list[dict], baseline: list) -> int:
    """Both ways give the same groups and the same figures (to the tenth), or the run stops:
    a baseline that computes something else times nothing worth comparing. Returns the groups."""
    mine = {
        (r["region"], r["year"], r["species"]): tuple(round(float(r[f]), 1) for f in COMPARED)
        for r in ours
    }
    theirs = {
        (r.region, r.year, r.species): tuple(round(float(getattr(r, f)), 1) for f in COMPARED)
        for r in baseline
    }
    if mine != theirs:
        differ = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
        example = differ[0]
        raise SystemExit(
            f"the baseline's figures differ from ours in {len(differ)} of {len(mine)} groups, "
            f"e.g. {example}: ours {mine.get(example)}, baseline {theirs.get(example)}"
        )
    return len(mine)


NAIVE_DASHBOARD = [
    text(
        """
        SELECT e.region_id,
               sum(e.quantity) FILTER (WHERE e.replaces_event_id IS NULL),
               sum(e.quantity) FILTER (WHERE e.replaces_event_id IS NOT NULL),
               sum(c1.alive), sum(e.quantity) FILTER (WHERE c1.alive IS NOT NULL)
        FROM planting_events e
        LEFT JOIN survival_checks c1 ON c1.event_id = e.id AND c1.season = 1
        WHERE e.year = :year GROUP BY e.region_id
        """
    ),
    text("SELECT year, sum(quantity) FROM planting_events GROUP BY year"),
    text("SELECT region_id, sum(done_cost) FROM care_works WHERE year = :year GROUP BY region_id"),
]


# An importer-like bulk insert: one INSERT … SELECT of new plants into one region.
BULK_INSERT = text(
    """
    INSERT INTO plants (region_id, inventory_number, species_id, planting_form, geom, quantity,
                        condition, status, planting_year, address, notes, hazardous, published,
                        version)
    SELECT r.id, 'T-' || g, s.id, 'solitary',
           ST_SetSRID(ST_MakePoint(ST_X(c) + random() * 0.02, ST_Y(c) + random() * 0.02), 4326),
           1, 1 + g % 6, 'alive', 2024, '', '', false, true, 1
    FROM generate_series(1, :n) g
    CROSS JOIN (SELECT id, ST_PointOnSurface(boundary) AS c FROM regions WHERE id = 71) r
    JOIN (SELECT row_number() OVER (ORDER BY id) AS n, id FROM species) s ON s.n = 1 + g % 60
    """
)
TALLY_TRIGGERS = "ALTER TABLE plants {} TRIGGER plants_tally_insert"


def bulk_insert(engine, n: int, with_tallies: bool) -> float:
    """Seconds to insert ``n`` plants in one statement, rolled back; optionally without the
    tally trigger (disabled inside the same rolled-back transaction)."""
    with engine.connect() as conn, conn.begin() as transaction:
        if not with_tallies:
            conn.execute(text(TALLY_TRIGGERS.format("DISABLE")))
        start = time.perf_counter()
        conn.execute(BULK_INSERT, {"n": n})
        elapsed = time.perf_counter() - start
        transaction.rollback()
    return elapsed


def trigger_times(engine, n: int) -> tuple[float, dict[str, float]]:
    """The insert's total and each trigger's own time (ms), as EXPLAIN ANALYZE measures them."""
    with engine.connect() as conn, conn.begin() as transaction:
        plan = conn.execute(
            text("EXPLAIN (ANALYZE, FORMAT JSON) " + BULK_INSERT.text), {"n": n}
        ).scalar_one()[0]
        transaction.rollback()
    triggers = {t["Trigger Name"]: t["Time"] for t in plan.get("Triggers", [])}
    return plan["Execution Time"], triggers


def bulk_cost(engine, n: int, rounds: int) -> None:
    """The tally triggers' share of an importer-like bulk insert, measured two ways."""
    on: list[float] = []
    off: list[float] = []
    for i in range(rounds):  # interleaved and in turn first, so load and caches favour neither
        for with_tallies in (True, False) if i % 2 == 0 else (False, True):
            (on if with_tallies else off).append(bulk_insert(engine, n, with_tallies))
    report(
        f"bulk insert of {n:,} plants (importer-like), tally triggers on vs off",
        Timing(f"insert {n:,} plants, tally triggers on", on),
        Timing(f"insert {n:,} plants, tally triggers off", off),
    )
    total, triggers = trigger_times(engine, n)
    tally = triggers.get("plants_tally_insert", 0.0)
    others = ", ".join(f"{name} {ms:.0f} ms" for name, ms in triggers.items())
    print(
        f"EXPLAIN ANALYZE: insert {total:.0f} ms; tally trigger {tally:.0f} ms "
        f"({100 * tally / total:.1f} %); all triggers: {others}"
    )


def bench_database(fresh: bool, suffix: str = "reports") -> str:
    """The bench's own database beside the configured one, migrated (kept unless fresh)."""
    base = load_settings().database_url
    name = f"{make_url(base).database}_bench_{suffix}"
    admin = make_url(base).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or fresh:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    return url


def generate(url: str, plants: int, records: int) -> None:
    engine = engine_for(url)
    with engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM planting_events")).scalar()
    if have:
        print(f"re-using the generated data set in {make_url(url).database}")
        return
    events, care = int(records * 0.6), int(records * 0.4)
    params = {"plants": plants, "events": events, "care": care, "years": list(YEARS)}
    start = time.perf_counter()
    with engine.begin() as conn:
        for statement in GENERATE:
            conn.execute(text(statement) if isinstance(statement, str) else statement, params)
    print(f"generated in {time.perf_counter() - start:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=int, default=5_000_000)
    parser.add_argument("--records", type=int, default=1_000_000, help="planting + care records")
    parser.add_argument("--fresh", action="store_true", help="regenerate the data set")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--bulk", type=int, default=100_000, help="plants in the bulk insert")
    parser.add_argument("--bulk-rounds", type=int, default=2)
    args = parser.parse_args()
    print(machine())
    url = bench_database(args.fresh)
    generate(url, args.plants, args.records)
    engine = engine_for(url)
    ministry = Actor.system("bench")
    with engine.connect() as conn, Session(bind=conn) as session:
        counts = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM plants), (SELECT count(*) FROM planting_events),"
                " (SELECT count(*) FROM survival_checks), (SELECT count(*) FROM care_works),"
                " (SELECT count(*) FROM planting_tallies)"
            )
        ).one()
        print(
            "plants {:,} · planting events {:,} · survival checks {:,} · care works {:,} · "
            "tally rows {:,}".format(*counts)
        )
        year = YEARS[-2]

        groups = same_figures(
            national_planting(session, ministry, None, ("region", "year", "species")),
            conn.execute(NAIVE_NATIONAL).all(),
        )
        print(f"the baseline gives the same figures as ours in all {groups:,} groups")
        national = measure(
            "national report from tallies (ours)",
            lambda: national_planting(session, ministry, None, ("region", "year", "species")),
            repeat=args.repeat,
        )
        naive = measure(
            "one query over events ⋈ checks, plans",
            lambda: conn.execute(NAIVE_NATIONAL).all(),
            repeat=max(3, args.repeat // 3),
            warmup=1,
        )
        report("national planting report, region × year × species", national, naive)
        print(
            f"goal ≤ {GOAL_MS:.0f} ms: {'met' if national.median * 1000 <= GOAL_MS else 'NOT met'}"
        )

        dash = measure(
            "dashboard data (ours)",
            lambda: national_dashboard(session, ministry, year),
            repeat=args.repeat,
        )
        naive_dash = measure(
            "dashboard figures by full scans",
            lambda: [conn.execute(q, {"year": year}).all() for q in NAIVE_DASHBOARD],
            repeat=max(3, args.repeat // 3),
            warmup=1,
        )
        report(f"ministry dashboard for {year}", dash, naive_dash)
        print(f"goal ≤ {GOAL_MS:.0f} ms: {'met' if dash.median * 1000 <= GOAL_MS else 'NOT met'}")

        region = session.get(Region, 71)
        one = measure(
            f"one region's yearly report ({region.iso_code})",
            lambda: build_content(session, region, year),
            repeat=3,
            warmup=1,
        )
        print(one.line())
        view = measure(
            f"one region's dashboard view ({region.iso_code})",
            lambda: region_dashboard(session, ministry, region.id, year),
            repeat=args.repeat,
        )
        print(view.line())

    bulk_cost(engine, args.bulk, args.bulk_rounds)


if __name__ == "__main__":
    main()
