"""Tile versions and the disk cache of tiles: never stale, renewed only where the data changed.

Real database, real HTTP through the Flask test client, real files in a temporary cache folder.
"""

from __future__ import annotations

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from bench.tiles import tile_of
from gis.plant_grid import dirty_regions, refresh_dirty
from registry.config import load_settings
from registry.db import engine_for, unit_of_work
from tests.factories import ALMATY, ASTANA, bulk_write, make_plant, point_near
from web import create_app

Z = 16
_T = tile_of(*ASTANA, Z)
ASTANA_TILE = f"/tiles/plants/{Z}/{_T.x}/{_T.y}.pbf"
_A = tile_of(*ALMATY, Z)
ALMATY_TILE = f"/tiles/plants/{Z}/{_A.x}/{_A.y}.pbf"
_L = tile_of(*ASTANA, 9)
LOW_ZOOM_TILE = f"/tiles/plants/9/{_L.x}/{_L.y}.pbf"


@pytest.fixture
def plants(clean) -> dict[str, int]:
    """One published plant in the Astana tile and one in the Almaty tile, committed."""
    with unit_of_work(clean) as session:
        astana = make_plant(session, geom=point_near(ASTANA, 0), condition=2, published=True)
        almaty = make_plant(session, geom=point_near(ALMATY, 0), condition=2, published=True)
        ids = {"astana": astana.id, "almaty": almaty.id}
    return ids


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "tile-cache"


@pytest.fixture
def client(plants, cache_dir):
    return create_app({"TESTING": True, "TILE_CACHE": cache_dir}).test_client()


def conditions(body: bytes) -> dict[int, int]:
    layer = mapbox_vector_tile.decode(body).get("plants", {"features": []})
    return {f["id"]: f["properties"]["condition"] for f in layer["features"]}


def set_condition(url: str, plant_id: int, condition: int) -> None:
    with engine_for(url).begin() as conn:
        conn.execute(
            text("UPDATE plants SET condition = :c WHERE id = :id"),
            {"c": condition, "id": plant_id},
        )


def cached_files(cache_dir, tile_url: str) -> list:
    _, _, layer, z, x, y = tile_url.removesuffix(".pbf").split("/")
    return sorted((cache_dir / layer / "public" / z / x / y).glob("*.pbf"))


def test_a_tile_read_before_a_commit_is_not_revalidated_after_it(clean, plants, client) -> None:
    """The old ETag came from a sequence (not transactional): a tile read while an edit was
    uncommitted carried the new version with the old data and then answered 304 for ever."""
    before = client.get(ASTANA_TILE)
    assert conditions(before.data)[plants["astana"]] == 2
    with engine_for(clean).connect() as writer:
        writer.execute(
            text("UPDATE plants SET condition = 4 WHERE id = :id"), {"id": plants["astana"]}
        )
        during = client.get(ASTANA_TILE)  # the edit is not committed yet
        assert conditions(during.data)[plants["astana"]] == 2
        assert during.headers["ETag"] == before.headers["ETag"]
        writer.commit()
    after = client.get(ASTANA_TILE, headers={"If-None-Match": during.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != during.headers["ETag"]
    assert conditions(after.data)[plants["astana"]] == 4


def test_cached_tiles_are_served_until_their_own_data_change(
    clean, plants, client, cache_dir
) -> None:
    first = client.get(ASTANA_TILE)
    assert first.status_code == 200 and len(cached_files(cache_dir, ASTANA_TILE)) == 1
    almaty = client.get(ALMATY_TILE)
    almaty_file = cached_files(cache_dir, ALMATY_TILE)
    (path,) = cached_files(cache_dir, ASTANA_TILE)
    assert client.get(ASTANA_TILE).data == first.data

    set_condition(clean, plants["astana"], 5)
    renewed = client.get(ASTANA_TILE)
    assert conditions(renewed.data)[plants["astana"]] == 5
    assert renewed.headers["ETag"] != first.headers["ETag"]
    assert cached_files(cache_dir, ASTANA_TILE) != [path]  # the older file was replaced
    assert len(cached_files(cache_dir, ASTANA_TILE)) == 1
    # An edit in Astana leaves Almaty's tile, its file and its ETag alone.
    again = client.get(ALMATY_TILE, headers={"If-None-Match": almaty.headers["ETag"]})
    assert again.status_code == 304 and cached_files(cache_dir, ALMATY_TILE) == almaty_file


def test_a_cache_hit_serves_the_file_of_that_version(clean, plants, client, cache_dir) -> None:
    client.get(ASTANA_TILE)
    (path,) = cached_files(cache_dir, ASTANA_TILE)
    path.write_bytes(b"kept")  # a hit must come from the file, not from a render
    assert client.get(ASTANA_TILE).data == b"kept"
    set_condition(clean, plants["astana"], 3)
    assert conditions(client.get(ASTANA_TILE).data)[plants["astana"]] == 3


def test_low_zoom_counts_follow_inserts_and_moves_through_the_cache(clean, plants, client) -> None:
    def astana_count() -> int:
        layer = mapbox_vector_tile.decode(client.get(LOW_ZOOM_TILE).data)["plants_grid"]
        return sum(f["properties"]["plants"] for f in layer["features"])

    assert astana_count() == 1
    with unit_of_work(clean) as session:
        make_plant(session, geom=point_near(ASTANA, 3), published=True)
    assert astana_count() == 2
    with engine_for(clean).begin() as conn:  # moved to Almaty: gone from the Astana tile
        conn.execute(
            text(
                "UPDATE plants SET geom = (SELECT geom FROM plants WHERE id = :to) WHERE id = :id"
            ),
            {"to": plants["almaty"], "id": plants["astana"]},
        )
    assert astana_count() == 1


def test_a_filtered_tile_is_rendered_not_cached(clean, plants, client, cache_dir) -> None:
    assert client.get(ASTANA_TILE + "?condition=2").status_code == 200
    assert cached_files(cache_dir, ASTANA_TILE) == []
    set_condition(clean, plants["astana"], 4)
    assert client.get(ASTANA_TILE + "?condition=2").status_code == 204


def test_the_cache_folder_is_a_setting() -> None:
    assert load_settings({}).tile_cache is None
    assert load_settings({"JASYL_TILE_CACHE": "off"}).tile_cache is None
    assert str(load_settings({"JASYL_TILE_CACHE": "/var/cache/t"}).tile_cache) == "/var/cache/t"


def test_the_lazy_grid_rebuild_rests_between_rebuilds(clean, plants) -> None:
    """A region rebuilt a moment ago stays dirty after a bulk write (its tiles aggregate it on
    the fly) until it has rested; the explicit command still rebuilds at once."""
    engine = engine_for(clean)
    refresh_dirty(engine)
    bulk_write(clean, "UPDATE plants SET notes = 'resurveyed' WHERE region_id = 71")
    assert refresh_dirty(engine, rested=3600) == []
    with engine.connect() as conn:
        assert dirty_regions(conn) == [71]
    assert refresh_dirty(engine, rested=0) == [71]
