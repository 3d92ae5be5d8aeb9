"""The SQL half of an import: binary COPY into a staging table, set-wise checks, one merge.

The staging table is temporary and dropped at commit or rollback, so an interrupted import
(even ``kill -9``) leaves nothing behind. Every staged row already lies in the survey's region:
the importer checked that with the database's own pieces and rule (``RegionPieces``), so the
merge tells the ``jasyl_set_region`` trigger, for its own statements only, that ``region_id``
is the derived one (see migration 0002) instead of looking each row up again.

The merge inserts in the Z-order of the rows' locations (``place``, computed by the reader, like
a geohash): neighbours in the file's space are then neighbours in the GiST index of ``plants``,
which keeps its pages in the buffer cache (measured at 200,000 points: 13 s against 22 s in
file order).

An all-or-nothing import merges *while it reads* (``live``), inside the same transaction, so
PostgreSQL inserts and indexes on one core while Python reads and validates the next chunk on
the other. A chunk's new plants (rows without a number, or with one the region does not have)
go straight into ``plants`` by COPY (``plant_copy_data``), sorted by ``place``, with ids taken
from the table's sequence beforehand so that unnumbered ones get their registry numbers in the
same row: the staging table and ``INSERT … SELECT`` are skipped (a million points: 23–27 s of
database time against 32–33 s, measured). Rows with numbers the region knows are staged and
update their plants at the end. The plants' statement-level book-keeping (grid, tallies, tile
versions) is deferred to one ``jasyl_book_imported_plants`` call at the end (revision 0016), so
locks are taken as by one INSERT. Plants already merged belong to the import's batch: the
statements matching staged rows against existing plants leave that batch's plants out
(``OTHER_BATCHES``); before the batch exists they are given ``NO_BATCH``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import repeat

import numpy as np
from psycopg import Connection, Cursor
from psycopg.copy import Copy, FileWriter
from sqlalchemy import text
from sqlalchemy.orm import Session

from importers.rows import STAGING_COLUMNS, Clean
from registry.inventory.services import registry_number

STAGING = "import_staging"
COPY_TYPES = [
    "int4",
    "text",
    "int4",
    "text",
    "bytea",  # EWKB: PostGIS's binary input for geometry
    "int4",
    "float8",
    "float8",
    "int4",
    "int4",
    "float8",
    "float8",
    "float8",
    "int4",
    "bool",
    "text",
    "text",
    "text",
    "int8",
]
COPY_STAGING = f"COPY {STAGING} ({', '.join(STAGING_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
CREATE_STAGING = """
CREATE TEMP TABLE import_staging (
    row_no int PRIMARY KEY,
    inventory_number text,
    species_id int,
    planting_form text NOT NULL,
    geom geometry(Geometry, 4326) NOT NULL,
    quantity int NOT NULL,
    length_m float8,
    area_m2 float8,
    planting_year int,
    age_years int,
    height_m float8,
    trunk_diameter_cm float8,
    crown_diameter_m float8,
    condition int,
    hazardous bool NOT NULL,
    status text NOT NULL,
    address text NOT NULL,
    notes text NOT NULL,
    place bigint NOT NULL
) ON COMMIT DROP
"""
NO_BATCH = 0  # import batch ids start at 1
OTHER_BATCHES = "p.import_batch_id IS DISTINCT FROM :batch"
LOCK_MATCHED = f"""
SELECT p.id FROM plants p JOIN import_staging s
  ON p.region_id = :region AND p.inventory_number = s.inventory_number AND {OTHER_BATCHES}
FOR UPDATE OF p
"""  # noqa: S608
# Existing plants a forester changed in Jasyl after they were last imported (or that were
# entered by hand): a survey must not overwrite them.
CONFLICTS = f"""
SELECT s.row_no, p.id, p.inventory_number
FROM import_staging s
JOIN plants p ON p.region_id = :region AND p.inventory_number = s.inventory_number
 AND {OTHER_BATCHES}
LEFT JOIN import_batches b ON b.id = p.import_batch_id
WHERE b.id IS NULL OR p.updated_at > b.finished_at
ORDER BY s.row_no
"""  # noqa: S608
# Everything staged but the row number, the key it is matched on and the insertion order.
VALUE_COLUMNS = tuple(
    c for c in STAGING_COLUMNS if c not in {"row_no", "inventory_number", "place"}
)
CASTS = {
    "planting_form": "::planting_form",
    "status": "::plant_status",
    "length_m": "::numeric(9,1)",
    "area_m2": "::numeric(11,1)",
    "height_m": "::numeric(5,1)",
    "trunk_diameter_cm": "::numeric(5,1)",
    "crown_diameter_m": "::numeric(5,1)",
    "planting_year": "::smallint",
    "age_years": "::smallint",
}


def _source(column: str) -> str:
    return f"s.{column}{CASTS.get(column, '')}"


# Composed from the constant column lists above, never from input.
UPDATE = f"""
UPDATE plants p SET
    {", ".join(f"{c} = {_source(c)}" for c in VALUE_COLUMNS)},
    version = p.version + 1, updated_by = :user, updated_at = now(), import_batch_id = :batch
FROM import_staging s
WHERE p.region_id = :region AND p.inventory_number = s.inventory_number AND {OTHER_BATCHES}
  AND ({", ".join(f"p.{c}" for c in VALUE_COLUMNS)})
      IS DISTINCT FROM ({", ".join(_source(c) for c in VALUE_COLUMNS)})
"""  # noqa: S608
MATCHED = f"""
SELECT count(*) FROM import_staging s
JOIN plants p ON p.region_id = :region AND p.inventory_number = s.inventory_number
 AND {OTHER_BATCHES}
"""  # noqa: S608
NEW_ONLY = """
    WHERE NOT EXISTS (
        SELECT 1 FROM plants p
        WHERE p.region_id = :region AND p.inventory_number = s.inventory_number)"""


# The sequence is looked up once, cast included (an InitPlan): looked up per row, 50,000 ids
# took 250 ms instead of 40.
NEXT_PLANT_ID = "nextval((SELECT pg_get_serial_sequence('plants', 'id')::regclass))"
# ``registry.inventory.services.registry_number`` in SQL: the id zero-padded to 8 digits (never
# cut: ``lpad`` alone would cut longer ids to 8 characters).
REGISTRY_NUMBER = "lpad(n.id::text, greatest(8, length(n.id::text)), '0')"


def _insert(where: str) -> str:
    return f"""
INSERT INTO plants (id, region_id, inventory_number, {", ".join(VALUE_COLUMNS)},
                    version, updated_by, import_batch_id, published)
SELECT n.id, :region, coalesce(n.inventory_number, :kato || '-' || {REGISTRY_NUMBER}),
       {", ".join(_source(c).replace("s.", "n.", 1) for c in VALUE_COLUMNS)},
       1, :user, :batch, true
FROM (
    SELECT {NEXT_PLANT_ID} AS id, s.*
    FROM (SELECT * FROM import_staging s{where} ORDER BY s.place) s
) n
"""  # noqa: S608


# A live import's new plants, COPYed in text: ``plants`` keeps sizes as numeric and kinds as
# enums, whose binary forms Python floats and strings do not have. Ids come from the table's
# sequence: by its default, or, in a chunk with plants that came without a number, taken
# beforehand (``reserve_ids``) so that those get their registry numbers in the same row
# (taking them costs the reader ~0.2 s a chunk, so numbered chunks do without). Version,
# publication and times are the table's defaults.
PLANT_COLUMNS = ("region_id", "inventory_number", *VALUE_COLUMNS, "updated_by", "import_batch_id")
COPY_PLANTS = f"COPY plants ({', '.join(PLANT_COLUMNS)}) FROM STDIN"
COPY_PLANTS_WITH_IDS = f"COPY plants (id, {', '.join(PLANT_COLUMNS)}) FROM STDIN"
RESERVE_IDS = f"SELECT {NEXT_PLANT_ID} FROM generate_series(1, :n)"  # noqa: S608 - constants


INSERT = _insert(NEW_ONLY)
INSERT_ALL = _insert("")  # when no staged number exists yet: no per-row existence probe
KNOWN = f"""
SELECT EXISTS (
    SELECT 1 FROM import_staging s JOIN plants p
      ON p.region_id = :region AND p.inventory_number = s.inventory_number AND {OTHER_BATCHES})
"""  # noqa: S608
# What the merge is about to overwrite, kept in the audit trail so the batch can be undone.
KEEP_PREVIOUS = f"""
INSERT INTO audit_log (user_id, actor, action, entity, entity_id, region_id, old_value, new_value)
SELECT :user, :actor, 'import_update', 'plant', p.id, p.region_id,
       to_jsonb(p) - 'geom_3857' || jsonb_build_object('geom', encode(ST_AsEWKB(p.geom), 'hex')),
       jsonb_build_object('import_batch_id', :batch)
FROM plants p JOIN import_staging s
  ON p.region_id = :region AND p.inventory_number = s.inventory_number AND {OTHER_BATCHES}
WHERE ({", ".join(f"p.{c}" for c in VALUE_COLUMNS)})
      IS DISTINCT FROM ({", ".join(_source(c) for c in VALUE_COLUMNS)})
"""  # noqa: S608
UNDO_CHANGED = """
SELECT p.id FROM plants p JOIN import_batches b ON b.id = p.import_batch_id
WHERE b.id = :batch AND p.updated_at > b.finished_at ORDER BY p.id
"""
UNDO_UPDATES = f"""
UPDATE plants p SET
    {", ".join(f"{c} = r.{c}" for c in VALUE_COLUMNS)},
    import_batch_id = r.import_batch_id, updated_at = r.updated_at,
    version = p.version + 1, updated_by = :user
FROM (
    SELECT (jsonb_populate_record(NULL::plants, a.old_value)).*
    FROM audit_log a
    WHERE a.action = 'import_update' AND a.entity = 'plant'
      AND (a.new_value ->> 'import_batch_id')::int = :batch
) r
WHERE p.id = r.id AND p.import_batch_id = :batch
"""  # noqa: S608
UNDO_INSERTS = "DELETE FROM plants WHERE import_batch_id = :batch"
UNDO_GREEN_CHANGED = """
SELECT g.id FROM green_spaces g JOIN import_batches b ON b.id = g.import_batch_id
WHERE b.id = :batch AND g.updated_at > b.finished_at ORDER BY g.id
"""
UNDO_GREEN_SPACES = "DELETE FROM green_spaces WHERE import_batch_id = :batch"
SORT_IN_MEMORY = "SET LOCAL work_mem = '256MB'"  # the Z-order of a million rows
SORT_AS_BEFORE = "SET LOCAL work_mem TO DEFAULT"
TRUST_STAGING = "SELECT set_config('jasyl.region_source', 'import_staging', true)"
DISTRUST_STAGING = "SELECT set_config('jasyl.region_source', '', true)"
DEFER_BOOKKEEPING = "SELECT set_config('jasyl.plants_bookkeeping', 'deferred', true)"
# Revision 0035: the batch's plants are those after the sequence's value before the import.
BOOK_IMPORTED = "SELECT jasyl_book_imported_plants(CAST(:batch AS integer), CAST(:after AS bigint))"
IDS_SO_FAR = "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('plants', 'id')), 0)"
RESUME_BOOKKEEPING = "SELECT set_config('jasyl.plants_bookkeeping', '', true)"


class InFlight:
    """A thread that does one piece of work at a time, one piece behind its caller: ``send``
    waits for the previous piece before handing over the next, so memory stays flat and the
    first failure surfaces at the next ``send`` or ``wait``. The import's chunk writer and the
    benefit sums beside it (``importers.benefits``) each run on one."""

    def __init__(self, name: str) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.pending: Future[None] | None = None

    def send(self, work: Callable[..., None], *args: object) -> None:
        self.wait()
        self.pending = self.pool.submit(work, *args)

    def wait(self, quietly: bool = False) -> None:
        """Until the piece in flight is done; ``quietly``: whatever it raised (an earlier
        exception is the one to tell)."""
        pending, self.pending = self.pending, None
        if pending is None:
            return
        if quietly:
            pending.exception()
        else:
            pending.result()

    def close(self, quietly: bool = False) -> None:
        try:
            self.wait(quietly)
        finally:
            self.pool.shutdown()


def create(session: Session) -> None:
    session.execute(text("SET LOCAL jit = off"))
    session.execute(text("DROP TABLE IF EXISTS import_staging"))
    session.execute(text(CREATE_STAGING))


def driver_connection(session: Session) -> Connection:
    """The session's psycopg connection (same transaction), for COPY and the live merge."""
    return session.connection().connection.driver_connection


def _stream(connection: Connection, rows: Iterable[tuple], types: list[str] | None) -> bytes:
    """``rows`` as one COPY stream, made without the server: the reading thread formats a chunk
    while the database works on the last one. Binary when the column ``types`` are given."""
    buffer = io.BytesIO()
    cursor: Cursor
    with (
        connection.cursor() as cursor,
        Copy(cursor, binary=types is not None, writer=FileWriter(buffer)) as copy,
    ):
        if types is not None:
            copy.set_types(types)
        for row in rows:
            copy.write_row(row)
    return buffer.getvalue()


def _send(connection: Connection, statement: str, data: bytes) -> None:
    """A stream of ``_stream`` to the server under its COPY ``statement``."""
    cursor: Cursor
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(data)


def copy_data(connection: Connection, rows: list[tuple]) -> bytes:
    """Validated rows (in ``STAGING_COLUMNS`` order) as a binary COPY stream for the staging
    table."""
    return _stream(connection, rows, COPY_TYPES)


def reserve_ids(session: Session, count: int) -> list[int]:
    """``count`` plant ids from the table's sequence, on a connection of their own: the import's
    is busy merging the previous chunk, and ids taken are never handed out again, whether or not
    the import commits."""
    engine = session.get_bind().engine
    with engine.connect() as connection:
        return list(connection.execute(text(RESERVE_IDS), {"n": count}).scalars())


@dataclass(frozen=True)
class NewPlants:
    """A chunk's new plants as one text COPY stream, and the statement that takes it."""

    statement: str
    data: bytes
    count: int


def plant_copy_data(
    connection: Connection,
    clean: Clean,
    rows: np.ndarray,
    ids: list[int] | None,
    region: tuple[int, str],
    user_id: int | None,
    batch_id: int,
) -> NewPlants:
    """Rows ``rows`` (indexes into ``clean``) as new plants, in the Z-order of their places.
    ``ids``: theirs, taken by ``reserve_ids``, when some rows have no number (they get their
    registry numbers); ``None`` when all do (the table gives ids). ``region``: (id, KATO)."""
    values = clean.values
    order = rows[np.argsort(values["place"][rows].astype(np.int64), kind="stable")]
    columns = [values[name][order].tolist() for name in VALUE_COLUMNS]
    geom = VALUE_COLUMNS.index("geom")
    columns[geom] = [ewkb.hex() for ewkb in columns[geom]]  # geometry's text input
    region_id, kato = region
    numbers = values["inventory_number"][order].tolist()
    lead: list[Iterable] = [repeat(region_id), numbers]
    if ids is not None:
        numbers = [n or registry_number(kato, i) for n, i in zip(numbers, ids, strict=True)]
        lead = [ids, repeat(region_id), numbers]
    data = _stream(connection, zip(*lead, *columns, repeat(user_id), repeat(batch_id)), None)
    statement = COPY_PLANTS if ids is None else COPY_PLANTS_WITH_IDS
    return NewPlants(statement, data, len(order))


def copy_plants(connection: Connection, plants: NewPlants) -> None:
    """COPY a chunk's new plants (``plant_copy_data``) into ``plants``."""
    _send(connection, plants.statement, plants.data)


def copy_rows(connection: Connection, data: bytes) -> None:
    """COPY a stream of ``copy_data`` into the staging table."""
    _send(connection, COPY_STAGING, data)


def conflicts(
    session: Session, region_id: int, batch_id: int = NO_BATCH
) -> list[tuple[int, int, str]]:
    """Lock the plants this survey matches (no edit may slip in before the merge), then list
    those a forester changed after their last import."""
    params = {"region": region_id, "batch": batch_id}
    session.execute(text(LOCK_MATCHED), params)
    return [tuple(r) for r in session.execute(text(CONFLICTS), params)]


def drop_rows(session: Session, rows: list[int]) -> None:
    if rows:
        session.execute(
            text("DELETE FROM import_staging WHERE row_no = ANY(:rows)"), {"rows": rows}
        )


def any_known(session: Session, region_id: int, batch_id: int = NO_BATCH) -> bool:
    """Does any staged inventory number already exist in the region? (A new survey: no.)"""
    return bool(session.scalar(text(KNOWN), {"region": region_id, "batch": batch_id}))


def go_live(session: Session) -> int:
    """Settings for merging chunks as they are staged (transaction-local, like everything);
    returns the plants' sequence value so far: every plant the import inserts has a larger id
    (the sequence caches no values), which is how ``merge`` finds them again."""
    session.execute(text(TRUST_STAGING))
    session.execute(text(SORT_IN_MEMORY))
    session.execute(text(DEFER_BOOKKEEPING))
    return int(session.scalar(text(IDS_SO_FAR)))


def merge(
    session: Session,
    region_id: int,
    kato: str,
    batch_id: int,
    user_id: int | None,
    actor: str,
    known: bool = True,
    inserted: int | None = None,
    after: int = 0,
) -> tuple[int, int, int]:
    """Update plants with the same inventory number, insert the rest: (inserted, updated, same).

    ``known=False`` (no staged number exists in the region) skips the matching statements.
    ``inserted``: a live import's count of new plants already merged chunk by chunk; their
    deferred book-keeping is done here, and nothing more is inserted. ``after``: the plants'
    sequence value before those (``go_live``): their ids are all larger.
    """
    params = {"region": region_id, "kato": kato, "batch": batch_id, "user": user_id}
    matched = int(session.scalar(text(MATCHED), params)) if known else 0
    if known:
        session.execute(text(KEEP_PREVIOUS), {**params, "actor": actor})
    # Transaction-local: a failure rolls the settings back along with everything else.
    session.execute(text(TRUST_STAGING))
    session.execute(text(SORT_IN_MEMORY))
    if inserted is not None:  # before the update: its own triggers count what it changes
        # Several chunks, well over the grid's bulk size (revision 0017): their region is
        # marked for a rebuild, as the trigger of one such INSERT would.
        # (The benefit tallies: summed beside the import and added before this, revision
        # 0031, or booked by their trigger as each chunk was copied.)
        session.execute(text(BOOK_IMPORTED), {**params, "after": after})
        session.execute(text(RESUME_BOOKKEEPING))
    updated = session.execute(text(UPDATE), params).rowcount if known else 0
    if inserted is None:
        inserted = session.execute(text(INSERT if known else INSERT_ALL), params).rowcount
    session.execute(text(DISTRUST_STAGING))
    session.execute(text(SORT_AS_BEFORE))
    return inserted, updated, matched - updated


def changed_since(session: Session, batch_id: int) -> list[int]:
    """Records of the batch a forester changed after it: an undo would destroy their work."""
    params = {"batch": batch_id}
    return list(session.scalars(text(UNDO_CHANGED), params)) + list(
        session.scalars(text(UNDO_GREEN_CHANGED), params)
    )


def undo(session: Session, batch_id: int, user_id: int | None) -> tuple[int, int]:
    """Revert the batch's updates from the audit trail, delete its inserts: (reverted, removed)."""
    params = {"batch": batch_id, "user": user_id}
    reverted = session.execute(text(UNDO_UPDATES), params).rowcount
    removed = session.execute(text(UNDO_INSERTS), params).rowcount
    removed += session.execute(text(UNDO_GREEN_SPACES), params).rowcount
    return reverted, removed
