"""The map in a real headless Chromium: it draws regions and tiles, and asks only our server."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.db import unit_of_work
from registry.demo.services import load_demo
from tests.conftest import empty_inventory
from tests.layout import MAP_CONTROLS, overlapping

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[1] / ".jasyl" / "screenshots"


@pytest.fixture(scope="module")
def demo_site(database_url, live_server):
    with unit_of_work(database_url) as session:
        load_demo(session, scale=0.05)
    yield live_server
    empty_inventory(database_url)


def test_the_map_renders_from_our_server_alone(browser, demo_site, tmp_path) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(demo_site + "/", wait_until="networkidle")
    assert page.locator(".leaflet-container").count() == 1
    regions = page.evaluate("""() => { const map = Object.values(window).find(
        v => v && v instanceof L.Map); window.jasylMap = map; let n = 0;
        map.eachLayer(l => { if (l.feature && l.feature.properties.iso) n++; }); return n; }""")
    assert regions == 20
    page.screenshot(path=str(tmp_path / "country.png"))
    # Fly to Astana and wait for plant tiles to be drawn on canvases.
    page.evaluate("() => window.jasylMap.setView([51.1282, 71.4304], 14)")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("document.querySelectorAll('canvas').length > 0")
    page.screenshot(path=str(tmp_path / "astana.png"))
    SCREENSHOTS.mkdir(exist_ok=True)
    for name in ("country.png", "astana.png"):
        (SCREENSHOTS / name).write_bytes((tmp_path / name).read_bytes())
    assert any("/tiles/plants/14/" in url for url in requested)
    foreign = [u for u in requested if not u.startswith((demo_site, "data:", "blob:"))]
    assert foreign == []
    assert errors == []
    page.close()


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1200, 800)])
def test_the_map_pages_fit_a_phone_and_a_desktop(browser, demo_site, width, height) -> None:
    """A forester in the field holds a phone: no control covers another or the header, and the
    map keeps most of the screen (the region page stacks its numbers above it)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    for path in ("/", "/regions/KZ-71"):
        page.goto(demo_site + path, wait_until="networkidle")
        assert overlapping(page, MAP_CONTROLS) == [], path
        box = page.locator(".leaflet-container").bounding_box()
        assert box["width"] * box["height"] >= 0.4 * width * height, path
    page.close()
