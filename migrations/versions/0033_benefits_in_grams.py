"""A plant's benefit figures rounded to whole grams as integers; the tallies sum integers.

Each figure of a plant (CO₂ stored, sequestered a year, rain intercepted a year) was rounded to
0.001 by ``round(x::numeric, 3)``: a float8 → numeric conversion (through text) per figure and
plant, then numeric sums. That was a third of the tallies' per-plant cost (100,000 plants:
332 → 222 ms for the tallies' query, idle machine), paid by every write of plants and, since
revision 0031, by the connection that sums a live import's chunks on the import's other core.

Now a figure is ``round(x * 1000)``, an integer count of thousandths (grams of CO₂, litres of
rain), summed as integers and scaled by 0.001 once per tally row; a plant's own figures
(``jasyl_plant_benefit``: its card, the OGC collection, exports) are the same integers × 0.001.
So the tallies stay the exact sums of the per-plant figures. The figures move by at most one
thousandth where ``x`` lay within a rounding error of a half thousandth (float rounding, half
to even, instead of numeric's half away from zero); the tallies are rebuilt.

Revision ID: 0033
Revises: 0032
"""

from collections.abc import Sequence
from types import ModuleType

from alembic import op

from registry.migrate import earlier_revision

revision: str = "0033"
down_revision: str | Sequence[str] | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KG = ("co2_stored_kg", "co2_sequestered_kg", "rain_m3")


def _in_thousandths(sql: str, scale: str) -> str:
    """Every ``round((x)::numeric, 3)`` of ``sql`` as ``round((x) * 1000)::bigint`` + ``scale``."""
    assert sql.count("round((") == sql.count(")::numeric, 3)") > 0
    return sql.replace("round((", "round(((").replace(
        ")::numeric, 3)", f") * 1000))::bigint{scale}"
    )


def _sums_scaled(sql: str) -> str:
    """The tallies' sums of thousandths, scaled to kg (m³) as they are stored."""
    for column in KG:
        before = sql
        sql = sql.replace(f"sum({column}) AS {column}", f"sum({column}) * 0.001 AS {column}")
        sql = sql.replace(f"sum({column}),", f"sum({column}) * 0.001,")
        sql = sql.replace(f"sum({column})\n", f"sum({column}) * 0.001\n")
        sql = sql.replace(f"sum({column}) FROM", f"sum({column}) * 0.001 FROM")
        assert sql != before, column
    return sql


def _earlier() -> tuple[ModuleType, ModuleType, ModuleType]:
    """Revisions 0028 (the tallies' SQL), 0029 (leaf area, a plant's figures), 0031 (sums)."""
    return tuple(
        earlier_revision(name)
        for name in (
            "0028_cheaper_benefit_tallies.py",
            "0029_crown_leaf_area.py",
            "0031_import_benefits_beside.py",
        )
    )


def functions() -> list[str]:
    tallies, crown, beside = _earlier()
    kept = [
        _sums_scaled(_in_thousandths(f, ""))
        for f in tallies.tally_functions(crown.leaf_area(tallies))
    ]
    summed = _sums_scaled(_in_thousandths(beside.functions()[0], ""))
    return [
        _in_thousandths(crown.PLANT_BENEFIT, " * 0.001"),
        *kept,
        summed.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1),
    ]


def upgrade() -> None:
    for statement in functions():
        op.execute(statement)
    op.execute("SELECT jasyl_rebuild_benefit_tallies()")


def downgrade() -> None:
    tallies, crown, beside = _earlier()
    op.execute(crown.PLANT_BENEFIT)
    for statement in tallies.tally_functions(crown.leaf_area(tallies)):
        op.execute(statement)
    op.execute(beside.functions()[0].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.execute("SELECT jasyl_rebuild_benefit_tallies()")
