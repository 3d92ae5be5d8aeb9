"""Load test: locust drives a realistic mix against the production server with a read replica.

``python -m bench.load [--seconds 120] [--rounds 3] [--viewers 20] [--api-readers 4]
[--foresters 4] [--import-every 30] [--spawn-rate 5] [--prepare] [--strangers] [--tiny]``

Set-up (outside the timing; ``--prepare`` does only this, for running it before taking the
benchmark lock): a private PostGIS primary under ``/tmp/jasyl-bench-load`` (``JASYL_LOAD_HOME``;
fsync on, kept between runs) with the demo data set (``jasyl demo``, 135k plants), copied once
into a pristine database from which every run starts again (the edits and imports of the run
before would otherwise weigh on the next), and the users' plants drawn by a repeatable sample
(``TABLESAMPLE SYSTEM … REPEATABLE``), so that runs compare. Each run adds a fresh hot
standby made by ``pg_basebackup -R`` streaming from it. The tile cache lives on disk in that
folder, emptied at the start of each run (a RAM folder would not be what production has: the
run refuses one). ``jasyl serve --production`` (granian,
``2 × cores + 1`` workers × 4 threads) runs on a loopback port against the primary with
``JASYL_REPLICA_URL`` naming the standby, so tiles and map reads come from the replica and every
write goes to the primary.

The users (``bench/locustfile.py``, run by locust 2.47 headless in a subprocess for a fixed
time): map viewers panning and zooming at z12–z16 with think time (bursts of tiles, six at a
time, a browser cache that honours max-age and revalidates with If-None-Match, half of them
returning with a stale cache), plant card clicks, API and OGC reads, foresters editing plants of
their own region (signed in, CSRF, version for optimistic locking) and checking that the map
tile shows their edit at once (read-your-writes through the replica), and one survey import
(a generated CSV of new plants) uploaded every ``--import-every`` seconds.

Two configurations of the same mix: the baseline renders every tile (``JASYL_TILE_CACHE=off``;
ETags and 304s on), the candidate keeps rendered tiles on disk under their data version
(``gis.tile_cache``; the folder outlives restarts, as it does in production). Each gets
``--seconds`` of steady state in ``--rounds`` slices against a freshly started server, the
slices alternating (baseline, candidate, baseline, …), so that a change in whatever else the
machine runs weighs on both alike; the raw times of a configuration's slices are pooled into
exact percentiles. Each slice's ramp-up (the fresh server while all users arrive at once, and
``WARM_SECONDS`` after) is reported on a line of its own, its errors counted all the same. For
each: throughput, p50/p95/p99 and errors per request type, and the replica's lag sampled every
half second from ``pg_stat_replication`` (``replay_lag``, bytes not yet replayed) and
``pg_last_xact_replay_timestamp()``.
Goal: 0 errors and tile p95 ≤ 100 ms under the mix. Loopback only; locust, the server and both
PostgreSQL servers share the machine's cores.

``--tiny`` runs the whole thing in seconds, figures meaningless (``tests/test_benchmarks_run.py``,
so that it does not rot): its own primary in ``tiny/`` under the folder, the demo at 1 %, every
sampled plant, a few users for a few seconds, one slice of each configuration.

``--strangers`` compares instead the quiet mix (tiles cached) with the same mix under hostile
anonymous traffic (``bench/locustfile.py``: refused staff pages at 50 a second, three whole-layer
XLSX downloads at once, search misses), slices alternating the same way. Goals under the
hostile traffic: a forester's save p95 ≤ 250 ms, tile p95 ≤ 100 ms, and the audit log growing
by at most a few rows a minute from anonymous traffic (counted in the primary before and after
each slice). The public's whole-layer XLSX is a file made per published version at the
lowest CPU priority (``registry.opendata.public_files``): the first hostile slice of a run makes
it (its downloads meanwhile answered 503), later downloads get it, or an older one said so while
the next is made; the exporters' counts say how many of each.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy import text

from bench.harness import load_average, machine
from registry import migrate
from registry.cluster import LocalCluster
from registry.config import load_settings
from registry.db import engine_for
from tests.serving import PrivateCluster, ProductionServer, free_port, start_replica

# Each slice starts a fresh server while every user arrives at once (map pages, return visits'
# tile bursts, sign-ins): that ramp-up and this many seconds after it are reported apart from
# the steady state, as locust's ``--reset-stats`` would; their errors count all the same.
WARM_SECONDS = 10.0

PROJECT = Path(__file__).resolve().parent.parent
VENV = PROJECT / ".venv" / "bin"
HOME = Path(os.environ.get("JASYL_LOAD_HOME", "/tmp/jasyl-bench-load"))  # noqa: S108
TILE_GOAL_MS = 100.0
SAVE_GOAL_MS = 250.0
PRISTINE = "jasyl_bench_pristine"  # the demo data as loaded: every run starts from a copy
SAMPLE_SEED = 9  # the users' plants: the same sample every run
TINY = {  # --tiny: seconds in all, figures meaningless
    "seconds": 4.0,
    "rounds": 1,
    "viewers": 2,
    "api_readers": 1,
    "foresters": 2,
    "import_every": 3.0,
    "import_rows": 5,
    "spawn_rate": 10.0,
    "warm_seconds": 1.0,
    "sample_percent": 100.0,
    "demo_scale": 0.01,
    "workers": 2,  # fewer to start on a busy CI machine (production: 2 × cores + 1)
}
ANONYMOUS_AUDIT_GOAL = 5.0  # rows a minute: "a few"
STRANGER_USERS = 5 + 3 + 2  # bench/locustfile.py: staff-page probers, exporters, search missers
SAVE = "forester edit: PATCH"
PASSWORD = "jasyl-demo-2025"
FORESTERS = (("forester.astana@demo.jasyl.kz", "KZ-71"), ("forester.almaty@demo.jasyl.kz", "KZ-75"))
CITIES = [(71.4304, 51.1282), (76.9286, 43.2389)]  # Astana, Almaty: where the demo's plants are


# -- the database: a private primary with the demo data, and a streaming replica ---------------
def primary_cluster(home: Path) -> PrivateCluster:
    """The bench's own primary (fsync on, unlike the tests' throw-away clusters), started."""
    home.mkdir(parents=True, exist_ok=True)
    primary = PrivateCluster(home=home, port=free_port())
    env = {"JASYL_HOME": str(home), "JASYL_PG_PORT": str(primary.port)}
    primary.cluster = LocalCluster(load_settings(env))
    primary.up()
    return primary


def prepare(primary: PrivateCluster, demo_scale: float = 1.0) -> str:
    """The bench database as the last run found it: copied again from the pristine database,
    migrated, and (the first time, a few minutes) loaded with the demo data and copied into a
    new pristine database; after a new migration, the pristine copy is taken again."""
    url = primary.url()
    pristine = has_database(primary, PRISTINE)
    if pristine:
        primary.sql("postgres", 'DROP DATABASE IF EXISTS "jasyl" WITH (FORCE)')
        primary.sql("postgres", f'CREATE DATABASE "jasyl" TEMPLATE "{PRISTINE}"')
    before = schema_version(url)
    migrate.upgrade(url)
    with engine_for(url).connect() as connection:
        plants = connection.execute(text("SELECT count(*) FROM plants")).scalar()
    if not plants:
        started = time.monotonic()
        print("loading the demo data set into the bench primary (once) …", flush=True)
        subprocess.run(
            [str(VENV / "jasyl"), "demo", "--scale", str(demo_scale)],
            env={**os.environ, "DATABASE_URL": url},
            check=True,
        )
        print(f"  done in {time.monotonic() - started:.0f} s", flush=True)
    if not pristine or not plants or schema_version(url) != before:
        engine_for(url).dispose()  # a template may have no one connected
        primary.sql("postgres", f'DROP DATABASE IF EXISTS "{PRISTINE}"')
        primary.sql("postgres", f'CREATE DATABASE "{PRISTINE}" TEMPLATE "jasyl"')
        print(f"the bench database is kept as {PRISTINE}: every run starts from a copy of it")
    else:
        print(f"the bench database: a fresh copy of {PRISTINE} (runs compare)")
    return url


def has_database(primary: PrivateCluster, name: str) -> bool:
    dsn = f"host=127.0.0.1 port={primary.port} user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return found is not None


def schema_version(url: str) -> str | None:
    """The Alembic revision of the bench database (None before the first migration)."""
    with engine_for(url).connect() as connection:
        exists = connection.execute(text("SELECT to_regclass('alembic_version')")).scalar()
        if exists is None:
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def tile_cache_on_disk(home: Path) -> Path:
    """An empty tile cache folder under ``home``: on disk as in production, never a RAM folder
    (tmpfs, ramfs), whose reads and writes would flatter the cached run."""
    cache = home / "tile-cache"
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    kind = filesystem(cache)
    if kind in {"tmpfs", "ramfs"}:
        raise SystemExit(
            f"the tile cache {cache} is on {kind}, in memory: set JASYL_LOAD_HOME to a folder "
            "on disk"
        )
    print(f"tile cache: {cache} ({kind})")
    return cache


def filesystem(path: Path) -> str:
    """The file system type of the mount holding ``path`` (``/proc/mounts``)."""
    best, kind = "", "unknown"
    for line in Path("/proc/mounts").read_text().splitlines():
        _, mount, fstype, *_ = line.split()
        if str(path.resolve()).startswith(mount.rstrip("/") + "/") and len(mount) > len(best):
            best, kind = mount, fstype
    return kind


def plan(url: str, args: argparse.Namespace) -> dict:
    """Real ids and places for the users: reads anywhere, edits in each forester's region. The
    same plants every run: a repeatable sample of the same (reset) database, in id order."""
    sample = text(
        "SELECT p.id, ST_X(p.geom), ST_Y(p.geom), r.iso_code FROM plants p "
        "TABLESAMPLE SYSTEM (CAST(:percent AS real)) REPEATABLE (:seed) "
        "JOIN regions r ON r.id = p.region_id "
        "WHERE p.published AND GeometryType(p.geom) = 'POINT' ORDER BY p.id"
    )
    with engine_for(url).connect() as connection:
        params = {"percent": args.sample_percent, "seed": SAMPLE_SEED}
        everywhere = connection.execute(sample, params).all()
    if not everywhere:
        raise SystemExit("no plants in the bench database")
    # Blocks hold one city after another: shuffle, so every region has its share of the sample.
    rows = random.Random(SAMPLE_SEED).sample(everywhere, min(4000, len(everywhere)))
    accounts = []
    for n in range(args.foresters):
        email, region = FORESTERS[n % len(FORESTERS)]
        # The k foresters of a region split its plants, so no two ever edit the same one.
        k = len(range(n % len(FORESTERS), args.foresters, len(FORESTERS)))
        own = [r for r in rows if r[3] == region][n // len(FORESTERS) :: k][:200]
        accounts.append(
            {"email": email, "plants": [{"id": r[0], "lon": r[1], "lat": r[2]} for r in own]}
        )
    return {
        "viewers": args.viewers,
        "api_readers": args.api_readers,
        "foresters": accounts,
        "importer": FORESTERS[0][0],
        "import_region": FORESTERS[0][1],
        "import_every": args.import_every,
        "import_rows": args.import_rows,
        "password": PASSWORD,
        "cities": CITIES,
        "points": [(r[1], r[2]) for r in rows],
        "import_points": [(r[1], r[2]) for r in rows if r[3] == FORESTERS[0][1]],
        "plant_ids": [r[0] for r in rows],
    }


@dataclass
class LagSamples:
    """The replica's lag, sampled from both ends while the load runs."""

    replay_lag_ms: list[float] = field(default_factory=list)  # pg_stat_replication.replay_lag
    bytes_behind: list[int] = field(default_factory=list)  # sent by the primary, not replayed
    since_replay_s: list[float] = field(default_factory=list)  # now() - last replayed commit
    stop: threading.Event = field(default_factory=threading.Event)

    def watch(self, primary_port: int, replica_port: int) -> None:
        dsn = "host=127.0.0.1 port={} user=postgres dbname=jasyl"
        with (
            psycopg.connect(dsn.format(primary_port), autocommit=True) as primary,
            psycopg.connect(dsn.format(replica_port), autocommit=True) as replica,
        ):
            while not self.stop.wait(0.5):
                row = primary.execute(
                    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), "
                    "extract(epoch FROM replay_lag) * 1000 FROM pg_stat_replication"
                ).fetchone()
                if row is None:
                    continue
                self.bytes_behind.append(int(row[0] or 0))
                if row[1] is not None:
                    self.replay_lag_ms.append(float(row[1]))
                (since,) = replica.execute(
                    "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
                ).fetchone()
                if since is not None:
                    self.since_replay_s.append(float(since))


# -- runs: slices of each configuration, interleaved, pooled ------------------------------------
@dataclass
class Run:
    """One configuration's slices put together: raw samples, errors, counts, lag, load."""

    title: str
    env: dict[str, str]
    samples: list[tuple[str, float, bool]] = field(default_factory=list)  # name, ms, failed
    ramp_up: list[tuple[str, float, bool]] = field(default_factory=list)  # the same, ramp-up
    failures: list[dict] = field(default_factory=list)
    exceptions: list[dict] = field(default_factory=list)  # a task that raised: an error too
    counts: dict[str, int] = field(default_factory=dict)
    lag: LagSamples = field(default_factory=LagSamples)
    seconds: float = 0.0
    loads: list[float] = field(default_factory=list)  # 1-minute load average around each slice
    strangers: bool = False  # hostile anonymous traffic joins the mix
    audit_rows: dict[str, float] = field(  # rows added while the slices ran, and their minutes
        default_factory=lambda: {"anonymous": 0, "all": 0, "minutes": 0.0}
    )

    def times(self, name: str | None = None) -> list[float]:
        return [ms for n, ms, _ in self.samples if name is None or n == name]

    def errors(self) -> int:
        """Failed requests of the ramp-up too, and tasks that raised: every error counts."""
        failed = sum(1 for _, _, bad in self.samples + self.ramp_up if bad)
        return failed + sum(int(e["Count"]) for e in self.exceptions)


def drive(run: Run, urls: tuple[str, str], plan_path: Path, args) -> None:
    """One slice of ``run``: a fresh server, locust for the ramp-up (every user arriving, then
    ``WARM_SECONDS``) and ``--seconds / --rounds`` of steady state, the lag."""
    primary_url, replica_url = urls
    settings = load_settings()
    users = args.viewers + args.api_readers + args.foresters + 1
    users += STRANGER_USERS if run.strangers else 0
    seconds = int(args.seconds / args.rounds + users / args.spawn_rate + args.warm_seconds + 1)
    server = ProductionServer(
        primary_url,
        extra_env={"JASYL_REPLICA_URL": replica_url, "JASYL_ACCESS_LOG": "/dev/null", **run.env},
        workers=args.workers or settings.workers,
        threads=settings.threads,
    ).start(timeout=180)  # a busy machine (load 17) took over 60 s
    watcher = threading.Thread(target=run.lag.watch, args=(args.primary_port, args.replica_port))
    run.lag.stop.clear()
    out = Path(tempfile.mkdtemp(prefix="jasyl-locust-"))
    command = [
        str(VENV / "python"),  # locust as a module: a worktree's .venv has no locust script
        "-m",
        "locust",
        "-f",
        str(PROJECT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--host",
        server.url(""),
        "--csv",
        str(out / "run"),
        "--only-summary",
        "--loglevel",
        "ERROR",
    ]
    run.loads.append(load_average())
    audit_before, started = audit_counts(primary_url), time.monotonic()
    try:
        watcher.start()
        subprocess.run(
            command,
            env={
                **os.environ,
                "JASYL_LOAD_PLAN": str(plan_path),
                "JASYL_LOAD_RESULTS": str(out / "results.json"),
                "JASYL_LOAD_WARM_SECONDS": str(args.warm_seconds),
                "JASYL_LOAD_STRANGERS": "1" if run.strangers else "0",
            },
            cwd=PROJECT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=seconds + 120,
            check=False,
        )
    finally:
        run.lag.stop.set()
        watcher.join()
        run.loads.append(load_average())
        server.stop()
    audit_after = audit_counts(primary_url)
    for kind in ("anonymous", "all"):
        run.audit_rows[kind] += audit_after[kind] - audit_before[kind]
    run.audit_rows["minutes"] += (time.monotonic() - started) / 60
    results = json.loads((out / "results.json").read_text())
    run.samples += [(n, ms, bad) for n, ms, bad, steady in results["samples"] if steady]
    run.ramp_up += [(n, ms, bad) for n, ms, bad, steady in results["samples"] if not steady]
    for name, value in results["counts"].items():
        run.counts[name] = run.counts.get(name, 0) + value
    with open(out / "run_failures.csv", encoding="utf-8") as failures:  # noqa: PTH123
        run.failures += list(csv.DictReader(failures))
    with open(out / "run_exceptions.csv", encoding="utf-8") as exceptions:  # noqa: PTH123
        run.exceptions += list(csv.DictReader(exceptions))
    run.seconds += results["steady_seconds"]
    shutil.rmtree(out, ignore_errors=True)


def audit_counts(url: str) -> dict[str, int]:
    """Rows in the audit log: all, and those of the public (actor ``public``)."""
    with engine_for(url).connect() as connection:
        row = connection.execute(
            text("SELECT count(*) FILTER (WHERE actor = 'public'), count(*) FROM audit_log")
        ).one()
    return {"anonymous": row[0], "all": row[1]}


# -- the report -----------------------------------------------------------------------------------
def report(run: Run, warm_seconds: float = WARM_SECONDS) -> dict[str, float]:
    total = len(run.samples)
    print(
        f"== {run.title}: steady state, {total:,} requests in {run.seconds:.0f} s = "
        f"{total / run.seconds:.1f} req/s, {run.errors()} errors (1-minute load average "
        f"around its slices: {', '.join(f'{v:.1f}' for v in run.loads)})"
    )
    print(
        f"   {'request type':52} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'errors':>6}"
    )
    names = sorted({name for name, _, _ in run.samples})
    for name in [*names, None]:
        times = run.times(name)
        failed = sum(1 for n, _, bad in run.samples if bad and (name is None or n == name))
        print(
            f"   {(name or 'all requests')[:52]:52} {len(times):8,} "
            f"{len(times) / run.seconds:7.1f} {quantile(times, 50):7.0f} "
            f"{quantile(times, 95):7.0f} {quantile(times, 99):7.0f} {failed:6}"
        )
    for failure in run.failures[:5]:
        print(f"   error: {failure['Occurrences']} × {failure['Name']}: {failure['Error'][:150]}")
    for exception in run.exceptions[:3]:
        where = exception["Traceback"].strip().splitlines()[-2:]
        print(f"   error: {exception['Count']} × {exception['Message'][:100]} at {where}")
    print("   " + ", ".join(f"{k}: {v:,}" for k, v in run.counts.items()))
    ramp_tiles = [ms for name, ms, _ in run.ramp_up if name == "tile"]
    print(
        f"   ramp-up, left out above (fresh server, users arriving, then {warm_seconds:g} s): "
        f"{len(run.ramp_up):,} requests, {sum(1 for *_, bad in run.ramp_up if bad)} errors; "
        f"tile p50 {quantile(ramp_tiles, 50):.0f} ms, p95 {quantile(ramp_tiles, 95):.0f} ms"
    )
    lag = run.lag
    if lag.bytes_behind:
        print(
            f"   replica lag ({len(lag.bytes_behind)} samples): replay_lag p50 "
            f"{quantile(lag.replay_lag_ms, 50):.1f} ms, p95 {quantile(lag.replay_lag_ms, 95):.1f} "
            f"ms, max {max(lag.replay_lag_ms, default=0):.1f} ms; WAL not yet replayed p50 "
            f"{quantile(lag.bytes_behind, 50) / 1024:.1f} KiB, "
            f"max {max(lag.bytes_behind) / 1024:.1f} KiB; since last replayed commit p50 "
            f"{quantile(lag.since_replay_s, 50):.2f} s, "
            f"max {max(lag.since_replay_s, default=0):.2f} s"
        )
    audit = run.audit_rows
    minutes = max(audit["minutes"], 1e-9)
    print(
        f"   audit log over {audit['minutes']:.1f} min: {audit['anonymous']:,.0f} rows of the "
        f"public ({audit['anonymous'] / minutes:.1f}/min), {audit['all']:,.0f} in all "
        f"({audit['all'] / minutes:.1f}/min: the foresters' edits and imports)"
    )
    return {
        "rps": total / run.seconds,
        "errors": run.errors(),
        "tile_p95": quantile(run.times("tile"), 95),
        "tile_p50": quantile(run.times("tile"), 50),
        "save_p95": quantile(run.times(SAVE), 95),
        "anonymous_audit_per_min": audit["anonymous"] / minutes,
    }


def compare_strangers(quiet: dict[str, float], hostile: dict[str, float]) -> None:
    """The hostile run's goals, beside the quiet run's figures."""
    print(
        f"quiet → under strangers: forester save p95 {quiet['save_p95']:.0f} → "
        f"{hostile['save_p95']:.0f} ms (goal ≤ {SAVE_GOAL_MS:.0f}), tile p95 "
        f"{quiet['tile_p95']:.0f} → {hostile['tile_p95']:.0f} ms (goal ≤ {TILE_GOAL_MS:.0f}), "
        f"audit rows of the public {quiet['anonymous_audit_per_min']:.1f} → "
        f"{hostile['anonymous_audit_per_min']:.1f} a minute (goal ≤ {ANONYMOUS_AUDIT_GOAL:.0f}), "
        f"throughput {quiet['rps']:.1f} → {hostile['rps']:.1f} req/s"
    )
    met = (
        hostile["save_p95"] <= SAVE_GOAL_MS
        and hostile["tile_p95"] <= TILE_GOAL_MS
        and hostile["anonymous_audit_per_min"] <= ANONYMOUS_AUDIT_GOAL
    )
    print(f"goal under strangers: {'met' if met else 'NOT met'}")


def times(numerator: float, denominator: float) -> str:
    """A ratio, or why there is none: a short run may have asked for no tile at all."""
    if not numerator or not denominator:
        return "no ratio: a side has no samples"
    return f"{numerator / denominator:.2f}×"


def quantile(samples: list[float], p: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="time per configuration")
    parser.add_argument("--rounds", type=int, default=3, help="slices per configuration")
    parser.add_argument("--viewers", type=int, default=20, help="map viewers (weight)")
    parser.add_argument("--api-readers", type=int, default=4, help="API/OGC clients (weight)")
    parser.add_argument("--foresters", type=int, default=4, help="foresters editing")
    parser.add_argument("--import-every", type=float, default=30.0, help="seconds between imports")
    parser.add_argument("--import-rows", type=int, default=25, help="plants per imported survey")
    parser.add_argument("--spawn-rate", type=float, default=5.0, help="users arriving per second")
    parser.add_argument("--no-baseline", action="store_true", help="skip the uncached run")
    parser.add_argument("--prepare", action="store_true", help="only set up the bench database")
    parser.add_argument(
        "--strangers", action="store_true", help="quiet mix against the mix under hostile traffic"
    )
    parser.add_argument("--tiny", action="store_true", help="seconds in all, for CI (see above)")
    args = parser.parse_args()
    args.warm_seconds, args.sample_percent, args.demo_scale = WARM_SECONDS, 10.0, 1.0
    args.workers = None  # the production setting
    if args.tiny:
        vars(args).update(TINY)
    print(machine())
    home = HOME / "tiny" if args.tiny else HOME  # a tiny demo never stands in for the real one
    primary = primary_cluster(home)
    replica = None
    try:
        primary_url = prepare(primary, args.demo_scale)
        cache = tile_cache_on_disk(home)
        if args.prepare:
            return
        replica = start_replica(primary)
        args.primary_port, args.replica_port = primary.port, replica.port
        the_plan = plan(primary_url, args)
        plan_path = home / "plan.json"
        plan_path.write_text(json.dumps(the_plan))
        settings = load_settings()
        with engine_for(primary_url).connect() as connection:
            plants = connection.execute(text("SELECT count(*) FROM plants")).scalar()
        print(
            f"{os.cpu_count()} cores; granian {args.workers or settings.workers} workers × "
            f"{settings.threads} "
            f"threads; {plants:,} plants; primary + streaming replica (pg_basebackup); users: "
            f"{args.viewers} viewers, {args.api_readers} API readers, {args.foresters} "
            f"foresters, 1 importer ({args.import_rows} plants every {args.import_every:.0f} s); "
            f"{args.seconds:.0f} s per configuration in {args.rounds} alternating slices"
        )
        urls = (primary_url, replica.url())
        candidate = Run(
            "candidate: tiles cached on disk by data version", {"JASYL_TILE_CACHE": cache}
        )
        runs = [candidate]
        if args.strangers:
            candidate.title = "quiet: the usual mix, tiles cached"
            hostile = Run(
                "under strangers: the same mix + hostile anonymous traffic",
                {"JASYL_TILE_CACHE": cache},
                strangers=True,
            )
            runs = [candidate, hostile]
        elif not args.no_baseline:
            baseline = Run(
                "baseline: every tile rendered (JASYL_TILE_CACHE=off)", {"JASYL_TILE_CACHE": "off"}
            )
            runs = [baseline, candidate]
        # Slices alternate, so a change in what else the machine runs weighs on both alike.
        for _ in range(args.rounds):
            for run in runs:
                drive(run, urls, plan_path, args)
        figures = [report(run, args.warm_seconds) for run in runs]
        if args.strangers:
            compare_strangers(*figures)
            return
        ours = figures[-1]
        met = ours["errors"] == 0 and ours["tile_p95"] <= TILE_GOAL_MS
        print(
            f"goal (0 errors, tile p95 ≤ {TILE_GOAL_MS:.0f} ms): {'met' if met else 'NOT met'} "
            f"({ours['errors']} errors, tile p95 {ours['tile_p95']:.0f} ms)"
        )
        if len(figures) == 2:
            base = figures[0]
            print(
                f"ratio vs baseline (tile cache off): tile p95 {base['tile_p95']:.0f} → "
                f"{ours['tile_p95']:.0f} ms ({times(base['tile_p95'], ours['tile_p95'])}), "
                f"tile p50 {base['tile_p50']:.0f} → {ours['tile_p50']:.0f} ms "
                f"({times(base['tile_p50'], ours['tile_p50'])}), "
                f"throughput {times(ours['rps'], base['rps'])}"
            )
    finally:
        for url in (primary.url(), replica.url() if replica else None):
            if url:
                engine_for(url).dispose()
        if replica is not None:
            replica.destroy()
        primary.cluster.down()


if __name__ == "__main__":
    main()
