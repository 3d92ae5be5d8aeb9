"""A live import's benefit tallies computed beside it, on the database's other core.

Revision 0028 booked each chunk a live import copies into ``plants`` from the chunk's transition
table, in the import's own server process: a million survey points took 7–10 s longer with it
than without (``python -m bench.benefits``, idle machine: write wait 10.8 → 20.4 s), a third of
the import, while the reading side's core sat idle most of the time.

Now, while ``jasyl.benefit_tallies`` is ``beside`` (transaction-local, set by the importer
for its live chunks only), the benefits' INSERT trigger stands aside. The importer sends each chunk's rows also to a second connection of its own
(``importers.benefits``), which computes that chunk's tally deltas with
``jasyl_tally_benefits(rows, sums)`` (the very ``_deltas`` SQL of the trigger, over a table
named at call time) and adds them up in a temporary table. At the end the import adds the
totals to ``benefit_tallies`` with ``jasyl_add_benefit_sums(sums)``, in its own transaction:
the tallies are still never stale, and a refused import adds nothing. The figures are sums of
per-plant figures rounded to 0.001, in numeric, so adding them up chunk by chunk gives the same
totals, to the gram, as the trigger.

The reference data the figures come from (methods, equations, constants, precipitation) is
locked against change by the import (``SHARE``) before the second connection starts, so both
connections compute with the same data.

Revision ID: 0031
Revises: 0030
"""

from collections.abc import Sequence

from alembic import op

from registry.migrate import earlier_revision

revision: str = "0031"
down_revision: str | Sequence[str] | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_BESIDE = "current_setting('jasyl.benefit_tallies', true) IS DISTINCT FROM 'beside'"
ROWS, SUMS = "__rows__", "__sums__"  # placeholders for the tables named at call time


def functions() -> list[str]:
    tallies = earlier_revision("0028_cheaper_benefit_tallies.py")
    leaf_area = earlier_revision("0029_crown_leaf_area.py").leaf_area(tallies)
    into_sums = tallies._upsert(tallies._deltas(ROWS, "", leaf_area)).replace(
        "INSERT INTO benefit_tallies AS t", f"INSERT INTO {SUMS} AS t", 1
    )
    added = tallies._upsert("SELECT * FROM jsonb_populate_recordset(NULL::benefit_tallies, sums)")
    return [
        f"""
    CREATE FUNCTION jasyl_tally_benefits(rows regclass, sums regclass)
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        EXECUTE replace(replace($q$ {into_sums} $q$, '{ROWS}', rows::text), '{SUMS}', sums::text);
    END $$""",
        f"""
    CREATE FUNCTION jasyl_add_benefit_sums(sums jsonb) RETURNS void LANGUAGE sql AS $$
        {added}
    $$""",
        "DROP TRIGGER plants_benefits_insert ON plants",
        f"""CREATE TRIGGER plants_benefits_insert AFTER INSERT ON plants
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT WHEN ({NOT_BESIDE})
        EXECUTE FUNCTION jasyl_benefit_tally()""",
    ]


def upgrade() -> None:
    for statement in functions():
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER plants_benefits_insert ON plants")
    op.execute(
        """CREATE TRIGGER plants_benefits_insert AFTER INSERT ON plants
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
        EXECUTE FUNCTION jasyl_benefit_tally()"""
    )
    op.execute("DROP FUNCTION jasyl_add_benefit_sums(jsonb)")
    op.execute("DROP FUNCTION jasyl_tally_benefits(regclass, regclass)")
