"""Web map: precomputed plant grid cells for low-zoom tiles, refreshed per region.

Triggers on ``plants`` mark the regions a statement touched as dirty; ``gis.plant_grid``
rebuilds a dirty region's cells (lazily on the next low-zoom tile, or ``jasyl tiles refresh``).

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-28 17:40:25.418666
"""

from collections.abc import Sequence

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRID_LOGIC = [
    # Every region starts dirty: the first low-zoom tile (or `jasyl tiles refresh`) builds it.
    "INSERT INTO plant_grid_state (region_id, dirty) SELECT id, true FROM regions",
    """
    CREATE FUNCTION jasyl_plant_grid_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            DELETE FROM plant_grid_cells;
            UPDATE plant_grid_state SET dirty = false, refreshed_at = now();
            RETURN NULL;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO plant_grid_state (region_id, dirty)
            SELECT DISTINCT region_id, true FROM new_rows
            ON CONFLICT (region_id) DO UPDATE SET dirty = true WHERE NOT plant_grid_state.dirty;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO plant_grid_state (region_id, dirty)
            SELECT DISTINCT region_id, true FROM old_rows
            ON CONFLICT (region_id) DO UPDATE SET dirty = true WHERE NOT plant_grid_state.dirty;
        END IF;
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER plants_grid_insert AFTER INSERT ON plants REFERENCING NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION jasyl_plant_grid_dirty()""",
    """CREATE TRIGGER plants_grid_update AFTER UPDATE ON plants
       REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION jasyl_plant_grid_dirty()""",
    """CREATE TRIGGER plants_grid_delete AFTER DELETE ON plants REFERENCING OLD TABLE AS old_rows
       FOR EACH STATEMENT EXECUTE FUNCTION jasyl_plant_grid_dirty()""",
    """CREATE TRIGGER plants_grid_truncate AFTER TRUNCATE ON plants
       FOR EACH STATEMENT EXECUTE FUNCTION jasyl_plant_grid_dirty()""",
]
DROP_GRID_LOGIC = [
    "DROP TRIGGER IF EXISTS plants_grid_insert ON plants",
    "DROP TRIGGER IF EXISTS plants_grid_update ON plants",
    "DROP TRIGGER IF EXISTS plants_grid_delete ON plants",
    "DROP TRIGGER IF EXISTS plants_grid_truncate ON plants",
    "DROP FUNCTION IF EXISTS jasyl_plant_grid_dirty()",
]


def upgrade() -> None:
    op.create_geospatial_table(
        "plant_grid_cells",
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("cx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cy", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("plants", sa.Integer(), nullable=False),
        sa.Column("condition_sum", sa.Integer(), nullable=False),
        sa.Column("sum_x", sa.Double(), nullable=False),
        sa.Column("sum_y", sa.Double(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=3857,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["regions.id"],
            name=op.f("fk_plant_grid_cells_region_id_regions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "region_id", "published", "cx", "cy", name=op.f("pk_plant_grid_cells")
        ),
    )
    op.create_geospatial_index(
        "ix_plant_grid_cells_geom",
        "plant_grid_cells",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "plant_grid_state",
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("dirty", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["regions.id"],
            name=op.f("fk_plant_grid_state_region_id_regions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("region_id", name=op.f("pk_plant_grid_state")),
    )
    for statement in GRID_LOGIC:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_GRID_LOGIC:
        op.execute(statement)
    op.drop_table("plant_grid_state")
    op.drop_geospatial_index(
        "ix_plant_grid_cells_geom",
        table_name="plant_grid_cells",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("plant_grid_cells")
