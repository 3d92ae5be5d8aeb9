"""Inventory and care tallies kept current by statement-level triggers, for reports.

``inventory_tallies`` (plants per region × species × status × condition) and ``care_tallies``
(care works per region × year × kind × unit) are written only by the database, in the same
transaction as the change to ``plants`` or ``care_works``, so the ministry's figures read a
few hundred rows and are never stale. The triggers are FOR EACH STATEMENT with transition
tables: a bulk import of 100,000 plants moves the tallies with one grouped upsert, not 100,000.
Deltas are upserted in key order (``ON CONFLICT DO UPDATE`` increments), so concurrent writers
add up instead of overwriting one another and take the tally rows' locks in the same order.

Revision ID: 0012
Revises: 0009
Create Date: 2026-11-28 20:17:59.266835
"""

from collections.abc import Sequence

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INVENTORY_KEY = "region_id, species_id, status, condition"
CARE_KEY = "region_id, year, kind, unit"


def _delta(source: str, sign: str, figures: str, key: str) -> str:
    return f"SELECT {key}, {figures.format(sign=sign)} FROM {source}"  # noqa: S608


INVENTORY_FIGURES = "{sign} 1 AS plants, {sign} quantity::bigint AS quantity"
CARE_FIGURES = (
    "{sign} 1 AS works, {sign} (done_volume IS NOT NULL)::int AS done_works, "
    "{sign} coalesce(planned_volume, 0) AS planned_volume, "
    "{sign} coalesce(done_volume, 0) AS done_volume, "
    "{sign} coalesce(planned_cost, 0) AS planned_cost, "
    "{sign} coalesce(done_cost, 0) AS done_cost"
)


def _tally_function(name: str, table: str, key: str, figures: str, columns: list[str]) -> str:
    """One trigger function for INSERT, UPDATE and DELETE: the grouped deltas, upserted.

    Rows whose deltas cancel out (an update that changed no counted column) write nothing,
    so editing a plant's notes takes no lock on a tally row.
    """
    sums = ", ".join(f"sum({c}) AS {c}" for c in columns)
    nonzero = " OR ".join(f"sum({c}) <> 0" for c in columns)
    increments = ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in columns)

    def upsert(deltas: str) -> str:
        return f"""
            INSERT INTO {table} AS t ({key}, {", ".join(columns)})
            SELECT {key}, {sums} FROM ({deltas}) d
            GROUP BY {key} HAVING {nonzero} ORDER BY {key}
            ON CONFLICT ({key}) DO UPDATE SET {increments};"""  # noqa: S608

    added = _delta("new_rows", "+", figures, key)
    removed = _delta("old_rows", "-", figures, key)
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN {upsert(added)}
        ELSIF TG_OP = 'DELETE' THEN {upsert(removed)}
        ELSE {upsert(added + " UNION ALL " + removed)}
        END IF;
        RETURN NULL;
    END $$
    """


def _rebuild_function(
    name: str, table: str, source: str, key: str, figures: str, columns: list[str]
) -> str:
    """A full recount, for bulk loads that bypass triggers (``session_replication_role``)."""
    return f"""
    CREATE FUNCTION {name}() RETURNS void LANGUAGE sql AS $$
        DELETE FROM {table};
        INSERT INTO {table} ({key}, {", ".join(columns)})
        SELECT {key}, {", ".join(f"sum({c})" for c in columns)}
        FROM ({_delta(source, "+", figures, key)}) d GROUP BY {key};
    $$
    """  # noqa: S608


def _triggers(table: str, function: str, tally: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_tally_insert AFTER INSERT ON {table}
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
        f"""CREATE TRIGGER {table}_tally_update AFTER UPDATE ON {table}
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
        f"""CREATE TRIGGER {table}_tally_delete AFTER DELETE ON {table}
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
        f"""CREATE FUNCTION {function}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN DELETE FROM {tally}; RETURN NULL; END $$""",  # noqa: S608
        f"""CREATE TRIGGER {table}_tally_truncate AFTER TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {function}_truncate()""",
    ]


INVENTORY_COLUMNS = ["plants", "quantity"]
CARE_COLUMNS = [
    "works",
    "done_works",
    "planned_volume",
    "done_volume",
    "planned_cost",
    "done_cost",
]
DATABASE_LOGIC = [
    _tally_function(
        "jasyl_inventory_tally",
        "inventory_tallies",
        INVENTORY_KEY,
        INVENTORY_FIGURES,
        INVENTORY_COLUMNS,
    ),
    _tally_function("jasyl_care_tally", "care_tallies", CARE_KEY, CARE_FIGURES, CARE_COLUMNS),
    _rebuild_function(
        "jasyl_rebuild_inventory_tallies",
        "inventory_tallies",
        "plants",
        INVENTORY_KEY,
        INVENTORY_FIGURES,
        INVENTORY_COLUMNS,
    ),
    _rebuild_function(
        "jasyl_rebuild_care_tallies",
        "care_tallies",
        "care_works",
        CARE_KEY,
        CARE_FIGURES,
        CARE_COLUMNS,
    ),
    *_triggers("plants", "jasyl_inventory_tally", "inventory_tallies"),
    *_triggers("care_works", "jasyl_care_tally", "care_tallies"),
    # The registry's existing plants and works, counted once.
    "SELECT jasyl_rebuild_inventory_tallies()",
    "SELECT jasyl_rebuild_care_tallies()",
]
DATABASE_FUNCTIONS = (
    "jasyl_inventory_tally()",
    "jasyl_inventory_tally_truncate()",
    "jasyl_care_tally()",
    "jasyl_care_tally_truncate()",
    "jasyl_rebuild_inventory_tallies()",
    "jasyl_rebuild_care_tallies()",
)


def upgrade() -> None:
    op.create_table(
        "care_tallies",
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column(
            "kind",
            postgresql.ENUM(name="care_kind", create_type=False),
            nullable=False,
        ),
        sa.Column("unit", postgresql.ENUM(name="care_unit", create_type=False), nullable=False),
        sa.Column("works", sa.Integer(), nullable=False),
        sa.Column("done_works", sa.Integer(), nullable=False),
        sa.Column("planned_volume", sa.Numeric(precision=16, scale=1), nullable=False),
        sa.Column("done_volume", sa.Numeric(precision=16, scale=1), nullable=False),
        sa.Column("planned_cost", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("done_cost", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("region_id", "year", "kind", "unit", name=op.f("pk_care_tallies")),
    )
    op.create_table(
        "inventory_tallies",
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("species_id", sa.Integer(), nullable=False),
        sa.Column(
            "status", postgresql.ENUM(name="plant_status", create_type=False), nullable=False
        ),
        sa.Column("condition", sa.SmallInteger(), nullable=False),
        sa.Column("plants", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "region_id",
            "species_id",
            "status",
            "condition",
            name=op.f("pk_inventory_tallies"),
        ),
    )
    for statement in DATABASE_LOGIC:
        op.execute(statement)


def downgrade() -> None:
    for table in ("plants", "care_works"):
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_tally_{event} ON {table}")
    for function in DATABASE_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.drop_table("inventory_tallies")
    op.drop_table("care_tallies")
