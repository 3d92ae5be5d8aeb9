"""Join the three branches that grew from 0009 (photos, report tallies, tile versions) into one
head again, so the next schema change has a single parent. No schema change of its own.

Revision ID: 0015
Revises: 0011, 0012, 0014
"""

from collections.abc import Sequence

revision: str = "0015"
down_revision: str | Sequence[str] | None = ("0011", "0012", "0014")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the branches touch different tables."""


def downgrade() -> None:
    """Nothing to undo."""
