"""The map page's weight: HTML plus the JS/CSS it loads from our server, at 1,000 and at
1,000,000 plants. It must not grow with the inventory (plants come as tiles), and stay small.

Uses a scratch database next to the configured one (dropped afterwards): loads 1,000 plants,
weighs and times the page, loads up to ``--plants`` (1,000,000), weighs and times it again.
Each size is measured in a fresh process: the legend's common-species list is counted once per
process and kept for ten minutes, so a second size in the same process would reuse the first
size's count. The first request of each process (which counts) is reported apart from the
steady ones, and the legend's count is timed on its own at the largest size.
Run: ``python -m bench.page [--plants N]``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time

from bench.harness import Timing, machine, measure, report
from bench.tiles_scale import drop_database, load_plants, scratch_database
from registry import migrate
from registry.config import load_settings
from registry.db import engine_for
from web import create_app
from web.map.views import COMMON_SPECIES, SPECIES_COLOURS

GOAL_BYTES = 300 * 1024
ASSET = re.compile(r'(?:src|href)="(/(?:static|vendor)/[^"]+)"')


def page_bytes(client) -> tuple[int, int]:
    """The page's HTML bytes and those of every script and stylesheet it links on our server."""
    html = client.get("/").data
    assets = sum(len(client.get(url).data) for url in set(ASSET.findall(html.decode())))
    return len(html), assets


def weigh(url: str, repeat: int) -> dict:
    """In this (fresh) process: the first page (which counts the legend), its bytes, then
    ``repeat`` steady pages. Every answer must be a 200."""
    client = create_app({"DATABASE_URL": url, "TESTING": True}).test_client()
    start = time.perf_counter()
    first = client.get("/")
    first_seconds = time.perf_counter() - start
    if first.status_code != 200:
        raise SystemExit(f"the map page answered {first.status_code}")
    html, assets = page_bytes(client)
    steady = measure("page", lambda: client.get("/"), repeat=repeat).samples
    return {"first": first_seconds, "html": html, "assets": assets, "steady": steady}


def weigh_in_fresh_process(url: str, repeat: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.page", "--weigh", url, "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def legend_count(url: str) -> Timing:
    """The common-species count the legend runs once per process, timed on its own."""
    with engine_for(url).connect() as conn:
        return measure(
            "legend's common-species count",
            lambda: conn.execute(COMMON_SPECIES, {"n": len(SPECIES_COLOURS)}).all(),
            repeat=5,
            warmup=1,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--weigh", metavar="URL", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.weigh:
        print(json.dumps(weigh(args.weigh, args.repeat)))
        return
    print(machine())
    base = load_settings().database_url
    name, url = scratch_database(base)
    try:
        migrate.upgrade(url)
        load_plants(url, 1_000)
        sizes = {"1,000": weigh_in_fresh_process(url, args.repeat)}
        load_plants(url, args.plants - 1_000, offset=1_000)
        sizes[f"{args.plants:,}"] = weigh_in_fresh_process(url, args.repeat)
        legend = legend_count(url)
        for label, found in sizes.items():
            total = found["html"] + found["assets"]
            verdict = "met" if total <= GOAL_BYTES else "NOT met"
            print(
                f"{label:>10} plants: HTML {found['html'] / 1024:7.1f} KB + own JS/CSS "
                f"{found['assets'] / 1024:7.1f} KB = {total / 1024:7.1f} KB (goal ≤ 300 KB: "
                f"{verdict}); first page (counts the legend) {found['first'] * 1000:.1f} ms"
            )
        small, large = sizes.values()
        grown = large["html"] + large["assets"] - small["html"] - small["assets"]
        print(
            f"page bytes at {args.plants:,} minus at 1,000 plants: {grown:+,} (the legend names "
            "the most planted species, so its labels follow the data; the plants never do)"
        )
        print(f"at {args.plants:,} plants: {legend.line()}")
        report(
            "map page render time (steady, legend counted)",
            Timing(f"map page at {args.plants:,} plants", large["steady"]),
            Timing("map page at 1,000 plants", small["steady"]),
        )
    finally:
        engine_for(url).dispose()
        drop_database(base, name)


if __name__ == "__main__":
    main()
