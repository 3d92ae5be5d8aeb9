"""Unknown is not healthy: plants whose condition no one assessed (and a stump no one named)
are shown apart on the region page, the plant card, the map's legend and the report, in kk, ru
and en; never counted as grade I."""

from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from registry.access import Actor
from registry.db import engine_for, unit_of_work
from registry.inventory.models import Plant
from registry.inventory.services import update_plant
from registry.reports import exports
from registry.reports.content import inventory_section
from tests.factories import ASTANA, make_plant, point_near
from web import create_app

NOT_ASSESSED = {"en": "not assessed", "ru": "не оценено", "kk": "бағаланбаған"}


@pytest.fixture
def astana(clean):
    """Two trees graded I and III, three not assessed, a stump without species or grade."""
    with unit_of_work(clean) as session:
        for n, grade in enumerate((1, 3, None, None, None)):
            make_plant(session, geom=point_near(ASTANA, n), condition=grade)
        stump = make_plant(session, geom=point_near(ASTANA, 9), species_id=None, condition=None,
                           status="stump", height_m=None, crown_diameter_m=None)  # fmt: skip
    return create_app({"TESTING": True}), stump.id


def test_the_report_counts_unassessed_plants_apart(astana, clean) -> None:
    with unit_of_work(clean) as session:
        section = inventory_section(session, 71)
    assert section["alive_by_condition"] == {"1": 1, "3": 1, "not_assessed": 3}
    assert section["by_status"] == {"alive": 5, "stump": 1}


def test_the_reports_workbook_and_table_keep_unassessed_plants_apart(astana, clean) -> None:
    """The XLSX's inventory sheet read the grades as numbers and failed on not_assessed."""
    with unit_of_work(clean) as session:
        content = {"region": {"iso": "KZ-71"}, "year": 2026, "planting": [], "survival": [],
                   "care": [], "felling": {"obligations": []},
                   "inventory": inventory_section(session, 71)}  # fmt: skip
    sheet = load_workbook(io.BytesIO(exports.to_xlsx(content)))["inventory"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [[r[0], r[2]] for r in rows[:4]] == [
        ["condition", "alive"],
        [1, 1],
        [3, 1],
        ["not_assessed", 3],
    ]
    lines = exports.to_csv(content).splitlines()
    assert "KZ-71,KZ-71,2026,inventory,condition not_assessed,not_assessed,alive,3" in lines


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_the_region_page_shows_not_assessed_in_the_readers_language(astana, lang) -> None:
    app, _ = astana
    html = app.test_client().get(f"/regions/KZ-71?lang={lang}").get_data(as_text=True)
    start = html.index('id="by-condition"')
    table = html[start : html.index("</table>", start)]
    counts = dict(re.findall(r"<td>([IV]+|—)</td><td>[^<]*</td><td class=\"count\">(\d+)", table))
    assert counts == {"I": "1", "II": "0", "III": "1", "IV": "0", "V": "0", "VI": "0", "—": "4"}
    assert f"<td>{NOT_ASSESSED[lang]}</td>" in table  # three trees and the stump


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_the_map_legend_and_the_card_say_not_assessed(astana, lang) -> None:
    app, stump_id = astana
    client = app.test_client()
    page = client.get(f"/?lang={lang}").get_data(as_text=True)
    settings = json.loads(re.search(r"Jasyl\.init\((\{.*?\})\);</script>", page).group(1))
    assert settings["notAssessed"]["label"] == NOT_ASSESSED[lang]
    assert settings["notAssessed"]["colour"] not in {c["colour"] for c in settings["conditions"]}
    x, y = point_near(ASTANA, 2).x, point_near(ASTANA, 2).y
    card = client.get(f"/api/v1/plants/at?lon={x}&lat={y}&z=19&lang={lang}").get_json()
    assert NOT_ASSESSED[lang] in card["html"] and "· " not in card["html"].split("</tr>")[1]
    x, y = point_near(ASTANA, 9).x, point_near(ASTANA, 9).y
    card = client.get(f"/api/v1/plants/at?lon={x}&lat={y}&z=19&lang={lang}").get_json()
    assert card["id"] == stump_id and NOT_ASSESSED[lang] in card["html"]


def test_tallies_keep_one_row_for_unassessed_plants_and_move_on_assessment(astana, clean):
    """The tally key's NULLs are not distinct: three plants added one by one make one row of
    three (not three rows of one), and assessing one moves it to its grade."""
    sql = text(
        "SELECT condition, plants FROM inventory_tallies "
        "WHERE region_id = 71 AND status = 'alive' AND plants <> 0 ORDER BY condition NULLS LAST"
    )
    with engine_for(clean).connect() as conn:
        assert [tuple(r) for r in conn.execute(sql)] == [(1, 1), (3, 1), (None, 3)]
    with unit_of_work(clean) as session:
        plant = session.scalars(select(Plant).where(Plant.condition.is_(None))).first()
        update_plant(session, Actor.system("test"), plant.id, plant.version, {"condition": 3})
    with engine_for(clean).connect() as conn:
        assert [tuple(r) for r in conn.execute(sql)] == [(1, 1), (3, 2), (None, 2)]
