"""Forest nurseries: sections, seed lots, batches, append-only ledgers, shipments to akimats.

Stock columns (batches.quantity, seed_lots.weight_kg) move only through their ledgers: an AFTER
INSERT trigger adds each movement's signed delta in the same transaction, a guard refuses any other
change of those columns, CHECKs keep them at zero or above, and ledger rows can be neither updated
nor deleted (corrections are counter-movements).

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-28 17:21:25.581223
"""

from collections.abc import Sequence

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUMS = (
    "nursery_section_kind",
    "root_system",
    "batch_stage",
    "batch_movement_kind",
    "loss_cause",
    "seed_movement_kind",
    "shipment_status",
)

LEDGER_LOGIC = [
    """
    CREATE FUNCTION jasyl_batch_stock() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE batches SET quantity = quantity + NEW.quantity WHERE id = NEW.batch_id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION jasyl_seed_stock() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE seed_lots SET weight_kg = weight_kg + NEW.weight_kg WHERE id = NEW.seed_lot_id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION jasyl_stock_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF pg_trigger_depth() < 2 AND (
            (TG_OP = 'INSERT' AND (to_jsonb(NEW) ->> TG_ARGV[0])::numeric <> 0)
            OR (TG_OP = 'UPDATE' AND to_jsonb(NEW) -> TG_ARGV[0] IS DISTINCT FROM
                                     to_jsonb(OLD) -> TG_ARGV[0])) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'check_violation',
                MESSAGE = format('%s.%s moves only through its ledger of movements',
                                 TG_TABLE_NAME, TG_ARGV[0]);
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE FUNCTION jasyl_ledger_is_history() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            ERRCODE = 'restrict_violation',
            MESSAGE = format('%s rows are history: correct them with a counter-movement',
                             TG_TABLE_NAME);
    END $$
    """,
    """CREATE TRIGGER batch_movements_stock AFTER INSERT ON batch_movements
       FOR EACH ROW EXECUTE FUNCTION jasyl_batch_stock()""",
    """CREATE TRIGGER seed_lot_movements_stock AFTER INSERT ON seed_lot_movements
       FOR EACH ROW EXECUTE FUNCTION jasyl_seed_stock()""",
    """CREATE TRIGGER batches_stock_guard BEFORE INSERT OR UPDATE ON batches
       FOR EACH ROW EXECUTE FUNCTION jasyl_stock_guard('quantity')""",
    """CREATE TRIGGER seed_lots_stock_guard BEFORE INSERT OR UPDATE ON seed_lots
       FOR EACH ROW EXECUTE FUNCTION jasyl_stock_guard('weight_kg')""",
    """CREATE TRIGGER batch_movements_history BEFORE UPDATE OR DELETE ON batch_movements
       FOR EACH ROW EXECUTE FUNCTION jasyl_ledger_is_history()""",
    """CREATE TRIGGER seed_lot_movements_history BEFORE UPDATE OR DELETE ON seed_lot_movements
       FOR EACH ROW EXECUTE FUNCTION jasyl_ledger_is_history()""",
]
LEDGER_FUNCTIONS = (
    "jasyl_batch_stock",
    "jasyl_seed_stock",
    "jasyl_stock_guard",
    "jasyl_ledger_is_history",
)


def upgrade() -> None:
    op.create_geospatial_table(
        "nurseries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("operator", sa.Text(), nullable=False),
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column(
            "location",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "site",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("zones", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_nurseries_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nurseries")),
        sa.UniqueConstraint("code", name=op.f("uq_nurseries_code")),
    )
    op.create_geospatial_index(
        "idx_nurseries_location",
        "nurseries",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_index(
        "idx_nurseries_site",
        "nurseries",
        ["site"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_nurseries_region_id"), "nurseries", ["region_id"], unique=False)
    op.create_table(
        "nursery_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nursery_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("sowing", "school", "closed_root", "mother", name="nursery_section_kind"),
            nullable=False,
        ),
        sa.Column("area_ha", sa.Numeric(precision=7, scale=2), nullable=True),
        sa.Column("capacity_per_year", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "capacity_per_year >= 0", name=op.f("ck_nursery_sections_capacity_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["nursery_id"],
            ["nurseries.id"],
            name=op.f("fk_nursery_sections_nursery_id_nurseries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nursery_sections")),
        sa.UniqueConstraint("nursery_id", "name", name=op.f("uq_nursery_sections_nursery_id_name")),
    )
    op.create_table(
        "seed_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nursery_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("species_id", sa.Integer(), nullable=False),
        sa.Column("collection_place", sa.Text(), nullable=False),
        sa.Column("seed_zone", sa.Text(), nullable=False),
        sa.Column("collection_year", sa.SmallInteger(), nullable=False),
        sa.Column("germination_pct", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("certificate_no", sa.Text(), nullable=False),
        sa.Column("storage", sa.Text(), nullable=False),
        sa.Column(
            "weight_kg", sa.Numeric(precision=12, scale=3), server_default="0", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "germination_pct BETWEEN 0 AND 100", name=op.f("ck_seed_lots_germination_is_percent")
        ),
        sa.CheckConstraint("weight_kg >= 0", name=op.f("ck_seed_lots_weight_not_negative")),
        sa.ForeignKeyConstraint(
            ["nursery_id"], ["nurseries.id"], name=op.f("fk_seed_lots_nursery_id_nurseries")
        ),
        sa.ForeignKeyConstraint(
            ["species_id"], ["species.id"], name=op.f("fk_seed_lots_species_id_species")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seed_lots")),
        sa.UniqueConstraint("nursery_id", "code", name=op.f("uq_seed_lots_nursery_id_code")),
    )
    op.create_index(op.f("ix_seed_lots_nursery_id"), "seed_lots", ["nursery_id"], unique=False)
    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("nursery_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("consignee", sa.Text(), nullable=False),
        sa.Column("dispatched_on", sa.Date(), nullable=False),
        sa.Column(
            "status", sa.Enum("dispatched", "received", name="shipment_status"), nullable=False
        ),
        sa.Column("zoning_override", sa.Text(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("received_by", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["nursery_id"], ["nurseries.id"], name=op.f("fk_shipments_nursery_id_nurseries")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_shipments_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("number", name=op.f("uq_shipments_number")),
    )
    op.create_index(op.f("ix_shipments_nursery_id"), "shipments", ["nursery_id"], unique=False)
    op.create_index(op.f("ix_shipments_region_id"), "shipments", ["region_id"], unique=False)
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nursery_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("species_id", sa.Integer(), nullable=False),
        sa.Column("seed_lot_id", sa.Integer(), nullable=True),
        sa.Column("supplier", sa.Text(), nullable=False),
        sa.Column("parent_batch_id", sa.Integer(), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("age_at_start", sa.SmallInteger(), nullable=False),
        sa.Column("root_system", sa.Enum("open", "closed", name="root_system"), nullable=False),
        sa.Column(
            "stage",
            sa.Enum("sown", "seedlings", "transplanted", "ready", name="batch_stage"),
            nullable=False,
        ),
        sa.Column("grade", sa.SmallInteger(), nullable=True),
        sa.Column("standard", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Integer(), server_default="0", nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "seed_lot_id IS NOT NULL OR supplier <> ''",
            name=op.f("ck_batches_seed_lot_or_supplier"),
        ),
        sa.CheckConstraint(
            "grade IS NULL OR grade BETWEEN 1 AND 3", name=op.f("ck_batches_grade_known")
        ),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_batches_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["nursery_id"], ["nurseries.id"], name=op.f("fk_batches_nursery_id_nurseries")
        ),
        sa.ForeignKeyConstraint(
            ["parent_batch_id"], ["batches.id"], name=op.f("fk_batches_parent_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["nursery_sections.id"],
            name=op.f("fk_batches_section_id_nursery_sections"),
        ),
        sa.ForeignKeyConstraint(
            ["seed_lot_id"], ["seed_lots.id"], name=op.f("fk_batches_seed_lot_id_seed_lots")
        ),
        sa.ForeignKeyConstraint(
            ["species_id"], ["species.id"], name=op.f("fk_batches_species_id_species")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint("nursery_id", "code", name=op.f("uq_batches_nursery_id_code")),
    )
    op.create_index(op.f("ix_batches_nursery_id"), "batches", ["nursery_id"], unique=False)
    op.create_index(op.f("ix_batches_section_id"), "batches", ["section_id"], unique=False)
    op.create_index(op.f("ix_batches_seed_lot_id"), "batches", ["seed_lot_id"], unique=False)
    op.create_index(op.f("ix_batches_species_id"), "batches", ["species_id"], unique=False)
    op.create_table(
        "batch_movements",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "sowing",
                "receipt",
                "germination",
                "transplant_out",
                "transplant_in",
                "stocktake",
                "loss",
                "dispatch",
                "reversal",
                name="batch_movement_kind",
            ),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column(
            "cause",
            sa.Enum("frost", "drought", "pests", "disease", "culling", "other", name="loss_cause"),
            nullable=True,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("paired_id", sa.BigInteger(), nullable=True),
        sa.Column("reverses_id", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind <> 'loss' OR cause IS NOT NULL", name=op.f("ck_batch_movements_loss_has_cause")
        ),
        sa.CheckConstraint("quantity <> 0", name=op.f("ck_batch_movements_moves_something")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_batch_movements_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["paired_id"],
            ["batch_movements.id"],
            name=op.f("fk_batch_movements_paired_id_batch_movements"),
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["batch_movements.id"],
            name=op.f("fk_batch_movements_reverses_id_batch_movements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_movements")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_batch_movements_reverses_id")),
    )
    op.create_index(
        "ix_batch_movements_batch_id_on_date",
        "batch_movements",
        ["batch_id", "on_date"],
        unique=False,
    )
    op.create_table(
        "seed_lot_movements",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("seed_lot_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "receipt", "sowing", "stocktake", "loss", "reversal", name="seed_movement_kind"
            ),
            nullable=False,
        ),
        sa.Column("weight_kg", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("reverses_id", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_seed_lot_movements_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["seed_lot_movements.id"],
            name=op.f("fk_seed_lot_movements_reverses_id_seed_lot_movements"),
        ),
        sa.ForeignKeyConstraint(
            ["seed_lot_id"],
            ["seed_lots.id"],
            name=op.f("fk_seed_lot_movements_seed_lot_id_seed_lots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seed_lot_movements")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_seed_lot_movements_reverses_id")),
    )
    op.create_index(
        op.f("ix_seed_lot_movements_seed_lot_id"),
        "seed_lot_movements",
        ["seed_lot_id"],
        unique=False,
    )
    op.create_table(
        "shipment_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("movement_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity_shipped", sa.Integer(), nullable=False),
        sa.Column("quantity_received", sa.Integer(), nullable=True),
        sa.Column(
            "lost_in_transit",
            sa.Integer(),
            sa.Computed("quantity_shipped - quantity_received", persisted=True),
            nullable=True,
        ),
        sa.CheckConstraint(
            "quantity_received IS NULL OR quantity_received BETWEEN 0 AND quantity_shipped",
            name=op.f("ck_shipment_lines_received_at_most_shipped"),
        ),
        sa.CheckConstraint("quantity_shipped > 0", name=op.f("ck_shipment_lines_ships_something")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_shipment_lines_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["movement_id"],
            ["batch_movements.id"],
            name=op.f("fk_shipment_lines_movement_id_batch_movements"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_shipment_lines_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_lines")),
        sa.UniqueConstraint("movement_id", name=op.f("uq_shipment_lines_movement_id")),
    )
    op.create_index(
        op.f("ix_shipment_lines_batch_id"), "shipment_lines", ["batch_id"], unique=False
    )
    op.create_index(
        op.f("ix_shipment_lines_shipment_id"), "shipment_lines", ["shipment_id"], unique=False
    )
    op.create_foreign_key(
        op.f("fk_users_nursery_id_nurseries"), "users", "nurseries", ["nursery_id"], ["id"]
    )
    for statement in LEDGER_LOGIC:
        op.execute(statement)


def downgrade() -> None:
    op.drop_constraint(op.f("fk_users_nursery_id_nurseries"), "users", type_="foreignkey")
    op.drop_index(op.f("ix_shipment_lines_shipment_id"), table_name="shipment_lines")
    op.drop_index(op.f("ix_shipment_lines_batch_id"), table_name="shipment_lines")
    op.drop_table("shipment_lines")
    op.drop_index(op.f("ix_seed_lot_movements_seed_lot_id"), table_name="seed_lot_movements")
    op.drop_table("seed_lot_movements")
    op.drop_index("ix_batch_movements_batch_id_on_date", table_name="batch_movements")
    op.drop_table("batch_movements")
    op.drop_index(op.f("ix_batches_species_id"), table_name="batches")
    op.drop_index(op.f("ix_batches_seed_lot_id"), table_name="batches")
    op.drop_index(op.f("ix_batches_section_id"), table_name="batches")
    op.drop_index(op.f("ix_batches_nursery_id"), table_name="batches")
    op.drop_table("batches")
    op.drop_index(op.f("ix_shipments_region_id"), table_name="shipments")
    op.drop_index(op.f("ix_shipments_nursery_id"), table_name="shipments")
    op.drop_table("shipments")
    op.drop_index(op.f("ix_seed_lots_nursery_id"), table_name="seed_lots")
    op.drop_table("seed_lots")
    op.drop_table("nursery_sections")
    op.drop_index(op.f("ix_nurseries_region_id"), table_name="nurseries")
    op.drop_geospatial_index(
        "idx_nurseries_site", table_name="nurseries", postgresql_using="gist", column_name="site"
    )
    op.drop_geospatial_index(
        "idx_nurseries_location",
        table_name="nurseries",
        postgresql_using="gist",
        column_name="location",
    )
    op.drop_geospatial_table("nurseries")
    for function in LEDGER_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}() CASCADE")
    for name in ENUMS:
        op.execute(f"DROP TYPE IF EXISTS {name}")
