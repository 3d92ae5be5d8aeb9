"""Database access for requests: one unit of work per request that needs one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from registry.db import engine_for, unit_of_work


@contextmanager
def request_session() -> Iterator[Session]:
    with unit_of_work(current_app.config["DATABASE_URL"]) as session:
        yield session


@contextmanager
def read_connection() -> Iterator[Connection]:
    """A plain connection for read-only SQL (tiles, GeoJSON) without ORM overhead."""
    with engine_for(current_app.config["DATABASE_URL"]).connect() as connection:
        yield connection
