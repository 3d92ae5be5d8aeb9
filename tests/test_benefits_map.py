"""The map coloured by CO₂ stored: the plant tiles carry each plant's class only when asked
(``?colour=co2``), the class is the card's figure's, plants without a figure carry none; in a
real Chromium the mode shows its legend (classes and "no figure") and the address keeps it."""

from __future__ import annotations

import bisect

import mapbox_vector_tile
import pytest
from shapely.geometry import LineString, Point

from bench.tiles import tile_of
from registry.benefits import services
from registry.benefits.rules import CO2_CLASS_BREAKS_KG
from registry.db import unit_of_work
from registry.inventory.models import Plant
from registry.species.services import get_species
from tests.factories import ASTANA, make_plant
from web import create_app


def spot(dx: float) -> Point:
    return Point(ASTANA[0] + dx, ASTANA[1])


@pytest.fixture
def grove(clean):
    """A large elm, a young oak and a lilac hedge, 70 m apart; each one's card figure."""
    with unit_of_work(clean) as session:
        big = make_plant(session, geom=spot(0), trunk_diameter_cm=38.6, height_m=13.8)
        oak = get_species(session, "quercus_robur").id
        young = make_plant(
            session, geom=spot(0.001), species_id=oak, trunk_diameter_cm=6, height_m=None
        )
        hedge = make_plant(
            session,
            geom=LineString([spot(0.002).coords[0], spot(0.0022).coords[0]]),
            species_id=get_species(session, "syringa_vulgaris").id,
            planting_form="hedge",
            height_m=2,
            trunk_diameter_cm=None,
        )
        stored = {
            p.id: services.plant_benefits(session, session.get(Plant, p.id))["co2_stored_kg"]
            for p in (big, young, hedge)
        }
    return create_app({"TESTING": True}), stored


def classes(client, z: int, query: str = "colour=co2") -> dict[int, int | None]:
    tile = tile_of(*ASTANA, z)
    answer = client.get(f"/tiles/plants/{z}/{tile.x}/{tile.y}.pbf?{query}")
    assert answer.status_code == 200, answer.data
    features = mapbox_vector_tile.decode(answer.data)["plants"]["features"]
    return {f["id"]: f["properties"].get("co2") for f in features}


def expected(kg: float | None) -> int | None:
    return None if kg is None else bisect.bisect_right(CO2_CLASS_BREAKS_KG, kg) + 1


@pytest.mark.parametrize("z", [13, 14, 15, 16])  # the dots (z13–14) and every plant (z15+)
def test_the_tiles_carry_the_class_of_the_cards_co2_figure(grove, z) -> None:
    app, stored = grove
    shown = classes(app.test_client(), z)
    assert shown == {pid: expected(kg) for pid, kg in stored.items()}
    big, young, hedge = stored
    assert (shown[big], shown[young], shown[hedge]) == (4, 1, None)  # 2.07 t, 17 kg, a hedge


def test_only_the_co2_mode_pays_for_the_class_and_other_modes_are_refused(grove) -> None:
    app, stored = grove
    client = app.test_client()
    assert set(classes(client, 16, "")) == set(stored)
    assert set(classes(client, 16, "").values()) == {None}  # no co2 attribute at all
    with_filter = classes(client, 16, "status=alive&colour=co2")
    assert with_filter == {pid: expected(kg) for pid, kg in stored.items()}
    tile = tile_of(*ASTANA, 16)
    refused = client.get(f"/tiles/plants/16/{tile.x}/{tile.y}.pbf?colour=height")
    assert refused.status_code == 422 and "colour" in refused.get_data(as_text=True)
    assert client.get(f"/tiles/green_spaces/16/{tile.x}/{tile.y}.pbf?colour=co2").status_code == 422
    plain = client.get(f"/tiles/plants/16/{tile.x}/{tile.y}.pbf?status=alive")
    coloured = client.get(f"/tiles/plants/16/{tile.x}/{tile.y}.pbf?status=alive&colour=co2")
    assert plain.headers["ETag"] != coloured.headers["ETag"]


@pytest.mark.browser
def test_the_co2_mode_shows_its_legend_and_the_address_keeps_it(browser, grove, live_server):
    page = browser.new_context(viewport={"width": 1200, "height": 800}, locale="en-GB").new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/tiles/plants/" in r.url else None)
    page.goto(live_server + "/?lang=en", wait_until="networkidle")
    page.evaluate(f"() => Jasyl.map.setView([{ASTANA[1]}, {ASTANA[0]}], 16, {{animate: false}})")
    page.select_option("#style-by", "co2")
    page.wait_for_function("() => location.hash.includes('mode=co2')")
    page.wait_for_load_state("networkidle")
    legend = page.locator("#legend-rows")
    text = legend.inner_text()
    assert "< 0.1 t CO₂" in text and "1.0–2.5 t CO₂" in text and "≥ 5.0 t CO₂" in text
    assert legend.locator(".no-figure").inner_text().startswith("no figure")
    assert any("colour=co2" in url and "/16/" in url for url in asked)
    page.reload(wait_until="networkidle")
    assert page.evaluate("() => [Jasyl.mode, document.getElementById('style-by').value]") == [
        "co2",
        "co2",
    ]
    assert "colour=co2" in page.evaluate("() => Jasyl.plants._url")
    assert "no figure" in page.locator("#legend-rows").inner_text()
    page.select_option("#style-by", "condition")  # leaving the mode leaves the costly tiles
    assert "colour=co2" not in page.evaluate("() => Jasyl.plants._url")
    assert errors == []
    page.context.close()
