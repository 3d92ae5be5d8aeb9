"""Load test: a realistic mix against the production server, started and stopped by this script.

``python -m bench.load [--seconds 30] [--clients 16] [--max-requests 50000]``

It starts ``jasyl serve --production`` on a free loopback port against the configured database
(``DATABASE_URL``, with the demo data loaded: ``jasyl demo``), waits for ``/readyz``, then runs
client threads (keep-alive connections, like browsers) for a fixed time or request budget,
whichever ends first, and stops the server. Then it does the same against the development server
(``jasyl serve``, Flask's threaded server) as the baseline, and prints both.

The mix, by weight: map tiles at zooms 11–17 around the demo cities (60), plant cards as the map
shows them on a click (12), API reads of plants, species and OGC API items (14), a forester's edits
of plants in Astana through the JSON API, signed in with CSRF (8), and health probes (6). Every
answer other than the expected status counts as an error. Goal: no errors and tile p95 ≤ 100 ms.
Loopback only; the load generator shares the machine's cores with the server and PostgreSQL.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import text

from bench.tiles import CITIES, tile_of
from registry.config import load_settings
from registry.db import current_engine

JASYL = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "jasyl"
FORESTER = ("forester.astana@demo.jasyl.kz", "jasyl-demo-2025")
TILE_GOAL_MS = 100.0
WEIGHTS = {"tile": 60, "plant card": 12, "api read": 14, "forester edit": 8, "health": 6}
OK = {"tile": {200, 204, 304}, "forester edit": {200}}


@dataclass
class Results:
    """Latencies (seconds) and errors per kind of request, shared by the client threads."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    elapsed: float = 0.0
    revalidation: tuple[float, float] = (0.0, 0.0)

    def record(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if error:
                self.errors[kind].append(error)

    def take_ticket(self, budget: int) -> bool:
        with self.lock:
            self.sent += 1
            return self.sent <= budget


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# -- what to ask for ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Workload:
    """Ids and places taken from the database once, so every request names real records."""

    plant_ids: list[int]
    astana_plant_ids: list[int]
    points: list[tuple[float, float]]

    @classmethod
    def from_database(cls) -> Workload:
        with current_engine().connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)), "
                    "region_id = (SELECT id FROM regions WHERE iso_code = 'KZ-71') "
                    "FROM plants TABLESAMPLE SYSTEM (10) WHERE published LIMIT 4000"
                )
            ).all()
        if not rows:
            raise SystemExit("no plants in the database: run `jasyl demo` first")
        return cls([r[0] for r in rows], [r[0] for r in rows if r[3]], [(r[1], r[2]) for r in rows])

    def tile_path(self, rng: random.Random) -> str:
        lon, lat = rng.choice(CITIES)
        z = rng.randint(11, 17)
        t = tile_of(lon, lat, z)
        spread = max(1, 2 ** (z - 13))
        x, y = t.x + rng.randint(-spread, spread), t.y + rng.randint(-spread, spread)
        return f"/tiles/{rng.choice(['plants', 'plants', 'green_spaces'])}/{z}/{x}/{y}.pbf"

    def card_path(self, rng: random.Random) -> str:
        lon, lat = rng.choice(self.points)
        return "/api/v1/plants/at?" + urlencode({"lon": lon, "lat": lat, "z": 17})

    def read_path(self, rng: random.Random) -> str:
        lon, lat = rng.choice(self.points)
        bbox = f"{lon - 0.005},{lat - 0.005},{lon + 0.005},{lat + 0.005}"
        return rng.choice(
            [
                f"/api/v1/plants/{rng.choice(self.plant_ids)}",
                "/api/v1/species?"
                + urlencode({"search": rng.choice(["Ulmus", "береза", "Қайың"])}),
                "/ogc/collections/plants/items?" + urlencode({"bbox": bbox, "limit": 50}),
            ]
        )


# -- one client: a browser-like keep-alive connection ---------------------------------------------
class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                answer = self.connection.getresponse()
                data = answer.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()  # a keep-alive connection the server closed: reopen
                if attempt == 2:
                    raise
        for cookie in answer.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return answer.status, data, answer

    def sign_in(self, email: str, password: str) -> str:
        """Sign in through the form like a browser; returns the CSRF token for API writes."""
        _, page, _ = self.request("GET", "/login")
        match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        if not match:
            raise RuntimeError("no CSRF token on /login")
        token = match.group(1).decode()
        form = urlencode({"email": email, "password": password, "csrf_token": token}).encode()
        status, _, _ = self.request(
            "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 302:
            raise RuntimeError(f"sign-in failed with {status}")
        return token


def run_client(
    port: int, work: Workload, results: Results, until: float, budget: int, seed: int, edit_ids
) -> None:
    rng = random.Random(seed)
    client = Client(port)
    token = None
    if edit_ids:
        token = client.sign_in(*FORESTER)
    kinds = [k for k in WEIGHTS if k != "forester edit" or edit_ids]
    weights = [WEIGHTS[k] for k in kinds]
    while time.monotonic() < until and results.take_ticket(budget):
        kind = rng.choices(kinds, weights)[0]
        start = time.perf_counter()
        try:
            error = one_request(client, kind, work, rng, token, edit_ids)
        except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops the run
            error = f"{type(exc).__name__}: {exc}"
        results.record(kind, time.perf_counter() - start, error)


def one_request(client: Client, kind: str, work: Workload, rng, token, edit_ids) -> str | None:
    if kind == "tile":
        path = work.tile_path(rng)
    elif kind == "plant card":
        path = work.card_path(rng)
    elif kind == "api read":
        path = work.read_path(rng)
    elif kind == "health":
        path = rng.choice(["/healthz", "/readyz"])
    else:
        return forester_edit(client, rng, token, edit_ids)
    status, _, _ = client.request("GET", path)
    return None if status in OK.get(kind, {200}) else f"{status} GET {path}"


def forester_edit(client: Client, rng, token: str, edit_ids: list[int]) -> str | None:
    """Read a plant, then change its condition at the version read (optimistic locking)."""
    plant_id = rng.choice(edit_ids)
    status, body, _ = client.request("GET", f"/api/v1/plants/{plant_id}")
    if status != 200:
        return f"{status} GET /api/v1/plants/{plant_id}"
    version = json.loads(body)["version"]
    change = json.dumps({"version": version, "condition": rng.randint(1, 3)}).encode()
    headers = {"Content-Type": "application/json", "X-CSRFToken": token}
    status, body, _ = client.request("PATCH", f"/api/v1/plants/{plant_id}", change, headers)
    return None if status == 200 else f"{status} PATCH /api/v1/plants/{plant_id}: {body[:200]!r}"


# -- the servers ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(production: bool, port: int) -> subprocess.Popen:
    env = {**os.environ, "JASYL_SECRET_KEY": secrets.token_hex(32), "JASYL_ACCESS_LOG": "/dev/null"}
    command = [str(JASYL), "serve", "--port", str(port)]
    if production:
        command.append("--production")
    server = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", "/readyz")
            if probe.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit("the server did not become ready in 60 s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def drive(production: bool, work: Workload, seconds: float, clients: int, budget: int) -> Results:
    port = free_port()
    server = start_server(production, port)
    results = Results()
    try:
        # Editors each own their plants, so their edits never collide (a 409 would be an error).
        editors = 2
        shares = [work.astana_plant_ids[i::editors] for i in range(editors)]
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(
                target=run_client,
                args=(port, work, results, until, budget, n, shares[n] if n < editors else []),
            )
            for n in range(clients)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results.elapsed = time.monotonic() - started
        results.revalidation = revalidation(port, work)
    finally:
        stop_server(server)
    return results


def revalidation(port: int, work: Workload, tiles: int = 200) -> tuple[float, float]:
    """Median ms of a full tile answer and of its revalidation (ETag → 304), one client, idle.

    What an HTTP cache in front saves: a fresh hit never reaches the app; a stale one only asks
    for the layer's version.
    """
    rng = random.Random(7)
    client = Client(port)
    full, revalidated = [], []
    for _ in range(tiles):
        path = work.tile_path(rng)
        start = time.perf_counter()
        status, _, answer = client.request("GET", path)
        full.append(time.perf_counter() - start)
        etag = answer.headers.get("ETag")
        if status == 200 and etag:
            start = time.perf_counter()
            client.request("GET", path, headers={"If-None-Match": etag})
            revalidated.append(time.perf_counter() - start)
    return statistics.median(full) * 1000, statistics.median(revalidated or [0.0]) * 1000


def report(title: str, results: Results) -> dict[str, float]:
    total = sum(len(v) for v in results.latencies.values())
    errors = sum(len(v) for v in results.errors.values())
    print(
        f"== {title}: {total:,} requests in {results.elapsed:.1f} s = "
        f"{total / results.elapsed:,.0f} req/s, {errors} errors"
    )
    print(
        f"   {'kind':14} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'errors':>7}"
    )
    for kind in WEIGHTS:
        samples = results.latencies.get(kind, [])
        if not samples:
            continue
        print(
            f"   {kind:14} {len(samples):9,} {len(samples) / results.elapsed:8.1f} "
            f"{statistics.median(samples) * 1000:8.1f} {percentile(samples, 95) * 1000:8.1f} "
            f"{percentile(samples, 99) * 1000:8.1f} {len(results.errors.get(kind, [])):7}"
        )
    for kind, messages in results.errors.items():
        for message in sorted(set(messages))[:3]:
            print(f"   error ({kind}): {message}")
    full, revalidated = results.revalidation
    print(f"   idle tile: {full:.1f} ms full, {revalidated:.1f} ms revalidated by ETag (304)")
    tiles = results.latencies.get("tile", [0.0])
    return {
        "rps": total / results.elapsed,
        "tile_p95": percentile(tiles, 95) * 1000,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each run")
    parser.add_argument("--clients", type=int, default=16, help="concurrent client threads")
    parser.add_argument("--max-requests", type=int, default=50_000, help="request budget per run")
    parser.add_argument("--no-baseline", action="store_true", help="skip the development server")
    args = parser.parse_args()
    settings = load_settings()
    work = Workload.from_database()
    print(
        f"{os.cpu_count()} cores; production: {settings.workers} gunicorn workers × "
        f"{settings.threads} threads; {args.clients} clients for {args.seconds:.0f} s "
        f"(≤ {args.max_requests:,} requests); {len(work.plant_ids):,} sampled plants"
    )
    ours = report(
        "jasyl serve --production (gunicorn)",
        drive(True, work, args.seconds, args.clients, args.max_requests),
    )
    verdict = "met" if ours["errors"] == 0 and ours["tile_p95"] <= TILE_GOAL_MS else "NOT met"
    print(
        f"goal (0 errors, tile p95 ≤ {TILE_GOAL_MS:.0f} ms): {verdict} "
        f"({ours['errors']} errors, tile p95 {ours['tile_p95']:.1f} ms)"
    )
    if not args.no_baseline:
        base = report(
            "jasyl serve (Flask development server, baseline)",
            drive(False, work, args.seconds, args.clients, args.max_requests),
        )
        print(
            f"throughput ratio vs baseline: {ours['rps'] / base['rps']:.2f}×; tile p95 "
            f"{base['tile_p95']:.1f} ms → {ours['tile_p95']:.1f} ms"
        )


if __name__ == "__main__":
    main()
