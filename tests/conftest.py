"""``pytest`` fixtures: a real PostGIS database per test session (and per xdist worker).

The database is created next to the configured one (the local cluster, or DATABASE_URL's
server), migrated with Alembic, and dropped at the end. ``db`` gives each test a session inside
a transaction that is rolled back; tests that go through the CLI or HTTP commit for real and
use ``clean`` to empty the inventory afterwards.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.errors import DeadlockDetected
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from registry import migrate
from registry.cluster import LocalCluster
from registry.config import load_settings
from registry.db import engine_for

# The tests' processes (and the commands they start) are explicitly a test run: the app may sign
# sessions with the development key, which it refuses everywhere else.
os.environ["JASYL_ENV"] = "test"
# The tests' maps ask no third party for tiles: no basemap unless a test configures its own
# (tests/test_basemap*.py make a small archive and serve it).
os.environ["JASYL_BASEMAPS"] = "[]"
ORIGINAL_DATABASE_URL = os.environ.get("DATABASE_URL")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# Reference data loaded by migrations; every other table is emptied by ``clean``.
REFERENCE_TABLES = {"regions", "region_parts", "species", "alembic_version", "spatial_ref_sys"}
# The benefit method's reference data (revision 0026), loaded from registry/benefits/reference.
REFERENCE_TABLES |= {
    "benefit_equations",
    "species_benefit_methods",
    "benefit_constants",
    "region_precipitation",
    "benefit_prices",
}


def _admin_dsn(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql", database="postgres")
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    settings = load_settings()
    if settings.uses_local_cluster:
        LocalCluster(settings).up()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"jasyl_test_{worker}_{uuid.uuid4().hex[:8]}"
    base = settings.database_url
    with psycopg.connect(_admin_dsn(base), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        yield url
    engine_for(url).dispose()
    with psycopg.connect(_admin_dsn(base), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(database_url: str) -> Iterator[Session]:
    """A session whose every change is rolled back after the test."""
    connection = engine_for(database_url).connect()
    outer = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def clean(database_url: str) -> Iterator[str]:
    """For tests that commit (CLI, HTTP, concurrency): empty the inventory afterwards."""
    yield database_url
    empty_inventory(database_url)


def empty_inventory(database_url: str, attempts: int = 5) -> None:
    """Truncate every table but the reference data the migrations load.

    The live server may still be answering a browser's last tile or card, whose query reads
    several of these tables in its own order; PostgreSQL then breaks the deadlock by failing
    one side, sometimes the TRUNCATE. Those reads are short, so the TRUNCATE is tried again."""
    for attempt in range(1, attempts + 1):
        try:
            return _truncate_inventory(database_url)
        except OperationalError as exc:
            if not isinstance(exc.orig, DeadlockDetected) or attempt == attempts:
                raise
            time.sleep(0.2 * attempt)


def _truncate_inventory(database_url: str) -> None:
    with engine_for(database_url).begin() as conn:
        tables = [
            t
            for t in conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
            if t not in REFERENCE_TABLES
        ]
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        _restore_precipitation(conn)


def _restore_precipitation(conn) -> None:
    """Rain a test set with ``jasyl benefits rain set`` (committed) back to the reference file:
    the next test expects no region to have a rain-event count."""
    from registry.benefits.reference import UPSERTS, rows

    if conn.execute(
        text("DELETE FROM region_precipitation WHERE rain_events_per_year IS NOT NULL")
    ).rowcount:
        for row in rows("precipitation"):
            conn.execute(text(UPSERTS["precipitation"]), row)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present on this machine")
    return SHARED_DATA


@pytest.fixture(scope="session")
def live_server(database_url: str) -> Iterator[str]:
    """The real app on a loopback port, served from a thread, for browser tests."""
    from tests.web_client import serve
    from web import create_app

    yield from serve(create_app())


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
