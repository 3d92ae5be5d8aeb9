"""A work area's size with its basemap tiles (issue #19): the tiles z13–z18 a self-hosted
archive holds over the area counted and weighed from the archive itself, a third party's never
counted for download, an area beyond JASYL_FIELD_BUDGET_MB refused with its size, and a drawn
rectangle holding only the forester's own region."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write
from shapely.geometry import Point

from gis.basemap import tile_ranges
from registry.basemaps import load_basemaps
from registry.db import unit_of_work
from tests.basemap_files import STREETS, area_mbtiles, basemaps_setting, noise_png, tile_png
from tests.factories import ASTANA, make_plant
from tests.web_client import new_user, sign_in
from web import create_app

AREA = "/api/v1/field/area"
# A 1 km box in Astana, and the archive's wider box around it.
BOX = (ASTANA[0] - 0.007, ASTANA[1] - 0.0045, ASTANA[0] + 0.007, ASTANA[1] + 0.0045)
WIDER = (ASTANA[0] - 0.02, ASTANA[1] - 0.012, ASTANA[0] + 0.02, ASTANA[1] + 0.012)
ZOOMS = range(13, 19)
AKMOLA_POINT = Point(72.35, 51.13)  # Akmola oblast, east of Astana (KZ-11)


def bbox(box: tuple[float, ...]) -> str:
    return ",".join(f"{v:.6f}" for v in box)


def app_with(clean, basemaps: str, **settings):
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    app = create_app({"TESTING": True, "BASEMAPS": load_basemaps(basemaps)})
    app.config["JASYL_SETTINGS"] = replace(app.config["JASYL_SETTINGS"], **settings)
    client = app.test_client()
    assert sign_in(client, "les@test.jasyl.kz").status_code == 302
    return client


def size_of(client, box=BOX) -> dict:
    answer = client.get(f"{AREA}?bbox={bbox(box)}&count_only=true")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["size"]


def expected_tiles(box=BOX) -> int:
    return sum(r.count for r in tile_ranges(box, ZOOMS))


def test_the_tiles_over_an_area_are_counted_and_weighed_from_the_archive(clean, tmp_path) -> None:
    tile = tile_png((120, 170, 250))
    area_mbtiles(tmp_path / "city.mbtiles", WIDER, ZOOMS, tile)
    client = app_with(clean, basemaps_setting(tmp_path / "city.mbtiles", max_zoom=18))
    tiles = size_of(client)["tiles"]
    assert (tiles["basemap"], tiles["bulk"], tiles["measured"]) == ("city", True, True)
    assert tiles["count"] == expected_tiles() > 100
    assert tiles["bytes"] == tiles["count"] * len(tile)
    assert [r["z"] for r in tiles["ranges"]] == list(ZOOMS)
    held_elsewhere = size_of(client, (10.0, 10.0, 10.01, 10.01))["tiles"]  # the archive is Astana
    assert (held_elsewhere["count"], held_elsewhere["bytes"]) == (0, 0)


def test_a_pmtiles_archive_is_weighed_the_same_from_its_directories(clean, tmp_path) -> None:
    tile = tile_png((250, 230, 180))
    ranges = tile_ranges(WIDER, ZOOMS)
    path = tmp_path / "city.pmtiles"
    with write(str(path)) as writer:
        for z, x, y in sorted(
            (t for r in ranges for t in r.tiles()), key=lambda t: zxy_to_tileid(*t)
        ):
            writer.write_tile(zxy_to_tileid(z, x, y), tile + bytes([x % 7]))  # no run-length
        writer.finalize(
            {
                "tile_type": TileType.PNG,
                "tile_compression": Compression.NONE,
                "min_zoom": 13,
                "max_zoom": 18,
                "min_lon_e7": int(WIDER[0] * 1e7),
                "min_lat_e7": int(WIDER[1] * 1e7),
                "max_lon_e7": int(WIDER[2] * 1e7),
                "max_lat_e7": int(WIDER[3] * 1e7),
                "center_zoom": 15,
                "center_lon_e7": int(ASTANA[0] * 1e7),
                "center_lat_e7": int(ASTANA[1] * 1e7),
            },
            {"name": "area"},
        )
    client = app_with(clean, basemaps_setting(path, max_zoom=18))
    tiles = size_of(client)["tiles"]
    assert tiles["count"] == expected_tiles()
    assert tiles["bytes"] == tiles["count"] * (len(tile) + 1)


def test_an_area_heavier_than_the_budget_is_refused_with_its_size(clean, tmp_path) -> None:
    noise = noise_png()
    area_mbtiles(tmp_path / "city.mbtiles", WIDER, range(13, 16), noise)
    client = app_with(
        clean, basemaps_setting(tmp_path / "city.mbtiles", max_zoom=18), field_budget_mb=1
    )
    size = size_of(client)
    assert size["tiles"]["bytes"] > 1024 * 1024 and size["allowed"] is False
    assert size["budget_bytes"] == 1024 * 1024
    assert "JASYL_FIELD_BUDGET_MB (1 MB)" in size["refusal"]
    refused = client.get(f"{AREA}?bbox={bbox(BOX)}")
    assert refused.status_code == 413
    assert size["refusal"] in refused.get_json()["message"]


def test_a_third_party_basemap_is_never_counted_for_download(clean, tmp_path) -> None:
    client = app_with(clean, json.dumps([STREETS]))
    tiles = size_of(client)["tiles"]
    assert tiles == {
        "basemap": "streets",
        "bulk": False,
        "count": 0,
        "bytes": 0,
    }
    assert size_of(client)["allowed"] is True


@pytest.mark.parametrize("role", ["forester", "planner"])
def test_a_rectangle_holds_only_the_regions_its_forester_may_read(clean, role) -> None:
    with unit_of_work(clean) as session:
        ours = make_plant(session, inventory_number="71-BOX-1").id
        theirs = make_plant(session, inventory_number="11-BOX-1", geom=AKMOLA_POINT).id
    email = f"{role}@test.jasyl.kz"
    new_user(clean, email, role, "KZ-71" if role == "forester" else None)
    app = create_app({"TESTING": True, "BASEMAPS": ()})
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    box = (ASTANA[0] - 1.0, ASTANA[1] - 0.3, ASTANA[0] + 1.0, ASTANA[1] + 0.3)
    plants = {p["id"] for p in client.get(f"{AREA}?bbox={bbox(box)}").get_json()["plants"]}
    expected = {ours} if role == "forester" else {ours, theirs}
    assert plants == expected
    assert size_of(client, box)["plants"] == len(expected)
