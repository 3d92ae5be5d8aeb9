"""The address keeps the view (issue #19), in a real headless Chromium: centre, zoom, basemap,
layers, colour mode and filters survive a copied link, a reload and back; a plant's card has a
link of its own that opens it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from registry.basemaps import load_basemaps
from registry.db import unit_of_work
from tests.basemap_files import two_basemaps
from tests.conftest import empty_inventory
from tests.factories import make_plant
from tests.web_client import serve
from web import create_app

pytestmark = pytest.mark.browser
VIEW = """() => { const c = Jasyl.map.getCenter(), on = l => Jasyl.map.hasLayer(window[l]);
  const s = Jasyl.settings.layers;
  return {zoom: Jasyl.map.getZoom(), lat: c.lat, lon: c.lng, mode: Jasyl.mode,
    modeShown: document.getElementById('style-by').value,
    imagery: on(s.basemaps.imagery), city: on(s.basemaps.city),
    regions: on(s.regions), plants: on(s.plants), spaces: on(s.spaces),
    status: document.querySelector('#filters select[name=status]').value,
    plantTiles: Jasyl.plants._url}; }"""


@pytest.fixture(scope="module")
def site(database_url, tmp_path_factory) -> Iterator[tuple[str, int]]:
    with unit_of_work(database_url) as session:
        plant = make_plant(session, inventory_number="PERMA-1")
        plant_id = plant.id
    setting = two_basemaps(tmp_path_factory.mktemp("basemaps"))
    yield from (
        (base, plant_id) for base in serve(create_app({"BASEMAPS": load_basemaps(setting)}))
    )
    empty_inventory(database_url)


def new_page(browser):
    return browser.new_context(viewport={"width": 1200, "height": 800}, locale="en-GB").new_page()


def test_a_copied_link_reload_and_back_restore_the_view(browser, site) -> None:
    base, _ = site
    page = new_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/?lang=en", wait_until="networkidle")
    page.evaluate("() => Jasyl.map.setView([51.13, 71.43], 15, {animate: false})")
    page.locator(".leaflet-control-layers-base").get_by_text("Imagery").click()
    overlays = page.locator(".leaflet-control-layers-overlays")
    overlays.locator("label", has_text="Regions").locator("input").uncheck()
    page.select_option("#style-by", "species")
    page.locator("#filter-box summary").click()
    page.select_option("#filters select[name=status]", "alive")
    page.wait_for_function("() => location.hash.includes('status=alive')")
    link = page.url
    assert "#map=15/51.13000/71.43000" in link and "base=imagery" in link
    assert "layers=spaces,plants" in link and "mode=species" in link
    wanted = page.evaluate(VIEW)
    assert wanted["imagery"] and not wanted["city"] and not wanted["regions"]
    assert "status=alive" in wanted["plantTiles"]

    copied = new_page(browser)  # the link pasted into another browser window
    copied.goto(link, wait_until="networkidle")
    assert copied.evaluate(VIEW) == wanted
    copied.context.close()

    page.reload(wait_until="networkidle")
    assert page.evaluate(VIEW) == wanted

    page.select_option("#style-by", "year")  # a new entry in the history…
    page.wait_for_function("() => location.hash.includes('mode=year')")
    page.go_back()  # …which back undoes
    page.wait_for_function("() => Jasyl.mode === 'species'")
    assert page.evaluate(VIEW) == wanted
    assert errors == []
    page.context.close()


def test_changing_the_language_keeps_the_view(browser, site) -> None:
    base, _ = site
    page = new_page(browser)
    page.goto(base + "/#map=13/51.15000/71.40000&mode=status", wait_until="networkidle")
    wanted = page.evaluate(VIEW)
    page.click("button[data-lang=kk]")
    page.wait_for_function("() => document.documentElement.lang === 'kk'")
    page.wait_for_load_state("networkidle")
    assert page.evaluate(VIEW) == wanted and wanted["zoom"] == 13 and wanted["mode"] == "status"
    page.context.close()


def test_a_plant_link_opens_its_card_and_the_card_gives_its_link(browser, site) -> None:
    base, plant_id = site
    page = new_page(browser)
    page.goto(f"{base}/?lang=en#plant={plant_id}", wait_until="networkidle")
    card = page.locator(f".leaflet-popup .card[data-plant-id='{plant_id}']")
    card.wait_for()
    assert "PERMA-1" in card.inner_text()
    assert page.evaluate("Jasyl.map.getZoom()") == 18, "a link without a view jumps to the plant"
    link = card.locator("a.plant-link")
    assert link.inner_text() == "Link to this plant"
    assert link.get_attribute("href") == f"/#plant={plant_id}"
    page.wait_for_function(f"() => location.hash.includes('plant={plant_id}')")
    assert "map=18/" in page.url
    # Closing the card takes it out of the address; a click on the plant puts it back.
    page.locator(".leaflet-popup-close-button").click()
    page.wait_for_function("() => !location.hash.includes('plant=')")
    page.locator(".leaflet-popup").wait_for(state="detached")  # gone, not caught mid-close
    # where the plant stands now (a tall card pans the map to fit, so not always the centre)
    spot = page.evaluate(
        f"""fetch("/api/v1/plants/{plant_id}").then(r => r.json()).then(p => {{
              const [lon, lat] = p.geometry.coordinates;
              return Jasyl.map.latLngToContainerPoint([lat, lon]); }})"""
    )
    page.locator(".leaflet-container").click(position={"x": spot["x"], "y": spot["y"]})
    card.wait_for()
    page.wait_for_function(f"() => location.hash.includes('plant={plant_id}')")
    # The address with the card, copied, opens the same view with the card.
    copied = new_page(browser)
    copied.goto(page.url, wait_until="networkidle")
    copied.locator(f".leaflet-popup .card[data-plant-id='{plant_id}']").wait_for()
    assert copied.evaluate("Jasyl.map.getZoom()") == 18
    copied.context.close()
    page.context.close()


def test_a_region_page_keeps_the_view_of_its_address(browser, site) -> None:
    base, _ = site
    page = new_page(browser)
    page.goto(base + "/regions/KZ-71", wait_until="networkidle")
    fitted = page.evaluate("() => Jasyl.map.getZoom()")
    page.wait_for_function("() => location.hash.includes('region=')")  # its filter, kept
    page.goto(base + "/regions/KZ-71#map=16/51.12000/71.42000", wait_until="networkidle")
    page.reload(wait_until="networkidle")
    view = page.evaluate("() => [Jasyl.map.getZoom(), Jasyl.map.getCenter().lat]")
    assert view == [16, pytest.approx(51.12, abs=1e-5)] and fitted < 16
    page.context.close()
