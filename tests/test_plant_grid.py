"""The precomputed plant grid: edits keep it exact themselves, bulk writes mark their region
dirty, tiles stay exact before and after a rebuild, and a rebuild adds up to the same counts as
aggregating the plants directly."""

from __future__ import annotations

import mapbox_vector_tile
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from gis.basemap import tile_xy
from gis.plant_grid import dirty_regions, refresh_dirty, refresh_region
from gis.tiles import BASE_CELL_METRES, TileAddress, render_tile
from registry.access import Actor
from registry.db import engine_for, unit_of_work
from registry.inventory.services import update_plant
from tests.factories import ALMATY, ASTANA, bulk_write, make_plant, point_near
from web.cli import main


def tile_at(lon: float, lat: float, z: int) -> TileAddress:
    return TileAddress(z, *tile_xy(lon, lat, z))


def cells_of(url: str, tile: TileAddress, internal: bool = False) -> list[dict]:
    with engine_for(url).connect() as conn:
        data = render_tile(conn, "plants", tile, internal)
    return mapbox_vector_tile.decode(data)["plants_grid"]["features"] if data else []


def total(cells: list[dict]) -> int:
    return sum(c["properties"]["plants"] for c in cells)


@pytest.fixture
def city(clean):
    refresh_dirty(engine_for(clean))  # a fresh database starts with every region dirty
    with unit_of_work(clean) as session:
        ids = [
            make_plant(session, condition=1 + n % 6, geom=point_near(ASTANA, n)).id
            for n in range(30)
        ]
        make_plant(session, geom=point_near(ALMATY, 0))
        make_plant(session, published=False, geom=point_near(ASTANA, 30))
    bulk_write(clean, "UPDATE plants SET notes = notes")
    return clean, ids


GRID_FROM_PLANTS = text(
    """
    SELECT region_id, published, floor(ST_X(pt) / :base)::int, floor(ST_Y(pt) / :base)::int,
           count(*)::int, sum(condition)::int, round(avg(ST_X(pt))), round(avg(ST_Y(pt)))
    FROM (SELECT *, ST_PointOnSurface(geom_3857) AS pt FROM plants) AS p
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    """
)
GRID_AS_KEPT = text(
    """
    SELECT region_id, published, cx, cy, plants, condition_sum, round(ST_X(geom)), round(ST_Y(geom))
    FROM plant_grid_cells ORDER BY 1, 2, 3, 4
    """
)


def grid_is_exact(url: str) -> bool:
    """The kept cells are exactly the plants aggregated now (counts, grades, centroids to 1 m)."""
    with engine_for(url).connect() as conn:
        want = conn.execute(GRID_FROM_PLANTS, {"base": BASE_CELL_METRES}).all()
        return want == conn.execute(GRID_AS_KEPT).all()


def test_edits_keep_the_grid_exact_and_bulk_writes_mark_only_their_region(city) -> None:
    url, ids = city
    with engine_for(url).connect() as conn:
        assert set(dirty_regions(conn)) == {71, 75}
    assert sorted(refresh_dirty(engine_for(url))) == [71, 75]
    with engine_for(url).connect() as conn:
        assert dirty_regions(conn) == []
    assert grid_is_exact(url)
    with unit_of_work(url) as session:  # an edit keeps the grid exact itself: nothing dirty
        update_plant(session, Actor.system("test"), ids[0], 1, {"condition": 6})
        update_plant(session, Actor.system("test"), ids[1], 1, {"geom": point_near(ALMATY, 3)})
        update_plant(session, Actor.system("test"), ids[2], 1, {"published": False})
    with engine_for(url).begin() as conn:
        conn.execute(text("DELETE FROM plants WHERE id = :id"), {"id": ids[3]})
    with engine_for(url).connect() as conn:
        assert dirty_regions(conn) == []
    assert grid_is_exact(url)
    bulk_write(url, f"UPDATE plants SET notes = 'x' WHERE id IN ({ids[4]}, {ids[5]})")
    with engine_for(url).connect() as conn:
        assert dirty_regions(conn) == [71], "a bulk write in Astana marks Astana only"


def test_grid_tiles_match_the_plants_before_and_after_a_rebuild(city) -> None:
    url, ids = city
    for z in (6, 9, 12):
        tile = tile_at(*ASTANA, z)
        before = cells_of(url, tile)
        assert total(before) == 30, "dirty regions are aggregated on the fly"
        assert total(cells_of(url, tile, internal=True)) == 31
    refresh_dirty(engine_for(url))
    with engine_for(url).connect() as conn:
        cells = conn.execute(text("SELECT sum(plants) FROM plant_grid_cells")).scalar()
        assert cells == 32
    for z in (6, 9, 12):
        tile = tile_at(*ASTANA, z)
        after = cells_of(url, tile)
        assert total(after) == 30 and total(cells_of(url, tile, internal=True)) == 31
        grades = sum(c["properties"]["condition"] * c["properties"]["plants"] for c in after)
        assert grades == pytest.approx(sum(1 + n % 6 for n in range(30)), abs=0.1 * len(after))
    with unit_of_work(url) as session:  # a plant moves to Almaty: both tiles stay exact
        update_plant(session, Actor.system("test"), ids[0], 1, {"geom": point_near(ALMATY, 7)})
    assert total(cells_of(url, tile_at(*ASTANA, 9))) == 29
    assert total(cells_of(url, tile_at(*ALMATY, 9))) == 2


def test_a_region_being_rebuilt_elsewhere_is_skipped_not_waited_for(city) -> None:
    url, _ = city
    engine = engine_for(url)
    with engine.begin() as holder:
        holder.execute(text("SELECT 1 FROM plant_grid_state WHERE region_id = 71 FOR UPDATE"))
        assert refresh_dirty(engine) == [75]
    with engine.begin() as conn:
        assert refresh_region(conn, 71) is True
        assert refresh_region(conn, 71) is False, "clean regions are left alone"


def test_the_refresh_command(city) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["tiles", "refresh"])
    assert first.exit_code == 0 and "2 region(s): [71, 75]" in first.output
    assert "current; nothing to rebuild" in runner.invoke(main, ["tiles", "refresh"]).output
    forced = runner.invoke(main, ["tiles", "refresh", "--region", "Астана"])
    assert forced.exit_code == 0 and "[71]" in forced.output
    wrong = runner.invoke(main, ["tiles", "refresh", "--region", "Atlantis"])
    assert wrong.exit_code == 1 and "unknown region 'Atlantis'" in wrong.output
