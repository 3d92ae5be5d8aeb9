"""The map in Chromium: the NDVI overlay and legend appear, and downloads follow the filters."""

from __future__ import annotations

import pytest

from gis.ndvi import Band
from registry.access import Actor
from registry.db import unit_of_work
from registry.opendata.ndvi import record_ndvi
from tests.factories import ASTANA, make_plant, point_near
from tests.layout import MAP_CONTROLS, overlapping
from tests.test_ndvi import write_image

pytestmark = pytest.mark.browser


def test_ndvi_overlay_legend_and_filtered_download(browser, live_server, clean, tmp_path) -> None:
    with unit_of_work(clean) as session:
        for n in range(4):
            make_plant(session, geom=point_near(ASTANA, n), condition=1 + n % 2)
        image = write_image(tmp_path / "july.tif")
        record_ndvi(session, Actor.system("test"), Band(image, 1), Band(image, 4))
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server + "/", wait_until="networkidle")
    page.wait_for_selector("img.leaflet-image-layer", state="attached")
    assert "/raster/ndvi/" in page.get_attribute("img.leaflet-image-layer", "src")
    assert page.locator("#ndvi-legend").is_visible()
    assert "NDVI" in page.inner_text("#ndvi-legend")
    assert overlapping(page, MAP_CONTROLS) == []
    # filter to condition I only, then the download link carries that filter
    page.click("#filter-box summary")
    page.uncheck("#filters input[name=condition][value='2']")
    page.evaluate("() => Jasyl.applyFilters()")
    with page.expect_download() as caught:
        page.click("a.download[data-format=geojson]")
    download = caught.value
    assert "condition=" in download.url and "format=geojson" in download.url
    with open(download.path(), encoding="utf-8") as saved:
        text = saved.read()
    assert text.count('"type": "Feature"') == 2
    assert errors == []
    page.close()
