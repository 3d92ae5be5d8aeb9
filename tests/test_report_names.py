"""Names, not codes: wherever a page shows a species or a region, a reader sees its name in their
language (codes stay in data attributes and the JSON). Every report, dashboard, nursery and
region page, in Kazakh, Russian and English, over a registry that has something on each."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import pytest
from shapely.geometry import Point
from sqlalchemy import select

from registry.access import Actor
from registry.accounts.services import actor_for, add_user
from registry.care.services import add_care_work
from registry.db import unit_of_work
from registry.nursery.shipping import dispatch
from registry.planting.services import (
    add_plan_line,
    approve_plan,
    create_plan,
    record_planting,
    record_survival_check,
)
from registry.reports.services import build_report
from registry.species.models import Species
from tests.nursery_factories import make_nursery, ready_batch
from tests.web_client import PASSWORD, sign_in
from web.app import create_app

REGION_CODE = re.compile(r"\bKZ-\d{2}\b")


class VisibleText(HTMLParser):
    """The text a reader sees as words: everything but scripts, styles, attributes and the
    cells of a code column (``class="code"``: a reference list's ISO and KATO columns)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style", "template") or ("class", "code") in attrs:
            self.skipping.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture
def registry_with_everything(clean) -> dict:
    """A year of Astana (plan, planting, a check, care, a report), a nursery in Almaty Region
    with elm and spruce stock, a shipment to Astana, and a ministry reader per language."""
    with unit_of_work(clean) as session:
        system = Actor.system("test")
        forester = actor_for(
            add_user(session, system, "f@astana.kz", "forester", "KZ-71", "x" * 12)
        )
        plan = create_plan(session, forester, "KZ-71", 2024, "spring")
        add_plan_line(session, forester, plan.id, "Ulmus pumila", 40)
        add_plan_line(session, forester, plan.id, "Picea schrenkiana", 5)
        approve_plan(session, system, plan.id)
        event = record_planting(
            session,
            forester,
            "Ulmus pumila",
            date(2024, 4, 20),
            geometries=[Point(71.43 + i * 1e-4, 51.128) for i in range(30)],
        )
        record_survival_check(session, forester, event.id, 1, date(2024, 10, 1), 27, 3)
        add_care_work(
            session,
            forester,
            "pruning_sanitary",
            "pieces",
            year=2024,
            done_volume=30,
            done_on=date(2024, 6, 1),
            area=Point(71.43, 51.128).buffer(0.0005),
        )
        build_report(session, forester, "KZ-71", 2024)
        nursery = make_nursery(session)
        elm = ready_batch(session, nursery, 100)
        ready_batch(session, nursery, 50, "Picea schrenkiana")
        dispatch(session, system, nursery, "KZ-71", [f"{elm.id}:10"], date(2024, 5, 1))
        for language in ("kk", "ru", "en"):
            user = add_user(session, system, f"{language}@gov.kz", "ministry", None, PASSWORD)
            user.locale = language
        codes = set(session.scalars(select(Species.code)))
        return {"nursery": nursery.code, "species_codes": codes}


PAGES = [
    "/reports/dashboard?year=2024",
    "/reports/dashboard/KZ-71?year=2024",
    "/reports/KZ-71/2024",
    "/nurseries/?year=2024",
    "/nurseries/{nursery}",
    "/nurseries/{nursery}/ledger",
    "/regions",
    "/regions/KZ-71",
]


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_no_page_shows_a_code_where_a_name_exists(registry_with_everything, language) -> None:
    client = create_app({"TESTING": True}).test_client()
    assert sign_in(client, f"{language}@gov.kz").status_code == 302
    species_code = re.compile(
        r"\b(" + "|".join(map(re.escape, registry_with_everything["species_codes"])) + r")\b"
    )
    for path in PAGES:
        answer = client.get(path.format(**registry_with_everything))
        assert answer.status_code == 200, path
        text = visible(answer.get_data(as_text=True))
        assert REGION_CODE.findall(text) == [], f"{path} ({language}) shows region codes"
        assert species_code.findall(text) == [], f"{path} ({language}) shows species codes"
    dashboard = visible(client.get("/reports/dashboard?year=2024").get_data(as_text=True))
    elm = {"kk": "Қарағаш", "ru": "Вяз", "en": "elm"}[language]
    assert elm.lower() in dashboard.lower(), "the species planted most, by name"
