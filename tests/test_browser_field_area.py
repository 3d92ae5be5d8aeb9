"""Field mode's work area on the map in a real headless Chromium (issue #19): a self-hosted
basemap's tiles z13–z18 over the area kept, so the streets are drawn offline from the service
worker's cache; an area over the budget refused with its size; a rectangle drawn with two taps
downloaded like any other area."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from registry.basemaps import load_basemaps
from registry.db import unit_of_work
from tests.basemap_files import (
    STREETS,
    area_mbtiles,
    basemaps_setting,
    noise_png,
    tile_png,
    vector_tile,
)
from tests.factories import ASTANA, make_plant
from tests.test_browser_basemap import CANVAS_COLOURS
from tests.test_browser_field import (  # noqa: F401 (phone: the fixture)
    HERE,
    download_area_around_me,
    installed,
    open_field,
    phone,
)
from tests.test_browser_web import point, sign_in
from tests.web_client import new_user, serve
from web import create_app

pytestmark = pytest.mark.browser
WIDER = (ASTANA[0] - 0.02, ASTANA[1] - 0.012, ASTANA[0] + 0.02, ASTANA[1] + 0.012)
BASEMAP_TILES = """() => [...document.querySelectorAll('#field-map img.leaflet-tile')]
    .filter((img) => img.src.includes('/basemap/city/'))"""


def field_site(clean, tmp_path, tiles: bytes, zooms=range(13, 19), fmt="png", **settings):
    with unit_of_work(clean) as session:
        elm = make_plant(session, inventory_number="71-AREA-ELM", geom=point(ASTANA)).id
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    area_mbtiles(tmp_path / "city.mbtiles", WIDER, zooms, tiles, fmt)
    basemaps = load_basemaps(basemaps_setting(tmp_path / "city.mbtiles", max_zoom=18))
    app = create_app({"UPLOADS_DIR": tmp_path / "uploads", "BASEMAPS": basemaps})
    app.config["JASYL_SETTINGS"] = replace(app.config["JASYL_SETTINGS"], **settings)
    return app, elm


def reload_offline(page) -> list:
    """Reload the page offline with the browser's HTTP cache cleared, so that only the service
    worker's cache may answer; the answers the page gets from then on."""
    page.context.new_cdp_session(page).send("Network.clearBrowserCache")
    page.context.set_offline(True)
    answers: list = []
    page.on("response", lambda r: answers.append(r))
    page.reload()
    page.wait_for_selector("#field[data-ready=true]")
    return answers


def drawn_at(page, zoom: int) -> list[str]:
    """Bring the map to where the phone stands at ``zoom``; the basemap tiles it drew there."""
    page.evaluate(
        "([lat, lon, z]) => JasylFieldMap.map.setView([lat, lon], z, {animate: false})",
        [HERE["latitude"], HERE["longitude"], zoom],
    )
    page.wait_for_function(
        f"""() => {{ const tiles = ({BASEMAP_TILES})()
            .filter((img) => img.src.includes('/{zoom}/'));
            return tiles.length > 0 && tiles.every((img) => img.complete); }}"""
    )
    return page.evaluate(
        f"""() => ({BASEMAP_TILES})().filter((img) => img.src.includes('/{zoom}/'))
            .filter((img) => img.naturalWidth === 256).map((img) => img.src)"""
    )


def test_the_basemap_of_a_downloaded_area_is_drawn_offline_from_the_cache(
    phone,  # noqa: F811
    clean,
    tmp_path,
) -> None:
    app, _ = field_site(clean, tmp_path, tile_png((120, 170, 250)))
    for base in serve(app):
        sign_in(phone, base, "les@test.jasyl.kz")
        open_field(phone, base)
        installed(phone)
        download_area_around_me(phone)
        assert "z13–z18" in phone.inner_text("#area-message")  # the size, before downloading
        phone.wait_for_selector("#field[data-tiles=kept]")
        assert "МБ" in phone.inner_text("#area-kept")  # what is kept: plants, green spaces, size
        kept = phone.inner_text("#tiles-kept")
        assert "МБ" in kept and int(kept.split(":")[1].split(",")[0]) > 100

        answers = reload_offline(phone)
        for zoom in (16, 18):
            drawn = drawn_at(phone, zoom)
            assert drawn, f"no basemap tile drawn offline at z{zoom}"
            failed = phone.evaluate("JasylFieldMap.state.tileErrors")
            assert not [t for t in failed if t.startswith(f"{zoom}/")], failed
        tiles = [r for r in answers if "/basemap/" in r.url]
        assert tiles and all(r.from_service_worker and r.status == 200 for r in tiles)
        assert phone.errors == []


def test_a_vector_basemap_is_drawn_in_the_field_and_offline_from_the_cache(
    phone,  # noqa: F811
    clean,
    tmp_path,
) -> None:
    """A self-hosted basemap of vector tiles: drawn on the field map by protomaps-leaflet (which
    the worker precaches too), its tiles kept by area, and drawn again offline."""
    app, _ = field_site(clean, tmp_path, vector_tile(), zooms=range(12, 19), fmt="pbf")
    colours = f"({CANVAS_COLOURS.replace('.basemap-streets', '#field-map .basemap')})()"
    for base in serve(app):
        sign_in(phone, base, "les@test.jasyl.kz")
        open_field(phone, base)
        installed(phone)
        download_area_around_me(phone)
        phone.wait_for_selector("#field[data-tiles=kept]")
        answers = reload_offline(phone)
        for zoom in (13, 16):
            phone.evaluate(
                "([lat, lon, z]) => JasylFieldMap.map.setView([lat, lon], z, {animate: false})",
                [HERE["latitude"], HERE["longitude"], zoom],
            )
            phone.wait_for_function(f"{colours} >= 3")  # land, water, road: from the cache
        assert any("/basemap/city/12/" in r.url for r in answers)  # z13 drawn from z12's data
        tiles = [r for r in answers if "/basemap/" in r.url]
        assert tiles and all(r.from_service_worker and r.status == 200 for r in tiles)
        assert all(r.url.endswith(".pbf") for r in tiles)
        assert phone.errors == []


def test_an_area_over_the_budget_is_refused_with_its_size(phone, clean, tmp_path) -> None:  # noqa: F811
    app, _ = field_site(clean, tmp_path, noise_png(), zooms=range(13, 17), field_budget_mb=1)
    for base in serve(app):
        sign_in(phone, base, "les@test.jasyl.kz")
        open_field(phone, base)
        phone.click("#area-panel summary")
        phone.click("#locate")
        phone.wait_for_function("() => document.querySelector('#position').textContent.length > 0")
        phone.click("#area-check")
        phone.wait_for_function(
            "() => document.querySelector('#area-message').textContent.includes('1 МБ')"
        )
        message = phone.inner_text("#area-message")
        assert "z13–z18" in message and "Слишком много" in message
        assert phone.locator("#area-download").is_disabled()
        assert phone.evaluate("JasylField.db.then((db) => db.get('meta', 'area'))") is None


def test_a_rectangle_drawn_on_the_map_is_downloaded(phone, clean, tmp_path) -> None:  # noqa: F811
    app, elm = field_site(clean, tmp_path, tile_png((120, 170, 250)))
    for base in serve(app):
        sign_in(phone, base, "les@test.jasyl.kz")
        open_field(phone, base)
        phone.click("#area-panel summary")
        phone.select_option("#area-kind", "rectangle")
        phone.click("#area-draw")
        phone.evaluate(
            "([lat, lon]) => JasylFieldMap.map.setView([lat, lon], 16, {animate: false})",
            [ASTANA[1], ASTANA[0]],
        )
        box = phone.locator("#field-map").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        phone.mouse.click(cx - 60, cy - 60)
        phone.mouse.click(cx + 60, cy + 60)
        phone.wait_for_function("() => !document.querySelector('#area-download').disabled")
        phone.click("#area-download")
        phone.wait_for_selector("#field[data-tiles=kept]")
        kept = phone.evaluate("JasylField.db.then((db) => db.getAll('plants'))")
        assert [p["id"] for p in kept] == [elm]
        area = phone.evaluate("JasylField.db.then((db) => db.get('meta', 'area'))")
        west, south, east, north = area["bbox"]
        assert west < ASTANA[0] < east and south < ASTANA[1] < north
        assert east - west < 0.01  # the rectangle drawn, not the box around the phone


def test_a_third_party_basemap_keeps_only_the_tiles_viewed(phone, clean, tmp_path) -> None:  # noqa: F811
    """OpenStreetMap's tile usage policy forbids bulk downloads: nothing is fetched by area, the
    page says so, and the tiles the forester looked at are drawn again offline."""
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    app = create_app(
        {"UPLOADS_DIR": tmp_path / "uploads", "BASEMAPS": load_basemaps(json.dumps([STREETS]))}
    )
    asked: list[str] = []

    def third_party(route) -> None:
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=tile_png((250, 230, 180)))

    phone.context.route("https://tiles.example.kz/**", third_party)
    for base in serve(app):
        sign_in(phone, base, "les@test.jasyl.kz")
        open_field(phone, base)
        installed(phone)
        assert "только просмотренные плитки" in phone.text_content("#tiles-kept")
        phone.reload()  # the worker now controls the page and keeps what it draws
        phone.wait_for_selector("#field[data-ready=true]")
        viewed = drawn_third_party(phone)
        download_area_around_me(phone)
        assert "z13–z18" not in phone.inner_text("#area-message")
        assert not [u for u in asked if "/streets/18/" in u]  # none by area: z18 never viewed
        phone.context.unroute("https://tiles.example.kz/**")  # nobody answers for them now
        phone.context.new_cdp_session(phone).send("Network.clearBrowserCache")
        phone.context.set_offline(True)
        phone.reload()
        phone.wait_for_selector("#field[data-ready=true]")
        assert set(drawn_third_party(phone)) >= set(viewed)


def test_the_viewed_tiles_of_a_third_party_are_capped(phone, clean, tmp_path) -> None:  # noqa: F811
    """Kept as viewed, but never more than JASYL_FIELD_VIEWED_TILES: the oldest go first (a
    browser counts each opaque tile as megabytes of its quota)."""
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    app = create_app(
        {"UPLOADS_DIR": tmp_path / "uploads", "BASEMAPS": load_basemaps(json.dumps([STREETS]))}
    )
    app.config["JASYL_SETTINGS"] = replace(app.config["JASYL_SETTINGS"], field_viewed_tiles=3)
    asked: list[str] = []

    def third_party(route) -> None:
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=tile_png((250, 230, 180)))

    phone.context.route("https://tiles.example.kz/**", third_party)
    kept = (
        "() => caches.open('jasyl-field-viewed-tiles').then((c) => c.keys()).then((k) => k.length)"
    )
    for base in serve(app):
        sign_in(phone, base, "les@test.jasyl.kz")
        open_field(phone, base)
        installed(phone)
        phone.reload()  # the worker now controls the page and keeps what it draws
        phone.wait_for_selector("#field[data-ready=true]")
        viewed = drawn_third_party(phone)
        assert len(viewed) > 3
        counts = [phone.evaluate(kept)]
        while len(counts) < 5 or len(set(counts[-5:])) > 1:  # until the worker has settled
            phone.wait_for_timeout(300)
            counts.append(phone.evaluate(kept))
            assert len(counts) < 60, counts
        assert 0 < counts[-1] <= 3, counts  # more were viewed than are kept


def drawn_third_party(page) -> list[str]:
    page.evaluate(
        "([lat, lon]) => JasylFieldMap.map.setView([lat, lon], 16, {animate: false})",
        [ASTANA[1], ASTANA[0]],
    )
    script = """() => [...document.querySelectorAll('#field-map img.leaflet-tile')]
        .filter((img) => img.src.includes('tiles.example.kz/streets/16/'))"""
    page.wait_for_function(
        f"() => {{ const t = ({script})(); return t.length > 0 && t.every((i) => i.complete); }}"
    )
    return page.evaluate(
        f"() => ({script})().filter((i) => i.naturalWidth === 256).map((i) => i.src)"
    )
