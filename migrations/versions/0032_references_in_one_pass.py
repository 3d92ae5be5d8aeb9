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

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0032"
down_revision: str | Sequence[str] | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHILD = """
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
        IF missing IS NOT NULL THEN
            RAISE EXCEPTION 'insert or update on table "plants" violates foreign key constraint "%"',
                ref[3]
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = ref[3], TABLE = 'plants',
                      DETAIL = format('Key (%s)=(%s) is not present in table "%s".',
                                      ref[1], missing, ref[2]);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$
"""


def _revision_0018():
    """Revision 0018 (loaded, not copied): its references, and its function for a downgrade."""
    path = Path(__file__).with_name("0018_plant_references.py")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def child() -> str:
    references = _revision_0018().REFERENCES
    columns = [column for column, _, _ in references]
    pairs = ", ".join(
        f"'{c}', coalesce(jsonb_agg(DISTINCT k.{c}) FILTER (WHERE k.{c} IS NOT NULL), '[]')"
        for c in columns
    )
    return (
        CHILD.replace("/*columns*/", pairs)
        .replace("/*column list*/", ", ".join(columns))
        .replace(
            "/*references*/",
            ", ".join(f"ARRAY['{c}', '{parent}', '{name}']" for c, parent, name in references),
        )
    )


def upgrade() -> None:
    op.execute(child())


def downgrade() -> None:
    op.execute(_revision_0018().CHILD.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
