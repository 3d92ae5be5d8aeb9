"""NDVI figures keep the share of each green space the image covered; an image is stored once.

``green_space_ndvi.covered_share``: the share of the green space's area under valid pixels (not
off the image, not nodata). Figures recorded before stay NULL: their coverage was not measured.

``ndvi_images.file_sha256`` becomes unique: the same image recorded again replaces its figures.
Where an image was stored twice, the newest row is kept and the older ones (with their figures)
are dropped, since they are the same measurement of the same image.

Revision ID: 0024
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("green_space_ndvi", sa.Column("covered_share", sa.Float(), nullable=True))
    op.create_check_constraint(
        op.f("ck_green_space_ndvi_covered_fraction"),
        "green_space_ndvi",
        "covered_share BETWEEN 0 AND 1",
    )
    op.execute(
        "DELETE FROM ndvi_images older USING ndvi_images newer "
        "WHERE older.file_sha256 = newer.file_sha256 AND older.id < newer.id"
    )
    op.create_unique_constraint(op.f("uq_ndvi_images_file_sha256"), "ndvi_images", ["file_sha256"])


def downgrade() -> None:
    op.drop_constraint(op.f("uq_ndvi_images_file_sha256"), "ndvi_images", type_="unique")
    op.drop_constraint(
        op.f("ck_green_space_ndvi_covered_fraction"), "green_space_ndvi", type_="check"
    )
    op.drop_column("green_space_ndvi", "covered_share")
