"""Plant dots: one plant per 2-pixel map dot at z13 and z14, rebuilt per z14 cell.

A dense city tile at z14 held 30,000 plants and cost ~110 ms to encode; drawn as 4-pixel dots
they cover each other. ``plant_dots`` keeps, per dot, the plant drawn for it (the worst
condition first) and how many plants it stands for; ``plant_dot_cells`` records the plants'
change counter (``tile_versions``, revision 0014) each z14 cell's dots were built at. Tiles use
a cell's dots only while the counters agree, and draw the other cells from ``plants``, so the
map is never behind a write; ``gis.plant_grid.refresh_dots`` rebuilds the cells written since.

Revision ID: 0017
Revises: 0015
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = [
    # The square of a z14 cell (the cells of revision 0014) in Web Mercator metres.
    """CREATE FUNCTION jasyl_tile_cell_box(cx integer, cy integer) RETURNS geometry
       LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT ST_MakeEnvelope(
            -20037508.342789244 + cx * (40075016.685578488 / 16384),
            20037508.342789244 - (cy + 1) * (40075016.685578488 / 16384),
            -20037508.342789244 + (cx + 1) * (40075016.685578488 / 16384),
            20037508.342789244 - cy * (40075016.685578488 / 16384), 3857)
    $$""",
    # Where a plant sits for its dot and its cell: a tree its point, a hedge a point on it.
    """CREATE FUNCTION jasyl_dot_anchor(g geometry) RETURNS geometry
       LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN GeometryType(g) = 'POINT' THEN g ELSE ST_PointOnSurface(g) END
    $$""",
    # The z14 cells a box covers, and whether their dots stand for their plants right now.
    """CREATE FUNCTION jasyl_dot_cells(box box2d) RETURNS TABLE (cx integer, cy integer, fresh boolean)
       LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT c.cx, c.cy, coalesce(d.version, 0) = coalesce(v.version, 0)
        FROM jasyl_tile_cells(box) AS c
        LEFT JOIN plant_dot_cells d ON d.cx = c.cx AND d.cy = c.cy
        LEFT JOIN tile_versions v ON v.layer = 'plants' AND v.cx = c.cx AND v.cy = c.cy
    $$""",
]


def upgrade() -> None:
    op.create_table(
        "plant_dots",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("plant_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("cx", sa.Integer(), nullable=False),
        sa.Column("cy", sa.Integer(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("plants", sa.Integer(), nullable=False),
        sa.Column("condition", sa.SmallInteger(), nullable=False),
        sa.Column("hazardous", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("species_id", sa.Integer(), nullable=False),
        sa.Column("planting_year", sa.SmallInteger(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                srid=3857, spatial_index=False, from_text="ST_GeomFromEWKT", name="geometry"
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("plant_id", "level", name=op.f("pk_plant_dots")),
    )
    op.create_index("ix_plant_dots_cell", "plant_dots", ["cx", "cy"], unique=False)
    op.create_index(
        "ix_plant_dots_geom", "plant_dots", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_table(
        "plant_dot_cells",
        sa.Column("cx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cy", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "refreshed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("cx", "cy", name=op.f("pk_plant_dot_cells")),
    )
    for statement in FUNCTIONS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS jasyl_dot_cells(box2d)")
    op.execute("DROP FUNCTION IF EXISTS jasyl_dot_anchor(geometry)")
    op.execute("DROP FUNCTION IF EXISTS jasyl_tile_cell_box(integer, integer)")
    op.drop_table("plant_dot_cells")
    op.drop_index("ix_plant_dots_geom", table_name="plant_dots", postgresql_using="gist")
    op.drop_index("ix_plant_dots_cell", table_name="plant_dots")
    op.drop_table("plant_dots")
