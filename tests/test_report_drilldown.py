"""The ministry's drill down: country → region → green space, over HTTP and in the browser."""

from __future__ import annotations

import re
from datetime import date

import pytest
from shapely.geometry import Point
from sqlalchemy import text

from registry.access import Actor
from registry.care.services import add_care_work
from registry.db import unit_of_work
from registry.planting.services import (
    add_plan_line,
    approve_plan,
    create_plan,
    record_planting,
    record_survival_check,
)
from tests.charts import drawn_chart, series
from tests.factories import ASTANA, make_green_space
from tests.web_client import PASSWORD, new_user, sign_in
from web import create_app

SYSTEM = Actor.system("drill down test")
SQUARE = "Сквер «Жасыл желек»"


@pytest.fixture
def client(database_url):
    return create_app({"TESTING": True}).test_client()


@pytest.fixture
def planted(clean) -> dict[str, int | str]:
    """A green space in Astana with a planting (10 elms), its 1st-season check (8 alive), a
    plan of 12, and a watering done on it; people to look at it."""
    with unit_of_work(clean) as session:
        space = make_green_space(session, name=SQUARE)
        # One elm at the square's centre, where the map asks for the green space's card.
        edge = [Point(ASTANA[0] + 0.0008, ASTANA[1] - 0.0008 + 0.00016 * i) for i in range(9)]
        edge.append(Point(*ASTANA))
        event = record_planting(
            session,
            SYSTEM,
            "Ulmus pumila",
            date(2024, 4, 20),
            10,
            geometries=edge,
            green_space_id=space.id,
        )
        record_survival_check(session, SYSTEM, event.id, 1, date(2024, 10, 1), 8, 2)
        plan = create_plan(session, SYSTEM, "KZ-71", 2024, "spring")
        add_plan_line(session, SYSTEM, plan.id, "Ulmus pumila", 12)
        approve_plan(session, SYSTEM, plan.id)
        add_care_work(
            session,
            SYSTEM,
            "watering",
            "m3",
            year=2024,
            done_volume=3,
            done_on=date(2024, 6, 1),
            done_cost=5000,
            green_space_id=space.id,
        )
        space_id = space.id
    new_user(clean, "ministry@drill.kz", "ministry")
    new_user(clean, "forester@almaty.kz", "forester", "KZ-75")
    return {"space": space_id, "ministry": "ministry@drill.kz", "almaty": "forester@almaty.kz"}


def test_a_region_view_has_its_figures_trend_and_green_spaces(client, planted, clean) -> None:
    assert client.get("/api/v1/reports/dashboard/KZ-71?year=2024").status_code == 401
    sign_in(client, planted["almaty"])
    assert client.get("/api/v1/reports/dashboard/KZ-71?year=2024").status_code == 403
    assert client.get("/api/v1/reports/dashboard/KZ-75?year=2024").status_code == 200
    sign_in(client, planted["ministry"])
    data = client.get("/api/v1/reports/dashboard/Астана?year=2024").json
    with unit_of_work(clean) as session:
        done_cost = session.scalar(
            text("SELECT sum(done_cost) FROM care_works WHERE region_id = 71 AND year = 2024")
        )
        planted_sum = session.scalar(
            text("SELECT sum(quantity) FROM planting_events WHERE region_id = 71 AND year = 2024")
        )
    assert data["region"]["iso"] == "KZ-71"
    assert data["figures"] == {
        "planned": 12.0,
        "planted": float(planted_sum),
        "replanted": 0.0,
        "rate_1": 80.0,
        "rate_3": None,
        "care_works": 1,
        "care_done": 1,
        "care_planned_cost": 0.0,
        "care_cost": float(done_cost),
    }
    assert data["trend"] == [
        {
            "year": 2024,
            "planned": 12.0,
            "planted": 10.0,
            "replanted": 0.0,
            "done_pct": 83.3,
            "rate_1": 80.0,
            "rate_3": None,
        }
    ]
    space = data["green_spaces"][0]
    assert (space["id"], space["name"], space["planted"], space["rate_1"]) == (
        planted["space"],
        SQUARE,
        10.0,
        80.0,
    )
    assert (space["care_works"], space["care_cost"]) == (1, 5000.0)
    assert data["inventory"]["alive"] == 10

    page = client.get("/reports/dashboard/KZ-71?year=2024").get_data(as_text=True)
    assert 'data-chart="chart-region-trend"' in page and 'data-chart="chart-care"' in page
    assert f'href="/?green_space={planted["space"]}"' in page and SQUARE in page
    country = client.get("/reports/dashboard?year=2024").get_data(as_text=True)
    assert 'href="/reports/dashboard/KZ-71?year=2024"' in country
    assert client.get("/reports/dashboard/KZ-99?year=2024").status_code == 404


def test_country_to_region_to_green_space_in_the_browser(live_server, browser, planted) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", planted["ministry"])
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_server}/reports/dashboard?year=2024")
        astana = page.locator('#choropleth path[data-region="KZ-71"]')
        astana.wait_for(timeout=15000)
        astana.dispatch_event("click")  # a small city on a country-wide map
        page.wait_for_url(re.compile(r"/reports/dashboard/KZ-71\?year=2024$"))
        assert page.locator("#region-title").get_attribute("data-region") == "KZ-71"
        assert page.locator("#region-figures .planted").inner_text() == "10"
        trend = drawn_chart(page, "chart-region-trend")
        figures = series(trend)
        assert trend["categories"] == ["2024"]
        assert figures == {  # in the reader's language (the ministry's account reads Russian)
            "Запланировано": [12],
            "Посажено": [10],
            "Подсажено": [0],
            "Приживаемость через 1 сезон": [80],
            "Приживаемость через 3 сезона": [None],
        }
        assert {key: axis["title"] for key, axis in trend["axes"].items()} == {
            "x": "Год посадки",
            "y": "Деревья, шт.",
            "percent": "Приживаемость, %",
        }
        assert trend["axes"]["percent"]["ticks"][-1] == "100"
        page.click("#to-country")
        page.wait_for_url(re.compile(r"/reports/dashboard\?year=2024$"))
        page.click('#regions tr[data-region="KZ-71"] a.region-link')
        page.wait_for_url(re.compile(r"/reports/dashboard/KZ-71\?year=2024$"))
        page.click(f'#region-green-spaces tr[data-green-space="{planted["space"]}"] a')
        page.wait_for_url(re.compile(rf"/\?green_space={planted['space']}(#|$)"))
        card = page.locator(".leaflet-popup-content .card")
        card.wait_for(timeout=15000)
        assert SQUARE in card.inner_text()
    finally:
        page.close()
