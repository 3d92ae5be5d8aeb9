"""``jasyl report benefits`` and ``jasyl species show`` as a user runs them (CliRunner).

The report's figures are the tallies' (tests/test_benefits.py checks those against the plants),
valued at the year's prices; here: the JSON a ministry script reads, a forester kept to their
own region, the plants without a figure counted, and the method printed with its source.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from registry.access import Actor
from registry.accounts.services import add_user
from registry.db import unit_of_work
from registry.planting.services import add_plan_line, create_plan
from registry.species.services import get_species
from tests.factories import ALMATY, make_plant, point_near
from web.cli import main

REQUIRED = {
    "region",
    "trees",
    "co2_stored_t",
    "co2_sequestered_t_per_year",
    "rain_intercepted_m3_per_year",
    "value_kzt_per_year",
    "price_basis",
    "plants_without_method",
}


@pytest.fixture
def registry(clean) -> dict[str, str]:
    """Two elms and a lilac hedge in Astana, one elm without a DBH in Almaty; two users."""
    with unit_of_work(clean) as session:
        make_plant(session, trunk_diameter_cm=38.6, height_m=13.8, condition=1)
        make_plant(session, trunk_diameter_cm=20, height_m=None, condition=None)
        lilac = get_species(session, "syringa_vulgaris").id
        make_plant(
            session, species_id=lilac, planting_form="hedge", height_m=2, trunk_diameter_cm=None
        )
        make_plant(session, geom=point_near(ALMATY), trunk_diameter_cm=None)
        system = Actor.system("test")
        add_user(session, system, "forester.b@test.kz", "forester", "KZ-75", None)
        add_user(session, system, "minister@test.kz", "ministry", None, None)
    return {"almaty": "forester.b@test.kz", "ministry": "minister@test.kz"}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_the_json_has_one_object_per_region_with_its_counted_gaps(registry) -> None:
    result = run("report", "benefits", "--year", "2026", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {row["region"]: row for row in json.loads(result.output)}
    assert set(rows) == {"KZ-71", "KZ-75"}
    assert all(set(row) >= REQUIRED for row in rows.values())
    astana, almaty = rows["KZ-71"], rows["KZ-75"]
    assert astana["trees"] == 2 and astana["plants_without_method"] == 1
    assert astana["plants_not_assessed"] == 1  # its stored carbon counts, its growth does not
    assert astana["co2_stored_t"] > 0 and astana["co2_sequestered_t_per_year"] > 0
    assert astana["rain_intercepted_m3_per_year"] is None  # no sourced rain-event count yet
    assert astana["price_basis"] == "kz_ets" and astana["co2_price_kzt_per_t"] == 502.93
    expected = round(astana["co2_sequestered_t_per_year"] * 502.93, 0)
    assert round(astana["value_kzt_per_year"], 0) == pytest.approx(expected, abs=1)
    # An elm without a DBH is counted, never given a zero or a guess.
    assert (almaty["trees"], almaty["plants_without_dbh"], almaty["co2_stored_t"]) == (0, 1, 0)
    assert almaty["value_kzt_per_year"] == 0


def test_the_social_cost_basis_and_the_table_csv_and_xlsx(registry, tmp_path) -> None:
    scc = json.loads(
        run(
            "report", "benefits", "--year", "2026", "--format", "json", "--price-basis", "scc"
        ).output
    )
    assert {row["co2_price_kzt_per_t"] for row in scc} == {67000.0}
    table = run("report", "benefits", "--year", "2026", "--language", "en")
    assert "KZ-71" in table.output and "co2_stored_t" in table.output
    rows = list(csv.DictReader(io.StringIO(run(
        "report", "benefits", "--year", "2026", "--format", "csv").output)))  # fmt: skip
    assert [r["region"] for r in rows] == ["KZ-71", "KZ-75"]
    assert rows[1]["rain_intercepted_m3_per_year"] == ""  # empty, not 0
    out = tmp_path / "benefits.xlsx"
    written = run("report", "benefits", "--year", "2026", "--format", "xlsx", "--output", str(out))
    assert written.exit_code == 0, written.output
    sheet = load_workbook(out).active
    header = [cell.value for cell in sheet[1]]
    assert "co2_sequestered_t_per_year" in header and sheet.max_row == 4  # and a totals row
    assert [sheet.cell(row, 1).value for row in (2, 3, 4)] == ["KZ-71", "KZ-75", "total"]
    price_total = sheet.cell(4, header.index("co2_price_kzt_per_t") + 1).value
    assert price_total is None  # prices are never summed; the trees are
    assert sheet.cell(4, header.index("trees") + 1).value.startswith("=SUM(")


def test_a_forester_reads_their_region_only(registry) -> None:
    own = run("report", "benefits", "--year", "2026", "--region", "KZ-75", "--format", "json",
              "--as", registry["almaty"])  # fmt: skip
    assert own.exit_code == 0 and [r["region"] for r in json.loads(own.output)] == ["KZ-75"]
    other = CliRunner().invoke(main, ["report", "benefits", "--year", "2026", "--region",
                                      "KZ-71", "--as", registry["almaty"]])  # fmt: skip
    national = CliRunner().invoke(
        main, ["report", "benefits", "--year", "2026", "--as", registry["almaty"]]
    )
    assert other.exit_code != 0 and "may not read" in other.output
    assert national.exit_code != 0 and "may not read national" in national.output
    ministry = run("report", "benefits", "--year", "2026", "--as", registry["ministry"])
    assert ministry.exit_code == 0


def test_species_show_prints_the_equation_its_range_and_source(clean) -> None:
    elm = run("species", "show", "Ulmus pumila")
    assert "utd_ulmus_pumila_dh [volume], fitted DBH 16–132 cm" in elm.output
    assert "PSW-GTR-253" in elm.output and "wood density: 540 kg/m³" in elm.output
    box_elder = run("species", "show", "acer_negundo", "--json")
    method = json.loads(box_elder.output)["benefits"]
    assert method["equation_diameter_only"]["code"] == "utd_acer_platanoides_d"
    assert method["fallback"] == "UTD assigns A. platanoides' equation"
    lilac = run("species", "show", "syringa_vulgaris")
    assert "no method" in lilac.output


def test_plan_show_prints_the_projected_benefits(clean) -> None:
    with unit_of_work(clean) as session:
        system = Actor.system("test")
        plan = create_plan(session, system, "KZ-71", 2027, "spring")
        add_plan_line(session, system, plan.id, "Ulmus pumila", 100)
        plan_id = plan.id
    shown = run("planting", "plan", "show", str(plan_id))
    assert "Projected benefits (estimates" in shown.output
    assert "after 30 years: 0 trees" in shown.output  # no survival measured: nothing assumed
    assert "without a measured survival rate: 1" in shown.output
