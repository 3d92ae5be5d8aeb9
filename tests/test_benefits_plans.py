"""Planting plans' projected benefits where a person reads them: the plan's page in kk/ru/en,
``GET /api/v1/planting/plans/{id}`` (declared in the OpenAPI document) and the yearly report to
the ministry in each of its formats (content, CSV, XLSX, page, PDF)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from registry.benefits.projection import plan_projection
from registry.db import unit_of_work
from registry.planting.services import (
    add_plan_line,
    approve_plan,
    create_plan,
    record_planting,
    record_survival_check,
)
from registry.reports import exports
from registry.reports.services import build_report
from tests.factories import forester, make_green_space
from tests.test_report_pdf import pdf_text
from tests.web_client import csrf_token, new_user, sign_in
from web import create_app


def elm_plan(session, actor, year: int = 2026, approve: bool = True) -> int:
    """100 elms (80 % measured to survive), 50 pines (no rate), 30 lilacs (no method)."""
    park = make_green_space(session).id
    elms = record_planting(
        session, actor, "Ulmus pumila", date(2021, 4, 20), quantity=10, green_space_id=park
    )
    record_survival_check(session, actor, elms.id, 3, date(2023, 10, 1), alive=8, dead=2)
    plan = create_plan(session, actor, "KZ-71", year, "spring", "Жастар аллеясы")
    add_plan_line(session, actor, plan.id, "Ulmus pumila", 100)
    add_plan_line(session, actor, plan.id, "Pinus sylvestris", 50)
    add_plan_line(session, actor, plan.id, "Syringa vulgaris", 30)
    if approve:
        approve_plan(session, actor, plan.id)
    return plan.id


@pytest.fixture
def planned(clean):
    with unit_of_work(clean) as session:
        astana = forester(session)
        plan_id = elm_plan(session, astana)
        projection = plan_projection(session, astana, plan_id)
        build_report(session, astana, "KZ-71", 2026)
    new_user(clean, "astana@test.jasyl.kz", "forester", "KZ-71")
    new_user(clean, "almaty@test.jasyl.kz", "forester", "KZ-75")
    return create_app({"TESTING": True}), plan_id, projection


def signed_in(app, email: str):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


@pytest.mark.parametrize(
    ("lang", "heading", "trees_30y"),
    [("kk", "Болжамды пайда", "80"), ("ru", "Прогнозируемая польза", "80"),
     ("en", "Projected benefits", "80")],
)  # fmt: skip
def test_the_plans_page_shows_its_projection_in_each_language(
    planned, lang, heading, trees_30y
) -> None:
    app, plan_id, projection = planned
    client = signed_in(app, "astana@test.jasyl.kz")
    token = csrf_token(client, f"/planting/plans/{plan_id}")
    client.post("/language", data={"lang": lang, "csrf_token": token})  # the switcher
    page = client.get(f"/planting/plans/{plan_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert heading in html and "Жастар аллеясы" in html
    row = html.split('data-years="30"')[1].split("</tr>")[0]
    stored = projection["horizons"][2]["co2_stored_t"]
    shown = f"{stored:,.2f}".rstrip("0").rstrip(".")
    if lang != "en":
        row, shown = row.replace("\xa0", "").replace(" ", ""), shown.replace(",", "")
        shown = shown.replace(".", ",")
    assert f">{trees_30y}<" in row and shown in row
    left_out = html.split('id="plan-left-out"')[1].split("</p>")[0]
    assert ": 1;" in left_out and left_out.rstrip().endswith(": 1")  # lilacs, pines


def test_the_plans_page_is_for_those_who_may_read_the_plan(planned) -> None:
    app, plan_id, _ = planned
    assert app.test_client().get(f"/planting/plans/{plan_id}").status_code == 401
    other_region = signed_in(app, "almaty@test.jasyl.kz").get(f"/planting/plans/{plan_id}")
    assert other_region.status_code == 403  # another region's forester (registry.access)
    assert signed_in(app, "astana@test.jasyl.kz").get("/planting/plans/999999").status_code == 404


def test_the_plan_api_answers_the_projection_the_openapi_declares(planned) -> None:
    app, plan_id, projection = planned
    client = signed_in(app, "astana@test.jasyl.kz")
    answer = client.get(f"/api/v1/planting/plans/{plan_id}").get_json()
    assert answer["projection"] == projection
    assert [h["years"] for h in answer["projection"]["horizons"]] == [10, 20, 30]
    document = client.get("/api/v1/openapi.json").get_json()
    ok = document["paths"]["/planting/plans/{plan_id}"]["get"]["responses"]["200"]
    schema = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    plan = document["components"]["schemas"][schema]
    assert "projection" in plan["properties"] and "projection" in plan["required"]
    declared = document["components"]["schemas"]["PlanProjection"]["properties"]
    assert {"horizons", "lines_without_method", "lines_without_survival_rate"} <= set(declared)


def test_the_yearly_report_carries_each_approved_plans_projection(db) -> None:
    astana = forester(db)
    plan_id = elm_plan(db, astana)
    draft = create_plan(db, astana, "KZ-71", 2026, "autumn", "a draft is not a plan yet")
    add_plan_line(db, astana, draft.id, "Ulmus pumila", 1000)
    projection = plan_projection(db, astana, plan_id)
    content = build_report(db, astana, "KZ-71", 2026).content
    assert [row["plan"] for row in content["plan_projections"]] == [plan_id]
    row = content["plan_projections"][0]
    for horizon in projection["horizons"]:
        n = horizon["years"]
        assert row[f"trees_{n}y"] == horizon["trees"] == 80.0
        assert row[f"co2_stored_t_{n}y"] == horizon["co2_stored_t"] > 0
        assert row[f"co2_sequestered_t_per_year_{n}y"] == horizon["co2_sequestered_t_per_year"]
    assert (row["lines_without_method"], row["lines_without_survival_rate"]) == (1, 1)
    assert build_report(db, astana, "KZ-71", 2025).content["plan_projections"] == []

    lines = list(csv.DictReader(io.StringIO(exports.to_csv(content))))
    stored = {r["measure"]: float(r["value"]) for r in lines if r["section"] == "plan_projections"}
    assert stored["co2_stored_t_30y"] == projection["horizons"][2]["co2_stored_t"]
    assert stored["lines_without_method"] == 1

    sheet = load_workbook(io.BytesIO(exports.to_xlsx(content)))["plan_projections"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["plan", "title", "season"]
    assert sheet.cell(2, header.index("co2_stored_t_20y") + 1).value == row["co2_stored_t_20y"]
    total = sheet.cell(3, header.index("trees_10y") + 1).value
    assert total == "=SUM(D2:D2)"


def test_the_yearly_report_page_shows_the_plans_projection(planned) -> None:
    """The page and its PDF share ``reports/_report_tables.html``."""
    app, plan_id, projection = planned
    html = signed_in(app, "astana@test.jasyl.kz").get("/reports/KZ-71/2026")  # in Russian
    table = html.get_data(as_text=True).split('id="plan-projections"')[1].split("</table>")[0]
    row = table.split(f'data-plan="{plan_id}" data-years="10"')[1].split("</tr>")[0]
    assert "Жастар аллеясы" in row and ">80<" in row
    assert f"{projection['horizons'][0]['co2_stored_t']:.2f}".rstrip("0") in row.replace(",", ".")


def test_the_yearly_reports_pdf_carries_the_plans_projection(planned) -> None:
    app, plan_id, projection = planned
    client = signed_in(app, "astana@test.jasyl.kz")
    answer = client.get("/api/v1/reports/KZ-71/2026?format=pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    text = pdf_text(answer.data, layout=False)
    assert "Прогнозируемая польза планов посадки года" in text
    stored_30 = f"{projection['horizons'][2]['co2_stored_t']:.2f}".replace(".", ",")
    assert stored_30.rstrip("0") in text.replace("\xa0", "").replace(" ", "")
