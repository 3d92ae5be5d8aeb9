"""Plant dots: one plant per 2-pixel map dot at z13 and z14, rebuilt per z14 cell; and the
low-zoom plant grid kept exact by small writes themselves.

A dense city tile at z14 held 30,000 plants and cost ~110 ms to encode; drawn as 4-pixel dots
they cover each other. ``plant_dots`` keeps, per dot, the plant drawn for it (the worst
condition first) and how many plants it stands for; ``plant_dot_cells`` records the plants'
change counter (``tile_versions``, revision 0014) each z14 cell's dots were built at. Tiles use
a cell's dots only while the counters agree, and draw the other cells from ``plants``, so the
map is never behind a write; ``gis.plant_grid.refresh_dots`` rebuilds the cells written since.

The grid of revision 0003 was rebuilt per region after any write, and until then every low-zoom
tile over that region aggregated its plants on the fly: 0.6–2 s a tile for a region of 444,000
plants, for up to a minute after each single edit. Now a statement of up to
``jasyl.grid_bulk_rows`` rows (a setting, 10,000 by default) adds its rows to the grid cells and
takes away the old ones (count, condition and coordinate sums, in key order, like the report
tallies of revision 0012), so edits never leave the grid behind; a bigger one (an import, an
undo) marks its regions for the lazy rebuild as before, which is cheaper than adding up a
million rows inside the import. The small writer holds its regions' grid state rows FOR SHARE,
so a rebuild (which takes them FOR UPDATE SKIP LOCKED) never recomputes a region under a write
it cannot see.

Revision ID: 0017
Revises: 0015
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

from registry.migrate import earlier_revision

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
    # The z14 cells a box covers, and whether their dots stand for their plants right now. A
    # primary-key lookup per cell: joins were planned as hash joins over both whole tables
    # (tens of thousands of cells nationally: 30 ms a tile instead of 7, measured).
    """CREATE FUNCTION jasyl_dot_cells(box box2d) RETURNS TABLE (cx integer, cy integer, fresh boolean)
       LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT c.cx, c.cy,
               coalesce((SELECT d.version FROM plant_dot_cells d
                         WHERE d.cx = c.cx AND d.cy = c.cy), 0)
               = coalesce((SELECT v.version FROM tile_versions v
                           WHERE v.layer = 'plants' AND v.cx = c.cx AND v.cy = c.cy), 0)
        FROM jasyl_tile_cells(box) AS c
    $$""",
]


GRID_KEEPING = r"""
CREATE OR REPLACE FUNCTION jasyl_plant_grid_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    written bigint;
    bulk bigint := coalesce(
        nullif(current_setting('jasyl.grid_bulk_rows', true), '')::bigint, 10000);
    -- The statement's rows, signed: +1 new, -1 old (transition tables, read by EXECUTE).
    rows text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, n.* FROM new_rows n'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, o.* FROM old_rows o'
        ELSE 'SELECT 1 AS sign, n.* FROM new_rows n UNION ALL SELECT -1, o.* FROM old_rows o'
    END;
    -- Each row's grid cell (~153 m: the z12 tile grid, ``gis.tiles.BASE_CELL_METRES``).
    cells text := 'SELECT r.sign, r.region_id, r.published, r.condition, ST_X(r.pt) AS x, '
        'ST_Y(r.pt) AS y, floor(ST_X(r.pt) / 152.8740565703525)::int AS cx, '
        'floor(ST_Y(r.pt) / 152.8740565703525)::int AS cy FROM (SELECT w.*, '
        'ST_PointOnSurface(w.geom_3857) AS pt FROM (' || rows || ') AS w) AS r';
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM plant_grid_cells;
        UPDATE plant_grid_state SET dirty = false, refreshed_at = now();
        RETURN NULL;
    END IF;
    EXECUTE 'SELECT count(*) FROM (' || rows || ') AS w' INTO written;
    IF written > bulk THEN  -- an import or an undo: the lazy rebuild adds it up once
        EXECUTE 'INSERT INTO plant_grid_state AS s (region_id, dirty) '
            'SELECT DISTINCT region_id, true FROM (' || rows || ') AS w ORDER BY 1 '
            'ON CONFLICT (region_id) DO UPDATE SET dirty = true WHERE NOT s.dirty';
        RETURN NULL;
    END IF;
    -- A rebuild takes these rows FOR UPDATE SKIP LOCKED: it waits for no writer and never
    -- recomputes a region under a write it cannot see yet.
    -- (A region without a state row has no known grid: it gets one to rebuild.)
    EXECUTE 'INSERT INTO plant_grid_state (region_id, dirty) SELECT DISTINCT region_id, true '
        'FROM (' || rows || ') AS w ORDER BY 1 ON CONFLICT (region_id) DO NOTHING';
    EXECUTE 'SELECT 1 FROM plant_grid_state WHERE region_id IN (SELECT region_id FROM ('
        || rows || ') AS w) ORDER BY region_id FOR SHARE';
    EXECUTE 'INSERT INTO plant_grid_cells AS c '
        '(region_id, published, cx, cy, plants, condition_sum, sum_x, sum_y, geom) '
        'SELECT region_id, published, cx, cy, sum(sign), sum(sign * condition), '
        'sum(sign * x), sum(sign * y), ST_SetSRID(ST_MakePoint(avg(x), avg(y)), 3857) '
        'FROM (' || cells || ') AS d GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 '
        'ON CONFLICT (region_id, published, cx, cy) DO UPDATE SET '
        'plants = c.plants + excluded.plants, '
        'condition_sum = c.condition_sum + excluded.condition_sum, '
        'sum_x = c.sum_x + excluded.sum_x, sum_y = c.sum_y + excluded.sum_y, '
        'geom = CASE WHEN c.plants + excluded.plants > 0 THEN ST_SetSRID(ST_MakePoint('
        '(c.sum_x + excluded.sum_x) / (c.plants + excluded.plants), '
        '(c.sum_y + excluded.sum_y) / (c.plants + excluded.plants)), 3857) ELSE c.geom END';
    EXECUTE 'DELETE FROM plant_grid_cells c USING (' || cells || ') AS d '
        'WHERE c.plants <= 0 AND c.region_id = d.region_id AND c.published = d.published '
        'AND c.cx = d.cx AND c.cy = d.cy';
    RETURN NULL;
END $$
"""


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
    op.execute(GRID_KEEPING)


def downgrade() -> None:
    op.execute(grid_marking_of_0003())
    op.execute("DROP FUNCTION IF EXISTS jasyl_dot_cells(box2d)")
    op.execute("DROP FUNCTION IF EXISTS jasyl_tile_cell_box(integer, integer)")
    op.drop_table("plant_dot_cells")
    op.drop_index("ix_plant_dots_geom", table_name="plant_dots", postgresql_using="gist")
    op.drop_index("ix_plant_dots_cell", table_name="plant_dots")
    op.drop_table("plant_dots")


def grid_marking_of_0003() -> str:
    """Revision 0003's trigger function (writes mark their regions dirty), to restore it."""
    grid_logic = earlier_revision("0003_web.py").GRID_LOGIC
    old = next(s for s in grid_logic if "FUNCTION jasyl_plant_grid_dirty" in s)
    return old.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
