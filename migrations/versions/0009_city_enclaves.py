"""Cities win where their outline overlaps the surrounding oblast; one head again.

The packaged outlines of Astana and Almaty overlap Akmola and Almaty regions by 9 and 6 km².
Region lookups took the lower region id there, so trees on a city's outskirts were filed under
the oblast. This rebuilds the lookup pieces with the cities carved out, re-derives the region of
every plant and green space whose answer changes, and merges the branches of revisions 0002–0008.

Revision ID: 0009
Revises: 0002, 0003, 0006, 0008
"""

from collections.abc import Sequence

from alembic import op

from registry.regions.reference import rebuild_region_parts

revision: str = "0009"
down_revision: str | Sequence[str] | None = ("0002", "0003", "0006", "0008")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REDERIVE = [
    "UPDATE plants SET region_id = jasyl_region_at(geom) "
    "WHERE region_id IS DISTINCT FROM jasyl_region_at(geom)",
    "UPDATE green_spaces SET region_id = jasyl_region_at(geom) "
    "WHERE region_id IS DISTINCT FROM jasyl_region_at(geom)",
]


def upgrade() -> None:
    rebuild_region_parts(op.get_bind())
    for statement in REDERIVE:
        op.execute(statement)


def downgrade() -> None:
    """The overlap-free pieces stay: they are correct under every earlier revision too."""
