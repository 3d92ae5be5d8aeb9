"""Tiles of a self-hosted basemap per second: a PMTiles archive kept open against one reopened
for every tile (as before: header and directory read again each time), and MBTiles beside them.

``python -m bench.basemap [--tiles N] [--rounds R]``

Data: an MBTiles and a PMTiles file of the same PNG tiles over Astana (z13 and deeper until
``--tiles`` are made; PMTiles with leaf directories once the root would be too large), written
in a temporary folder. Run: every tile read once per round, in a shuffled order, through
``gis.basemap.read_tile`` (what ``/basemap/<id>/z/x/y.png`` calls), then over HTTP from the app
on a loopback server (one keep-alive client), and for the baseline through the ``pmtiles``
package's own ``Reader`` opened per tile. Prints tiles/s of each and the ratio of the PMTiles
reader kept open to the reopened one (goal: PMTiles at least as fast as MBTiles).

Measured (2 cores, load average ~5 from other work, 12,145 tiles z13–z17, 155 MB): PMTiles kept
open 29,956 tiles/s in process against 19 reopened per tile (leaf directories read and unzipped
again for each) and 241 for MBTiles; over HTTP (the development server, one client) PMTiles 784
tiles/s, MBTiles 212.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import random
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from pmtiles.reader import MmapSource, Reader

from bench.harness import Timing, machine, measure
from gis.basemap import read_tile, tile_ranges
from registry.basemaps import load_basemaps
from tests.basemap_files import area_mbtiles, tile_png
from tests.web_client import serve
from web import create_app

ASTANA_BOX = (71.30, 51.05, 71.56, 51.21)


def make_archives(folder: Path, wanted: int) -> tuple[Path, Path, list[tuple[int, int, int]]]:
    """Both archives of the same tiles (at least ``wanted``), and the tiles' addresses."""
    zooms, count = [], 0
    for z in range(13, 20):
        zooms.append(z)
        count = sum(r.count for r in tile_ranges(ASTANA_BOX, zooms))
        if count >= wanted:
            break
    tile = tile_png((120, 170, 250)) + bytes(12_000)  # ~12 KB, as a city tile weighs
    mbtiles = folder / "city.mbtiles"
    area_mbtiles(mbtiles, ASTANA_BOX, zooms, tile)
    addresses = [t for r in tile_ranges(ASTANA_BOX, zooms) for t in r.tiles()]
    pmtiles = folder / "city.pmtiles"
    write_pmtiles(pmtiles, addresses, tile)
    return mbtiles, pmtiles, addresses


def write_pmtiles(path: Path, addresses: list[tuple[int, int, int]], tile: bytes) -> None:
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import write

    with write(str(path)) as writer:
        for i, (z, x, y) in enumerate(sorted(addresses, key=lambda t: zxy_to_tileid(*t))):
            writer.write_tile(zxy_to_tileid(z, x, y), tile + i.to_bytes(4, "little"))
        west, south, east, north = ASTANA_BOX
        writer.finalize(
            {
                "tile_type": TileType.PNG,
                "tile_compression": Compression.NONE,
                "min_zoom": min(a[0] for a in addresses),
                "max_zoom": max(a[0] for a in addresses),
                "min_lon_e7": int(west * 1e7),
                "min_lat_e7": int(south * 1e7),
                "max_lon_e7": int(east * 1e7),
                "max_lat_e7": int(north * 1e7),
                "center_zoom": 14,
                "center_lon_e7": int((west + east) / 2 * 1e7),
                "center_lat_e7": int((south + north) / 2 * 1e7),
            },
            {"name": "bench"},
        )


def reopened(path: Path, z: int, x: int, y: int) -> bytes | None:
    """The tile as the code before read it: the file opened, its header and directories read."""
    with path.open("rb") as f:
        return Reader(MmapSource(f)).get(z, x, y)


def per_second(name: str, read, addresses, rounds: int) -> Timing:
    order = list(addresses)
    random.Random(19).shuffle(order)

    def every_tile() -> None:
        for z, x, y in order:
            assert read(z, x, y), f"{name}: no tile at {z}/{x}/{y}"

    timing = measure(name, every_tile, repeat=rounds, warmup=1)
    print(f"{timing.line()}   {len(order) / timing.median:8.0f} tiles/s")
    return timing


def over_http(base: str, basemap_id: str, addresses, rounds: int) -> Timing:
    """One keep-alive client asking every tile of the app's ``/basemap/<id>/…``."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port)

    def read(z: int, x: int, y: int) -> bytes:
        connection.request("GET", f"/basemap/{basemap_id}/{z}/{x}/{y}.png")
        answer = connection.getresponse()
        body = answer.read()
        return body if answer.status == 200 else b""

    try:
        return per_second(f"HTTP {basemap_id}", read, addresses, rounds)
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiles", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per tile is not a figure
    with tempfile.TemporaryDirectory(prefix="jasyl-bench-basemap-") as folder:
        mbtiles, pmtiles, addresses = make_archives(Path(folder), args.tiles)
        print(f"== basemap tiles: {len(addresses):,} tiles, {pmtiles.stat().st_size / 1e6:.1f} MB")
        print(machine())
        sample = addresses[: min(len(addresses), 500)]  # the slow reader and HTTP: a part
        kept = per_second(
            "PMTiles, reader kept open", lambda *t: read_tile(pmtiles, *t), addresses, args.rounds
        )
        again = per_second(
            "PMTiles, reopened per tile (before)",
            lambda *t: reopened(pmtiles, *t),
            sample,
            args.rounds,
        )
        mb = per_second(
            "MBTiles, opened per tile", lambda *t: read_tile(mbtiles, *t), addresses, args.rounds
        )
        entries = [
            {
                "id": "pm",
                "name": "pm",
                "file": str(pmtiles),
                "attribution": "bench",
                "max_zoom": 19,
            },
            {
                "id": "mb",
                "name": "mb",
                "file": str(mbtiles),
                "attribution": "bench",
                "max_zoom": 19,
            },
        ]
        app = create_app({"BASEMAPS": load_basemaps(json.dumps(entries))})
        for base in serve(app):
            http_pm = over_http(base, "pm", sample, args.rounds)
            http_mb = over_http(base, "mb", sample, args.rounds)
        rate = {
            t.name: n / t.median
            for t, n in ((kept, len(addresses)), (again, len(sample)), (mb, len(addresses)))
        }
        ratio = rate[kept.name] / rate[again.name]
        print(f"ratio vs baseline ({again.name}): {ratio:.2f}× tiles/s")
        print(
            f"PMTiles kept open / MBTiles: {rate[kept.name] / rate[mb.name]:.2f}× in process, "
            f"{http_mb.median / http_pm.median:.2f}× over HTTP (goal ≥ 1: "
            f"{'met' if http_mb.median >= http_pm.median else 'NOT met'})"
        )


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"done in {time.perf_counter() - started:.1f} s")
