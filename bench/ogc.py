"""OGC API items paging on 1,000,000 plants: first page and deep pages by `next` links.

Runs in its own scratch database (``jasyl_bench_ogc`` next to the configured one), created,
migrated and filled once with 1,000,000 synthetic plants around Astana (kept for later runs).
Requests go through the real Flask app in-process (routing, parameter parsing, SQL-built GeoJSON,
response assembly); beside each figure the raw SQL time of the same page query is printed, and
the OFFSET query that pg_featureserv would send for the same deep page is the baseline. Every
timed page is checked (status 200, 1,000 features); the OFFSET is the number of rows before the
deep page, counted (ids need not be dense), and its page is checked to hold the keyset page's
very ids before either is timed. Goal: p95 ≤ 150 ms for a 1,000-feature page, first and deep.
``python -m bench.ogc [--plants N]`` (N ≥ 50,000; default 1,000,000).
"""

from __future__ import annotations

import argparse
import os
import time
from urllib.parse import urlsplit

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.harness import Timing, machine, measure
from registry import migrate
from registry.config import load_settings
from registry.db import engine_for

PLANTS = 1_000_000
PAGE = 1000
GOAL_MS = 150
FILL = text(
    """
    INSERT INTO plants (inventory_number, species_id, planting_form, geom, quantity, condition,
                        status, address, notes, height_m, trunk_diameter_cm, planting_year)
    SELECT 'B' || n, (SELECT array_agg(id) FROM species)[1 + n % 40], 'solitary',
           ST_SetSRID(ST_MakePoint(71.30 + (n % 1000) * 0.00025,
                                   51.05 + (n / 1000) * 0.00015), 4326),
           1, 1 + n % 6, 'alive', 'улица Абая, ' || (n % 300), '', 5 + n % 20, 10 + n % 60,
           1970 + n % 50
    FROM generate_series(:start, :stop) AS n
    """
)


def scratch_database(plants: int = PLANTS) -> str:
    base = load_settings().database_url
    url = make_url(base).set(database="jasyl_bench_ogc").render_as_string(hide_password=False)
    admin = make_url(base).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = 'jasyl_bench_ogc'"
        ).fetchone():
            conn.execute('CREATE DATABASE "jasyl_bench_ogc"')
    migrate.upgrade(url)
    engine = engine_for(url)
    with engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM plants")).scalar()
    if have < plants:
        print(f"loading {plants - have:,} synthetic plants (once) …", flush=True)
        for start in range(have, plants, 100_000):
            with engine.begin() as conn:
                conn.execute(FILL, {"start": start, "stop": min(start + 100_000, plants) - 1})
        with engine.begin() as conn:
            conn.execute(text("ANALYZE plants"))
    return url


def full_page(response, url: str) -> dict:
    """The page's body, once it is a 200 holding ``PAGE`` features; else the run stops (a fast
    error page is no figure)."""
    body = response.get_json(silent=True) or {}
    returned = len(body.get("features", []))
    if response.status_code != 200 or returned != PAGE or body.get("numberReturned") != PAGE:
        raise SystemExit(f"{url}: status {response.status_code}, {returned} features, not {PAGE}")
    return body


def follow(client, url: str, pages: int) -> list[float]:
    """Request ``url`` and then its `next` links, ``pages`` times; the time of each request."""
    samples = []
    for _ in range(pages):
        start = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - start)
        body = full_page(response, url)
        link = next(link["href"] for link in body["links"] if link["rel"] == "next")
        parts = urlsplit(link)
        url = f"{parts.path}?{parts.query}"
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=int, default=PLANTS)
    args = parser.parse_args()
    print(machine())
    url = scratch_database(max(args.plants, 50_000))
    os.environ["DATABASE_URL"] = url
    from web import create_app

    client = create_app({"TESTING": True}).test_client()
    engine = engine_for(url)
    with engine.connect() as conn:
        total, last = conn.execute(text("SELECT count(*), max(id) FROM plants")).one()
    print(f"plants in the scratch database: {total:,}", flush=True)
    first_url = f"/ogc/collections/plants/items?limit={PAGE}"
    first = measure(
        "HTTP first page (limit=1000)",
        lambda: full_page(client.get(first_url), first_url),
        repeat=30,
    )
    deep_start = last - 40 * PAGE
    deep_url = f"/ogc/collections/plants/items?limit={PAGE}&after={deep_start}"
    follow(client, deep_url, 2)  # warm
    deep = Timing("HTTP deep pages, following next", follow(client, deep_url, 30))

    from registry.opendata.collections import PLANTS as COLLECTION
    from registry.opendata.rules import FeatureQuery
    from registry.opendata.services import _conditions, _feature_sql, _where

    clauses, params = _conditions(None, COLLECTION, FeatureQuery(after=deep_start), False)
    sql = text(
        f"SELECT t.id, {_feature_sql(COLLECTION, False, FeatureQuery().crs)} "  # noqa: S608
        f"FROM {COLLECTION.source} {_where(clauses)} ORDER BY t.id LIMIT {PAGE + 1}"
    )
    # OFFSET at its best: skip keys only, then build the 1,000 features (building JSON for the
    # skipped rows too, as a naive ``ORDER BY id LIMIT … OFFSET …`` does, takes ~50 s here)
    offset_sql = text(
        f"SELECT t.id, {_feature_sql(COLLECTION, False, FeatureQuery().crs)} "  # noqa: S608
        f"FROM (SELECT id FROM plants WHERE published ORDER BY id LIMIT {PAGE} OFFSET :offset) k "
        f"JOIN {COLLECTION.source} ON t.id = k.id ORDER BY t.id"
    )
    with engine.connect() as conn:
        skipped = conn.execute(
            text("SELECT count(*) FROM plants WHERE published AND id <= :after"),
            {"after": deep_start},
        ).scalar()
        keyset_ids = [row.id for row in conn.execute(sql, params).all()][:PAGE]
        offset_ids = [row.id for row in conn.execute(offset_sql, {"offset": skipped}).all()]
        if offset_ids != keyset_ids or len(offset_ids) != PAGE:
            raise SystemExit(
                f"OFFSET {skipped:,} does not give the keyset page after id {deep_start:,}"
            )
        print(f"deep page: after id {deep_start:,} = OFFSET {skipped:,} (the same {PAGE} ids)")
        raw = measure("raw SQL, keyset deep page", lambda: conn.execute(sql, params).all(), 30)
        offset = measure(
            "baseline: OFFSET deep page (keys skipped)",
            lambda: conn.execute(offset_sql, {"offset": skipped}).all(),
            repeat=10,
        )
    print("== OGC API items, 1,000-feature pages")
    for timing in (first, deep, raw, offset):
        print(timing.line())
    for timing in (first, deep):
        verdict = "met" if timing.p95 * 1000 <= GOAL_MS else "NOT met"
        print(f"{timing.name}: p95 {timing.p95 * 1000:.1f} ms (goal ≤ {GOAL_MS} ms: {verdict})")
    print(f"HTTP overhead over raw SQL (deep, median): {(deep.median - raw.median) * 1000:.1f} ms")
    print(
        f"ratio vs baseline (OFFSET {skipped:,}, after id {deep_start:,}): keyset "
        f"{offset.median / raw.median:.1f}× faster"
    )


if __name__ == "__main__":
    main()
