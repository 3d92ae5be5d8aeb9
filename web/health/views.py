"""Health and readiness, for monitors and load balancers; public, cheap, never cached.

``/healthz`` is the deep check a monitor alerts on: the primary answers and its schema is at
the migrations' heads (a server started against an unmigrated database is unhealthy, not
"up"). ``/readyz`` is the light check a load balancer polls every few seconds: this worker can
get a pooled connection and run a query now; it also reports the read replica, if any, and how
far it lags, without failing when only the replica is down (reads then fall back to the primary).
Both answer 200 or 503 with a JSON body saying what is wrong.
"""

from __future__ import annotations

from functools import cache

from alembic.runtime.migration import MigrationContext
from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from registry import migrate
from registry.db import engine_for
from web.db import replica_state

bp = Blueprint("health", __name__)
NO_STORE = {"Cache-Control": "no-store"}


@cache
def _heads(url: str) -> frozenset[str]:
    """The migrations' heads: the scripts do not change while the server runs."""
    return frozenset(migrate.head_revisions(url))


def _answer(ok: bool, body: dict) -> tuple[Response, int, dict]:
    body = {"status": "ok" if ok else "unavailable", **body}
    return jsonify(body), 200 if ok else 503, NO_STORE


def _first_line(exc: Exception) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(exc).__name__])[0]


@bp.get("/healthz")
def healthz():
    url = current_app.config["DATABASE_URL"]
    try:
        with engine_for(url).connect() as connection:
            connection.execute(text("SELECT 1"))
            applied = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        return _answer(False, {"database": f"unreachable: {_first_line(exc)}"})
    heads = _heads(url)
    if applied != heads:
        return _answer(
            False,
            {
                "database": "reachable",
                "schema": f"not current: at {sorted(applied) or 'nothing'}, "
                f"migrations reach {sorted(heads)}; run `jasyl db migrate`",
            },
        )
    return _answer(True, {"database": "reachable", "schema": "current"})


@bp.get("/readyz")
def readyz():
    try:
        with engine_for(current_app.config["DATABASE_URL"]).connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return _answer(False, {"database": f"unreachable: {_first_line(exc)}"})
    return _answer(True, {"database": "reachable", "replica": replica_state()})
