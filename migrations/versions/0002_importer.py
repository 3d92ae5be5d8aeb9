"""Importer: bulk merges may name the staging join as the source of plants' regions.

The ``plants_region`` row trigger derives ``region_id`` from the geometry with one lookup per row,
which dominates a bulk load (measured: ~50 µs a row, 10 s per 200,000 points). The importer
derives the same region set-wise in one spatial join over its staging table (boundary pieces as
the outer side, ~5× faster) and merges from there, so the trigger is skipped for that one
statement only: the importer sets ``jasyl.region_source`` to ``import_staging`` transaction-
locally around its merge and clears it right after. Every other write (services, SQL consoles)
still goes through the per-row derivation, and the value never comes from a user's input.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 17:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER_EVENTS = "BEFORE INSERT OR UPDATE OF geom, region_id ON plants FOR EACH ROW"


def upgrade() -> None:
    op.execute("DROP TRIGGER plants_region ON plants")
    op.execute(
        f"""CREATE TRIGGER plants_region {TRIGGER_EVENTS}
        WHEN (current_setting('jasyl.region_source', true) IS DISTINCT FROM 'import_staging')
        EXECUTE FUNCTION jasyl_set_region()"""
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER plants_region ON plants")
    op.execute(f"CREATE TRIGGER plants_region {TRIGGER_EVENTS} EXECUTE FUNCTION jasyl_set_region()")
