"""The OpenAPI document matches the routes, and a fuzz pass driven by it finds no 5xx."""

from __future__ import annotations

import itertools
import re
from datetime import date
from pathlib import Path

import pytest
from shapely.geometry import Point

from registry.care import services as care
from registry.db import unit_of_work
from registry.planting import services as planting
from registry.public_reports.services import Draft, submit
from tests.factories import forester, make_green_space, make_plant
from tests.nursery_factories import make_nursery, ready_batch
from tests.web_client import csrf_token, new_user, sign_in
from web import create_app

NASTY = [
    "",
    "0",
    "-1",
    "1e309",
    "NaN",
    "2147483648",
    "99999999999999999999",
    "1,2,x",
    "Қарағай",
    "' OR 1=1 --",
    "%00",
    "[]",
    "{}",
    "null",
    "51.1,71.4,51.2",
    " ",
]
NASTY_BODIES = [
    {},
    [],
    "text",
    None,
    {"version": "1"},
    {"version": True, "height_m": "x"},
    {"version": 1, "geometry": {"type": "Point"}},
    {"version": 1, "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}},
    {"version": 1, "lon": 1e309, "lat": "NaN"},
    {"species": "Несуществующий вид", "lon": 71.43, "lat": 51.13},
    {"species_id": 2**40, "lon": 71.43, "lat": 51.13},
    {"version": 1, "condition": [1], "status": {"a": 1}, "planting_year": 1e20},
    {"version": 2**40, "quantity": -5},
    {"inspected_on": "2026-02-30", "condition": "VII"},
    {"name": "", "category": "forest", "geometry": {"type": "MultiPolygon", "coordinates": []}},
]

# Values for every documented body field in turn: wrong types, huge numbers, odd text.
NASTY_FIELD_VALUES = [*NASTY, 0, -1, 2**63, 1e308, True, None, [], {}, [[1, 2]], {"1": "x"}]


def documented_bodies(document: dict, operation: dict, count: int = 4) -> list[dict]:
    """Bodies filling each field the operation's schema names with nasty values."""
    content = operation["requestBody"]["content"]
    if "application/json" not in content:
        return []  # a file upload: the JSON bodies above must be refused without a 5xx
    schema = content["application/json"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    fields = list(schema.get("properties", {}))
    values = itertools.cycle(NASTY_FIELD_VALUES)
    return [{f: next(values) for f in fields} for _ in range(count)] if fields else []


@pytest.fixture
def api(clean):
    """A record behind every path parameter of the document, so the fuzz reaches the services."""
    with unit_of_work(clean) as session:
        plant = make_plant(session).id
        space = make_green_space(session).id
        staff = forester(session)
        plan = planting.create_plan(session, staff, "KZ-71", 2025, "spring", "Весна")
        event = planting.record_planting(
            session, staff, "Ulmus pumila", date(2025, 4, 20), geometries=[Point(71.43, 51.128)]
        )
        work = care.add_care_work(
            session, staff, "watering", "m3", year=2025, planned_volume=5, plant_id=plant
        )
        nursery = make_nursery(session)
        batch = ready_batch(session, nursery)
        resident = Draft(kind="hazard", lon=71.43, lat=51.128, plant_id=plant)
        report = submit(session, resident, Path("/nonexistent")).report
        ids = {
            "plant_id": plant,
            "space_id": space,
            "reference": "KZ-71",
            "plan_id": plan.id,
            "event_id": event.id,
            "work_id": work.id,
            "code": nursery.code,
            "batch_id": batch.id,
            "shipment_id": 1,
            "change_uuid": "5f0c5b8e-2d1a-4c3b-9e7f-0a1b2c3d4e5f",  # a field change never sent
            "photo_uuid": "6a1d6c9f-3e2b-4d4c-8f80-1b2c3d4e5f60",
            "region": "KZ-71",
            "year": 2025,
            "number": report.number,
            "report_id": report.id,
        }
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    return create_app({"TESTING": True}), ids


def test_every_json_api_route_is_documented(api) -> None:
    """Every /api/v1 route of every blueprint (planting, care, felling, nurseries, reports too)."""
    app, _ = api
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    routes = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")]
    assert {r.endpoint.split(".")[0] for r in routes} >= {
        "api",
        "planting",
        "nursery_api",
        "reports",
    }
    for rule in routes:
        if rule.rule.endswith("openapi.json"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1") :])
        assert path in paths, f"{rule.rule} is not in the OpenAPI document"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths[path], f"{method} {rule.rule} is not documented"


def test_a_fuzz_pass_over_the_documented_api_finds_no_server_error(api) -> None:
    app, ids = api
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    public, forester = app.test_client(), app.test_client()
    sign_in(forester, "les@test.jasyl.kz")
    token = csrf_token(forester)
    failures = []
    values = itertools.cycle(NASTY)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            real = path.format(**ids)
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            writes = "requestBody" in operation
            cases = [{n: next(values) for n in names} for _ in range(2 if writes else 6)] + [{}]
            runs = [(public, args, None) for args in cases]
            if writes:  # the public is refused whatever it sends; a forester's bodies are parsed
                runs = [(public, {}, body) for body in NASTY_BODIES[:3]]
                bodies = NASTY_BODIES + documented_bodies(document, operation)
                runs += [(forester, cases[0], body) for body in bodies]
            else:
                runs += [(forester, args, None) for args in cases]
            for client, args, body in runs:
                answer = client.open(
                    "/api/v1" + real,
                    method=method.upper(),
                    query_string=args,
                    json=body,
                    headers={"X-CSRFToken": token},
                )
                if answer.status_code >= 500 or not answer.is_json:
                    failures.append((method, real, args, body, answer.status_code))
    assert failures == []
