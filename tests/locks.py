"""Proof that a transaction waits on another's lock, read from PostgreSQL itself.

Sleeping a while and finding a thread still alive proves only that it is slow. PostgreSQL says
what a backend waits for: ``pg_stat_activity.wait_event_type = 'Lock'``, the lock it has asked
for and not been granted (``pg_locks``) and who holds it (``pg_blocking_pids``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg
from sqlalchemy.engine import make_url


@dataclass(frozen=True)
class LockWait:
    pid: int  # the waiting backend
    locktype: str  # what it asked for: relation, tuple, transactionid …
    query: str


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def waiting_on(url: str, holder_pid: int, patience: float = 10.0) -> LockWait | None:
    """The backend waiting for a lock ``holder_pid`` holds, once it waits; ``None`` if none
    does within ``patience`` seconds (a generous bound for a slow machine, not a measure)."""
    query = """
        SELECT a.pid, l.locktype, a.query
        FROM pg_stat_activity a
        JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
        WHERE a.wait_event_type = 'Lock' AND %s = ANY(pg_blocking_pids(a.pid))
    """
    deadline = time.monotonic() + patience
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(query, (holder_pid,)).fetchone()
            if row:
                return LockWait(*row)
            time.sleep(0.02)
    return None
