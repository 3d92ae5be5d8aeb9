""" "Where am I" (issue #19) in a real headless Chromium with a faked position: the button the
app serves itself (leaflet.locatecontrol) puts the marker and the accuracy circle where the
phone says it is, and its words are in the reader's language."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
# A forester in the Botanical Garden of Astana, the phone sure to 25 m.
HERE = {"latitude": 51.1069, "longitude": 71.4152, "accuracy": 25}
DRAWN = """() => { const found = {};
  Jasyl.map.eachLayer(l => {
    if (l instanceof L.Circle) found.circle = [l.getLatLng().lat, l.getLatLng().lng, l.getRadius()];
    else if (l instanceof L.CircleMarker && l.options.className === 'jasyl-position')
      found.marker = [l.getLatLng().lat, l.getLatLng().lng, l.getTooltip().getContent()];
  });
  const c = Jasyl.map.getCenter();
  return {...found, centre: [c.lat, c.lng], zoom: Jasyl.map.getZoom()}; }"""


@pytest.mark.parametrize(
    ("lang", "title", "accuracy"),
    [
        ("en", "Show where I am", "You are within 25 m of this point"),
        ("ru", "Показать, где я", "Вы в пределах 25 м от этой точки"),
    ],
)
def test_where_am_i_shows_the_position_and_its_accuracy(
    browser, live_server, lang, title, accuracy
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},  # a phone in the field
        geolocation=HERE,
        permissions=["geolocation"],
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server}/?lang={lang}", wait_until="networkidle")
    button = page.locator(".leaflet-control-locate a")
    assert button.get_attribute("title") == title
    button.click()
    page.wait_for_function("() => document.querySelector('.leaflet-control-locate.active')")
    page.wait_for_function(f"() => ({DRAWN})().circle && ({DRAWN})().marker")
    drawn = page.evaluate(DRAWN)
    assert drawn["circle"] == [
        pytest.approx(HERE["latitude"]),
        pytest.approx(HERE["longitude"]),
        25,
    ]
    assert drawn["marker"] == [
        pytest.approx(HERE["latitude"]),
        pytest.approx(HERE["longitude"]),
        accuracy,
    ]
    assert drawn["centre"] == [pytest.approx(51.1069, abs=1e-3), pytest.approx(71.4152, abs=1e-3)]
    assert drawn["zoom"] >= 16, "the map comes to the forester"
    button.click()  # stop following: the position leaves the map
    page.wait_for_function("() => !document.querySelector('.leaflet-control-locate.active')")
    assert "circle" not in page.evaluate(DRAWN) and "marker" not in page.evaluate(DRAWN)
    assert errors == []
    context.close()
