"""Tile data versions per layer and z14 cell, bumped by the writing transaction itself.

The tiles' ETag used to be a sequence bumped by a trigger; ``nextval`` is not transactional, so
a tile read between a write and its commit carried the new version with the old data, and kept
answering 304 with that stale tile afterwards. It also changed for every tile of the country at
each edit. Here each statement that writes ``plants`` or ``green_spaces`` bumps a counter per
z14 cell its old and new rows touch (``tile_versions``), inside its own transaction: a reader
sees the new counters exactly when it sees the new rows. A tile's version is the sum of the
counters of the cells it covers (they only grow, so any change makes the sum grow), read in the
same snapshot as the tile itself (``gis.tiles.tile_version``).

Revision ID: 0014
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LAYERS = ("plants", "green_spaces")
# The sequences of revision 0001 that the ETag used to read: nothing reads them any more.
DROP_SEQUENCE_VERSIONS = [
    "DROP TRIGGER IF EXISTS plants_layer_version ON plants",
    "DROP TRIGGER IF EXISTS green_spaces_layer_version ON green_spaces",
    "DROP FUNCTION IF EXISTS jasyl_bump_layer_version()",
    "DROP SEQUENCE IF EXISTS layer_version_plants",
    "DROP SEQUENCE IF EXISTS layer_version_green_spaces",
]
SEQUENCE_VERSIONS = [
    "CREATE SEQUENCE layer_version_plants",
    "CREATE SEQUENCE layer_version_green_spaces",
    """
    CREATE FUNCTION jasyl_bump_layer_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM nextval('layer_version_' || TG_TABLE_NAME);
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER plants_layer_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
       ON plants FOR EACH STATEMENT EXECUTE FUNCTION jasyl_bump_layer_version()""",
    """CREATE TRIGGER green_spaces_layer_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
       ON green_spaces FOR EACH STATEMENT EXECUTE FUNCTION jasyl_bump_layer_version()""",
]
# Web Mercator: half the world's width, and a z14 tile's width, in metres.
CELLS = [
    """CREATE FUNCTION jasyl_tile_cell_x(x double precision) RETURNS integer
       LANGUAGE sql IMMUTABLE PARALLEL SAFE
       AS $$ SELECT floor((x + 20037508.342789244) / (40075016.685578488 / 16384))::integer $$""",
    """CREATE FUNCTION jasyl_tile_cell_y(y double precision) RETURNS integer
       LANGUAGE sql IMMUTABLE PARALLEL SAFE
       AS $$ SELECT floor((20037508.342789244 - y) / (40075016.685578488 / 16384))::integer $$""",
    # The cells a bounding box touches (a point: one; a park across a cell edge: two or four).
    """CREATE FUNCTION jasyl_tile_cells(box box2d) RETURNS TABLE (cx integer, cy integer)
       LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT gx, gy
        FROM generate_series(jasyl_tile_cell_x(ST_XMin(box)), jasyl_tile_cell_x(ST_XMax(box))) gx,
             generate_series(jasyl_tile_cell_y(ST_YMax(box)), jasyl_tile_cell_y(ST_YMin(box))) gy
    $$""",
]
BUMP = """
    CREATE FUNCTION jasyl_bump_tile_versions() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            UPDATE tile_versions SET version = version + 1 WHERE layer = TG_TABLE_NAME;
            RETURN NULL;
        END IF;
        -- Cells in a fixed order, so two writers bumping the same cells never deadlock.
        IF TG_OP = 'INSERT' THEN
            INSERT INTO tile_versions AS t (layer, cx, cy)
            SELECT DISTINCT TG_TABLE_NAME, c.cx, c.cy
            FROM new_rows r, jasyl_tile_cells(r.geom_3857::box2d) c ORDER BY 2, 3
            ON CONFLICT (layer, cx, cy) DO UPDATE SET version = t.version + 1;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO tile_versions AS t (layer, cx, cy)
            SELECT DISTINCT TG_TABLE_NAME, c.cx, c.cy
            FROM old_rows r, jasyl_tile_cells(r.geom_3857::box2d) c ORDER BY 2, 3
            ON CONFLICT (layer, cx, cy) DO UPDATE SET version = t.version + 1;
        ELSE
            INSERT INTO tile_versions AS t (layer, cx, cy)
            SELECT TG_TABLE_NAME, cells.cx, cells.cy FROM (
                SELECT c.cx, c.cy FROM old_rows r, jasyl_tile_cells(r.geom_3857::box2d) c
                UNION
                SELECT c.cx, c.cy FROM new_rows r, jasyl_tile_cells(r.geom_3857::box2d) c
            ) AS cells ORDER BY 2, 3
            ON CONFLICT (layer, cx, cy) DO UPDATE SET version = t.version + 1;
        END IF;
        RETURN NULL;
    END $$
"""


def triggers(table: str) -> list[str]:
    run = "FOR EACH STATEMENT EXECUTE FUNCTION jasyl_bump_tile_versions()"
    return [
        f"CREATE TRIGGER {table}_tiles_insert AFTER INSERT ON {table} "
        f"REFERENCING NEW TABLE AS new_rows {run}",
        f"CREATE TRIGGER {table}_tiles_update AFTER UPDATE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {run}",
        f"CREATE TRIGGER {table}_tiles_delete AFTER DELETE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows {run}",
        f"CREATE TRIGGER {table}_tiles_truncate AFTER TRUNCATE ON {table} {run}",
    ]


def upgrade() -> None:
    op.create_table(
        "tile_versions",
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("cx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cy", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("layer", "cx", "cy", name=op.f("pk_tile_versions")),
    )
    for statement in [*CELLS, BUMP]:
        op.execute(statement)
    for table in LAYERS:
        for statement in triggers(table):
            op.execute(statement)
    for statement in DROP_SEQUENCE_VERSIONS:
        op.execute(statement)


def downgrade() -> None:
    for table in LAYERS:
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_tiles_{event} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS jasyl_bump_tile_versions()")
    op.execute("DROP FUNCTION IF EXISTS jasyl_tile_cells(box2d)")
    op.execute("DROP FUNCTION IF EXISTS jasyl_tile_cell_y(double precision)")
    op.execute("DROP FUNCTION IF EXISTS jasyl_tile_cell_x(double precision)")
    op.drop_table("tile_versions")
    for statement in SEQUENCE_VERSIONS:
        op.execute(statement)
