"""Basemaps in a real headless Chromium (issue #19): a self-hosted archive's tiles requested
from our server and drawn, its attribution shown, the switcher changing the basemap under the
data layers, and no request to a host nobody configured."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from registry.basemaps import load_basemaps
from tests.basemap_files import (
    ATTRIBUTION,
    STREETS,
    basemaps_setting,
    make_vector_pmtiles,
    tile_png,
    two_basemaps,
)
from tests.layout import MAP_CONTROLS, overlapping
from tests.test_browser_csp import WATCH_VIOLATIONS
from tests.web_client import serve
from web import create_app

pytestmark = pytest.mark.browser
ASTANA = (51.1282, 71.4304)
LOADED_TILE = """(part) => [...document.querySelectorAll('img.leaflet-tile-loaded')]
    .some(img => img.src.includes(part) && img.naturalWidth === 256)"""


@pytest.fixture(scope="module")
def basemap_site(database_url, tmp_path_factory) -> Iterator[str]:
    setting = two_basemaps(tmp_path_factory.mktemp("basemaps"))
    yield from serve(create_app({"BASEMAPS": load_basemaps(setting)}))


def open_astana(browser, site: str, requested: list[str], errors: list[str]):
    page = browser.new_page(viewport={"width": 1200, "height": 800}, locale="en-GB")
    page.on("request", lambda r: requested.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site + "/?lang=en", wait_until="networkidle")
    page.evaluate("([lat, lon]) => Jasyl.map.setView([lat, lon], 10, {animate: false})", ASTANA)
    page.wait_for_load_state("networkidle")
    return page


def test_the_self_hosted_basemap_is_drawn_with_its_attribution(browser, basemap_site) -> None:
    requested: list[str] = []
    errors: list[str] = []
    page = open_astana(browser, basemap_site, requested, errors)
    page.wait_for_function(LOADED_TILE, arg="/basemap/city/10/715/342.png")
    assert ATTRIBUTION in page.locator(".leaflet-control-attribution").inner_text()
    assert not any("/basemap/imagery/" in url for url in requested), "the other waits its turn"
    foreign = [u for u in requested if not u.startswith((basemap_site, "data:", "blob:"))]
    assert foreign == []
    assert errors == []
    page.close()


def test_the_switcher_changes_the_basemap_under_the_data(browser, basemap_site) -> None:
    requested: list[str] = []
    errors: list[str] = []
    page = open_astana(browser, basemap_site, requested, errors)
    switcher = page.locator(".leaflet-control-layers-base")
    assert switcher.locator("label").all_inner_texts() == [" City map", " Imagery"]
    switcher.get_by_text("Imagery").click()
    page.wait_for_function(LOADED_TILE, arg="/basemap/imagery/10/715/342.png")
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "© Imagery of the test" in attribution and ATTRIBUTION not in attribution
    # The plants and green spaces (tile layers too) stay above whichever basemap is chosen.
    order = page.evaluate("""() => [...document.querySelectorAll('.leaflet-tile-pane > div')]
        .map(d => [d.classList.contains('basemap') ? 'basemap' : 'data', +d.style.zIndex])""")
    assert {kind for kind, _ in order} == {"basemap", "data"}
    assert max(z for kind, z in order if kind == "basemap") < min(
        z for kind, z in order if kind == "data"
    )
    foreign = [u for u in requested if not u.startswith((basemap_site, "data:", "blob:"))]
    assert foreign == []
    assert errors == []
    page.close()


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1200, 800)])
def test_the_switcher_fits_a_phone_and_a_desktop(browser, basemap_site, width, height) -> None:
    """Two basemaps make the layer list longer: it still covers no other control."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(basemap_site + "/", wait_until="networkidle")
    assert page.locator(".leaflet-control-layers-base label").count() == 2
    assert overlapping(page, MAP_CONTROLS) == []
    page.close()


@pytest.fixture(scope="module")
def third_party_site(database_url) -> Iterator[str]:
    """A tile service of another host (answered by the browser's route below, no network)."""
    setting = json.dumps([STREETS])
    yield from serve(create_app({"BASEMAPS": load_basemaps(setting)}))


def test_a_third_party_basemap_is_asked_with_the_origin_alone(browser, third_party_site) -> None:
    """OpenStreetMap's tile policy wants to know the site: its tiles carry our origin as the
    Referer (the page's own policy would send none); and the page's CSP lets images come from
    the configured host and no other."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    asked: list[dict] = []

    def tile_service(route) -> None:
        asked.append({"url": route.request.url, **route.request.all_headers()})
        route.fulfill(status=200, content_type="image/png", body=tile_png((90, 160, 90)))

    context.route("https://tiles.example.kz/**", tile_service)
    context.route("https://elsewhere.example.org/**", tile_service)
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    page.goto(third_party_site + "/#map=10/51.12820/71.43040", wait_until="networkidle")
    page.wait_for_function(LOADED_TILE, arg="https://tiles.example.kz/streets/10/715/342.png")
    assert asked and all(a["referer"] == third_party_site + "/" for a in asked)
    assert "© Example streets" in page.locator(".leaflet-control-attribution").inner_text()
    assert page.evaluate("window.cspViolations") == []
    page.evaluate("() => { new Image().src = 'https://elsewhere.example.org/0/0/0.png'; }")
    page.wait_for_function("() => window.cspViolations.length > 0")
    assert page.evaluate("window.cspViolations") == [
        "img-src https://elsewhere.example.org/0/0/0.png"
    ]
    assert not any("elsewhere" in a["url"] for a in asked), "the browser never asked it"
    context.close()


@pytest.fixture(scope="module")
def vector_site(database_url, tmp_path_factory) -> Iterator[str]:
    archive = make_vector_pmtiles(tmp_path_factory.mktemp("vector") / "streets.pmtiles")
    yield from serve(create_app({"BASEMAPS": load_basemaps(basemaps_setting(archive, "streets"))}))


# The colours a basemap canvas holds, counted from its pixels (opaque ones only).
CANVAS_COLOURS = """() => {
    const seen = new Set();
    for (const canvas of document.querySelectorAll('.basemap-streets canvas')) {
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
        for (let i = 0; i < pixels.data.length; i += 4 * 97) {
            if (pixels.data[i + 3] === 255) seen.add(pixels.data.slice(i, i + 3).join(','));
        }
    }
    return seen.size;
}"""


def test_a_self_hosted_vector_basemap_is_drawn_by_the_page(browser, vector_site) -> None:
    """Vector tiles from our own PMTiles file, unpacked by the browser and drawn in the
    Protomaps style: land, water and a road in their colours, with no other host asked and
    nothing the page's policy refuses."""
    context = browser.new_context(viewport={"width": 1200, "height": 800}, locale="en-GB")
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(vector_site + "/?lang=en#map=11/51.12820/71.43040", wait_until="networkidle")
    page.wait_for_function(f"({CANVAS_COLOURS})() >= 3")  # land, water, road (and blends)
    assert any("/basemap/streets/" in u and u.endswith(".pbf") for u in requested)
    assert ATTRIBUTION in page.locator(".leaflet-control-attribution").inner_text()
    foreign = [u for u in requested if not u.startswith((vector_site, "data:", "blob:"))]
    assert foreign == []
    assert errors == [] and page.evaluate("window.cspViolations") == []
    context.close()
