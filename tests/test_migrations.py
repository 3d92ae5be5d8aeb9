"""The schema: built from empty by Alembic, torn down and rebuilt, and in step with the models."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

import registry.models  # noqa: F401
from registry import migrate
from registry.db import Base
from registry.migrate import include_object
from tests.conftest import _admin_dsn


@pytest.fixture
def empty_database(database_url: str):
    name = f"jasyl_migr_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_admin_dsn(database_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with psycopg.connect(_admin_dsn(database_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"spatial_ref_sys"}
    finally:
        engine.dispose()


def test_upgrade_from_empty_then_downgrade_and_upgrade_again(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    tables = _tables(empty_database)
    assert {
        "regions",
        "species",
        "plants",
        "green_spaces",
        "inspections",
        "audit_log",
        "users",
        "import_batches",
        "region_parts",
    } <= tables
    assert migrate.is_current(empty_database)

    migrate.downgrade(empty_database, "base")
    assert _tables(empty_database) == {"alembic_version"}
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        leftovers = (
            conn.execute(
                text(
                    "SELECT typname FROM pg_type WHERE typname IN "
                    "('plant_status','planting_form','green_space_category','user_role') "
                    "UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE 'jasyl_%'"
                )
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert leftovers == []

    migrate.upgrade(empty_database)
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM regions")).scalar() == 20
        assert conn.execute(text("SELECT count(*) FROM species")).scalar() >= 60
    engine.dispose()


def test_models_and_migrations_agree(database_url: str) -> None:
    """Autogenerate finds nothing to do: the migrations build exactly what the models declare."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []
