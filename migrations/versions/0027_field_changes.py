"""Field mode: the changes and photos phones sent, each kept once under the UUID the phone made.

Revision ID: 0027
Revises: 0024
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "field_changes",
        sa.Column("uuid", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("plant_id", sa.BigInteger(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gps_accuracy_m", sa.Numeric(7, 1), nullable=True),
        sa.Column("gps_fixes", sa.SmallInteger(), nullable=True),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("answer", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_field_changes_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plants.id"],
            name=op.f("fk_field_changes_plant_id_plants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_field_changes")),
    )
    op.create_index(op.f("ix_field_changes_plant_id"), "field_changes", ["plant_id"])
    op.create_table(
        "field_photos",
        sa.Column("uuid", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("change_uuid", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["change_uuid"],
            ["field_changes.uuid"],
            name=op.f("fk_field_photos_change_uuid_field_changes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["plant_photos.id"],
            name=op.f("fk_field_photos_photo_id_plant_photos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_field_photos")),
    )
    op.create_index(op.f("ix_field_photos_change_uuid"), "field_photos", ["change_uuid"])


def downgrade() -> None:
    op.drop_table("field_photos")
    op.drop_table("field_changes")
