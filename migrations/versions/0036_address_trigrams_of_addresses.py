"""The address search's trigram index holds plants that have an address, no others.

A GIN index stores a placeholder entry for every row whose value gives no trigrams, so each
plant without an address (most surveyed trees: an empty string, revision 0021) still cost a GIN
insertion and its WAL record. Now the index is partial, ``WHERE address <> ''``, and the search
says ``address <> ''`` beside its ``ILIKE`` so that the planner may use it. A million imported
points without addresses wrote 651 MB of WAL instead of 810 MB (their COPY into ``plants``,
``pg_current_wal_lsn`` before and after, rolled back); the database's time for it moved by
less than this machine's noise (±1 s of ~17 s), the GIN's share of it being ~4 % (``perf``).

Revision ID: 0036
Revises: 0035
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0036"
down_revision: str | Sequence[str] | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _address_index(where: str) -> None:
    op.drop_index("ix_plants_address_trgm", table_name="plants")
    op.execute(
        f"CREATE INDEX ix_plants_address_trgm ON plants USING gin (address gin_trgm_ops){where}"
    )


def upgrade() -> None:
    _address_index(" WHERE address <> ''")


def downgrade() -> None:
    _address_index("")
