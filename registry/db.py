"""Engines, sessions and the one way to run a write: ``unit_of_work``.

Every service function takes the ``Session`` it works in; it never commits. The caller (a CLI
command, a request, an import) opens one unit of work, calls services, and the whole unit commits
or rolls back together, so nothing is ever half-written.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache

from sqlalchemy import DateTime, MetaData, create_engine, event, func
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from registry.config import load_settings
from registry.errors import DatabaseFull, DatabaseReadOnly, DatabaseUnavailable

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def pg_enum(kind: type[enum.Enum], name: str) -> SAEnum:
    """A PostgreSQL enum type storing the members' values (``"alive"``), not their names."""
    return SAEnum(kind, name=name, values_callable=lambda e: [m.value for m in e])


class Timestamped:
    """Creation and last-change times, set by the database clock."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# A pooled connection idle longer than this is pinged before it is lent again.
PING_AFTER_IDLE_SECONDS = 2.0
# Map tiles are many short queries of a few shapes: starting parallel workers (tens of ms per
# query on a busy 2-core server, measured) or JIT-compiling one costs more than it saves, and
# planning each (PostGIS weighs the envelope against the column statistics: 5–50 ms measured,
# often more than the execution) is wasted on a query that always takes the GiST index. Their
# own pool prepares each statement once and runs its generic plan, without either. A dense
# cell's plant dots made on the fly sort 30,000 rows of ~140 bytes: in memory, not on disk.
SERIAL_OPTIONS = (
    "-c max_parallel_workers_per_gather=0 -c jit=off -c plan_cache_mode=force_generic_plan "
    "-c work_mem=16MB"
)


def load_models() -> None:
    """Register every ORM model before the first query, whichever door the process came in by.

    A mapper resolves its foreign keys against ``Base.metadata`` when first used: a CLI command
    that imported only the planting models met ``plants.import_batch_id`` → ``import_batches``
    unknown (``NoReferencedTableError``). ``registry.models`` lists every model module; every
    engine is made here, so the web app, the CLI, workers and benches all load it.
    """
    import registry.models  # noqa: F401, PLC0415  (imports this module: not at the top)


@cache
def engine_for(url: str, serial: bool = False) -> Engine:
    """One pooled engine per URL for the life of the process (every model loaded first).

    The pool holds one connection per serving thread (``JASYL_THREADS``) and may lend
    ten more in a burst. A connection that sat idle is pinged before it is lent, and replaced if
    a database restart has cut it, so the app recovers by itself; one in steady use is not (a
    ping per request would cost a round trip on every tile; a connection cut mid-use is answered
    with 503 and the pool renewed by SQLAlchemy's disconnect handling).

    ``serial`` engines (a separate pool, for map tiles) prepare their statements and run them
    without parallel workers or JIT.
    """
    load_models()
    size = load_settings().pool_size
    connect_args = {"options": SERIAL_OPTIONS, "prepare_threshold": 0} if serial else {}
    engine = create_engine(url, pool_size=size, max_overflow=10, connect_args=connect_args)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def note_idle(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("a pooled connection was cut; taking a new one") from exc


def current_engine() -> Engine:
    return engine_for(load_settings().database_url)


@cache
def _session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(engine_for(url), expire_on_commit=False)


@contextmanager
def unit_of_work(url: str | None = None) -> Iterator[Session]:
    """Open a session whose work commits on success and rolls back on any error."""
    factory = _session_factory(url or load_settings().database_url)
    session = factory()
    try:
        yield session
        session.commit()
    except DBAPIError as exc:
        session.rollback()
        refusal = refusal_of(exc)
        if refusal is not None:
            raise refusal from exc
        if isinstance(exc, OperationalError):
            raise DatabaseUnavailable(unreachable_message(exc)) from exc
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# SQLSTATEs of a database that works but refuses to store anything more.
READ_ONLY_STATES = {"25006"}  # read_only_sql_transaction
DISK_FULL_STATES = {"53100"}  # disk_full


def refusal_of(exc: DBAPIError) -> DatabaseUnavailable | None:
    """A clear error for a read-only or full database; the unit of work was rolled back."""
    state = getattr(exc.orig, "sqlstate", None)
    if state in READ_ONLY_STATES:
        return DatabaseReadOnly(
            "the database is read-only (maintenance, or a replica); nothing was saved, "
            "try again later"
        )
    if state in DISK_FULL_STATES:
        return DatabaseFull(
            "the database server's disk is full; nothing was saved; tell the administrator"
        )
    return None


def unreachable_message(exc: OperationalError) -> str:
    first_line = str(exc.orig or exc).strip().splitlines()[0]
    settings = load_settings()
    hint = "run `jasyl db up`" if settings.uses_local_cluster else "check DATABASE_URL"
    return f"the database is not reachable ({first_line}); {hint}"
