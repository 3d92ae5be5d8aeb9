"""The precomputed plants behind the map's tiles, each rebuilt lazily and never trusted stale.

- The grid of low zooms: ~153 m cells per region. Aggregating a million plants per low-zoom tile
  costs hundreds of milliseconds; adding up precomputed cells costs a few. An edit adds itself
  to the cells in its own transaction (revision 0017); a bulk write (an import) marks its
  regions dirty instead (revision 0003); ``refresh_dirty`` rebuilds those, each region in its
  own short transaction, and until then tiles aggregate that region's plants on the fly.
- The dots of z13–14 (revision 0017): a plant per 2-pixel dot, per z14 cell. A dense z14 tile
  of 30,000 plants cost ~110 ms to encode; its ~1,500 dots cost ~8 ms. A cell's dots record the
  plants' change counter (revision 0014) they were built at; ``refresh_dots`` rebuilds the cells
  whose counter moved on, and until then tiles make those cells' dots from the plants.
"""

from __future__ import annotations

import itertools

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from gis.tiles import (
    BASE_CELL_METRES,
    DIRTY_REGIONS,
    DOTS_UNTIL_ZOOM,
    RAW_PLANTS_FROM_ZOOM,
    dot_metres,
    dots_from_plants,
    load_sql,
)

DIRTY = text(DIRTY_REGIONS + " ORDER BY region_id")
DIRTY_AND_RESTED = text(
    DIRTY_REGIONS + " AND (refreshed_at IS NULL OR refreshed_at < now() - make_interval(secs => "
    ":rest)) ORDER BY region_id"
)
LOCK_STATE = text(
    "SELECT dirty FROM plant_grid_state WHERE region_id = :region FOR UPDATE SKIP LOCKED"
)


def dirty_regions(connection: Connection) -> list[int]:
    return list(connection.execute(DIRTY).scalars())


def refresh_region(connection: Connection, region_id: int, force: bool = False) -> bool:
    """Rebuild one region's cells in the caller's transaction; ``False`` if another process is
    rebuilding it right now (its state row is locked) or it was clean and not ``force``d."""
    dirty = connection.execute(LOCK_STATE, {"region": region_id}).scalar()
    if dirty is None:
        exists = connection.execute(
            text("SELECT 1 FROM plant_grid_state WHERE region_id = :region"), {"region": region_id}
        ).scalar()
        if exists:
            return False  # locked by a concurrent refresh or write
        connection.execute(
            text("INSERT INTO plant_grid_state (region_id, dirty) VALUES (:region, true)"),
            {"region": region_id},
        )
    elif not dirty and not force:
        return False
    connection.execute(
        text("DELETE FROM plant_grid_cells WHERE region_id = :region"), {"region": region_id}
    )
    connection.execute(
        text(load_sql("plant_grid_refresh")), {"region": region_id, "base": BASE_CELL_METRES}
    )
    connection.execute(
        text(
            "UPDATE plant_grid_state SET dirty = false, refreshed_at = now() "
            "WHERE region_id = :region"
        ),
        {"region": region_id},
    )
    return True


def refresh_dirty(
    engine: Engine,
    regions: list[int] | None = None,
    rested: float = 0.0,
    give_way: bool = False,
) -> list[int]:
    """Rebuild every dirty region (or the ones named, dirty or not); returns those rebuilt.

    ``rested``: only regions last rebuilt at least that many seconds ago. A big region's rebuild
    takes a second or more, so the map's lazy refresh waits between rebuilds while foresters keep
    editing; meanwhile tiles aggregate the region on the fly, exact as ever. ``give_way``: give
    up (``LockNotAvailable``) rather than wait for a table lock (``GIVE_WAY``).
    """
    with engine.connect() as connection:
        if regions is not None:
            wanted = regions
        else:
            wanted = list(connection.execute(DIRTY_AND_RESTED, {"rest": rested}).scalars())
    rebuilt = []
    for region_id in wanted:
        with engine.begin() as connection:
            if give_way:
                connection.execute(GIVE_WAY)
            if refresh_region(connection, region_id, force=regions is not None):
                rebuilt.append(region_id)
    return rebuilt


# -- plant dots (z13–14) ---------------------------------------------------------------------------
DOT_LEVELS = range(RAW_PLANTS_FROM_ZOOM, DOTS_UNTIL_ZOOM + 1)
# A rebuild in the background (after a tile response) must never hold up, or deadlock with,
# someone's TRUNCATE, migration or restore: past this wait for a lock it gives up, to run later.
GIVE_WAY = text("SET LOCAL lock_timeout = '250ms'")
DOTS_REFRESH_LOCK = 0x4A53_0D07  # one rebuilder at a time per database (an advisory lock key)
CELLS_PER_TRANSACTION = 32
LOCK_DOTS = text(f"SELECT pg_try_advisory_lock({DOTS_REFRESH_LOCK})")
UNLOCK_DOTS = text(f"SELECT pg_advisory_unlock({DOTS_REFRESH_LOCK})")
COUNTERS = text(
    """
    SELECT coalesce(v.version, 0)
    FROM unnest(CAST(:cxs AS int[]), CAST(:cys AS int[])) WITH ORDINALITY AS c(cx, cy, n)
    LEFT JOIN tile_versions v ON v.layer = 'plants' AND v.cx = c.cx AND v.cy = c.cy
    ORDER BY c.n
    """
)
STALE_DOT_CELLS = text(
    """
    SELECT coalesce(v.cx, d.cx) AS cx, coalesce(v.cy, d.cy) AS cy, coalesce(v.version, 0)
    FROM (SELECT cx, cy, version FROM tile_versions WHERE layer = 'plants') AS v
    FULL JOIN plant_dot_cells d ON d.cx = v.cx AND d.cy = v.cy
    WHERE coalesce(v.version, 0) <> coalesce(d.version, 0)
      AND (d.refreshed_at IS NULL OR d.refreshed_at < now() - make_interval(secs => :rest))
    ORDER BY 1, 2
    """
)
FORGET_DOTS = text(
    "DELETE FROM plant_dots d USING unnest(CAST(:cxs AS int[]), CAST(:cys AS int[])) AS c(cx, cy) "
    "WHERE d.cx = c.cx AND d.cy = c.cy"
)
MARK_DOT_CELLS = text(
    """
    INSERT INTO plant_dot_cells AS d (cx, cy, version, refreshed_at)
    SELECT c.*, now()
    FROM unnest(CAST(:cxs AS int[]), CAST(:cys AS int[]), CAST(:versions AS bigint[])) AS c
    ON CONFLICT (cx, cy) DO UPDATE SET version = excluded.version, refreshed_at = now()
    """
)


def refresh_dots(engine: Engine, rested: float = 0.0, give_way: bool = False) -> int:
    """Rebuild the dots of every z14 cell whose plants changed since; returns how many cells.

    ``rested``: only cells rebuilt at least that many seconds ago (a cell of 28,000 plants
    costs ~0.3 s, so the map's lazy rebuild waits while a forester keeps editing there;
    meanwhile tiles make that cell's dots from the plants, exact as ever). Returns 0 at once
    when another process is rebuilding. Cells go in small REPEATABLE READ transactions: the
    dots and the counter they are marked with come from one snapshot, so a write committed
    meanwhile leaves its cell stale instead of hidden. ``give_way``: as for ``refresh_dirty``.
    """
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        locked = connection.execute(LOCK_DOTS).scalar()
        connection.commit()  # ends SQLAlchemy's own transaction object (autocommit: a no-op)
        if not locked:
            return 0
        try:
            return _refresh_stale_dots(connection, rested, give_way)
        finally:
            connection.rollback()  # after a failed rebuild, so the lock can be released
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(UNLOCK_DOTS)
            connection.commit()


def _refresh_stale_dots(connection: Connection, rested: float, give_way: bool) -> int:
    stale = connection.execute(STALE_DOT_CELLS, {"rest": rested}).all()
    connection.commit()
    rebuild = text(load_sql("plant_dots_refresh").replace("/*from_plants*/", dots_from_plants()))
    for start in range(0, len(stale), CELLS_PER_TRANSACTION):
        chunk = [(cx, cy) for cx, cy, _ in stale[start : start + CELLS_PER_TRANSACTION]]
        cells = {"cxs": [c[0] for c in chunk], "cys": [c[1] for c in chunk]}
        connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            if give_way:
                connection.execute(GIVE_WAY)
            versions = list(connection.execute(COUNTERS, cells).scalars())
            connection.execute(FORGET_DOTS, cells)
            for (cx, cy), level in itertools.product(chunk, DOT_LEVELS):
                params = {"cx": cx, "cy": cy, "level": level, "dot": dot_metres(level)}
                connection.execute(rebuild, {**params, "internal": True})
            connection.execute(MARK_DOT_CELLS, {**cells, "versions": versions})
    return len(stale)
