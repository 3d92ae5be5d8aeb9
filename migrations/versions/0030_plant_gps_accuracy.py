"""A plant recorded in the field keeps its GPS fix's accuracy and how many fixes were averaged.

Both nullable: empty means not measured (every plant before this, and those drawn on the map or
imported). Adding nullable columns without a default rewrites no row.

Revision ID: 0030
Revises: 0029
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | Sequence[str] | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("plants", sa.Column("gps_accuracy_m", sa.Numeric(7, 1), nullable=True))
    op.add_column("plants", sa.Column("gps_fixes", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("plants", "gps_fixes")
    op.drop_column("plants", "gps_accuracy_m")
