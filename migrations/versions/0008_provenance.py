"""Provenance: planting events name the shipment line and nursery batch their stock came from,
plan lines name the nursery expected to supply them. Merges the planting (0004) and nursery (0005)
branches.

Revision ID: 0008
Revises: 0004, 0005
Create Date: 2026-11-28 17:30:19.594529
"""

from collections.abc import Sequence

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = ("0004", "0005")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("planting_events", sa.Column("shipment_line_id", sa.Integer(), nullable=True))
    op.add_column("planting_events", sa.Column("batch_id", sa.Integer(), nullable=True))
    op.create_index(
        op.f("ix_planting_events_batch_id"), "planting_events", ["batch_id"], unique=False
    )
    op.create_index(
        op.f("ix_planting_events_shipment_line_id"),
        "planting_events",
        ["shipment_line_id"],
        unique=False,
    )
    op.create_foreign_key(
        op.f("fk_planting_events_shipment_line_id_shipment_lines"),
        "planting_events",
        "shipment_lines",
        ["shipment_line_id"],
        ["id"],
    )
    op.create_foreign_key(
        op.f("fk_planting_events_batch_id_batches"),
        "planting_events",
        "batches",
        ["batch_id"],
        ["id"],
    )
    op.add_column("planting_plan_lines", sa.Column("nursery_id", sa.Integer(), nullable=True))
    op.create_index(
        op.f("ix_planting_plan_lines_nursery_id"),
        "planting_plan_lines",
        ["nursery_id"],
        unique=False,
    )
    op.create_foreign_key(
        op.f("fk_planting_plan_lines_nursery_id_nurseries"),
        "planting_plan_lines",
        "nurseries",
        ["nursery_id"],
        ["id"],
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_planting_plan_lines_nursery_id_nurseries"),
        "planting_plan_lines",
        type_="foreignkey",
    )
    op.drop_index(op.f("ix_planting_plan_lines_nursery_id"), table_name="planting_plan_lines")
    op.drop_column("planting_plan_lines", "nursery_id")
    op.drop_constraint(
        op.f("fk_planting_events_batch_id_batches"), "planting_events", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_planting_events_shipment_line_id_shipment_lines"),
        "planting_events",
        type_="foreignkey",
    )
    op.drop_index(op.f("ix_planting_events_shipment_line_id"), table_name="planting_events")
    op.drop_index(op.f("ix_planting_events_batch_id"), table_name="planting_events")
    op.drop_column("planting_events", "batch_id")
    op.drop_column("planting_events", "shipment_line_id")
