"""``jasyl serve``: the web app, with Flask's server for development or gunicorn in production."""

from __future__ import annotations

import os
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from registry.config import DEV_SECRET_KEY, load_settings

# One access-log line per request: who, what, status, bytes, and the time taken in microseconds.
ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(B)s %(D)sus "%(a)s"'


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--debug", is_flag=True, help="Reload on code changes, show tracebacks.")
@click.option(
    "--production",
    is_flag=True,
    help="Serve with gunicorn (workers from JASYL_WORKERS or the cores, a pool per worker, "
    "access log); needs JASYL_SECRET_KEY.",
)
@click.option("--workers", type=click.IntRange(1, 64), help="Override JASYL_WORKERS.")
@click.option("--threads", type=click.IntRange(1, 64), help="Override JASYL_THREADS.")
def serve(
    host: str, port: int, debug: bool, production: bool, workers: int | None, threads: int | None
) -> None:
    """Serve the map and the API."""
    if production:
        if debug:
            raise click.UsageError("--debug and --production exclude each other")
        serve_production(host, port, workers, threads)
        return
    from web.app import create_app

    app = create_app()
    click.echo(f"Jasyl is serving on http://{host}:{port}")
    app.run(host=host, port=port, debug=debug, use_reloader=debug)


def serve_production(host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Check the settings production needs, then hand over to gunicorn's arbiter."""
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
    options = gunicorn_options(host, port, settings.workers, settings.threads, settings.access_log)
    click.echo(
        f"Jasyl (production) on http://{host}:{port}: {settings.workers} workers × "
        f"{settings.threads} threads, {settings.pool_size} pooled connections per worker"
    )
    JasylServer(options).run()


def gunicorn_options(
    host: str, port: int, workers: int, threads: int, access_log: str
) -> dict[str, Any]:
    """gunicorn's settings: threaded workers, each loading its own app and connection pool."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "accesslog": access_log,
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "loglevel": "info",
        "timeout": 60,
        "graceful_timeout": 30,
        "keepalive": 5,
        # Recycle workers now and then so slow leaks never accumulate over months.
        "max_requests": 10_000,
        "max_requests_jitter": 1_000,
        "proc_name": "jasyl",
        "control_socket_disable": True,  # several servers may share a machine (tests, bench)
        "preload_app": False,  # each worker builds its own app, engines and pools after the fork
    }


class JasylServer(BaseApplication):
    """gunicorn driven from code, so ``jasyl serve --production`` needs no config file."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from web.app import create_app

        return create_app()


commands = [serve]
