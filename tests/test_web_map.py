"""The map page and its vector tiles over HTTP, against the demo data in the real database."""

from __future__ import annotations

import json
import re

import mapbox_vector_tile
import numpy as np
import pytest
from sqlalchemy import text

from bench.page import GOAL_BYTES, page_bytes
from gis.basemap import tile_xy
from registry.db import engine_for, unit_of_work
from registry.demo.services import load_demo
from tests.conftest import empty_inventory
from web import create_app


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    return z, *tile_xy(lon, lat, z)


@pytest.fixture(scope="module")
def demo_city(database_url):
    with unit_of_work(database_url) as session:
        load_demo(session, scale=0.05)
    yield database_url
    empty_inventory(database_url)


@pytest.fixture
def client(demo_city):
    return create_app({"TESTING": True}).test_client()


def test_the_map_page_shows_the_regions_from_the_database(client) -> None:
    for language, name, other in (
        ("kk", "Ұлытау облысы", "Улытауская область"),
        ("ru", "Абайская область", "Abai Region"),
        ("en", "Shymkent", "г. Шымкент"),
    ):
        page = client.get(f"/?lang={language}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        shown = [n for n in (name, other) if n in html or json.dumps(n)[1:-1] in html]
        assert shown == [name], "region names in the reader's language only (folium escapes)"
    assert "/tiles/plants/{z}/{x}/{y}.pbf" in html and "/tiles/green_spaces/" in html
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert external == [], "every asset must be served by the app itself"
    for asset in re.findall(r'(?:src|href)="(/vendor/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset


def test_the_map_page_weighs_at_most_300_kb(client) -> None:
    """HTML and every script and style sheet it loads, with the basemap, the address and "where
    am I" scripts: a phone in a park on a weak signal loads all of it first (bench.page prints
    the figure at 1,000 and 1,000,000 plants)."""
    html, assets = page_bytes(client)
    assert html + assets <= GOAL_BYTES
    assert '"type":"Feature"' in client.get("/").get_data(as_text=True), "compact JSON"


def box_centre(feature: dict) -> tuple[float, float]:
    """The centre of a tile feature's bounding box, in tile pixels (a dot's point itself)."""
    xy = np.asarray(feature["geometry"]["coordinates"], dtype=float).reshape(-1, 2)
    return tuple((xy.min(axis=0) + xy.max(axis=0)) / 2)


def test_a_city_tile_holds_exactly_the_plants_inside_it(client, demo_city) -> None:
    """The dots drawn inside the tile (not those of its 64-pixel buffer) stand for exactly the
    plants inside it: a dot's 2-pixel square never straddles a tile edge, and a plant belongs
    to the square of its box's centre (a hedge's too)."""
    z, x, y = tile_of(71.4304, 51.1282, 14)  # a dot per 2 pixels: tests/test_plant_dots.py
    response = client.get(f"/tiles/plants/{z}/{x}/{y}.pbf")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    features = mapbox_vector_tile.decode(response.data)["plants"]["features"]
    inside = [f for f in features if min(box_centre(f)) >= 0 and max(box_centre(f)) <= 4096]
    assert len(inside) < len(features)  # the buffer holds dots of the neighbouring tiles
    with engine_for(demo_city).connect() as conn:
        expected = conn.execute(
            text(
                "SELECT count(*) FROM plants WHERE published AND "
                "ST_Intersects(ST_Centroid(ST_Envelope(geom_3857)), ST_TileEnvelope(:z, :x, :y))"
            ),
            {"z": z, "x": x, "y": y},
        ).scalar()
    assert expected > 0 and sum(f["properties"]["plants"] for f in inside) == expected
    assert {f["properties"]["condition"] for f in features} <= {1, 2, 3, 4, 5, 6}


def test_low_zoom_tiles_carry_counts_not_points(client, demo_city) -> None:
    z, x, y = tile_of(71.4304, 51.1282, 8)
    layer = mapbox_vector_tile.decode(client.get(f"/tiles/plants/{z}/{x}/{y}.pbf").data)
    cells = layer["plants_grid"]["features"]
    with engine_for(demo_city).connect() as conn:
        astana = conn.execute(text("SELECT count(*) FROM plants WHERE region_id = 71")).scalar()
    assert 0 < len(cells) < astana
    assert sum(c["properties"]["plants"] for c in cells) == astana


def test_tiles_are_cached_by_etag_until_their_data_change(client, demo_city) -> None:
    z, x, y = tile_of(71.4304, 51.1282, 13)
    url = f"/tiles/green_spaces/{z}/{x}/{y}.pbf"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert "max-age=300" in first.headers["Cache-Control"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    inside = "ST_Intersects(geom_3857, ST_TileEnvelope(:z, :x, :y))"
    with engine_for(demo_city).begin() as conn:
        # Green spaces 10 km and more away from this tile change: its ETag stays.
        far = "NOT ST_DWithin(geom_3857, ST_TileEnvelope(:z, :x, :y), 10000)"
        moved = conn.execute(text(f"UPDATE green_spaces SET notes = notes WHERE {far}"), locals())
    assert moved.rowcount > 0
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    with engine_for(demo_city).begin() as conn:
        changed = conn.execute(
            text(f"UPDATE green_spaces SET notes = notes WHERE {inside}"), locals()
        ).rowcount
    again = client.get(url, headers={"If-None-Match": etag})
    assert changed > 0 and again.status_code == 200 and again.headers["ETag"] != etag


def test_empty_and_impossible_tiles(client) -> None:
    assert client.get("/tiles/plants/14/0/0.pbf").status_code == 204
    bad = client.get("/tiles/plants/3/9/1.pbf")
    assert bad.status_code == 404 and "does not exist at zoom 3" in bad.get_json()["message"]
    assert client.get("/tiles/secrets/1/0/0.pbf").status_code == 404
