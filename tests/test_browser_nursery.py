"""Nursery pages in a real headless Chromium: the map and stock, a dispatch form filled in by the
nursery, the receipt confirmed by the akimat's forester, and the planted tree's provenance card."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from registry.access import Actor
from registry.accounts.services import add_user
from registry.db import unit_of_work
from registry.nursery import provenance
from registry.nursery.models import ShipmentLine
from registry.planting.models import PlantingEvent, PlantingEventPlant
from tests.factories import ALMATY, make_plant, point_near
from tests.nursery_factories import make_nursery, ready_batch
from tests.web_client import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def site(clean, live_server):
    with unit_of_work(clean) as session:
        nursery = make_nursery(session)
        batch = ready_batch(session, nursery, 120)
        system = Actor.system("test")
        add_user(
            session, system, "pitomnik@test.kz", "nursery", None, PASSWORD, nursery_id=nursery.id
        )
        add_user(session, system, "les.almaty@test.kz", "forester", "KZ-75", PASSWORD)
        info = {"code": nursery.code, "batch": batch.id, "batch_code": batch.code}
    return live_server, info


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.errors = []
    page.requested = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.requested.append(r.url))
    yield page
    context.close()


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_dispatch_receipt_and_provenance_in_the_browser(browser, page, site) -> None:
    base, info = site
    sign_in(page, base, "pitomnik@test.kz")
    page.goto(f"{base}/nurseries/{info['code']}", wait_until="networkidle")
    assert page.locator(".leaflet-container").count() == 1
    assert page.locator(".leaflet-marker-icon").count() == 1
    assert page.locator(".leaflet-overlay-pane path").count() >= 1  # the site polygon
    assert "Ulmus pumila" in page.locator("#stock").inner_text()

    page.goto(f"{base}/nurseries/{info['code']}/dispatch")
    page.select_option("select[name=region]", "KZ-75")
    page.fill("input[name=on]", "2025-10-01")
    page.fill(f"input[name=qty_{info['batch']}]", "121")
    page.click("#dispatch button")
    assert "only 120 left" in page.locator("#error").inner_text()
    page.fill(f"input[name=qty_{info['batch']}]", "100")
    page.click("#dispatch button")
    page.wait_for_url(f"{base}/nurseries/shipments/*")
    shipment_url = page.url
    assert page.locator("#status").get_attribute("data-status") == "dispatched"

    forester = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(forester, base, "les.almaty@test.kz")
    forester.goto(shipment_url)
    forester.fill(f"input[name=got_{info['batch']}]", "97")
    forester.fill("input[name=on]", "2025-10-03")
    forester.click("#receive button")
    forester.wait_for_load_state()
    assert forester.locator("#status").get_attribute("data-status") == "received"
    cells = forester.locator("table tr").nth(1).locator("td")
    assert (cells.nth(3).inner_text(), cells.nth(4).inner_text()) == ("97", "3")

    with unit_of_work() as session:
        almaty = Actor.system("test")
        plant = make_plant(session, almaty, geom=point_near(ALMATY), planting_year=2025)
        event = PlantingEvent(
            region_id=plant.region_id,
            species_id=plant.species_id,
            planting_form="group",
            planted_on=date(2025, 10, 20),
            quantity=40,
            unit="pieces",
            performer_kind="akimat",
        )
        session.add(event)
        session.flush()
        session.add(PlantingEventPlant(event_id=event.id, plant_id=plant.id))
        line_id = session.scalar(select(ShipmentLine.id))
        provenance.link_planting(session, almaty, event.id, line_id)
        plant_id = plant.id
    forester.goto(f"{base}/nurseries/provenance/plants/{plant_id}")
    card = forester.locator("#provenance").inner_text()
    assert info["batch_code"] in card and "ТОО «Саженцы-Юг»" in card
    foreign = [u for u in page.requested if not u.startswith((base, "data:", "blob:"))]
    assert foreign == [] and page.errors == []
