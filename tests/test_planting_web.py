"""Planting, care, felling and reports over HTTP (JSON API and pages), signed in for real."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from registry.db import unit_of_work
from tests.charts import drawn_chart, series
from tests.factories import make_plant
from tests.web_client import new_user, send, sign_in, third_party_assets
from web import create_app

ASTANA_POINTS = [[71.4304, 51.1282], [71.4310, 51.1282], [71.4316, 51.1283]]


@pytest.fixture
def client(database_url):
    return create_app({"TESTING": True}).test_client()


@pytest.fixture
def people(clean) -> dict[str, str]:
    accounts = {
        "astana": ("forester@astana.kz", "forester", "KZ-71"),
        "almaty": ("forester@almaty.kz", "forester", "KZ-75"),
        "ministry": ("ministry@gov.kz", "ministry", None),
        "planner": ("planner@gov.kz", "planner", None),
    }
    for email, role, region in accounts.values():
        new_user(clean, email, role, region)
    return {name: email for name, (email, _, _) in accounts.items()}


def test_the_public_is_refused_everything(client, people) -> None:
    assert client.get("/api/v1/planting/survival?region=KZ-71").status_code == 401
    assert client.get("/api/v1/reports/national").status_code == 401
    assert client.get("/reports/dashboard").status_code == 401
    refused = send(
        client,
        "POST",
        "/api/v1/planting/plans",
        json={"region": "KZ-71", "year": 2024, "season": "spring"},
    )
    assert refused.status_code == 401 and refused.json["error"] == "sign_in_required"


def test_plan_event_check_and_survival_over_json(client, people) -> None:
    sign_in(client, people["astana"])
    plan = send(
        client,
        "POST",
        "/api/v1/planting/plans",
        json={"region": "Астана", "year": 2024, "season": "spring", "title": "Весна"},
    )
    assert plan.status_code == 201, plan.json
    line = send(
        client,
        "POST",
        f"/api/v1/planting/plans/{plan.json['id']}/lines",
        json={"species": "карагач", "quantity": 3},
    )
    assert line.status_code == 201
    approved = send(
        client, "POST", f"/api/v1/planting/plans/{plan.json['id']}/approve", json={"version": 1}
    )
    assert approved.json["status"] == "approved"
    event = send(
        client,
        "POST",
        "/api/v1/planting/events",
        json={
            "species": "Ulmus pumila",
            "planted_on": "2024-04-20",
            "points": ASTANA_POINTS,
            "plan_line_id": line.json["id"],
            "performer_kind": "volunteers",
        },
    )
    assert event.status_code == 201 and len(event.json["plant_ids"]) == 3
    bad = send(
        client,
        "POST",
        f"/api/v1/planting/events/{event.json['id']}/checks",
        json={"season": 1, "checked_on": "2024-10-01", "alive": 4, "dead": 0},
    )
    assert bad.status_code == 422 and bad.json["field"] == "alive"
    early = send(
        client,
        "POST",
        f"/api/v1/planting/events/{event.json['id']}/checks",
        json={"season": 1, "checked_on": "2024-01-01", "alive": 1, "dead": 0},
    )
    assert early.status_code == 422 and "before the planting date" in early.json["message"]
    checked = send(
        client,
        "POST",
        f"/api/v1/planting/events/{event.json['id']}/checks",
        json={"season": 1, "checked_on": "2024-10-01", "alive": 2, "dead": 1},
    )
    assert checked.status_code == 201 and checked.json["seasons"]["1"]["rate"] == 66.7
    replacement = send(
        client,
        "POST",
        "/api/v1/planting/events",
        json={
            "species": "Ulmus pumila",
            "planted_on": "2024-10-10",
            "points": [[71.432, 51.128]],
            "replaces_event_id": event.json["id"],
        },
    )
    assert replacement.status_code == 201
    rows = client.get("/api/v1/planting/survival?region=KZ-71&year=2024&by=year").json
    assert (rows[0]["planted"], rows[0]["replanted"], rows[0]["rate_1"]) == (3.0, 1.0, 66.7)

    sign_in(client, people["almaty"])
    assert client.get("/api/v1/planting/survival?region=KZ-71").status_code == 403
    other = send(
        client,
        "POST",
        "/api/v1/planting/events",
        json={"species": "Ulmus pumila", "planted_on": "2024-04-20", "points": ASTANA_POINTS},
    )
    assert other.status_code == 403


def test_care_felling_and_obligations_over_json(client, people, clean) -> None:
    with unit_of_work(clean) as session:
        trees = [make_plant(session).id for _ in range(2)]
    sign_in(client, people["astana"])
    work = send(
        client,
        "POST",
        "/api/v1/care/works",
        json={
            "kind": "watering",
            "unit": "m3",
            "planned_volume": 20,
            "plant_id": trees[0],
            "year": 2025,
        },
    )
    assert work.status_code == 201
    done = send(
        client,
        "POST",
        f"/api/v1/care/works/{work.json['id']}/done",
        json={"version": 1, "done_volume": 18, "done_on": "2025-06-01"},
    )
    assert done.json["done_volume"] == 18.0
    summary = client.get("/api/v1/care/summary?region=KZ-71&year=2025").json
    assert summary[0]["planned_volume"] == 20 and summary[0]["done_volume"] == 18
    ratio = send(
        client,
        "PUT",
        "/api/v1/felling/ratios",
        json={"region": "KZ-71", "case": "permitted", "ratio": 5},
    )
    assert ratio.status_code == 403
    permit = send(
        client,
        "POST",
        "/api/v1/felling/permits",
        json={
            "number": "77",
            "plant_ids": [trees[1]],
            "reason": "construction",
            "felled_on": "2024-03-01",
            "due_on": "2024-11-01",
        },
    )
    assert (permit.status_code, permit.json["owed"]) == (201, 10)
    bad = send(
        client,
        "POST",
        "/api/v1/felling/permits",
        json={
            "number": "78",
            "plant_ids": [trees[1]],
            "reason": "construction",
            "felled_on": "2024-03-01",
        },
    )
    assert bad.status_code == 422 and "already removed" in bad.json["message"]
    assert client.get("/api/v1/felling/obligations").status_code == 403

    sign_in(client, people["ministry"])
    overdue = client.get("/api/v1/felling/obligations?status=overdue").json
    assert [(r["region"], r["number"], r["outstanding"]) for r in overdue] == [
        ("KZ-71", "77", 10.0)
    ]
    changed = send(
        client,
        "PUT",
        "/api/v1/felling/ratios",
        json={"region": "KZ-71", "case": "permitted", "ratio": 5},
    )
    assert changed.json["permitted"] == {"ratio": 5, "source": "region"}


def test_report_workflow_exports_and_pages_over_http(client, people) -> None:
    sign_in(client, people["astana"])
    send(
        client,
        "POST",
        "/api/v1/planting/events",
        json={"species": "Ulmus pumila", "planted_on": "2024-04-20", "points": ASTANA_POINTS},
    )
    assert send(client, "POST", "/api/v1/reports/KZ-71/2024/build").status_code == 201
    submitted = send(client, "POST", "/api/v1/reports/KZ-71/2024/submit")
    assert submitted.json["status"] == "submitted"
    assert send(client, "POST", "/api/v1/reports/KZ-71/2024/approve").status_code == 403
    page = client.get("/reports/KZ-71/2024")
    assert page.status_code == 200 and "Ulmus pumila" in page.get_data(as_text=True)
    assert 'id="green-spaces"' in page.get_data(as_text=True)
    book = load_workbook(io.BytesIO(client.get("/api/v1/reports/KZ-71/2024?format=xlsx").data))
    row = [c.value for c in book["planting"][2]]
    assert row[:3] == ["ulmus_pumila", "Ulmus pumila", "вяз приземистый"]
    csv_text = client.get("/api/v1/reports/KZ-71/2024?format=csv").get_data(as_text=True)
    assert (
        "KZ-71,г. Астана,2024,planting,ulmus_pumila / solitary / pieces,"
        "вяз приземистый / солитер / шт.,planted,3.0" in csv_text
    )

    sign_in(client, people["almaty"])
    assert client.get("/api/v1/reports/KZ-71/2024").status_code == 403
    sign_in(client, people["planner"])
    assert (
        send(
            client, "POST", "/api/v1/reports/KZ-71/2024/return", json={"comment": "нет"}
        ).status_code
        == 403
    )
    sign_in(client, people["ministry"])
    empty = send(client, "POST", "/api/v1/reports/KZ-71/2024/return", json={"comment": ""})
    assert empty.status_code == 422 and empty.json["field"] == "comment"
    approved = send(client, "POST", "/api/v1/reports/KZ-71/2024/approve")
    assert approved.json["status"] == "approved"
    dashboard = client.get("/api/v1/reports/dashboard?year=2024").json
    astana = next(r for r in dashboard["regions"] if r["region"] == "KZ-71")
    assert len(dashboard["regions"]) == 20 and astana["planted"] == 3
    html = client.get("/reports/dashboard?year=2024").get_data(as_text=True)
    assert 'id="choropleth"' in html and 'data-chart="chart-planting-by-year"' in html
    assert third_party_assets(html) == []
    assert client.get("/api/v1/reports?year=2024").json == [
        {"region": "KZ-71", "year": 2024, "edition": 1, "status": "approved"}
    ]


def test_dashboard_in_the_browser_shows_the_choropleth_and_a_chart(
    live_server, browser, people
) -> None:
    from datetime import date

    from shapely.geometry import Point

    from registry.access import Actor
    from registry.db import unit_of_work as uow
    from registry.planting.services import record_planting

    with uow() as session:
        record_planting(
            session,
            Actor.system("test"),
            "Ulmus pumila",
            date(2024, 4, 20),
            geometries=[Point(71.4304, 51.1282), Point(71.431, 51.1282)],
        )
    page = browser.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", people["ministry"])
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.goto(f"{live_server}/reports/dashboard?year=2024")
        page.wait_for_selector("#choropleth path.leaflet-interactive", timeout=15000)
        assert page.locator("#choropleth path.leaflet-interactive").count() >= 20
        by_year = drawn_chart(page, "chart-planting-by-year")
        assert by_year["categories"] == ["2024"] and series(by_year)["Посажено"] == [2]
        assert by_year["axes"]["y"]["title"] and by_year["axes"]["x"]["title"]
        assert by_year["ink"] > 1000, "the canvas has bars and axes drawn on it"
        astana = page.locator('#regions tr[data-region="KZ-71"] a.region-link').inner_text()
        assert astana == "г. Астана" and "KZ-71" not in page.locator("#regions").inner_text()
    finally:
        page.close()
