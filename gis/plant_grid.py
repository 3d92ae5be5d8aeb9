"""The precomputed plant grid behind low-zoom tiles: ~153 m cells per region, rebuilt per region.

Aggregating a million plants per low-zoom tile costs hundreds of milliseconds; adding up
precomputed cells costs a few. Triggers on ``plants`` mark the regions a write touched as dirty
(revision 0003); ``refresh_dirty`` rebuilds them, each region in its own short transaction, and
until then tiles aggregate that region's plants on the fly, so a tile is never stale.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from gis.tiles import BASE_CELL_METRES, DIRTY_REGIONS, load_sql

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
    engine: Engine, regions: list[int] | None = None, rested: float = 0.0
) -> list[int]:
    """Rebuild every dirty region (or the ones named, dirty or not); returns those rebuilt.

    ``rested``: only regions last rebuilt at least that many seconds ago. A big region's rebuild
    takes a second or more, so the map's lazy refresh waits between rebuilds while foresters keep
    editing; meanwhile tiles aggregate the region on the fly, exact as ever.
    """
    with engine.connect() as connection:
        if regions is not None:
            wanted = regions
        else:
            wanted = list(connection.execute(DIRTY_AND_RESTED, {"rest": rested}).scalars())
    rebuilt = []
    for region_id in wanted:
        with engine.begin() as connection:
            if refresh_region(connection, region_id, force=regions is not None):
                rebuilt.append(region_id)
    return rebuilt
