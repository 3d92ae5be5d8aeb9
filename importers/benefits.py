"""A live import's benefit tallies, computed on a connection of their own beside the import.

The import's server process is what a large survey waits for (``importers.staging``): its COPY
into ``plants``, indexes and constraints take one core, while the reader's core is idle much
of the time. Computing each chunk's benefit figures in that same process (the INSERT trigger of
revision 0028) made a million points a third slower. So during a live import the trigger
stands aside (``jasyl.benefit_tallies``, revision 0031), and each chunk's rows go also to a second
server process, which sums that chunk's figures with the trigger's own SQL
(``jasyl_tally_benefits``) into a temporary table, on the other core, while the import copies
the next chunk. At the merge the totals are added to ``benefit_tallies`` in the import's own
transaction (``jasyl_add_benefit_sums``): a refused or rolled-back import adds nothing.

Both processes must compute with the same reference data: the import locks it against change
(``SHARE``: readers go on, a change of a method or a constant waits for the import) before the
second connection reads any of it. A transaction that changed reference data itself (only
tests do: the app imports in a unit of work of its own) keeps the trigger: the second
connection would not see its changes.
"""

from __future__ import annotations

from psycopg import Connection as DriverConnection
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from importers.staging import PLANT_COLUMNS, InFlight, NewPlants

REFERENCE = "species_benefit_methods, benefit_equations, benefit_constants, region_precipitation"
LOCK_REFERENCE = f"LOCK TABLE {REFERENCE} IN SHARE MODE"
ROWS, SUMS = "import_benefit_rows", "import_benefit_sums"
# The chunk's rows as COPYed into ``plants``, its geometry left as text (no figure needs it).
CREATE_ROWS = f"""
CREATE TEMP TABLE {ROWS} ON COMMIT DROP AS
SELECT id, green_space_id, {", ".join(c for c in PLANT_COLUMNS if c != "geom")},
       NULL::text AS geom
FROM plants WITH NO DATA
"""  # noqa: S608 - constants
CREATE_SUMS = f"CREATE TEMP TABLE {SUMS} (LIKE benefit_tallies INCLUDING ALL) ON COMMIT DROP"
TALLY = f"SELECT jasyl_tally_benefits('{ROWS}', '{SUMS}')"
TOTALS = f"SELECT jsonb_agg(s)::text FROM {SUMS} s"  # noqa: S608 - numerics exact, as JSON
ADD_TOTALS = "SELECT jasyl_add_benefit_sums(CAST(:sums AS jsonb))"
# Transaction-local, so a refused import's rollback also puts the trigger back.
TRIGGER_ASIDE = "SELECT set_config('jasyl.benefit_tallies', 'beside', true)"
TRIGGER_BACK = "SELECT set_config('jasyl.benefit_tallies', '', true)"
CHANGED_HERE = """
SELECT EXISTS (
    SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation'
       AND mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock',
                    'AccessExclusiveLock')
       AND relation = ANY (CAST(string_to_array(:tables, ', ') AS regclass[])))
"""


class BenefitsBeside:
    """Sums a live import's benefit figures chunk by chunk on a second connection; ``book``
    adds them to the tallies in the import's transaction. One chunk in flight, like the
    import's own writer, so memory stays flat."""

    @staticmethod
    def possible(session: Session) -> bool:
        """Lock the reference data; ``False`` if this transaction changed it (see above)."""
        session.execute(text(LOCK_REFERENCE))
        return not session.scalar(text(CHANGED_HERE), {"tables": REFERENCE})

    def __init__(self, session: Session) -> None:
        session.execute(text(TRIGGER_ASIDE))
        self.connection: Connection = session.get_bind().engine.connect()
        self.connection.execute(text("SET LOCAL jit = off"))
        self.connection.execute(text(CREATE_ROWS))
        self.connection.execute(text(CREATE_SUMS))
        self.driver: DriverConnection = self.connection.connection.driver_connection
        self.thread = InFlight("jasyl-benefits")

    def add(self, plants: NewPlants) -> None:
        """Sum a chunk's new plants (the stream that went into ``plants``), beside the import."""
        self.thread.send(self._tally, plants)

    def _tally(self, plants: NewPlants) -> None:
        statement = plants.statement.replace("COPY plants ", f"COPY {ROWS} ", 1)
        with self.driver.cursor() as cursor:
            with cursor.copy(statement) as copy:
                copy.write(plants.data)
            cursor.execute(TALLY)
            cursor.execute(f"TRUNCATE {ROWS}")

    def book(self, session: Session) -> None:
        """Add the import's sums to ``benefit_tallies``, in the import's transaction."""
        self.thread.wait()
        sums = self.connection.execute(text(TOTALS)).scalar()
        if sums is not None:
            session.execute(text(ADD_TOTALS), {"sums": sums})
        session.execute(text(TRIGGER_BACK))

    def close(self) -> None:
        """End the second connection (its temporary tables go with its transaction)."""
        try:
            self.thread.close(quietly=True)  # whatever it raised: the import tells
        finally:
            self.connection.rollback()
            self.connection.close()
