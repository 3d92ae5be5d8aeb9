"""Run Alembic from code: the CLI, the test fixtures and the demo all migrate the same way."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine

from registry.config import PROJECT_ROOT

MIGRATIONS = PROJECT_ROOT / "migrations"
POSTGIS_TABLES = {"spatial_ref_sys", "layer", "topology"}
# The models' foreign keys that statement triggers check instead (revision 0018: a per-row key
# check was a third of a million-plant import).
CHECKED_BY_TRIGGERS = {
    "fk_plants_region_id_regions",
    "fk_plants_species_id_species",
    "fk_plants_import_batch_id_import_batches",
    "fk_plants_updated_by_users",
}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave PostGIS's own tables alone; let GeoAlchemy2 handle spatial indexes; the plants'
    references checked by triggers are no foreign keys in the database."""
    if type_ == "table" and name in POSTGIS_TABLES:
        return False
    if type_ == "foreign_key_constraint" and name in CHECKED_BY_TRIGGERS:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current_revisions(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def head_revisions(url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def is_current(url: str) -> bool:
    return current_revisions(url) == head_revisions(url)


def earlier_revision(file_name: str) -> ModuleType:
    """An earlier migration's module (``migrations/versions/<file_name>``), for a later one
    that replaces a function it created and restores it on downgrade."""
    path = MIGRATIONS / "versions" / file_name
    spec = importlib.util.spec_from_file_location(f"jasyl_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
