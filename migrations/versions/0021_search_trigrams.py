"""Search by trigrams: a plant's inventory number and address, a green space's name.

The map's search box matched ``ILIKE '%text%'`` against every plant's address and every green
space's name: a miss read the whole table (155 ms at the demo's scale, more per million plants),
so a stranger typing misses cost the server a full scan each. ``pg_trgm``'s GIN indexes answer
``ILIKE`` with any leading or trailing ``%`` from the index, a miss included.

Revision ID: 0021
Revises: 0019
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_plants_inventory_number_trgm", "plants", "inventory_number"),
    ("ix_plants_address_trgm", "plants", "address"),
    ("ix_green_spaces_name_trgm", "green_spaces", "name"),
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        op.create_index(
            name,
            table,
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
