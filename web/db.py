"""Database access for requests: one unit of work per request that needs one.

Reads that tolerate a few seconds' staleness (tiles, map layers, OGC API items) go through
``read_connection``, which uses the streaming replica named by ``JASYL_REPLICA_URL`` when there is
one. Writes always go to the primary through ``request_session``; after a write, the client's
session remembers the primary's WAL position, and its reads stay on the primary until the replica
has replayed that far (read-your-writes). A replica that cannot be reached is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from flask import current_app, session
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from registry.db import engine_for, unit_of_work

WRITTEN_LSN = "jasyl_written_lsn"
CURRENT_LSN = text("SELECT pg_current_wal_insert_lsn()::text")
WROTE = text("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
REPLAYED_PAST = text("SELECT coalesce(pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn), false)")
REPLICA_LAG = text(
    "SELECT pg_is_in_recovery(), "
    "coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)"
)


@contextmanager
def request_session() -> Iterator[Session]:
    with unit_of_work(current_app.config["DATABASE_URL"]) as work:
        yield work
        # Only a transaction that wrote has an id; reads (loading the user) do not count.
        wrote = bool(current_app.config.get("REPLICA_URL")) and work.execute(WROTE).scalar()
    if wrote:
        _remember_write()


def _remember_write() -> None:
    """Note where the primary's WAL stands after this client's write."""
    with engine_for(current_app.config["DATABASE_URL"]).connect() as connection:
        session[WRITTEN_LSN] = connection.execute(CURRENT_LSN).scalar()


@contextmanager
def read_connection(serial: bool = False, config: Mapping | None = None) -> Iterator[Connection]:
    """A plain connection for read-only SQL (tiles, GeoJSON), from the replica when it may be;
    ``serial`` ones (map tiles) plan without parallel workers or JIT (``registry.db``).

    ``config`` (an app's config) serves a request outside Flask's request context, one without
    a session (``web.tiles.public``): it has written nothing, so the replica always may serve it.
    """
    written = None
    if config is None:
        config, written = current_app.config, session.get(WRITTEN_LSN)
    connection = _replica_connection(config, serial, written)
    if connection is None:
        connection = engine_for(config["DATABASE_URL"], serial).connect()
    with connection:
        yield connection


def _replica_connection(config: Mapping, serial: bool, written: str | None) -> Connection | None:
    """A replica connection if one is configured, reachable and past this client's last write
    (``written``, a WAL position)."""
    url = config.get("REPLICA_URL")
    if not url:
        return None
    try:
        connection = engine_for(url, serial).connect()
    except OperationalError as exc:
        logging.getLogger(__name__).warning(
            "read replica unreachable, reading from the primary: %s", exc
        )
        return None
    if written is None:
        return connection
    try:
        caught_up = connection.execute(REPLAYED_PAST, {"lsn": str(written)}).scalar()
        connection.rollback()
    except OperationalError:
        caught_up = False
    if caught_up:
        session.pop(WRITTEN_LSN, None)
        return connection
    connection.close()
    return None


def replica_state() -> str:
    """``none``, ``unreachable`` or the replica's lag, for ``/readyz``."""
    url = current_app.config.get("REPLICA_URL")
    if not url:
        return "none"
    try:
        with engine_for(url).connect() as connection:
            recovering, lag = connection.execute(REPLICA_LAG).one()
    except OperationalError as exc:
        return f"unreachable, reads go to the primary ({str(exc.orig or exc).splitlines()[0]})"
    if not recovering:
        return "not a standby (pg_is_in_recovery() is false)"
    return f"streaming, last replayed transaction {float(lag):.1f} s ago"
