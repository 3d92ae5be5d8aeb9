"""Plants keep one spatial index, on their Web Mercator copy ``geom_3857``; their green space
index holds only plants that have one.

Every plant paid for two GiST indexes, on ``geom`` (degrees) and on ``geom_3857`` (the map's
metres, which the tiles read). Each costs 6 s of a million-plant import (measured: the same
million rows merged with and without it). The few queries that looked plants up by a box in
degrees (the inventory's and the OGC API's ``bbox``, CQL's spatial functions) now look their box
up in ``geom_3857`` through ``jasyl_mercator_box``, then test the exact predicate on ``geom``.

``jasyl_mercator_box(g)`` is the Web Mercator box of a geometry in degrees, for ``&&`` against a
``geom_3857``. Mercator maps meridians and parallels to straight lines, each axis on its own and
monotonically, so the box of the projected geometry is the projected box: nothing that
overlaps ``g``'s box in degrees is missed. Beyond ±85.0511° the projection has no values; the
box is cut there (no plant of Kazakhstan lies beyond), so a query over the whole world works.

``ix_plants_green_space_id`` indexed every plant, most under NULL (an imported plant always):
now only those in a green space, which are all that ``green_space_id = ...`` looks for.

``jasyl_book_imported_plants`` (revision 0016) found the z14 cells of an import's plants through
``jasyl_tile_cells`` of each plant's box: 4.8 s for a million points, measured. A point lies in
one cell, named directly by ``jasyl_tile_cell_x/y`` (1.0 s, the same 107 cells); only hedges,
rows and massifs still go through their boxes.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from registry.migrate import earlier_revision

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MERCATOR_BOX = """
CREATE FUNCTION jasyl_mercator_box(g geometry) RETURNS geometry
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ST_Transform(
        ST_ClipByBox2D(ST_Envelope(g), ST_MakeEnvelope(-180, -85.0511, 180, 85.0511, 4326)),
        3857)
$$
"""


BOOK_CELLS_OLD = """
    INSERT INTO tile_versions AS t (layer, cx, cy)
    SELECT DISTINCT 'plants', c.cx, c.cy
    FROM plants r, jasyl_tile_cells(r.geom_3857::box2d) c WHERE r.import_batch_id = batch
    ORDER BY 2, 3"""
BOOK_CELLS = """
    INSERT INTO tile_versions AS t (layer, cx, cy)
    SELECT DISTINCT 'plants', c.cx, c.cy FROM (
        SELECT jasyl_tile_cell_x(ST_X(r.geom_3857)) AS cx, jasyl_tile_cell_y(ST_Y(r.geom_3857)) AS cy
        FROM plants r WHERE r.import_batch_id = batch AND GeometryType(r.geom_3857) = 'POINT'
        UNION ALL
        SELECT c.cx, c.cy FROM plants r, jasyl_tile_cells(r.geom_3857::box2d) c
        WHERE r.import_batch_id = batch AND GeometryType(r.geom_3857) <> 'POINT'
    ) c
    ORDER BY 2, 3"""


def book_of_0016() -> str:
    """Revision 0016's ``jasyl_book_imported_plants``, as CREATE OR REPLACE."""
    book = earlier_revision("0016_import_pipeline.py").BOOK
    return book.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")


def upgrade() -> None:
    book = book_of_0016()
    assert BOOK_CELLS_OLD in book
    op.execute(book.replace(BOOK_CELLS_OLD, BOOK_CELLS))
    op.drop_index("idx_plants_geom", table_name="plants")
    op.execute(MERCATOR_BOX)
    op.drop_index("ix_plants_green_space_id", table_name="plants")
    op.create_index(
        "ix_plants_green_space_id",
        "plants",
        ["green_space_id"],
        postgresql_where=sa.text("green_space_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.execute(book_of_0016())
    op.drop_index("ix_plants_green_space_id", table_name="plants")
    op.create_index("ix_plants_green_space_id", "plants", ["green_space_id"])
    op.execute("DROP FUNCTION jasyl_mercator_box(geometry)")
    op.create_index("idx_plants_geom", "plants", ["geom"], postgresql_using="gist")
