"""Plant dots at z13–z14: one plant per 2-pixel dot, the same whether a cell's dots are stored
or made on the fly, never behind a write, never showing the public an unpublished plant."""

from __future__ import annotations

import math
import time
from collections import defaultdict

import mapbox_vector_tile
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Point
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from gis.plant_grid import DOTS_REFRESH_LOCK, refresh_dots
from gis.tiles import TileAddress, dot_metres, render_versioned
from registry.access import Actor
from registry.db import engine_for, unit_of_work
from registry.inventory.services import update_plant
from tests.factories import ASTANA, make_plant
from web import create_app

TO_4326 = Transformer.from_crs(3857, 4326, always_xy=True)
TO_3857 = Transformer.from_crs(4326, 3857, always_xy=True)
HALF_WORLD = 20037508.342789244
CELL = 2 * HALF_WORLD / 2**14


def dot_centre() -> tuple[float, float]:
    """The centre (EPSG:3857) of the z14 dot holding Astana's centre."""
    x, y = TO_3857.transform(*ASTANA)
    side = dot_metres(14)
    return (math.floor(x / side) + 0.5) * side, (math.floor(y / side) + 0.5) * side


def near(dx: float, dy: float = 0.0) -> Point:
    """A point ``dx``, ``dy`` Web Mercator metres from the dot centre."""
    x, y = dot_centre()
    return Point(*TO_4326.transform(x + dx, y + dy))


def tile_of(z: int) -> TileAddress:
    x, y = dot_centre()
    n = 2**z
    return TileAddress(
        z,
        int((x + HALF_WORLD) / (2 * HALF_WORLD) * n),
        int((HALF_WORLD - y) / (2 * HALF_WORLD) * n),
    )


@pytest.fixture
def grove(clean):
    """A clump of 12 trees within 2 m (one dot at z13 and z14) in conditions 1–4, one of them
    hazardous; a row of 5 trees from 60 m east, 25 m apart; an unpublished dead tree in the
    clump; a 100 m hedge. The ids come back keyed by role."""
    with unit_of_work(clean) as session:
        clump = [
            make_plant(session, geom=near(0.15 * n - 0.9, 0.1 * (n % 3)), condition=1 + n % 4)
            for n in range(12)
        ]
        clump[7].hazardous = True
        row = [make_plant(session, geom=near(60 + 25 * n)) for n in range(5)]
        hidden = make_plant(session, geom=near(0.5, -0.5), published=False, condition=6)
        hedge = make_plant(
            session,
            geom=LineString([near(-300, 80).coords[0], near(-200, 80).coords[0]]),
            planting_form="hedge",
        )
        ids = {
            "clump": [p.id for p in clump],
            "row": [p.id for p in row],
            "hidden": hidden.id,
            "hedge": hedge.id,
            "hazard": clump[7].id,
        }
    return clean, ids


def features(
    url: str, z: int, internal: bool = False, filters: dict | None = None
) -> tuple[dict, bool]:
    """The tile's plant features by id, and whether it made stale cells on the fly."""
    with engine_for(url, serial=True).connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        rendered = render_versioned(conn, "plants", tile_of(z), internal, filters)
    layer = mapbox_vector_tile.decode(rendered.body).get("plants", {"features": []})
    return {f["id"]: f for f in layer["features"]}, rendered.behind


def expected_dots(url: str, z: int, internal: bool) -> dict[int, int]:
    """Per dot, the plant to draw and how many plants it stands for, worked out in Python from
    the plants themselves: hazards first, then the worst condition, then the lowest id."""
    side = dot_metres(z)
    with engine_for(url).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, published, hazardous, condition, ST_XMin(geom_3857), "
                "ST_XMax(geom_3857), ST_YMin(geom_3857), ST_YMax(geom_3857) FROM plants"
            )
        ).all()
    dots: dict[tuple, list] = defaultdict(list)
    for pid, published, hazardous, condition, x0, x1, y0, y1 in rows:
        if not (published or internal):
            continue
        lone = 0 if (x0 == x1 and y0 == y1) else pid
        key = (published, math.floor((x0 + x1) / 2 / side), math.floor((y0 + y1) / 2 / side), lone)
        dots[key].append((not hazardous, -condition, pid))
    return {min(members)[2]: len(members) for members in dots.values()}


@pytest.mark.parametrize("z", [13, 14])
def test_dots_stand_for_every_plant_whether_stored_or_made_on_the_fly(grove, z) -> None:
    url, ids = grove
    for internal in (False, True):
        made, behind = features(url, z, internal)
        assert behind, "nothing is stored yet: the cell is made from the plants"
        want = expected_dots(url, z, internal)
        assert {i: f["properties"]["plants"] for i, f in made.items()} == want
        assert made[ids["hazard"]]["properties"]["plants"] == 12, "the hazard stands for the clump"
        assert (ids["hidden"] in made) is internal, "the public never sees unpublished plants"
    assert refresh_dots(engine_for(url)) >= 1
    for internal in (False, True):
        stored, behind = features(url, z, internal)
        assert not behind
        assert {i: f["properties"]["plants"] for i, f in stored.items()} == expected_dots(
            url, z, internal
        )
        assert stored[ids["hazard"]]["properties"] == made_properties(url, ids["hazard"], z)


def made_properties(url: str, plant_id: int, z: int) -> dict:
    """The hazardous tree's tile properties as they are in ``plants``."""
    with engine_for(url).connect() as conn:
        row = conn.execute(
            text(
                "SELECT condition, status::text, species_id, planting_year, hazardous, "
                "planting_form::text FROM plants WHERE id = :id"
            ),
            {"id": plant_id},
        ).one()
    keys = ("condition", "status", "species_id", "planting_year", "hazardous", "form")
    return {"plants": 12, **dict(zip(keys, row, strict=True))}


def test_a_write_shows_at_once_and_a_rebuild_catches_up(grove) -> None:
    url, ids = grove
    refresh_dots(engine_for(url))
    assert features(url, 14)[1] is False
    with unit_of_work(url) as session:  # the hazard is felled: the worst-condition tree is drawn
        update_plant(
            session,
            Actor.system("test"),
            ids["hazard"],
            1,
            {"status": "removed", "hazardous": False, "condition": 1},
        )
    made, behind = features(url, 14)
    assert behind and made == features(url, 14)[0]
    assert made[ids["clump"][3]]["properties"]["plants"] == 12, "now the worst condition"
    assert {i: f["properties"]["plants"] for i, f in made.items()} == expected_dots(url, 14, False)
    assert refresh_dots(engine_for(url)) == 1, "only the edited cell is rebuilt"
    stored, behind = features(url, 14)
    assert not behind and stored.keys() == made.keys()


def test_a_hedge_keeps_its_line_and_z15_draws_every_plant(grove) -> None:
    url, ids = grove
    refresh_dots(engine_for(url))
    dots, _ = features(url, 14)
    assert dots[ids["hedge"]]["geometry"]["type"] == "LineString"
    every, _ = features(url, 15)
    assert len(every) == 12 + 5 + 1 and len(dots) < len(every)


def test_a_filtered_map_makes_its_dots_from_the_matching_plants(grove) -> None:
    url, ids = grove
    refresh_dots(engine_for(url))
    dead, _ = features(url, 14, filters={"conditions": [6]}, internal=True)
    assert set(dead) == {ids["hidden"]} and dead[ids["hidden"]]["properties"]["plants"] == 1


def test_only_one_process_rebuilds_at_a_time(grove) -> None:
    url, _ = grove
    with engine_for(url).connect() as other:
        assert other.execute(text(f"SELECT pg_try_advisory_lock({DOTS_REFRESH_LOCK})")).scalar()
        assert refresh_dots(engine_for(url)) == 0
        other.execute(text(f"SELECT pg_advisory_unlock({DOTS_REFRESH_LOCK})"))
    assert refresh_dots(engine_for(url)) >= 1


def test_the_tile_server_rebuilds_stale_dots_after_answering(grove) -> None:
    url, _ = grove
    client = create_app({"TESTING": True}).test_client()
    t = tile_of(14)
    with client.get(f"/tiles/plants/{t.z}/{t.x}/{t.y}.pbf") as response:
        assert response.status_code == 200
        with engine_for(url).connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM plant_dot_cells")).scalar() == 0
    with engine_for(url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM plant_dot_cells")).scalar() >= 1
    assert features(url, 14)[1] is False


def test_a_background_rebuild_gives_way_to_a_table_lock(grove) -> None:
    """The map's lazy rebuild never waits for (or deadlocks with) a TRUNCATE or a migration:
    it gives up at once and the next tile tries again."""
    url, _ = grove
    with engine_for(url).connect() as other:
        other.execute(text("LOCK TABLE plants IN ACCESS EXCLUSIVE MODE"))
        started = time.monotonic()
        with pytest.raises(OperationalError, match="lock timeout"):
            refresh_dots(engine_for(url), give_way=True)
        assert time.monotonic() - started < 5
        other.rollback()
    assert refresh_dots(engine_for(url), give_way=True) >= 1, "the advisory lock was released"
