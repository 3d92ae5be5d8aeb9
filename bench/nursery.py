"""Nursery stock: counts kept in step by the ledger trigger vs recomputed from the ledger.

Builds a scratch database next to the configured one (dropped afterwards), loads the six demo
nurseries through the services, then adds batches and bulk movements (default 100,000; the ledger
trigger moves each batch's count as rows arrive) and times, in the same run:

- stock by batch: reading ``batches.quantity`` vs ``sum(batch_movements.quantity)`` per batch,
  and vs a naive client-side pass over every movement;
- the national stock report (nursery × species × stage × grade) from the kept counts vs the same
  report recomputed from the ledger.

Run: ``python -m bench.nursery [--movements N]`` (the issue's 1,000,000 works; loads longer).
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections import defaultdict

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.harness import machine, measure, report
from registry import migrate
from registry.config import load_settings
from registry.db import engine_for, unit_of_work
from registry.nursery.demo import load_nursery_demo
from registry.nursery.queries import STOCK_SQL

RECOMPUTED_STOCK_SQL = text(
    """
    WITH derived AS (
        SELECT batch_id, sum(quantity) AS quantity FROM batch_movements GROUP BY batch_id
    )
    SELECT n.code AS nursery, r.iso_code AS region, s.latin AS species,
           s.name_ru, s.name_kk, s.name_en,
           b.stage::text AS stage, b.grade, b.root_system::text AS root_system,
           count(*) AS batches, sum(d.quantity)::bigint AS quantity
    FROM derived d JOIN batches b ON b.id = d.batch_id
    JOIN nurseries n ON n.id = b.nursery_id
    JOIN regions r ON r.id = n.region_id
    JOIN species s ON s.id = b.species_id
    WHERE d.quantity > 0
    GROUP BY n.code, r.iso_code, s.id, b.stage, b.grade, b.root_system
    ORDER BY n.code, s.latin, b.stage, b.grade NULLS FIRST
    """
)
# Per batch: one large receipt, then small losses and stock-take corrections that never exceed it.
BULK_BATCHES = text(
    """
    INSERT INTO batches (nursery_id, section_id, code, species_id, supplier, started_on,
                         age_at_start, root_system, stage, grade, standard, version)
    SELECT s.nursery_id, s.id, 'BENCH-' || s.id || '-' || g, b.species_id, 'bench', '2024-04-01',
           1, 'open', 'ready', 1 + g % 2, 'ГОСТ 3317-90', 1
    FROM nursery_sections s
    JOIN LATERAL (SELECT species_id FROM batches WHERE nursery_id = s.nursery_id LIMIT 1) b ON true
    CROSS JOIN generate_series(1, :per_section) g
    RETURNING id
    """
)
BULK_MOVEMENTS = text(
    """
    INSERT INTO batch_movements (batch_id, kind, quantity, on_date, cause, reason, actor)
    SELECT b.id,
           CASE WHEN g = 1 THEN 'receipt' WHEN g % 3 = 0 THEN 'stocktake' ELSE 'loss' END
               ::batch_movement_kind,
           CASE WHEN g = 1 THEN 1000000 ELSE -1 - (g % 5) END,
           date '2024-04-01' + (g % 700),
           CASE WHEN g = 1 OR g % 3 = 0 THEN NULL ELSE 'drought' END::loss_cause,
           'bench', 'bench'
    FROM unnest(CAST(:batches AS int[])) AS b(id)
    CROSS JOIN generate_series(CAST(:first AS int), CAST(:last AS int)) g
    """
)


def scratch_database() -> tuple[str, str]:
    base = load_settings().database_url
    name = f"jasyl_bench_nursery_{uuid.uuid4().hex[:8]}"
    admin = make_url(base).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    return url, admin.render_as_string(hide_password=False)


def load(url: str, movements: int) -> None:
    migrate.upgrade(url)
    with unit_of_work(url) as session:
        load_nursery_demo(session)
    with unit_of_work(url) as session:
        sections = session.execute(text("SELECT count(*) FROM nursery_sections")).scalar()
        per_section = max(1, movements // (sections * 150))
        batch_ids = list(session.execute(BULK_BATCHES, {"per_section": per_section}).scalars())
    per_batch = max(2, movements // len(batch_ids))
    # A few movements per batch per transaction: the trigger's updates of one batch row within one
    # transaction pile up row versions, so a single huge transaction would be needlessly slow.
    for first in range(1, per_batch + 1, 4):
        with unit_of_work(url) as session:
            last = min(per_batch, first + 3)
            session.execute(BULK_MOVEMENTS, {"batches": batch_ids, "first": first, "last": last})
    with engine_for(url).begin() as conn:
        conn.execute(text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movements", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(machine())
    url, admin = scratch_database()
    try:
        started = time.perf_counter()
        load(url, args.movements)
        engine = engine_for(url)
        with engine.connect() as conn:
            counts = conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM batch_movements), (SELECT count(*) FROM batches)"
                )
            ).one()
            print(
                f"ledger: {counts[0]:,} movements over {counts[1]:,} batches in 6 nurseries "
                f"(loaded in {time.perf_counter() - started:.1f} s)"
            )
            kept = dict(conn.execute(text("SELECT id, quantity FROM batches")).all())
            derived = dict(
                conn.execute(
                    text("SELECT batch_id, sum(quantity) FROM batch_movements GROUP BY batch_id")
                ).all()
            )
            assert kept == {k: int(v) for k, v in derived.items()}, "kept counts drifted"
            print("kept counts equal the ledger's sums for every batch")

            def kept_by_batch() -> object:
                return conn.execute(
                    text("SELECT id, quantity FROM batches WHERE quantity > 0")
                ).all()

            def summed_by_batch() -> object:
                return conn.execute(
                    text(
                        "SELECT batch_id, sum(quantity) FROM batch_movements GROUP BY batch_id "
                        "HAVING sum(quantity) > 0"
                    )
                ).all()

            def naive_by_batch() -> object:
                totals: dict[int, int] = defaultdict(int)
                for batch_id, quantity in conn.execute(
                    text("SELECT batch_id, quantity FROM batch_movements")
                ):
                    totals[batch_id] += quantity
                return {k: v for k, v in totals.items() if v > 0}

            def national_kept() -> object:
                return conn.execute(text(STOCK_SQL), {"nursery": None, "species": None}).all()

            def national_recomputed() -> object:
                return conn.execute(RECOMPUTED_STOCK_SQL).all()

            assert national_kept() == national_recomputed()
            repeat = args.repeat
            report(
                "stock by batch",
                measure("batches.quantity (kept by trigger)", kept_by_batch, repeat),
                measure("sum over the ledger in SQL", summed_by_batch, repeat),
            )
            report(
                "stock by batch",
                measure("batches.quantity (kept by trigger)", kept_by_batch, repeat),
                measure("naive pass over every movement", naive_by_batch, max(3, repeat // 5), 1),
            )
            national = measure("national report from kept counts", national_kept, repeat)
            report(
                "national stock report",
                national,
                measure("national report recomputed from ledger", national_recomputed, repeat),
            )
            print(
                f"national report median {national.median * 1000:.1f} ms "
                f"(issue's bound 200 ms: {'met' if national.median <= 0.2 else 'NOT met'})"
            )
    finally:
        engine_for(url).dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


if __name__ == "__main__":
    main()
