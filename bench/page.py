"""The map page's weight: HTML plus the JS/CSS it loads from our server, at 1,000 and at
1,000,000 plants. It must not grow with the inventory (plants come as tiles), and stay small.

Uses a scratch database next to the configured one (dropped afterwards): loads 1,000 plants,
weighs the page, loads up to ``--plants`` (1,000,000), weighs it again, and times the page.
Run: ``python -m bench.page [--plants N]``.
"""

from __future__ import annotations

import argparse
import re

from bench.harness import measure, report
from bench.tiles_scale import drop_database, load_plants, scratch_database
from registry import migrate
from registry.config import load_settings
from registry.db import engine_for
from web import create_app

GOAL_BYTES = 300 * 1024
ASSET = re.compile(r'(?:src|href)="(/(?:static|vendor)/[^"]+)"')


def page_bytes(client) -> tuple[int, int]:
    """The page's HTML bytes and those of every script and stylesheet it links on our server."""
    html = client.get("/").data
    assets = sum(len(client.get(url).data) for url in set(ASSET.findall(html.decode())))
    return len(html), assets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=int, default=1_000_000)
    args = parser.parse_args()
    base = load_settings().database_url
    name, url = scratch_database(base)
    try:
        migrate.upgrade(url)
        client = create_app({"DATABASE_URL": url, "TESTING": True}).test_client()
        load_plants(url, 1_000)
        small = page_bytes(client)
        few = measure("map page at 1,000 plants", lambda: client.get("/"), repeat=10)
        load_plants(url, args.plants - 1_000, offset=1_000)
        large = page_bytes(client)
        many = measure(f"map page at {args.plants:,} plants", lambda: client.get("/"), repeat=10)
        for label, (html, assets) in (("1,000", small), (f"{args.plants:,}", large)):
            total = html + assets
            verdict = "met" if total <= GOAL_BYTES else "NOT met"
            print(
                f"{label:>10} plants: HTML {html / 1024:7.1f} KB + own JS/CSS "
                f"{assets / 1024:7.1f} KB = {total / 1024:7.1f} KB (goal ≤ 300 KB: {verdict})"
            )
        print(f"page size equal at both sizes: {'yes' if small == large else 'NO'}")
        report("map page render time", many, few)
    finally:
        engine_for(url).dispose()
        drop_database(base, name)


if __name__ == "__main__":
    main()
