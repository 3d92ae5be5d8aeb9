"""The thinnest Python HTTP tile server there is, so that ``bench.tiles`` can show what any
Python serving tier reaches on the machine it runs on, next to what ours reaches.

It is granian's native async interface (RSGI: no WSGI, no thread hand-offs), an async psycopg
pool, and the one statement our server runs for a public tile (the tile and its version,
``gis.tiles.versioned_sql``) — and nothing else: no Flask, no sign-in, no access log, no disk
cache, no ``If-None-Match``, no rebuilds. Whatever our server measures against the tile SQL run
directly is bounded by what this measures in the same turns; when this one stays under a goal,
the goal is out of reach of the serving code on that machine, whatever the code does.

Not part of the product: it serves only the public's unfiltered tiles, and only for the benchmark.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from psycopg_pool import AsyncConnectionPool
from sqlalchemy.engine import make_url

from gis.tiles import LAYERS, TileAddress, tile_query, versioned_sql
from registry.db import SERIAL_OPTIONS
from web.tiles.public import TILE_PATH
from web.tiles.views import MVT

PROJECT = Path(__file__).resolve().parent.parent
URL_VARIABLE = "JASYL_BENCH_BARE_URL"
CONNECTIONS = 4  # a worker's pool: as many as our server's serving threads
PARAMETER = re.compile(r"(?<![:\w]):(\w+)")  # SQLAlchemy's ``:name``, not a ``::cast``


@cache
def psycopg_sql(query: str) -> str:
    """``query`` with its tile version, in psycopg's ``%(name)s`` parameter style."""
    return PARAMETER.sub(r"%(\1)s", versioned_sql(query))


class BareTiles:
    """An RSGI application answering ``/tiles/<layer>/<z>/<x>/<y>.pbf`` for the public."""

    def __rsgi_init__(self, loop) -> None:
        self.pool = AsyncConnectionPool(
            os.environ[URL_VARIABLE],
            min_size=CONNECTIONS,
            max_size=CONNECTIONS,
            open=False,
            kwargs={"options": SERIAL_OPTIONS, "prepare_threshold": 0, "autocommit": True},
        )
        loop.run_until_complete(self.pool.open(wait=True))

    async def __rsgi__(self, scope, protocol) -> None:
        match = TILE_PATH.fullmatch(scope.path)
        if match is None or match["layer"] not in LAYERS:
            protocol.response_empty(404, [])
            return
        layer = match["layer"]
        tile = TileAddress(int(match["z"]), int(match["x"]), int(match["y"]))
        query, params = tile_query(layer, tile, internal=False)
        async with self.pool.connection() as connection:
            cursor = await connection.execute(psycopg_sql(query), {**params, "layer": layer})
            _, version, body, _ = await cursor.fetchone()
        headers = [("ETag", f'"{layer}-{version}"'), ("Cache-Control", "public, max-age=300")]
        if body:
            protocol.response_bytes(200, [*headers, ("Content-Type", MVT)], bytes(body))
        else:
            protocol.response_empty(204, headers)


app = BareTiles()


@contextmanager
def bare_server(database_url: str, workers: int, timeout: float = 60.0) -> Iterator[int]:
    """This server (``workers`` granian processes) on a free loopback port, given to the block."""
    from tests.serving import free_port

    port = free_port()
    libpq_url = make_url(database_url).set(drivername="postgresql")
    env = {
        **os.environ,
        URL_VARIABLE: libpq_url.render_as_string(hide_password=False),
        "PYTHONPATH": str(PROJECT),
    }
    command = [sys.executable, "-m", "granian", "--interface", "rsgi", "--no-ws"]
    command += ["--workers", str(workers), "--port", str(port), "bench.tiles_ceiling:app"]
    with tempfile.NamedTemporaryFile(prefix="jasyl-bare-tiles-", suffix=".log") as log:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=PROJECT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while not _ready(Path(log.name), workers, port):
                if time.monotonic() > deadline or process.poll() is not None:
                    output = Path(log.name).read_text(errors="replace")
                    raise RuntimeError(f"the bare tile server did not start: {output}")
                time.sleep(0.2)
            yield port
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)


def _ready(log: Path, workers: int, port: int) -> bool:
    """Every worker has started (granian answers as soon as the first one has) and answers."""
    from tests.serving import http_get

    if log.read_text(errors="replace").count("Started worker") < workers:
        return False
    try:
        return http_get(f"http://127.0.0.1:{port}/")[0] == 404
    except OSError:
        return False
