"""Map tiles at a million plants: the production server over HTTP against the same tile SQL run
directly (the baseline), z10–z16; plus the SQL shapes, like with like: at z14 the stored dots
against the same dots made from the plants, from z15 the stored 3857 copy + GiST against
pg_tileserv's transform per row, each checked to draw the same features before it is timed.

``python -m bench.tiles [--database NAME] [--plants N] [--clients C] [--rounds R] [--keep]
[--shapes-only]``

Data: a database of its own next to the configured one (``--database``, created when missing,
kept with ``--keep`` or when named, so a locked run can reuse a load made outside the lock). It
gets the demo data set scaled to ``--plants`` (1,000,000: Astana, Almaty, Shymkent, their parks,
streets and green spaces), topped up with ``bench.tiles_scale``'s plants if short, then the
low-zoom grid and the z13–14 plant dots are built.

Run: per zoom, a fixed set of dense city tiles (``dense_tiles``: plants and green spaces), each
requested ``--rounds`` times by ``--clients`` concurrent clients, in turn through
``jasyl serve --production`` (granian, 2 workers, its disk tile cache off so every tile is
rendered) on a loopback port with keep-alive connections, and as the same SQL
(``gis.tiles.render_tile``) on as many pooled connections. It prints p50/p95 and tiles/s of both
per zoom and the ratio; then the server with its tile cache on, for information; then the same
turns against the thinnest Python tile server (``bench.tiles_ceiling``), the most any Python
serving tier reaches against the SQL on the machine. Before timing a server, every tile it sends
is checked to be the tile SQL's very bytes. Goals: z14 p95 over HTTP ≤ 50 ms, HTTP tiles/s ≥ 0.8×
the SQL's.
"""

from __future__ import annotations

import argparse
import http.client
import json
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mapbox_vector_tile
import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.harness import Timing, machine, measure, report
from bench.tiles_ceiling import bare_server
from gis.basemap import tile_xy
from gis.tiles import DOTS_UNTIL_ZOOM, TileAddress, render_tile, statement, tile_query
from registry.config import load_settings
from registry.db import engine_for
from tests.serving import ProductionServer, http_get

CITIES = [(71.4304, 51.1282), (76.9286, 43.2389)]
ZOOMS = range(10, 17)
Z14_P95_GOAL_MS = 50.0
THROUGHPUT_GOAL = 0.8
WORKERS = 2
THREADS = 4
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
    return TileAddress(z, *tile_xy(lon, lat, z))


# -- the tiles asked for ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TileRequest:
    layer: str
    tile: TileAddress

    @property
    def path(self) -> str:
        return f"/tiles/{self.layer}/{self.tile.z}/{self.tile.x}/{self.tile.y}.pbf"


DENSE_PER_CITY = 4
COUNT_IN_TILE = text(
    "SELECT count(*) FROM plants WHERE geom_3857 && ST_TileEnvelope(:z, :x, :y) AND published"
)


def dense_tiles(url: str) -> dict[int, list[TileRequest]]:
    """The fixed tiles of each zoom: in each demo city, the ``DENSE_PER_CITY`` tiles holding the
    most plants among the 5×5 around its centre (where a planner looks), each asked for its
    plants and its green spaces. Chosen from the data, so the same on every run of a database."""
    from registry.demo.cities import CITIES as DEMO_CITIES

    chosen: dict[int, list[TileRequest]] = {}
    with engine_for(url).connect() as conn:
        for z in ZOOMS:
            chosen[z] = []
            for city in DEMO_CITIES:
                centre = tile_of(*city.centre, z)
                around = [
                    TileAddress(z, centre.x + dx, centre.y + dy)
                    for dx in range(-2, 3)
                    for dy in range(-2, 3)
                ]
                counts = {
                    t: conn.execute(COUNT_IN_TILE, {"z": t.z, "x": t.x, "y": t.y}).scalar()
                    for t in around
                }
                densest = sorted(around, key=lambda t: (-counts[t], t.x, t.y))[:DENSE_PER_CITY]
                for t in densest:
                    chosen[z] += [TileRequest("plants", t), TileRequest("green_spaces", t)]
    return chosen


# -- the data ------------------------------------------------------------------------------------
def database_exists(base_url: str, name: str) -> bool:
    admin = make_url(base_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        return bool(
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        )


def prepare(base_url: str, name: str | None, plants: int) -> tuple[str, str, bool]:
    """The benchmark database's (name, URL, created here) with at least ``plants`` plants."""
    from bench.tiles_scale import load_plants, scratch_database
    from gis.plant_grid import refresh_dirty, refresh_dots
    from registry import migrate
    from registry.db import unit_of_work
    from registry.demo.cities import CITIES as DEMO_CITIES
    from registry.demo.services import load_demo

    if name and database_exists(base_url, name):
        url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
        created = False
    else:
        name, url = scratch_database(base_url, name)
        created = True
        migrate.upgrade(url)
        started = time.perf_counter()
        scale = plants / sum(city.plants for city in DEMO_CITIES)
        with unit_of_work(url) as session:
            load_demo(session, scale)
        print(
            f"demo data set × {scale:.2f} loaded in {time.perf_counter() - started:.1f} s ({name})"
        )
    migrate.upgrade(url)  # a kept database follows the schema of the code under test
    with engine_for(url).connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM plants")).scalar()
    if have < plants:
        seconds = load_plants(url, plants - have, offset=have)
        print(f"topped up with {plants - have:,} plants over Astana in {seconds:.1f} s")
    started = time.perf_counter()
    if refresh_dirty(engine_for(url)):
        print(f"low-zoom grid rebuilt in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    if cells := refresh_dots(engine_for(url)):
        print(
            f"z13–14 plant dots of {cells} cells rebuilt in {time.perf_counter() - started:.1f} s"
        )
    return name, url, created


# -- driving the requests ------------------------------------------------------------------------
# A client: its fetch (``None`` or what went wrong) and how to close its connection.
Client = tuple[Callable[[TileRequest], str | None], Callable[[], None]]


@dataclass
class Run:
    """Latencies (seconds) of one zoom's requests and the wall time they took together."""

    latencies: list[float]
    elapsed: float
    failures: list[str]

    def __add__(self, other: Run) -> Run:
        return Run(
            self.latencies + other.latencies,
            self.elapsed + other.elapsed,
            self.failures + other.failures,
        )

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.elapsed

    def ms(self, p: float) -> float:
        timing = Timing("", self.latencies)
        return (timing.median if p == 50 else timing.p95) * 1000


def run_concurrently(
    requests: list[TileRequest],
    rounds: int,
    clients: int,
    open_client: Callable[[], Client],
) -> Run:
    """Every request ``rounds`` times, shared out over ``clients`` threads (each starting at a
    different place in the list); ``open_client`` gives each thread its fetch function."""
    work = [r for _ in range(rounds) for r in requests]
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    opened = [open_client() for _ in range(clients)]
    fetchers = [fetch for fetch, _ in opened]
    for fetch in fetchers:
        fetch(requests[0])  # open and warm each connection before the clock starts

    def client(n: int, fetch: Callable[[TileRequest], str | None]) -> None:
        seen, wrong = [], []
        for request in work[n::clients]:
            start = time.perf_counter()
            failure = fetch(request)
            seen.append(time.perf_counter() - start)
            if failure:
                wrong.append(failure)
        with lock:
            latencies.extend(seen)
            failures.extend(wrong)

    threads = [threading.Thread(target=client, args=(n, f)) for n, f in enumerate(fetchers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for _, close in opened:
        close()
    return Run(latencies, elapsed, failures)


def http_client(port: int) -> Callable[[], Client]:
    """Each client one keep-alive connection, as a browser keeps one per map."""

    def open_client() -> Client:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def fetch(request: TileRequest) -> str | None:
            connection.request("GET", request.path, headers={"Accept-Encoding": "gzip"})
            answer = connection.getresponse()
            answer.read()
            return None if answer.status in (200, 204) else f"{answer.status} {request.path}"

        return fetch, connection.close

    return open_client


def sql_client(url: str) -> Callable[[], Client]:
    """Each client one pooled connection running the tile's SQL alone, in autocommit (no
    BEGIN/ROLLBACK), with the settings the server's tile pool uses: the leanest way to get the
    same bytes from the database."""
    engine = engine_for(url, serial=True)

    def open_client() -> Client:
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")

        def fetch(request: TileRequest) -> str | None:
            render_tile(connection, request.layer, request.tile, internal=False)
            return None

        return fetch, connection.close

    return open_client


# -- reporting -----------------------------------------------------------------------------------
def print_zoom(z: int, tiles: int, http: Run, sql: Run) -> None:
    ratio = http.per_second / sql.per_second
    print(
        f"z{z:<3} {tiles:5} {http.ms(50):8.1f} {http.ms(95):8.1f} {http.per_second:9.1f}   "
        f"{sql.ms(50):8.1f} {sql.ms(95):8.1f} {sql.per_second:9.1f}   {ratio:6.2f}×"
    )
    for failure in sorted(set(http.failures))[:3]:
        print(f"     HTTP failure: {failure}")


def alternate(
    url: str, tiles: dict[int, list[TileRequest]], clients: int, rounds: int, port: int
) -> tuple[dict, dict]:
    """Per zoom, HTTP and SQL turn about (twice each), so a change in the machine's load during
    the run weighs on both alike. One untimed round of every tile first warms both sides alike
    (the server's workers open their pools and prepare their statements; the pages are cached)."""
    over_http: dict[int, Run] = {}
    direct: dict[int, Run] = {}
    every_tile = [request for z in ZOOMS for request in tiles[z]]
    run_concurrently(every_tile, 1, clients * 2, http_client(port))
    run_concurrently(every_tile, 1, clients, sql_client(url))
    for z in ZOOMS:
        for _ in range(2):
            http = run_concurrently(tiles[z], rounds, clients, http_client(port))
            sql = run_concurrently(tiles[z], rounds, clients, sql_client(url))
            over_http[z] = over_http[z] + http if z in over_http else http
            direct[z] = direct[z] + sql if z in direct else sql
    return over_http, direct


def serve(url: str, cache: str) -> ProductionServer:
    """``jasyl serve --production`` with its tile cache folder (or ``off``)."""
    env = {"JASYL_TILE_CACHE": cache}
    return ProductionServer(url, extra_env=env, workers=WORKERS, threads=THREADS).start(60)


def tiles_per_second(runs: dict[int, Run]) -> float:
    return sum(len(r.latencies) for r in runs.values()) / sum(r.elapsed for r in runs.values())


def compare_http_sql(url: str, clients: int, rounds: int, cache_folder: Path) -> None:
    """The production server against the same SQL, zoom by zoom, with the goals' verdicts.

    The server renders every tile (its disk cache off), as the SQL does; a second pass with the
    cache on is printed for information (repeated tiles are then read from disk).
    """
    tiles = dense_tiles(url)
    server = serve(url, "off")
    try:
        report_differing(url, tiles, server.port, "jasyl serve")
        over_http, direct = alternate(url, tiles, clients, rounds, server.port)
    finally:
        server.stop()
    print(
        f"== tiles over HTTP (jasyl serve --production: {WORKERS} granian workers × {THREADS} "
        f"threads, tile cache off) against the same tile SQL run directly (baseline); {clients} "
        f"concurrent clients, 2 × {rounds} rounds of {len(tiles[14])} fixed tiles per zoom, "
        "HTTP and SQL in turn"
    )
    print(
        f"{'':4} {'tiles':>5} {'HTTP p50':>8} {'p95 ms':>8} {'tiles/s':>9}   "
        f"{'SQL p50':>8} {'p95 ms':>8} {'tiles/s':>9}   {'ratio':>7}"
    )
    for z in ZOOMS:
        print_zoom(z, len(over_http[z].latencies), over_http[z], direct[z])
    ratio = tiles_per_second(over_http) / tiles_per_second(direct)
    z14 = over_http[14].ms(95)
    failures = sum(len(r.failures) for r in over_http.values())
    print(
        f"all zooms: HTTP {tiles_per_second(over_http):.1f} tiles/s, SQL "
        f"{tiles_per_second(direct):.1f} tiles/s; ratio HTTP/SQL {ratio:.2f}× (goal ≥ "
        f"{THROUGHPUT_GOAL}×: {'met' if ratio >= THROUGHPUT_GOAL else 'NOT met'}); "
        f"HTTP failures: {failures}"
    )
    print(
        f"z14 HTTP p95 {z14:.1f} ms (goal ≤ {Z14_P95_GOAL_MS:.0f} ms: "
        f"{'met' if z14 <= Z14_P95_GOAL_MS else 'NOT met'})"
    )
    server = serve(url, str(cache_folder))
    try:
        cached = {
            z: run_concurrently(tiles[z], rounds, clients, http_client(server.port)) for z in ZOOMS
        }
    finally:
        server.stop()
    print(
        f"for information, the same requests with the server's tile cache on: "
        f"{tiles_per_second(cached):.1f} tiles/s, z14 p95 {cached[14].ms(95):.1f} ms"
    )
    compare_ceiling(url, tiles, clients, rounds)


def compare_ceiling(
    url: str, tiles: dict[int, list[TileRequest]], clients: int, rounds: int
) -> None:
    """The same turns against the thinnest Python tile server (``bench.tiles_ceiling``): the
    most any Python serving tier reaches against the SQL on this machine."""
    with bare_server(url, WORKERS) as port:
        report_differing(url, tiles, port, "the bare server")
        bare, direct = alternate(url, tiles, clients, rounds, port)
    ratio = tiles_per_second(bare) / tiles_per_second(direct)
    print(
        f"ceiling: the thinnest Python tile server (bench.tiles_ceiling: granian RSGI, async "
        f"psycopg, the same statement, nothing else) served {tiles_per_second(bare):.1f} tiles/s "
        f"against the SQL's {tiles_per_second(direct):.1f} in the same turns: {ratio:.2f}×, "
        f"z14 p95 {bare[14].ms(95):.1f} ms"
    )


def report_differing(url: str, tiles: dict[int, list[TileRequest]], port: int, name: str) -> None:
    """Check that the server on ``port`` sends the very bytes of the tile SQL for every tile
    timed, so both sides of a comparison do the same work."""
    wrong = []
    with engine_for(url, serial=True).connect() as connection:
        for request in (r for z in ZOOMS for r in tiles[z]):
            expected = render_tile(connection, request.layer, request.tile, internal=False)
            status, body = http_get(f"http://127.0.0.1:{port}{request.path}")
            if status not in (200, 204) or body != expected:
                wrong.append(f"{request.path} ({status}, {len(body)} bytes)")
    if wrong:
        raise SystemExit(f"{name} does not send the tile SQL's bytes: {', '.join(wrong[:3])}")


BASELINE_INDEX = "bench_tiles_plants_geom"


def compare_sql_shapes(url: str) -> None:
    """Our plant tile queries against pg_tileserv's transform-per-row shape drawing every plant,
    both on the server's tile pool (prepared generic plans, no JIT or parallel workers): at z14
    ours draws stored dots, from z15 every plant through the stored 3857 copy and its GiST.

    Plants have no GiST index on ``geom`` (revision 0019); pg_tileserv's shape needs one, so it
    gets one for the comparison, dropped afterwards."""
    _outside_transaction(
        url, f"CREATE INDEX IF NOT EXISTS {BASELINE_INDEX} ON plants USING gist (geom)"
    )
    try:
        _time_sql_shapes(url)
    finally:
        _outside_transaction(url, f"DROP INDEX IF EXISTS {BASELINE_INDEX}")


def _outside_transaction(url: str, statement: str) -> None:
    with engine_for(url).connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text(statement))


def dots_made_from_plants(conn, tile: TileAddress) -> bytes:
    """The z13–z14 dot tile with every cell's dots made from the plants in the statement (as
    for a filtered map): the same dots as the stored ones, without what storing them saves."""
    query, params = tile_query("plants", tile, internal=False)
    params["filtered"] = True
    return bytes(conn.execute(statement(query), params).scalar() or b"")


def every_plant_transformed(conn, tile: TileAddress) -> bytes:
    """pg_tileserv's shape: every plant, ``ST_Transform`` per row, found by the 4326 index."""
    return bytes(conn.execute(BASELINE_RAW, {"z": tile.z, "x": tile.x, "y": tile.y}).scalar())


def features(tile: bytes, inside: bool = False) -> list[str]:
    """A tile's features, decoded and sorted (two tiles drawing the same plants in another
    order have different bytes but the same features); ``inside``: only those inside the tile
    itself, not in its 64-pixel buffer."""
    layers = mapbox_vector_tile.decode(tile) if tile else {}
    found = layers.get("plants", {}).get("features", [])
    if inside:
        found = [f for f in found if _inside(f["geometry"]["coordinates"])]
    return sorted(json.dumps(f, sort_keys=True) for f in found)


def _inside(coordinates: list) -> bool:
    xy = [coordinates] if isinstance(coordinates[0], int | float) else coordinates
    return all(0 <= c <= 4096 for point in xy for c in point[:2])


def same_drawing(conn, tiles: list[TileAddress], baseline: Callable) -> str:
    """Stop unless ours and the baseline draw the same features inside every tile; say whether
    their bytes, or all their features (the buffer's too), are equal as well.

    Stored dots and dots made from the plants may differ in the buffer: a dot straddling the
    buffer's outer edge is drawn from the plants inside it in one, from its whole group in the
    other. Inside the tile, which is what the map shows, they must agree."""
    same_bytes = same_buffer = True
    drawn = 0
    for t in tiles:
        mine, theirs = render_tile(conn, "plants", t, internal=False), baseline(conn, t)
        inside = features(mine, inside=True)
        if inside != features(theirs, inside=True):
            raise SystemExit(
                f"z{t.z}/{t.x}/{t.y}: inside the tile the baseline draws "
                f"{len(features(theirs, inside=True))} features, ours {len(inside)}, or other "
                "ones: they do not do the same work"
            )
        drawn += len(features(mine))
        same_bytes &= mine == theirs
        same_buffer &= features(mine) == features(theirs)
    agreement = (
        "the same bytes"
        if same_bytes
        else "the same features"
        if same_buffer
        else "the same features inside the tiles (the buffers differ)"
    )
    return f"{drawn:,} features, {agreement}"


def _time_sql_shapes(url: str) -> None:
    """Like with like: at z14 the same dots, stored against made from the plants; from z15
    every plant, our stored 3857 copy against pg_tileserv's transform per row."""
    with engine_for(url, serial=True).connect() as conn:
        for z in (14, 15, 16):
            tiles = [tile_of(lon, lat, z) for lon, lat in CITIES]
            if z <= DOTS_UNTIL_ZOOM:
                names = ("stored plant dots (ours)", "dots made from the plants (baseline)")
                baseline = dots_made_from_plants
            else:
                names = ("geom_3857 + GiST (ours)", "4326 index + ST_Transform (baseline)")
                baseline = every_plant_transformed
            checked = same_drawing(conn, tiles, baseline)

            def ours(tiles=tiles) -> None:
                for t in tiles:
                    render_tile(conn, "plants", t, internal=False)

            def theirs(tiles=tiles, baseline=baseline) -> None:
                for t in tiles:
                    baseline(conn, t)

            report(
                f"SQL shape: plants tiles at z{z} ({len(tiles)} tiles per run; both draw "
                f"{checked})",
                measure(names[0], ours),
                measure(names[1], theirs),
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database to use or create and keep (default: scratch)")
    parser.add_argument("--plants", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (both runs)")
    parser.add_argument("--rounds", type=int, default=3, help="times each tile is asked for")
    parser.add_argument("--keep", action="store_true", help="keep a scratch database")
    parser.add_argument("--shapes-only", action="store_true", help="only the SQL shapes")
    args = parser.parse_args()
    base = load_settings().database_url
    name, url, created = prepare(base, args.database, args.plants)
    try:
        with engine_for(url).connect() as conn:
            plants = conn.execute(text("SELECT count(*) FROM plants")).scalar()
            spaces = conn.execute(text("SELECT count(*) FROM green_spaces")).scalar()
        print(f"{machine()}; {plants:,} plants, {spaces:,} green spaces in {name}")
        if not args.shapes_only:
            with tempfile.TemporaryDirectory(prefix="jasyl-bench-tiles-") as cache_folder:
                compare_http_sql(url, args.clients, args.rounds, Path(cache_folder))
        compare_sql_shapes(url)
    finally:
        engine_for(url).dispose()
        if created and not (args.keep or args.database):
            from bench.tiles_scale import drop_database

            drop_database(base, name)


if __name__ == "__main__":
    main()
