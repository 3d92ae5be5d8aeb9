"""Survival by seed provenance on a region's page: Almaty's elms grown from a seed lot of the Ili
valley survive better than the ones its nursery bought; the chart Chromium draws and the table
carry the figures of the region's JSON, in the reader's language."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from registry.access import Actor
from registry.accounts.services import add_user
from registry.db import unit_of_work
from registry.nursery import provenance, shipping
from registry.planting.models import SurvivalCheck
from registry.reports import exports
from registry.reports.services import build_report
from tests.charts import drawn_chart, series
from tests.nursery_factories import SYSTEM, ready_batch
from tests.test_nursery_provenance import grow_and_ship, planting
from tests.test_report_pdf import pdf_text
from tests.web_client import PASSWORD, sign_in
from web.app import create_app

ALMATY = 75  # KZ-75's id


def plant_and_check(session, line, quantity: int, alive_1: int | None, alive_3: int | None):
    event = planting(session, quantity, ALMATY)
    provenance.link_planting(session, SYSTEM, event.id, line.id)
    for season, alive in ((1, alive_1), (3, alive_3)):
        if alive is not None:
            session.add(
                SurvivalCheck(
                    event_id=event.id,
                    season=season,
                    checked_on=date(2026, 9, season),
                    alive=alive,
                    dead=quantity - alive,
                    replaced=0,
                )
            )
    session.flush()


@pytest.fixture
def almaty_origins(clean) -> None:
    """300 + 50 elms of the Ili valley lot (checked 250 + 40 alive after 1 season, 150 of 200
    after 3), 80 bought from a supplier (60 alive after 1 season, the 3rd not yet checked)."""
    with unit_of_work(clean) as session:
        nursery, _, _, _, line = grow_and_ship(session)
        plant_and_check(session, line, 300, 250, None)
        plant_and_check(session, line, 50, 40, None)
        plant_and_check(session, line, 20, None, None)  # planted, never checked
        bought = ready_batch(session, nursery, 100)
        shipment = shipping.dispatch(
            session, SYSTEM, nursery, "KZ-75", [(bought.id, 80)], date(2025, 10, 1)
        )
        shipping.receive(session, SYSTEM, shipment.id, {bought.id: 80}, date(2025, 10, 3))
        plant_and_check(session, shipping.shipment_lines(session, shipment.id)[0], 80, 60, None)
        planting(session, 200, ALMATY)  # no nursery batch named: no provenance to count it under
        for language in ("kk", "ru", "en"):
            user = add_user(session, SYSTEM, f"{language}@gov.kz", "ministry", None, PASSWORD)
            user.locale = language


def test_survival_per_seed_origin_sums_the_provenance_rows(almaty_origins, clean) -> None:
    with unit_of_work(clean) as session:
        origins = provenance.survival_by_seed_origin(session, ALMATY)
        detailed = provenance.survival_by_provenance(session, Actor.system("test"))
    lot, bought = origins
    assert (lot["seed_zone"], lot["collection_place"], lot["supplier"]) == (
        "Илийская долина",
        "пойма р. Или, Капшагай",
        None,
    )
    assert (lot["planted"], lot["checked_1"], lot["alive_1"], lot["rate_1"]) == (
        370,
        350,
        290,
        82.9,
    )
    assert (lot["checked_3"], lot["rate_3"]) == (0, None), "not checked is not 0 %"
    assert (bought["seed_zone"], bought["supplier"], bought["rate_1"]) == (
        None,
        "ТОО «Саженцы-Юг»",
        75.0,
    )
    assert sum(o["planted"] for o in origins) == sum(r["planted"] for r in detailed)


@pytest.mark.parametrize(
    ("language", "bought_from", "after_1"),
    [
        ("ru", "куплено у ТОО «Саженцы-Юг»", "Через 1 сезон"),
        ("kk", "сатып алынған: ТОО «Саженцы-Юг»", "1 маусымнан кейін"),
        ("en", "bought from ТОО «Саженцы-Юг»", "After 1 season"),
    ],
)
def test_the_region_page_draws_survival_by_seed_origin(
    almaty_origins, live_server, browser, language, bought_from, after_1
) -> None:
    client = create_app({"TESTING": True}).test_client()
    assert sign_in(client, f"{language}@gov.kz").status_code == 302
    origins = client.get("/api/v1/reports/dashboard/KZ-75?year=2025").json["seed_origins"]
    page = browser.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", f"{language}@gov.kz")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_server}/reports/dashboard/KZ-75?year=2025")
        drawn = drawn_chart(page, "chart-survival-by-seed-origin")
        assert drawn["categories"] == ["Илийская долина · пойма р. Или, Капшагай", bought_from]
        assert series(drawn)[after_1] == [o["rate_1"] for o in origins] == [82.9, 75.0]
        assert list(series(drawn).values())[1] == [None, None]
        assert all(axis["title"] for axis in drawn["axes"].values())
        assert drawn["ink"] > 1000
        table = page.locator("#seed-origin-table tr").all_inner_texts()
        assert len(table) == 3 and bought_from in table[2]
    finally:
        page.close()


def test_the_yearly_report_keeps_survival_by_seed_origin(almaty_origins, clean) -> None:
    """The region's yearly report stores the provenance figures of its page, and its PDF and
    CSV carry them by name."""
    with unit_of_work(clean) as session:
        edition = build_report(session, SYSTEM, "KZ-75", 2025)
        stored = edition.content["seed_origins"]
        assert stored == provenance.survival_by_seed_origin(session, ALMATY)
        content = edition.content
    assert [o["rate_1"] for o in stored] == [82.9, 75.0]
    rows = list(csv.DictReader(io.StringIO(exports.to_csv(content))))
    lot = [r for r in rows if r["section"] == "seed_origins" and r["measure"] == "alive_1"]
    assert [r["value"] for r in lot] == ["290", "60"]
    assert lot[0]["item"] == "Илийская долина / пойма р. Или, Капшагай / "
    client = create_app({"TESTING": True}).test_client()
    assert sign_in(client, "ru@gov.kz").status_code == 302
    answer = client.get("/api/v1/reports/KZ-75/2025?format=pdf")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    words = " ".join(pdf_text(answer.data, layout=False).split())
    assert "Приживаемость по происхождению семян" in words
    assert "Илийская долина · пойма р. Или, Капшагай" in words
    assert "куплено у ТОО «Саженцы-Юг»" in words and "82,9" in words
