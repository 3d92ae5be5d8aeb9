"""A plant's condition may be unknown (not assessed), and a stump, a vacant planting site or a
dead or removed tree may have no species.

A survey without a condition column said nothing about the trees' health: storing grade I
("healthy") was a guess. ``plants.condition`` NULL now means "not assessed". Likewise a vacant
planting site has no species and a stump often none anyone could name: ``species_id`` may be
NULL unless the plant is alive (check ``species_unless_gone``).

The report tallies keep both as their own key: ``inventory_tallies`` loses its primary key (a
key column cannot be NULL) for a unique index whose NULLs are not distinct (PostgreSQL 15), which
the tally triggers' ``ON CONFLICT`` uses as before. A map dot may stand for unassessed plants.

Revision ID: 0023
Revises: 0019
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TALLY_KEY = ["region_id", "species_id", "status", "condition"]
UNIQUE_KEY = "uq_inventory_tallies_region_id_species_id_status_condition"


def _grid_keeping_of_0017() -> str:
    """The grid trigger function as revision 0017 wrote it (loaded, not copied)."""
    path = Path(__file__).with_name("0017_plant_dots.py")
    spec = importlib.util.spec_from_file_location("revision_0017", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.GRID_KEEPING


def _grid_keeping_with_assessed() -> str:
    """The same function, counting assessed plants apart: a cell's mean grade is over them."""
    keeping = _grid_keeping_of_0017()
    for old, new in (
        ("plants, condition_sum, sum_x", "plants, condition_sum, assessed, sum_x"),
        (
            "sum(sign), sum(sign * condition), ",
            "sum(sign), coalesce(sum(sign * condition), 0), "
            "sum(sign * (condition IS NOT NULL)::int), ",
        ),
        (
            "'condition_sum = c.condition_sum + excluded.condition_sum, '",
            "'condition_sum = c.condition_sum + excluded.condition_sum, '\n"
            "        'assessed = c.assessed + excluded.assessed, '",
        ),
    ):
        assert old in keeping, old
        keeping = keeping.replace(old, new)
    return keeping


SPECIES_UNLESS_GONE = "species_id IS NOT NULL OR status <> 'alive'"


def upgrade() -> None:
    op.alter_column("plants", "condition", nullable=True)
    op.alter_column("plants", "species_id", nullable=True)
    op.create_check_constraint(op.f("ck_plants_species_unless_gone"), "plants", SPECIES_UNLESS_GONE)
    op.drop_constraint(op.f("pk_inventory_tallies"), "inventory_tallies", type_="primary")
    op.alter_column("inventory_tallies", "species_id", nullable=True)
    op.alter_column("inventory_tallies", "condition", nullable=True)
    op.create_unique_constraint(
        op.f(UNIQUE_KEY),
        "inventory_tallies",
        TALLY_KEY,
        postgresql_nulls_not_distinct=True,
    )
    op.alter_column("plant_dots", "condition", nullable=True)
    op.alter_column("plant_dots", "species_id", nullable=True)
    op.add_column(
        "plant_grid_cells",
        sa.Column("assessed", sa.Integer(), server_default="0", nullable=False),
    )
    op.execute("UPDATE plant_grid_cells SET assessed = plants")  # every plant had a grade
    op.execute(_grid_keeping_with_assessed())


def downgrade() -> None:
    # Unassessed and speciesless rows cannot go back; refuse rather than invent grades.
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM plants WHERE condition IS NULL OR species_id IS NULL)"
        " THEN RAISE EXCEPTION 'plants without a condition or species exist; downgrade would "
        "have to invent them'; END IF; END $$"
    )
    op.execute(_grid_keeping_of_0017())
    op.drop_column("plant_grid_cells", "assessed")
    op.execute("DELETE FROM plant_dots")
    op.alter_column("plant_dots", "species_id", nullable=False)
    op.alter_column("plant_dots", "condition", nullable=False)
    op.drop_constraint(op.f(UNIQUE_KEY), "inventory_tallies", type_="unique")
    op.alter_column("inventory_tallies", "condition", nullable=False)
    op.alter_column("inventory_tallies", "species_id", nullable=False)
    op.create_primary_key(op.f("pk_inventory_tallies"), "inventory_tallies", TALLY_KEY)
    op.drop_constraint(op.f("ck_plants_species_unless_gone"), "plants", type_="check")
    op.alter_column("plants", "species_id", nullable=False)
    op.alter_column("plants", "condition", nullable=False)
