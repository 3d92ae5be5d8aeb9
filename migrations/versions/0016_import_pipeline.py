"""Faster survey imports: one redundant index fewer, and the plants' book-keeping of a pipelined
import done once at its end.

``ix_plants_region_id`` duplicated the leading column of the unique (region_id,
inventory_number) index, which answers every ``region_id`` lookup as well; each imported plant
paid for both (measured: about 1.5 s of a million-plant merge).

An import now inserts its new plants chunk by chunk while it still reads the file (one
transaction throughout). The AFTER INSERT statement triggers of ``plants`` (grid dirty flag,
inventory tallies, tile versions per z14 cell) would then lock tally rows and tile cells chunk by
chunk, in no single order across chunks, so a concurrent writer could deadlock with the import.
While ``jasyl.plants_bookkeeping`` is ``deferred`` (transaction-local, set only by the importer)
those three triggers stand aside, and ``jasyl_book_imported_plants(batch)`` does their work for
the batch's plants in one statement each, in their order (grid, tallies, cells sorted), exactly
as the triggers of one INSERT would. A crash before it runs rolls back the plants too.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_DEFERRED = "current_setting('jasyl.plants_bookkeeping', true) IS DISTINCT FROM 'deferred'"
INSERT_TRIGGERS = {
    "plants_grid_insert": "jasyl_plant_grid_dirty",
    "plants_tally_insert": "jasyl_inventory_tally",
    "plants_tiles_insert": "jasyl_bump_tile_versions",
}
# The INSERT branches of the three trigger functions (revisions 0003, 0012, 0014), over the
# plants a batch inserted instead of a statement's transition table.
BOOK = """
CREATE FUNCTION jasyl_book_imported_plants(batch integer) RETURNS void LANGUAGE sql AS $$
    INSERT INTO plant_grid_state (region_id, dirty)
    SELECT DISTINCT region_id, true FROM plants WHERE import_batch_id = batch
    ON CONFLICT (region_id) DO UPDATE SET dirty = true WHERE NOT plant_grid_state.dirty;

    INSERT INTO inventory_tallies AS t (region_id, species_id, status, condition, plants, quantity)
    SELECT region_id, species_id, status, condition, count(*), sum(quantity::bigint)
    FROM plants WHERE import_batch_id = batch
    GROUP BY region_id, species_id, status, condition ORDER BY region_id, species_id, status, condition
    ON CONFLICT (region_id, species_id, status, condition)
    DO UPDATE SET plants = t.plants + EXCLUDED.plants, quantity = t.quantity + EXCLUDED.quantity;

    INSERT INTO tile_versions AS t (layer, cx, cy)
    SELECT DISTINCT 'plants', c.cx, c.cy
    FROM plants r, jasyl_tile_cells(r.geom_3857::box2d) c WHERE r.import_batch_id = batch
    ORDER BY 2, 3
    ON CONFLICT (layer, cx, cy) DO UPDATE SET version = t.version + 1;
$$
"""


def _insert_trigger(name: str, function: str, when: str | None) -> str:
    condition = f"WHEN ({when}) " if when else ""
    return (
        f"CREATE TRIGGER {name} AFTER INSERT ON plants REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT {condition}EXECUTE FUNCTION {function}()"
    )


def _replace_insert_triggers(when: str | None) -> None:
    for name, function in INSERT_TRIGGERS.items():
        op.execute(f"DROP TRIGGER {name} ON plants")
        op.execute(_insert_trigger(name, function, when))


def upgrade() -> None:
    op.drop_index("ix_plants_region_id", table_name="plants")
    _replace_insert_triggers(NOT_DEFERRED)
    op.execute(BOOK)


def downgrade() -> None:
    op.execute("DROP FUNCTION jasyl_book_imported_plants(integer)")
    _replace_insert_triggers(None)
    op.create_index("ix_plants_region_id", "plants", ["region_id"], unique=False)
