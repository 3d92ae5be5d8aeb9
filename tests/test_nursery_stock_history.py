"""A nursery's stock by stage at each month's end, from its ledger: a sowing of 1000 elms counted
760 at germination, 500 transplanted to the school, 20 of them lost to frost, and the school's
batch declared ready today. The figures the service, the JSON and the chart Chromium draws
carry are the ones the ledger's dated movements give, in kk, ru and en."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from registry.accounts.services import add_user
from registry.db import unit_of_work
from registry.nursery import services
from registry.nursery.history import month_ends, stock_by_stage_over_time
from registry.nursery.models import Nursery
from tests.charts import drawn_chart, series
from tests.nursery_factories import SYSTEM, make_nursery
from tests.web_client import PASSWORD, sign_in
from web.app import create_app

TODAY = date.today()
SOWN_ON = TODAY - timedelta(days=400)
COUNTED_ON = TODAY - timedelta(days=330)
TRANSPLANTED_ON = TODAY - timedelta(days=100)
LOST_ON = TODAY - timedelta(days=40)
STAGE_LABELS = {
    "kk": ["себілген", "себінді көшеттер", "ауыстырып отырғызылған көшеттер", "жөнелтуге дайын"],
    "ru": ["посеяно", "сеянцы", "саженцы (школка)", "готово к отгрузке"],
    "en": ["sown", "seedlings", "transplanted saplings", "ready to dispatch"],
}


def expected(end: date) -> dict[str, int]:
    """What the ledger says was on hand at ``end``, worked out by hand from the story above."""
    on_hand = dict.fromkeys(("sown", "seedlings", "transplanted", "ready"), 0)
    if end >= SOWN_ON:
        sown = 1000 if end < COUNTED_ON else 760 if end < TRANSPLANTED_ON else 260
        on_hand["sown" if end < COUNTED_ON else "seedlings"] += sown
    if end >= TRANSPLANTED_ON:
        on_hand["ready" if end == TODAY else "transplanted"] += 500 if end < LOST_ON else 480
    return on_hand


@pytest.fixture
def elm_nursery(clean) -> str:
    with unit_of_work(clean) as session:
        nursery = make_nursery(session)
        sown = services.sow(
            session,
            SYSTEM,
            nursery,
            section="sowing",
            quantity=1000,
            on=SOWN_ON,
            species="Ulmus pumila",
            supplier="ТОО «Семена»",
        )
        services.count_batch(session, SYSTEM, sown.id, 760, COUNTED_ON, germination=True)
        school = services.transplant(session, SYSTEM, sown.id, 500, "school", TRANSPLANTED_ON)
        services.record_loss(session, SYSTEM, school.id, 20, "frost", LOST_ON)
        services.set_stage(session, SYSTEM, school.id, "ready", grade=1)
        for language in ("kk", "ru", "en"):
            user = add_user(session, SYSTEM, f"{language}@gov.kz", "ministry", None, PASSWORD)
            user.locale = language
        return nursery.code


def test_month_ends_are_24_and_end_today() -> None:
    ends = month_ends(date(2026, 3, 15))
    assert len(ends) == 24
    assert ends[0] == date(2024, 4, 30) and ends[-3:] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 15),
    ]


def test_stock_by_stage_at_each_month_end_follows_the_ledger(elm_nursery, clean) -> None:
    with unit_of_work(clean) as session:
        nursery = session.query(Nursery).filter_by(code=elm_nursery).one()
        history = stock_by_stage_over_time(session, SYSTEM, nursery)
    assert [row["on"] for row in history] == [end.isoformat() for end in month_ends(TODAY)]
    for row in history:
        assert {k: v for k, v in row.items() if k != "on"} == expected(
            date.fromisoformat(row["on"])
        ), row["on"]
    assert history[-1] == {"on": TODAY.isoformat(), **expected(TODAY)}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_nursery_page_draws_stock_by_stage_over_time(
    elm_nursery, live_server, browser, language
) -> None:
    client = create_app({"TESTING": True}).test_client()
    assert sign_in(client, f"{language}@gov.kz").status_code == 302
    history = client.get(f"/api/v1/nurseries/{elm_nursery}/stock-history").json
    assert history[-1] == {"on": TODAY.isoformat(), **expected(TODAY)}
    page = browser.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", f"{language}@gov.kz")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_server}/nurseries/{elm_nursery}")
        drawn = drawn_chart(page, "chart-stock-over-time")
        assert drawn["categories"] == [row["on"][:7] for row in history]
        lines = series(drawn)
        assert list(lines) == STAGE_LABELS[language]
        for label, stage in zip(lines, ("sown", "seedlings", "transplanted", "ready"), strict=True):
            assert lines[label] == [row[stage] for row in history], label
        assert all(axis["title"] for axis in drawn["axes"].values())
        assert drawn["ink"] > 1000
        table = page.locator("#stock-history-table tr").all_inner_texts()
        assert len(table) == 25
    finally:
        page.close()
