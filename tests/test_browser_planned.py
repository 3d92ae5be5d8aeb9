"""The "Planned plantings" layer in a real headless Chromium: a planner turns it on in the layer
control, the plan's area is drawn with its legend entry and a popup, and turning it off hides it."""

from __future__ import annotations

from datetime import date

import pytest

from registry.db import unit_of_work
from registry.planting import services as planting
from tests import test_browser_web
from tests.factories import ASTANA, forester, square
from tests.test_browser_web import sign_in
from tests.web_client import new_user

pytestmark = pytest.mark.browser
page = test_browser_web.page  # the same browser page fixture


@pytest.fixture
def planned_site(clean, live_server):
    with unit_of_work(clean) as session:
        astana = forester(session, "KZ-71")
        plan = planting.create_plan(session, astana, "KZ-71", date.today().year, "autumn", "Күз")
        planting.add_plan_line(
            session, astana, plan.id, "Ulmus pumila", 40, area=square(ASTANA, 0.002)
        )
    new_user(clean, "plan@test.jasyl.kz", "planner")
    return live_server


def test_the_planned_plantings_layer_toggles_and_draws(page, planned_site) -> None:  # noqa: F811
    base = planned_site
    sign_in(page, base, "plan@test.jasyl.kz")
    page.goto(base + "/", wait_until="networkidle")
    page.evaluate(f"() => Jasyl.map.setView([{ASTANA[1]}, {ASTANA[0]}], 16, {{animate: false}})")
    toggle = page.locator(".leaflet-control-layers-overlays label", has_text="Планируемые посадки")
    checkbox = toggle.locator("input[type=checkbox]")
    assert not checkbox.is_checked()
    assert page.evaluate("() => Jasyl.map.hasLayer(Jasyl.planned)") is False

    with page.expect_response(lambda r: "/api/v1/planting/planned?bbox=" in r.url) as fetched:
        checkbox.check()
    assert fetched.value.status == 200
    page.wait_for_function("() => Jasyl.planned.getLayers().length === 1")
    # Drawn: the polygon was projected into screen rings inside the visible map.
    rings = page.evaluate("() => Jasyl.planned.getLayers()[0]._parts.length")
    assert rings >= 1
    legend = page.locator("#legend-rows .planned-legend")
    assert "Планируемые посадки" in legend.inner_text()
    popup = page.evaluate(
        "() => { const l = Jasyl.planned.getLayers()[0]; l.openPopup(); "
        "return document.querySelector('.leaflet-popup-content .planned-card').innerText; }"
    )
    assert "Ulmus pumila" in popup and "Күз" in popup
    link = page.locator(".leaflet-popup-content .planned-card a.plan-link")
    assert link.inner_text() == "План и его прогнозируемая польза"
    plan_page = page.context.new_page()  # the plan's page, with its projection
    plan_page.goto(base + link.get_attribute("href"), wait_until="networkidle")
    assert plan_page.locator("#plan-projection tr[data-years='30']").count() == 1
    plan_page.close()

    checkbox.uncheck()
    assert page.evaluate("() => Jasyl.map.hasLayer(Jasyl.planned)") is False
    assert page.locator("#legend-rows .planned-legend").count() == 0
    assert page.errors == []


def test_the_public_is_not_offered_the_layer(page, planned_site) -> None:  # noqa: F811
    page.goto(planned_site + "/", wait_until="networkidle")
    overlays = page.locator(".leaflet-control-layers-overlays").inner_text()
    assert "Планируемые посадки" not in overlays and "Растения" in overlays
    assert page.evaluate("() => Jasyl.planned") is None
