"""``jasyl serve``: the web app, with Flask's server for development or granian in production.

Production runs granian (a Rust HTTP server) with WSGI workers: the HTTP work of a request
(parsing, keep-alive, writing the answer) is done in Rust outside the GIL, and Python only runs
the app. For map tiles, where a request is little more than its SQL, that cuts the server's
own CPU: a z10 tile cost the server 0.92 ms against 1.92 ms under gunicorn's threaded workers
(z14: 1.6–1.9 against 2.38 ms), a trivial WSGI app 0.13 ms against 0.51 ms a request (CPU from
``/proc``; ``docs/scaling.md``).
"""

from __future__ import annotations

import copy
import os
from typing import Any

import click

from registry.config import DEV_SECRET_KEY, Settings, load_settings

# One access-log line per request: time, client, request, status, milliseconds, user agent.
ACCESS_LOG_FORMAT = (
    '[%(time)s] %(addr)s "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).1fms '
    '"%(header{user-agent})s"'
)
# Workers are replaced now and then, one at a time, so slow leaks never accumulate over months.
WORKER_LIFETIME_SECONDS = 24 * 3600
# Seconds a stopping worker has to finish its requests before it is killed.
GRACEFUL_SECONDS = 30


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--debug", is_flag=True, help="Reload on code changes, show tracebacks.")
@click.option(
    "--production",
    is_flag=True,
    help="Serve with granian (workers from JASYL_WORKERS or the cores, a pool per worker, "
    "access log); needs JASYL_SECRET_KEY.",
)
@click.option("--workers", type=click.IntRange(1, 64), help="Override JASYL_WORKERS.")
@click.option("--threads", type=click.IntRange(1, 64), help="Override JASYL_THREADS.")
def serve(
    host: str, port: int, debug: bool, production: bool, workers: int | None, threads: int | None
) -> None:
    """Serve the map and the API (Flask's development server, JASYL_ENV=development, unless
    --production)."""
    if production:
        if debug:
            raise click.UsageError("--debug and --production exclude each other")
        serve_production(host, port, workers, threads)
        return
    from web.app import create_app

    # Flask's development server is a developer's: say so, which allows the development key.
    os.environ.setdefault("JASYL_ENV", "development")
    app = create_app()
    click.echo(f"Jasyl is serving on http://{host}:{port}")
    app.run(host=host, port=port, debug=debug, use_reloader=debug)


def serve_production(host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Check the settings production needs, then hand over to granian's main process."""
    os.environ["JASYL_PRODUCTION"] = "1"
    if workers:
        os.environ["JASYL_WORKERS"] = str(workers)
    if threads:
        os.environ["JASYL_THREADS"] = str(threads)
    settings = load_settings()
    if not settings.secret_key or settings.secret_key == DEV_SECRET_KEY:
        raise click.ClickException(
            "JASYL_SECRET_KEY is not set: production mode signs sessions with it; set it to a "
            "long random value, e.g. python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    from granian import Granian

    click.echo(
        f"Jasyl (production) on http://{host}:{port}: {settings.workers} workers × "
        f"{settings.threads} threads, {settings.pool_size} pooled connections per worker"
    )
    Granian(**granian_options(host, port, settings)).serve()


def granian_options(host: str, port: int, settings: Settings) -> dict[str, Any]:
    """granian's settings: WSGI workers, each building its own app, engines and pools in its
    own process, running ``threads`` requests at once (one per pooled connection)."""
    from granian.constants import HTTPModes, Interfaces

    return {
        "target": "web.app:create_app",
        "factory": True,
        "interface": Interfaces.WSGI,
        "address": host,
        "port": port,
        "http": HTTPModes.http1,  # behind a proxy, as the README's deployment has it
        "websockets": False,
        "workers": settings.workers,
        "blocking_threads": settings.threads,
        "log_access": True,
        "log_access_format": ACCESS_LOG_FORMAT,
        "log_dictconfig": logging_config(settings.access_log),
        "respawn_failed_workers": True,  # a worker that dies (killed, out of memory) comes back
        "workers_lifetime": WORKER_LIFETIME_SECONDS,
        "workers_kill_timeout": GRACEFUL_SECONDS,
    }


def logging_config(access_log: str) -> dict[str, Any] | None:
    """granian's own logging (``granian.log.LOGGING_CONFIG``, to standard output), with the
    access log in a file when one is named."""
    if access_log == "-":
        return None
    from granian.log import LOGGING_CONFIG

    handlers = copy.deepcopy(LOGGING_CONFIG["handlers"])
    handlers["access"] = {
        "formatter": "access",
        "class": "logging.FileHandler",
        "filename": access_log,
    }
    return {"handlers": handlers}  # granian lays it over its own configuration


commands = [serve]
