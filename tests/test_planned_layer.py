"""The map's "Planned plantings" layer over HTTP: plan lines in a view as GeoJSON, for those who
may read the plans (ministry and planners everywhere, a forester in their own region only)."""

from __future__ import annotations

from datetime import date

import pytest

from registry.db import unit_of_work
from registry.planting import services as planting
from tests.factories import ALMATY, ASTANA, forester, make_green_space, square
from tests.web_client import new_user, sign_in
from web import create_app

THIS_YEAR = date.today().year
NEAR_ASTANA = f"{ASTANA[0] - 0.05},{ASTANA[1] - 0.05},{ASTANA[0] + 0.05},{ASTANA[1] + 0.05}"
COUNTRY = "46,40,88,56"


@pytest.fixture
def plans(clean) -> dict[str, int]:
    """An approved Astana plan (a drawn area and a green space), a draft Almaty plan, and an
    Astana plan of two years ago."""
    with unit_of_work(clean) as session:
        astana, almaty = forester(session, "KZ-71"), forester(session, "KZ-75")
        space = make_green_space(session, name="Сквер «Болашақ»", geom=square(ASTANA, 0.003))
        plan = planting.create_plan(session, astana, "KZ-71", THIS_YEAR, "autumn", "Күз")
        drawn = planting.add_plan_line(
            session, astana, plan.id, "Ulmus pumila", 40, area=square(ASTANA, 0.001)
        )
        target = planting.add_plan_line(
            session, astana, plan.id, "Betula pendula", 12, green_space_id=space.id
        )
        planting.approve_plan(session, astana, plan.id, plan.version)
        south = planting.create_plan(session, almaty, "KZ-75", THIS_YEAR + 1, "spring")
        south_line = planting.add_plan_line(
            session, almaty, south.id, "Ulmus pumila", 5, area=square(ALMATY, 0.001)
        )
        old = planting.create_plan(session, astana, "KZ-71", THIS_YEAR - 2, "spring")
        planting.add_plan_line(session, astana, old.id, "Ulmus pumila", 3, area=square(ASTANA))
        ids = {"drawn": drawn.id, "target": target.id, "almaty": south_line.id}
    new_user(clean, "planner@gov.kz", "planner")
    new_user(clean, "astana@akimat.kz", "forester", "KZ-71")
    new_user(clean, "almaty@akimat.kz", "forester", "KZ-75")
    return ids


@pytest.fixture
def client(database_url):
    return create_app({"TESTING": True}).test_client()


def planned(client, bbox: str, **args):
    return client.get("/api/v1/planting/planned", query_string={"bbox": bbox, **args})


def line_ids(answer) -> set[int]:
    assert answer.status_code == 200, answer.json
    assert answer.json["type"] == "FeatureCollection"
    return {f["properties"]["line_id"] for f in answer.json["features"]}


def test_a_planner_sees_every_regions_planned_plantings_in_the_view(client, plans) -> None:
    sign_in(client, "planner@gov.kz")
    assert line_ids(planned(client, COUNTRY)) == {plans["drawn"], plans["target"], plans["almaty"]}
    near = planned(client, NEAR_ASTANA, lang="kk")
    assert line_ids(near) == {plans["drawn"], plans["target"]}
    by_line = {f["properties"]["line_id"]: f for f in near.json["features"]}
    drawn, target = by_line[plans["drawn"]], by_line[plans["target"]]
    assert drawn["geometry"]["type"] == "Polygon" and drawn["properties"]["status"] == "approved"
    assert target["properties"]["green_space"] == "Сквер «Болашақ»"  # the target's outline
    assert target["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert drawn["properties"]["quantity"] == 40 and drawn["properties"]["title"] == "Күз"


def test_older_plans_only_when_asked_for(client, plans) -> None:
    sign_in(client, "planner@gov.kz")
    assert len(line_ids(planned(client, NEAR_ASTANA, year=THIS_YEAR - 2))) == 3


def test_a_forester_sees_their_own_regions_plans_only(client, plans) -> None:
    sign_in(client, "almaty@akimat.kz")
    assert line_ids(planned(client, COUNTRY)) == {plans["almaty"]}


def test_the_public_and_nursery_staff_see_no_plans(client, plans, clean) -> None:
    answer = planned(client, COUNTRY)
    assert answer.status_code == 401 and answer.json["error"] == "sign_in_required"
    new_user(clean, "nursery@les.kz", "nursery")
    sign_in(client, "nursery@les.kz")
    assert planned(client, COUNTRY).status_code == 403


@pytest.mark.parametrize("bbox", ["", "1,2,3", "x,1,2,3", "80,40,70,50", "0,-95,10,10"])
def test_a_bad_view_names_the_bbox(client, plans, bbox) -> None:
    sign_in(client, "planner@gov.kz")
    answer = planned(client, bbox)
    assert answer.status_code == 422 and answer.json["field"] == "bbox"


def test_the_layer_is_offered_to_plan_readers_only(client, plans) -> None:
    assert "Планируемые посадки" not in client.get("/", headers={"Accept-Language": "ru"}).text
    sign_in(client, "planner@gov.kz")
    page = client.get("/", headers={"Accept-Language": "ru"}).text
    assert "Планируемые посадки" in page and "/api/v1/planting/planned" in page
