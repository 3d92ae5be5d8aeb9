"""Basemaps (issue #19): ``JASYL_BASEMAPS`` read and checked, a self-hosted MBTiles or PMTiles
archive served by the app itself, the page's switcher, and a Content-Security-Policy that allows
exactly the configured tile hosts."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import threading

import mapbox_vector_tile
import pytest

from gis.basemap import open_pmtiles, read_tile
from registry.basemaps import load_basemaps
from registry.config import load_settings
from registry.errors import InvalidValue
from tests.basemap_files import (
    ATTRIBUTION,
    STREETS,
    TILES,
    basemaps_setting,
    make_mbtiles,
    make_pmtiles,
    make_vector_mbtiles,
    make_vector_pmtiles,
    tile_png,
)
from tests.serving import JASYL, free_port
from web import create_app
from web.vendor import PROTOMAPS_JS


def app_with(basemaps_json: str, **config):
    return create_app({"TESTING": True, "BASEMAPS": load_basemaps(basemaps_json), **config})


@pytest.fixture(params=["mbtiles", "pmtiles"])
def archive(request, tmp_path):
    make = make_mbtiles if request.param == "mbtiles" else make_pmtiles
    return make(tmp_path / f"city.{request.param}")


def csp_sources(answer, directive: str) -> list[str]:
    policy = answer.headers["Content-Security-Policy"]
    found = re.search(rf"(?:^|; ){directive} ([^;]+)", policy)
    assert found, policy
    return found.group(1).split()


def test_unset_means_openstreetmap_with_its_attribution() -> None:
    (osm,) = load_settings({}).basemaps
    assert osm.url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert "OpenStreetMap" in osm.attribution and "copyright" in osm.attribution
    assert osm.hosts == ("https://tile.openstreetmap.org",)
    assert {osm.name(lang) for lang in ("kk", "ru", "en")} >= {"Street map (OpenStreetMap)"}
    assert load_settings({"JASYL_BASEMAPS": "[]"}).basemaps == ()


def test_a_basemap_list_is_read_with_names_per_language(tmp_path) -> None:
    archive = make_mbtiles(tmp_path / "city.mbtiles")
    setting = json.dumps([STREETS, json.loads(basemaps_setting(archive))[0]])
    streets, city = load_settings({"JASYL_BASEMAPS": setting}).basemaps
    assert (streets.name("kk"), streets.name("ru"), streets.max_zoom) == ("Көшелер", "Улицы", 18)
    assert streets.hosts == ("https://tiles.example.kz",)
    assert city.file == archive and city.hosts == () and city.attribution == ATTRIBUTION
    spelled = [{**STREETS, "url": "https://{s}.tiles.example.kz/{z}/{x}/{y}.png"}]
    (abc,) = load_basemaps(json.dumps(spelled))
    assert abc.hosts == tuple(f"https://{s}.tiles.example.kz" for s in "abc")


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ({**STREETS, "attribution": ""}, "JASYL_BASEMAPS[0].attribution: is required"),
        ({**STREETS, "name": {"ru": "Улицы", "en": "Streets"}}, "lacks the name in kk"),
        ({**STREETS, "url": "https://tiles.example.kz/streets.png"}, "must contain {z}"),
        ({**STREETS, "url": "ftp://tiles.example.kz/{z}/{x}/{y}"}, "must be an http(s) address"),
        ({**STREETS, "file": "/srv/city.mbtiles"}, "exactly one of url"),
        (
            {**{k: v for k, v in STREETS.items() if k != "url"}, "file": "city.mbtiles"},
            "file: must be an absolute path",
        ),
        ({**STREETS, "max_zoom": 31}, "max_zoom: must be a whole number from 0 to 24"),
        ({**STREETS, "type": "satellite"}, "type: must be one of raster, vector"),
        ({**STREETS, "id": "a b"}, "id: must be a short name"),
        ({**STREETS, "colour": "green"}, "unknown fields ['colour']"),
    ],
)
def test_a_wrong_basemap_entry_is_refused_by_name(entry, says) -> None:
    with pytest.raises(InvalidValue) as refused:
        load_settings({"JASYL_BASEMAPS": json.dumps([entry])})
    assert says in str(refused.value)


def test_a_list_that_is_no_list_or_repeats_an_id_is_refused() -> None:
    with pytest.raises(InvalidValue, match="is not JSON"):
        load_basemaps("[{")
    with pytest.raises(InvalidValue, match="must be a JSON list"):
        load_basemaps(json.dumps(STREETS))
    with pytest.raises(InvalidValue, match=r"used twice: \['streets'\]"):
        load_basemaps(json.dumps([STREETS, STREETS]))


def test_an_archive_serves_its_tiles(database_url, archive) -> None:
    client = app_with(basemaps_setting(archive)).test_client()
    for (z, x, y), colour in TILES.items():
        answer = client.get(f"/basemap/city/{z}/{x}/{y}.png")
        assert answer.status_code == 200, (z, x, y)
        assert answer.mimetype == "image/png"
        assert answer.data == tile_png(colour)
        assert "max-age" in answer.headers["Cache-Control"]
    missing = client.get("/basemap/city/10/715/343.png")  # a real tile the archive lacks
    assert (missing.status_code, missing.data) == (204, b"")


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/basemap/city/10/1024/342.png", 400, "x 1024 is outside 0–1023 at zoom 10"),
        ("/basemap/city/10/715/-1.png", 400, "y -1 is outside"),
        ("/basemap/city/31/0/0.png", 400, "zoom 31 is outside 0–30"),
        ("/basemap/city/10/715/342.jpg", 404, "has png tiles, not jpg"),
        ("/basemap/satellite/10/715/342.png", 404, "no self-hosted basemap 'satellite'"),
        ("/basemap/city/ten/715/342.png", 404, ""),
    ],
)
def test_a_wrong_tile_address_is_refused(database_url, archive, path, status, says) -> None:
    answer = app_with(basemaps_setting(archive)).test_client().get(path)
    assert answer.status_code == status
    assert says in (answer.json or {}).get("message", "")


def test_the_policy_allows_exactly_the_configured_tile_hosts(database_url, tmp_path) -> None:
    archive = make_mbtiles(tmp_path / "city.mbtiles")
    setting = json.dumps([STREETS, json.loads(basemaps_setting(archive))[0]])
    answer = app_with(setting).test_client().get("/login")
    for directive in ("img-src", "connect-src"):
        foreign = [s for s in csp_sources(answer, directive) if "://" in s]
        assert foreign == ["https://tiles.example.kz"], directive
    assert "tiles.example.kz" not in csp_sources(answer, "script-src")


def test_a_self_hosted_basemap_adds_no_host_to_the_policy(database_url, archive) -> None:
    answer = app_with(basemaps_setting(archive)).test_client().get("/login")
    assert csp_sources(answer, "img-src") == ["'self'", "data:", "blob:"]
    assert csp_sources(answer, "connect-src") == ["'self'"]


def test_by_default_the_policy_allows_openstreetmap_alone(database_url, monkeypatch) -> None:
    monkeypatch.delenv("JASYL_BASEMAPS")
    answer = create_app({"TESTING": True}).test_client().get("/login")
    assert [s for s in csp_sources(answer, "img-src") if "://" in s] == [
        "https://tile.openstreetmap.org"
    ]


def test_the_map_page_offers_each_basemap_in_the_readers_language(database_url, tmp_path) -> None:
    archive = make_mbtiles(tmp_path / "city.mbtiles")
    setting = json.dumps([json.loads(basemaps_setting(archive))[0], STREETS])
    client = app_with(setting).test_client()
    html = client.get("/", headers={"Accept-Language": "kk"}).get_data(as_text=True)
    assert '"/basemap/city/{z}/{x}/{y}.png"' in html
    assert "https://tiles.example.kz/streets/{z}/{x}/{y}.png" in html
    for text in ("Қала картасы", "Көшелер", ATTRIBUTION):  # in folium's JSON, \u-escaped
        assert json.dumps(text)[1:-1] in html, text


@pytest.mark.parametrize("suffix", ["mbtiles", "pmtiles"])
def test_a_file_that_is_no_archive_stops_the_app_naming_it(database_url, tmp_path, suffix) -> None:
    wrong = tmp_path / f"city.{suffix}"
    wrong.write_bytes(b"<html>a download that failed</html>" * 100)
    with pytest.raises(InvalidValue) as refused:
        app_with(basemaps_setting(wrong))
    says = f"JASYL_BASEMAPS city.file: {wrong} is not a readable {suffix} file"
    assert says in str(refused.value)


def test_a_missing_archive_stops_the_app_but_not_the_commands(database_url, tmp_path) -> None:
    setting = basemaps_setting(tmp_path / "gone.mbtiles")
    (city,) = load_settings({"JASYL_BASEMAPS": setting}).basemaps  # `jasyl backup` runs
    assert city.file == tmp_path / "gone.mbtiles"
    with pytest.raises(InvalidValue, match="city.file: .*gone.mbtiles is not a readable mbtiles"):
        app_with(setting)


@pytest.fixture(params=["mbtiles", "pmtiles"])
def vector_archive(request, tmp_path):
    make = make_vector_mbtiles if request.param == "mbtiles" else make_vector_pmtiles
    return make(tmp_path / f"streets.{request.param}")


def test_a_vector_archive_serves_gzipped_tiles_the_browser_unpacks(
    database_url, vector_archive
) -> None:
    client = app_with(basemaps_setting(vector_archive, "streets")).test_client()
    answer = client.get("/basemap/streets/10/715/342.pbf")
    assert answer.status_code == 200 and answer.mimetype == "application/x-protobuf"
    assert answer.headers["Content-Encoding"] == "gzip"  # stored gzipped, sent as stored
    layers = mapbox_vector_tile.decode(gzip.decompress(answer.data))
    assert sorted(layers) == ["earth", "roads", "water"]
    assert client.get("/basemap/streets/10/715/342.png").status_code == 404  # not its format
    assert client.get("/basemap/streets/10/700/342.pbf").status_code == 204  # not covered


def test_the_map_page_draws_a_vector_basemap_with_its_script_alone(
    database_url, vector_archive, tmp_path
) -> None:
    raster = basemaps_setting(make_mbtiles(tmp_path / "city.mbtiles"))
    raster_page = app_with(raster).test_client().get("/?lang=ru").get_data(as_text=True)
    assert PROTOMAPS_JS not in raster_page  # pages without a vector basemap stay as light
    setting = basemaps_setting(vector_archive, "streets")
    html = app_with(setting).test_client().get("/?lang=ru").get_data(as_text=True)
    assert f'src="{PROTOMAPS_JS}"' in html
    assert "protomapsL.leafletLayer" in html and '"/basemap/streets/{z}/{x}/{y}.pbf"' in html
    assert '"lang": "ru"' in html and '"maxDataZoom": 14' in html


@pytest.mark.parametrize(("stated", "file"), [("raster", "vector"), ("vector", "raster")])
def test_a_type_the_archive_contradicts_stops_the_app(database_url, tmp_path, stated, file) -> None:
    make = make_vector_mbtiles if file == "vector" else make_mbtiles
    entry = json.loads(basemaps_setting(make(tmp_path / "city.mbtiles")))[0]
    with pytest.raises(InvalidValue, match=f"city.file: holds .*, not the {stated} tiles"):
        app_with(json.dumps([{**entry, "type": stated}]))


def test_a_third_party_vector_service_is_drawn_as_vector(database_url) -> None:
    vector = {**STREETS, "url": "https://tiles.example.kz/v/{z}/{x}/{y}.mvt", "type": "vector"}
    html = app_with(json.dumps([vector])).test_client().get("/").get_data(as_text=True)
    assert "protomapsL.leafletLayer" in html
    assert "https://tiles.example.kz/v/{z}/{x}/{y}.mvt" in html


def test_jasyl_serve_refuses_a_wrong_basemap_list_by_name(tmp_path) -> None:
    """The deployer starts the server and reads why it will not start (a real process)."""
    wrong = tmp_path / "city.mbtiles"
    wrong.write_text("<html>a download that failed</html>")
    env = {**os.environ, "JASYL_ENV": "development"}
    for setting, says in (
        ('[{"id": "x"', "JASYL_BASEMAPS: is not JSON"),
        (basemaps_setting(wrong), f"JASYL_BASEMAPS city.file: {wrong} is not a readable mbtiles"),
    ):
        done = subprocess.run(
            [str(JASYL), "serve", "--port", str(free_port())],
            env={**env, "JASYL_BASEMAPS": setting},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr
        assert says in done.stderr + done.stdout


def test_a_pmtiles_archive_is_kept_open_and_read_afresh_once_replaced(tmp_path) -> None:
    path = make_pmtiles(tmp_path / "city.pmtiles")
    z, x, y = 14, 11442, 5475
    assert read_tile(path, z, x, y) == tile_png(TILES[(z, x, y)])
    reader = open_pmtiles(path)
    assert open_pmtiles(path) is reader  # one reader per file and process, not one per tile
    make_pmtiles(path, {**TILES, (z, x, y): (10, 200, 10)})  # the administrator's new file
    later = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(later, later))  # replaced within the same clock tick is replaced too
    assert read_tile(path, z, x, y) == tile_png((10, 200, 10))
    assert open_pmtiles(path) is not reader


def test_one_open_pmtiles_reader_serves_many_threads(tmp_path) -> None:
    path = make_pmtiles(tmp_path / "city.pmtiles")
    wrong: list[tuple[int, int, int]] = []

    def read_all() -> None:
        for _ in range(50):
            wrong.extend(t for t, c in TILES.items() if read_tile(path, *t) != tile_png(c))

    threads = [threading.Thread(target=read_all) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
