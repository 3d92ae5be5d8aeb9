"""Residents' reports of trees and places (issue #21), and their photos.

``public_reports``: a random public number, the kind, the place (a point; its region found from
it or from the reported plant), an optional contact (never public), the status a forester moves
it through, whether it is published, the first report a duplicate joined, and the inspection or
care work it was accepted into. ``public_report_photos``: photos re-encoded without metadata.

Revision ID: 0025
Revises: 0024
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "'hazard', 'dead', 'damaged', 'illegal_felling', 'needs_care', 'plant_request', 'missing_tree'"
)
STATUSES = "'received', 'accepted', 'rejected', 'planned', 'done'"


def upgrade() -> None:
    op.create_table(
        "public_reports",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("number", sa.String(9), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("plant_id", sa.BigInteger(), nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("joined_to_id", sa.BigInteger(), nullable=True),
        sa.Column("inspection_id", sa.BigInteger(), nullable=True),
        sa.Column("care_work_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_public_reports_known_kind")),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_public_reports_known_status")),
        sa.CheckConstraint(
            "status <> 'rejected' OR reason <> ''",
            name=op.f("ck_public_reports_rejection_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_public_reports_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plants.id"],
            name=op.f("fk_public_reports_plant_id_plants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["joined_to_id"],
            ["public_reports.id"],
            name=op.f("fk_public_reports_joined_to_id_public_reports"),
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_public_reports_inspection_id_inspections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["care_work_id"],
            ["care_works.id"],
            name=op.f("fk_public_reports_care_work_id_care_works"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_reports")),
        sa.UniqueConstraint("number", name=op.f("uq_public_reports_number")),
    )
    op.create_geospatial_index(
        "idx_public_reports_geom",
        "public_reports",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    for column in ("region_id", "plant_id", "joined_to_id"):
        op.create_index(op.f(f"ix_public_reports_{column}"), "public_reports", [column])
    op.create_table(
        "public_report_photos",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["public_reports.id"],
            name=op.f("fk_public_report_photos_report_id_public_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_report_photos")),
        sa.UniqueConstraint("token", name=op.f("uq_public_report_photos_token")),
    )
    op.create_index(
        op.f("ix_public_report_photos_report_id"), "public_report_photos", ["report_id"]
    )


def downgrade() -> None:
    op.drop_table("public_report_photos")
    op.drop_geospatial_index(
        "idx_public_reports_geom", table_name="public_reports", column_name="geom"
    )
    op.drop_table("public_reports")
