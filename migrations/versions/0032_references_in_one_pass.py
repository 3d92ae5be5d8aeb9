"""The plants' reference check reads a statement's rows once, not eight times.

Revision 0018's ``jasyl_plants_references`` checked the four references one after another,
each with two scans of the statement's transition table (the keys to lock, then a missing
one): eight scans of every row of a bulk insert, 171 ms for 100,000 plants (``EXPLAIN
ANALYZE`` of ``python -m bench.benefits``'s insert, idle machine), 1.7 s of a million-point
import, in the import's server process, which is what a large import waits for.

Here one scan finds the distinct combinations of the four keys (a handful in an import: one
region, batch and user, a few dozen species), and each reference is checked, and its parents
locked, from those few values. What is checked and locked, in which order, and the error
raised are as before (see 0018); of several missing keys the smallest is named.

Revision ID: 0032
Revises: 0031
"""

from collections.abc import Sequence

from alembic import op

from registry.migrate import earlier_revision

revision: str = "0032"
down_revision: str | Sequence[str] | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The new reading of the statement's rows; what follows ``INTO missing;`` (the refusal, the
# loop's end) is revision 0018's.
CHECKS = """
CREATE OR REPLACE FUNCTION jasyl_plants_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ref text[];  -- column of plants, parent table, constraint name
    keys jsonb;  -- each column's distinct values in the statement's rows
    ids bigint[];
    missing bigint;
BEGIN
    SELECT jsonb_build_object(/*columns*/) INTO keys
    FROM (SELECT DISTINCT /*column list*/ FROM new_rows) k;
    FOREACH ref SLICE 1 IN ARRAY ARRAY[/*references*/] LOOP
        ids := ARRAY(SELECT jsonb_array_elements_text(keys -> ref[1]) ::bigint);
        CONTINUE WHEN cardinality(ids) = 0;
        EXECUTE format('SELECT 1 FROM %I WHERE id = ANY ($1) ORDER BY id FOR KEY SHARE', ref[2])
            USING ids;
        EXECUTE format('SELECT x FROM unnest($1) x WHERE NOT EXISTS '
                       '(SELECT 1 FROM %I p WHERE p.id = x) ORDER BY x LIMIT 1', ref[2])
            USING ids INTO missing;
"""
REFUSAL_AFTER = "INTO missing;\n"


def child() -> str:
    original = earlier_revision("0018_plant_references.py")
    references = original.REFERENCES
    columns = [column for column, _, _ in references]
    pairs = ", ".join(
        f"'{c}', coalesce(jsonb_agg(DISTINCT k.{c}) FILTER (WHERE k.{c} IS NOT NULL), '[]')"
        for c in columns
    )
    checks = CHECKS + original.CHILD.split(REFUSAL_AFTER, 1)[1]
    return (
        checks.replace("/*columns*/", pairs)
        .replace("/*column list*/", ", ".join(columns))
        .replace(
            "/*references*/",
            ", ".join(f"ARRAY['{c}', '{parent}', '{name}']" for c, parent, name in references),
        )
    )


def upgrade() -> None:
    op.execute(child())


def downgrade() -> None:
    original = earlier_revision("0018_plant_references.py").CHILD
    op.execute(original.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
