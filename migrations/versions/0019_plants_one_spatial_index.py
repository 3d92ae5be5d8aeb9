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

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

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


def upgrade() -> None:
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
    op.drop_index("ix_plants_green_space_id", table_name="plants")
    op.create_index("ix_plants_green_space_id", "plants", ["green_space_id"])
    op.execute("DROP FUNCTION jasyl_mercator_box(geometry)")
    op.create_index("idx_plants_geom", "plants", ["geom"], postgresql_using="gist")
