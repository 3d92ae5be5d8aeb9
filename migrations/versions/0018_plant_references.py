"""The plants' references to regions, species, import batches and users, checked per statement
instead of per row; and one head again (0016 and 0017 both followed 0015).

A foreign key checks each inserted row on its own: a query per row and per key, four for an
imported plant. For a million-plant survey that was 24 of the merge's 69 seconds (measured by
inserting the same million rows with and without the four keys). The statement triggers here
check the same rule once per statement, over its transition table: well under a second for the million.

They keep what the foreign keys guaranteed, concurrency included, the way PostgreSQL's own
checks do it:

- A writer of plants locks the parent rows its statement refers to ``FOR KEY SHARE`` (in key
  order), then refuses a statement naming a parent that does not exist. The lock waits for a
  concurrent delete of that parent and then sees it gone; a parent deleted afterwards waits
  for this writer.
- Deleting a parent (or changing its id) that a plant still refers to is refused: a statement
  trigger on the parent, after its statement has locked and deleted the rows, so a concurrent
  writer of plants has either committed (and is seen) or waits for it and then finds the
  parent gone.

Both raise ``foreign_key_violation`` with the old constraint's name, so an error reads as it
did. One case the keys covered and these do not: a parent deleted inside a REPEATABLE READ
transaction whose snapshot predates a plant committed meanwhile (PostgreSQL's own check takes a
fresh snapshot for it); nothing in Jasyl deletes regions, species, batches or users that way.
``green_space_id`` keeps its foreign key: imports leave it empty, and it is ``ON DELETE SET
NULL``. The models keep ``ForeignKey`` on these columns (they order the ORM's inserts);
``registry.migrate.include_object`` knows that the database checks them here.

Revision ID: 0018
Revises: 0016, 0017
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = ("0016", "0017")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (column of plants, parent table, the foreign key's name)
REFERENCES = [
    ("region_id", "regions", "fk_plants_region_id_regions"),
    ("species_id", "species", "fk_plants_species_id_species"),
    ("import_batch_id", "import_batches", "fk_plants_import_batch_id_import_batches"),
    ("updated_by", "users", "fk_plants_updated_by_users"),
]

CHILD = """
CREATE FUNCTION jasyl_plants_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ref text[];  -- column of plants, parent table, constraint name
    missing bigint;
BEGIN
    FOREACH ref SLICE 1 IN ARRAY ARRAY[/*references*/] LOOP
        EXECUTE format('SELECT 1 FROM %I WHERE id IN (SELECT DISTINCT %I FROM new_rows) '
                       'ORDER BY id FOR KEY SHARE', ref[2], ref[1]);
        EXECUTE format('SELECT n.%1$I FROM new_rows n WHERE n.%1$I IS NOT NULL AND NOT EXISTS '
                       '(SELECT 1 FROM %2$I p WHERE p.id = n.%1$I) LIMIT 1', ref[1], ref[2])
            INTO missing;
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
""".replace(
    "/*references*/",
    ", ".join(f"ARRAY['{column}', '{parent}', '{name}']" for column, parent, name in REFERENCES),
)
# A parent's ids that are gone after its statement (deleted, or changed by an UPDATE) while a
# plant still refers to them. TG_ARGV: the column of plants, the constraint's name.
PARENT = """
CREATE FUNCTION jasyl_plants_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone bigint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        EXECUTE format('SELECT o.id FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows n '
                       'WHERE n.id = o.id) AND EXISTS (SELECT 1 FROM plants p WHERE p.%I = o.id) '
                       'LIMIT 1', TG_ARGV[0]) INTO gone;
    ELSE
        EXECUTE format('SELECT o.id FROM old_rows o WHERE EXISTS (SELECT 1 FROM plants p '
                       'WHERE p.%I = o.id) LIMIT 1', TG_ARGV[0]) INTO gone;
    END IF;
    IF gone IS NOT NULL THEN
        RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%" on '
                        'table "plants"', TG_TABLE_NAME, TG_ARGV[1]
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[1],
                  TABLE = TG_TABLE_NAME,
                  DETAIL = format('Key (id)=(%s) is still referenced from table "plants".', gone);
    END IF;
    RETURN NULL;
END
$$
"""


def _parent_triggers(parent: str, column: str, name: str) -> list[str]:
    return [
        f"CREATE TRIGGER plants_referenced_{event.lower()} AFTER {event} ON {parent} "
        f"REFERENCING {tables} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION jasyl_plants_referenced('{column}', '{name}')"
        for event, tables in (
            ("DELETE", "OLD TABLE AS old_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        )
    ]


def upgrade() -> None:
    for _, _, name in REFERENCES:
        op.drop_constraint(name, "plants", type_="foreignkey")
    op.execute(CHILD)
    op.execute(PARENT)
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER plants_references_{event.lower()} AFTER {event} ON plants "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION jasyl_plants_references()"
        )
    for column, parent, name in REFERENCES:
        for trigger in _parent_triggers(parent, column, name):
            op.execute(trigger)


def downgrade() -> None:
    for _, parent, _ in REFERENCES:
        op.execute(f"DROP TRIGGER plants_referenced_delete ON {parent}")
        op.execute(f"DROP TRIGGER plants_referenced_update ON {parent}")
    op.execute("DROP TRIGGER plants_references_insert ON plants")
    op.execute("DROP TRIGGER plants_references_update ON plants")
    op.execute("DROP FUNCTION jasyl_plants_referenced()")
    op.execute("DROP FUNCTION jasyl_plants_references()")
    for column, parent, name in REFERENCES:
        op.create_foreign_key(name, "plants", parent, [column], ["id"])
