"""Tree benefits as charts on the ministry's dashboard (per region) and on a region's page (per
green space): CO₂ stored and sequestered, the same figures as the tables, each chart saying
"trees only; N plants without a method"; drawn by Chart.js in a real Chromium."""

from __future__ import annotations

import json
import re

import pytest

from registry.db import unit_of_work
from tests.charts import drawn_chart, series
from tests.factories import ALMATY, ASTANA, make_green_space, make_plant, point_near, square
from tests.web_client import PASSWORD, new_user, sign_in
from web import create_app

NOTE_RU = "Только деревья; растений без методики: 1."


@pytest.fixture
def site(clean):
    """Elms in an Astana park and an Almaty street, a lilac hedge (no method) in Astana."""
    with unit_of_work(clean) as session:
        park = make_green_space(session, name="Сквер Жастар", geom=square(ASTANA))
        make_plant(session, geom=point_near(ASTANA), green_space_id=park.id,
                   trunk_diameter_cm=38.6, height_m=13.8, condition=1)  # fmt: skip
        make_plant(session, geom=point_near(ASTANA, 3), planting_form="hedge", height_m=2,
                   trunk_diameter_cm=None)  # fmt: skip
        make_plant(session, geom=point_near(ALMATY), trunk_diameter_cm=30, condition=2)
    new_user(clean, "ministry@test.jasyl.kz", "ministry")
    return create_app({"TESTING": True})


def chart_data(html: str, chart_id: str) -> dict:
    found = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', html)
    assert found, chart_id
    return json.loads(found.group(1))


def test_the_dashboard_and_the_region_page_chart_the_co2_they_tabulate(site) -> None:
    client = site.test_client()
    assert sign_in(client, "ministry@test.jasyl.kz").status_code == 302
    figures = client.get("/api/v1/reports/dashboard?year=2026").get_json()["benefits"]
    rows = {r["region"]: r for r in figures}
    page = client.get("/reports/dashboard?year=2026").get_data(as_text=True)  # Russian
    stored = chart_data(page, "chart-co2-stored-by-region")
    assert stored["categories"] == ["г. Астана", "г. Алматы"]  # KZ-71, KZ-75 in the rows' order
    assert stored["series"][0]["values"] == [rows["KZ-71"]["co2_stored_t"],
                                             rows["KZ-75"]["co2_stored_t"]]  # fmt: skip
    sequestered = chart_data(page, "chart-co2-sequestered-by-region")
    assert sequestered["series"][0]["values"] == [
        rows[r]["co2_sequestered_t_per_year"] for r in ("KZ-71", "KZ-75")
    ]
    assert stored["note"] == sequestered["note"] == NOTE_RU
    assert page.count(f'<figcaption class="note">{NOTE_RU}</figcaption>') == 2

    region = client.get("/reports/dashboard/KZ-71?year=2026").get_data(as_text=True)
    spaces = chart_data(region, "chart-co2-stored-by-green-space")
    assert spaces["categories"] == ["Сквер Жастар"]
    assert spaces["series"][0]["values"] == [rows["KZ-71"]["co2_stored_t"]]  # its only tree
    assert spaces["note"] == NOTE_RU  # the region's lilac hedge


@pytest.mark.browser
def test_chromium_draws_the_co2_charts(site, browser, live_server) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", "ministry@test.jasyl.kz")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_server}/reports/dashboard?year=2026")
        drawn = drawn_chart(page, "chart-co2-stored-by-region")
        assert drawn["categories"] == ["г. Астана", "г. Алматы"] and drawn["ink"] > 0
        assert list(series(drawn)) == ["Накоплено CO₂, т"]
        assert page.locator("#chart-co2-stored-by-region-figure figcaption").inner_text() == NOTE_RU
        page.goto(f"{live_server}/reports/dashboard/KZ-71?year=2026")
        drawn = drawn_chart(page, "chart-co2-sequestered-by-green-space")
        assert drawn["categories"] == ["Сквер Жастар"] and drawn["ink"] > 0
    finally:
        page.close()
