"""A live import's book-keeping reads its plants once, and only its own.

``jasyl_book_imported_plants(batch)`` (revisions 0016, 0019) found the batch's plants four
times (grid, tallies, the cells of points, the cells of other shapes), each time by a scan of
every plant in the registry: no index leads to ``import_batch_id``. At a million imported
points in an empty registry that was 1.4 s; in a national registry of millions of plants each
scan reads them all.

Now the importer passes the plants' sequence value read before its first chunk (``after``):
every plant it inserted has a larger id (``plants_id_seq`` caches no values), so the batch's
plants are found by a range of the primary key, once, into a materialised CTE that the three
statements read. They run in the order they always did, grid, tallies, tile versions, as the
INSERT triggers of an ordinary edit lock those rows (each waits for the one before it by a
sub-select of its ``RETURNING``), so an import and an edit cannot deadlock on them.

Revision ID: 0035
Revises: 0034
"""

from collections.abc import Sequence

from alembic import op

from registry.migrate import earlier_revision

revision: str = "0035"
down_revision: str | Sequence[str] | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOOK = """
CREATE FUNCTION jasyl_book_imported_plants(batch integer, after bigint DEFAULT 0)
RETURNS void LANGUAGE sql AS $$
    WITH imported AS MATERIALIZED (
        SELECT region_id, species_id, status, condition, quantity, geom_3857
        FROM plants WHERE id > after AND import_batch_id = batch
    ), grid AS (
        INSERT INTO plant_grid_state (region_id, dirty)
        SELECT DISTINCT region_id, true FROM imported
        ON CONFLICT (region_id) DO UPDATE SET dirty = true WHERE NOT plant_grid_state.dirty
        RETURNING 1
    ), tallies AS (
        INSERT INTO inventory_tallies AS t (region_id, species_id, status, condition, plants,
                                            quantity)
        SELECT region_id, species_id, status, condition, count(*), sum(quantity::bigint)
        FROM imported WHERE (SELECT count(*) FROM grid) >= 0  -- after the grid
        GROUP BY region_id, species_id, status, condition
        ORDER BY region_id, species_id, status, condition
        ON CONFLICT (region_id, species_id, status, condition)
        DO UPDATE SET plants = t.plants + EXCLUDED.plants, quantity = t.quantity + EXCLUDED.quantity
        RETURNING 1
    )
    INSERT INTO tile_versions AS t (layer, cx, cy)
    SELECT DISTINCT 'plants', c.cx, c.cy FROM (
        SELECT jasyl_tile_cell_x(ST_X(r.geom_3857)) AS cx, jasyl_tile_cell_y(ST_Y(r.geom_3857)) AS cy
        FROM imported r WHERE GeometryType(r.geom_3857) = 'POINT'
        UNION ALL
        SELECT c.cx, c.cy FROM imported r, jasyl_tile_cells(r.geom_3857::box2d) c
        WHERE GeometryType(r.geom_3857) <> 'POINT'
    ) c
    WHERE (SELECT count(*) FROM tallies) >= 0  -- after the tallies
    ORDER BY 2, 3
    ON CONFLICT (layer, cx, cy) DO UPDATE SET version = t.version + 1;
$$
"""


def upgrade() -> None:
    op.execute("DROP FUNCTION jasyl_book_imported_plants(integer)")
    op.execute(BOOK)


def downgrade() -> None:
    op.execute("DROP FUNCTION jasyl_book_imported_plants(integer, bigint)")
    revision_0019 = earlier_revision("0019_plants_one_spatial_index.py")
    op.execute(
        revision_0019.book_of_0016()
        .replace(revision_0019.BOOK_CELLS_OLD, revision_0019.BOOK_CELLS)
        .replace("CREATE OR REPLACE FUNCTION", "CREATE FUNCTION", 1)
    )
