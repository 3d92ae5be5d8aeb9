"""Sessions that end and sign-in throttling shared by every worker.

``users.session_generation`` is written into a session cookie at sign-in and compared on every
request: signing out or changing the password adds one, so every cookie issued before, copied or
not, stops being a sign-in. ``sign_in_throttles`` counts failed sign-ins per account, per
address and per account from one address in the database, so every worker of every app server
sees the same counts (they were kept in each worker's memory).

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "sign_in_throttles",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("sign_in_throttles")
    op.drop_column("users", "session_generation")
