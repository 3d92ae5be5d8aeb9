"""Alembic environment: the URL comes from Jasyl's settings, the schema from its models.

GeoAlchemy2's helpers go into both ``context.configure`` calls; without them autogenerate drops
PostGIS's own tables and writes spatial indexes twice (see the architecture notes).
"""

from alembic import context
from geoalchemy2 import alembic_helpers

import registry.models  # noqa: F401  (registers every table)
from registry.db import Base, engine_for
from registry.migrate import include_object

config = context.config
target_metadata = Base.metadata

COMMON = {
    "target_metadata": target_metadata,
    "include_object": include_object,
    "render_item": alembic_helpers.render_item,
    "process_revision_directives": alembic_helpers.writer,
    "compare_type": True,
}


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **COMMON)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **COMMON)
        with context.begin_transaction():
            context.run_migrations()
        return
    with engine_for(config.get_main_option("sqlalchemy.url")).connect() as connection:
        context.configure(connection=connection, **COMMON)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
