"""``jasyl planting``, ``care``, ``felling`` and ``report`` as a user runs them (CliRunner)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from registry.access import Actor
from registry.accounts.services import add_user
from registry.db import unit_of_work
from tests.factories import make_green_space, make_plant
from web.cli import main


@pytest.fixture
def run(clean):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def people(clean) -> dict[str, str]:
    emails = {
        "astana": ("forester.a@test.kz", "forester", "KZ-71"),
        "almaty": ("forester.b@test.kz", "forester", "KZ-75"),
        "ministry": ("minister@test.kz", "ministry", None),
        "planner": ("planner@test.kz", "planner", None),
    }
    with unit_of_work(clean) as session:
        for email, role, region in emails.values():
            add_user(session, Actor.system("test"), email, role, region, None)
    return {name: email for name, (email, _, _) in emails.items()}


def number_in(output: str) -> int:
    return int(re.search(r"\b(\d+)\b", output).group(1))


@pytest.mark.parametrize(
    "command",
    [
        ["planting"],
        ["planting", "plan", "create"],
        ["planting", "plan", "line"],
        ["planting", "plan", "approve"],
        ["planting", "plan", "show"],
        ["planting", "record"],
        ["planting", "check"],
        ["planting", "survival"],
        ["care", "plan"],
        ["care", "add"],
        ["care", "done"],
        ["care", "summary"],
        ["felling", "record"],
        ["felling", "ratios"],
        ["felling", "obligations"],
        ["report", "build"],
        ["report", "submit"],
        ["report", "approve"],
        ["report", "return"],
        ["report", "show"],
        ["report", "national"],
        ["report", "list"],
        ["report", "planting"],
        ["report", "survival"],
        ["report", "care"],
        ["report", "compensation"],
    ],
)
def test_every_command_has_help(command) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_plan_plant_check_and_read_survival(run, people) -> None:
    as_astana = ("--as", people["astana"])
    created = run(
        "planting",
        "plan",
        "create",
        "--region",
        "Астана",
        "--year",
        "2024",
        "--season",
        "spring",
        *as_astana,
    )
    assert created.exit_code == 0, created.output
    plan_id = number_in(created.output)
    line = run(
        "planting",
        "plan",
        "line",
        str(plan_id),
        "--species",
        "карагач",
        "--quantity",
        "3",
        *as_astana,
    )
    line_id = number_in(line.output.replace(f"plan {plan_id}", ""))
    assert (
        run("planting", "plan", "approve", str(plan_id), "--version", "1", *as_astana).exit_code
        == 0
    )
    recorded = run(
        "planting",
        "record",
        "--species",
        "Ulmus pumila",
        "--on",
        "2024-04-20",
        "--point",
        "71.4304,51.1282",
        "--point",
        "71.4310,51.1282",
        "--point",
        "71.4316,51.1282",
        "--plan-line",
        str(line_id),
        *as_astana,
    )
    assert recorded.exit_code == 0, recorded.output
    assert "3 plant record(s)" in recorded.output
    event_id = number_in(recorded.output)
    checked = run(
        "planting",
        "check",
        str(event_id),
        "--season",
        "1",
        "--on",
        "2024-10-01",
        "--alive",
        "2",
        "--dead",
        "1",
        *as_astana,
    )
    assert "after season 1: 66.7 %" in checked.output
    rows = json.loads(
        run(
            "planting",
            "survival",
            "--region",
            "KZ-71",
            "--format",
            "json",
            "--by",
            "year",
            *as_astana,
        ).output
    )
    assert rows == [
        {**rows[0], "year": 2024, "planted": 3.0, "checked_1": 3.0, "alive_1": 2.0, "rate_1": 66.7}
    ]
    too_many = run(
        "planting",
        "check",
        str(event_id),
        "--season",
        "3",
        "--on",
        "2026-10-01",
        "--alive",
        "9",
        "--dead",
        "0",
        *as_astana,
    )
    assert too_many.exit_code == 1
    assert too_many.output.strip() == "Error: alive: cannot exceed the 3 pieces planted (got '9')"
    refused = run(
        "planting",
        "check",
        str(event_id),
        "--season",
        "3",
        "--on",
        "2026-10-01",
        "--alive",
        "1",
        "--dead",
        "2",
        "--as",
        people["almaty"],
    )
    assert refused.exit_code == 1 and "may not check planting event" in refused.output


def test_bad_input_is_one_line_and_non_zero(run, people) -> None:
    bad_point = run(
        "planting", "record", "--species", "Ulmus pumila", "--on", "2024-04-20", "--point", "north"
    )
    assert bad_point.exit_code == 2 and "is not LON,LAT" in bad_point.output
    outside = run(
        "planting",
        "record",
        "--species",
        "Ulmus pumila",
        "--on",
        "2024-04-20",
        "--point",
        "37.6173,55.7558",
    )
    assert outside.exit_code == 1 and "lies outside Kazakhstan's regions" in outside.output
    unknown = run(
        "planting",
        "plan",
        "create",
        "--region",
        "Атлантида",
        "--year",
        "2024",
        "--season",
        "spring",
    )
    assert unknown.exit_code == 1 and "unknown region 'Атлантида'" in unknown.output


def test_care_and_felling_from_the_command_line(run, people, clean) -> None:
    with unit_of_work(clean) as session:
        tree_ids = [make_plant(session).id for _ in range(2)]
    as_astana = ("--as", people["astana"])
    added = run(
        "care",
        "add",
        "--kind",
        "pruning_sanitary",
        "--unit",
        "pieces",
        "--planned",
        "2",
        "--planned-cost",
        "30000",
        "--plant",
        str(tree_ids[0]),
        "--year",
        "2025",
        *as_astana,
    )
    assert added.exit_code == 0, added.output
    work_id = number_in(added.output)
    done = run(
        "care",
        "done",
        str(work_id),
        "--version",
        "1",
        "--volume",
        "2",
        "--on",
        "2025-04-02",
        "--cost",
        "28000",
        *as_astana,
    )
    assert done.exit_code == 0 and "done: 2 pieces" in done.output
    stale = run(
        "care",
        "done",
        str(work_id),
        "--version",
        "1",
        "--volume",
        "2",
        "--on",
        "2025-04-02",
        *as_astana,
    )
    assert stale.exit_code == 1 and "changed meanwhile" in stale.output
    summary = json.loads(
        run(
            "care", "summary", "--region", "KZ-71", "--year", "2025", "--format", "json", *as_astana
        ).output
    )
    assert summary[0]["planned_cost"] == 30000 and summary[0]["done_cost"] == 28000

    refused = run(
        "felling", "ratios", "--region", "KZ-71", "--case", "illegal", "--ratio", "25", *as_astana
    )
    assert refused.exit_code == 1 and "may not set compensation ratio" in refused.output
    ratios = run(
        "felling",
        "ratios",
        "--region",
        "KZ-71",
        "--case",
        "illegal",
        "--ratio",
        "25",
        "--as",
        people["ministry"],
    )
    assert "illegal              25×  (region)" in ratios.output
    felled = run(
        "felling",
        "record",
        "--number",
        "№ 12/2024",
        "--plant",
        str(tree_ids[1]),
        "--reason",
        "construction",
        "--on",
        "2024-05-01",
        "--illegal",
        "--due",
        "2024-10-01",
        *as_astana,
    )
    assert "(illegal): 1 tree(s) × 25 = 25 to plant by 2024-10-01" in felled.output
    overdue = json.loads(
        run(
            "felling",
            "obligations",
            "--status",
            "overdue",
            "--format",
            "json",
            "--as",
            people["ministry"],
        ).output
    )
    assert [(r["number"], r["owed"], r["outstanding"]) for r in overdue] == [
        ("№ 12/2024", 25, 25.0)
    ]
    assert run("felling", "obligations", *as_astana).exit_code == 1


def test_report_workflow_and_formats(run, people, tmp_path) -> None:
    as_astana = ("--as", people["astana"])
    run(
        "planting",
        "record",
        "--species",
        "Ulmus pumila",
        "--on",
        "2024-04-20",
        "--point",
        "71.4304,51.1282",
        *as_astana,
    )
    assert run("report", "build", "--region", "KZ-71", "--year", "2024", *as_astana).exit_code == 0
    assert run("report", "submit", "--region", "KZ-71", "--year", "2024", *as_astana).exit_code == 0
    planner = run(
        "report", "approve", "--region", "KZ-71", "--year", "2024", "--as", people["planner"]
    )
    assert planner.exit_code == 1 and "may not approve report" in planner.output
    returned = run(
        "report",
        "return",
        "--region",
        "KZ-71",
        "--year",
        "2024",
        "--comment",
        "Уточните данные",
        "--as",
        people["ministry"],
    )
    assert "edition 1, returned" in returned.output
    run("report", "build", "--region", "KZ-71", "--year", "2024", *as_astana)
    run("report", "submit", "--region", "KZ-71", "--year", "2024", *as_astana)
    approved = run(
        "report", "approve", "--region", "KZ-71", "--year", "2024", "--as", people["ministry"]
    )
    assert "edition 2, approved" in approved.output

    shown = json.loads(
        run(
            "report", "show", "--region", "KZ-71", "--year", "2024", "--edition", "1", *as_astana
        ).output
    )
    assert shown["status"] == "returned" and shown["review_comment"] == "Уточните данные"
    assert shown["content"]["planting"][0]["planted"] == 1
    csv_out = run(
        "report", "show", "--region", "KZ-71", "--year", "2024", "--format", "csv", *as_astana
    ).output
    assert csv_out.startswith(
        "region,region_name,year,section,item,item_name,measure,value\n"
        "KZ-71,г. Астана,2024,planting,"
    )
    target = tmp_path / "report.xlsx"
    run(
        "report",
        "show",
        "--region",
        "KZ-71",
        "--year",
        "2024",
        "--format",
        "xlsx",
        "--output",
        str(target),
        *as_astana,
    )
    assert load_workbook(target)["planting"]["A1"].value == "species"
    national = json.loads(
        run(
            "report",
            "national",
            "--year",
            "2024",
            "--by",
            "region",
            "--format",
            "json",
            "--as",
            people["ministry"],
        ).output
    )
    assert national[0]["region"] == "KZ-71" and national[0]["planted"] == 1
    assert run("report", "national", "--as", people["astana"]).exit_code == 1
    listed = run("report", "list", "--as", people["ministry"]).output
    assert "KZ-71   2024  2        approved" in listed


def test_figures_commands_planting_survival_care_compensation(run, people, tmp_path) -> None:
    as_astana = ("--as", people["astana"])
    as_ministry = ("--as", people["ministry"])
    event = run(
        "planting",
        "record",
        "--species",
        "Ulmus pumila",
        "--on",
        "2024-04-20",
        "--point",
        "71.4304,51.1282",
        "--point",
        "71.4310,51.1282",
        *as_astana,
    )
    event_id = number_in(event.output)
    run(
        "planting",
        "check",
        str(event_id),
        "--season",
        "1",
        "--on",
        "2024-10-01",
        "--alive",
        "1",
        "--dead",
        "1",
        *as_astana,
    )
    national = json.loads(
        run("report", "planting", "--year", "2024", "--format", "json", *as_ministry).output
    )
    assert [(r["region"], r["species"], r["planted"]) for r in national] == [
        ("KZ-71", "ulmus_pumila", 2.0)
    ]
    mine = run(
        "report", "planting", "--year", "2024", "--region", "KZ-71", "--format", "csv", *as_astana
    ).output
    assert mine.splitlines()[1].startswith(
        "Ulmus pumila,вяз приземистый,solitary,солитер,pieces,шт.,0.0,2.0"
    )
    survival = json.loads(
        run(
            "report",
            "survival",
            "--year",
            "2024",
            "--region",
            "KZ-71",
            "--format",
            "json",
            *as_astana,
        ).output
    )
    assert survival[0]["species"] == "ulmus_pumila" and survival[0]["rate_1"] == 50.0
    target = tmp_path / "survival.xlsx"
    run(
        "report",
        "survival",
        "--year",
        "2024",
        "--format",
        "xlsx",
        "--output",
        str(target),
        *as_ministry,
    )
    sheet = load_workbook(target)["figures"]
    assert sheet["A3"].value == "total" and sheet["E3"].value == "=SUM(E2:E2)"
    named = ["KZ-71", "г. Астана", "ulmus_pumila", "вяз приземистый"]
    assert [c.value for c in sheet[2]][:4] == named
    assert run("report", "care", "--year", "2024", *as_astana).exit_code == 1  # national
    assert run("report", "care", "--year", "2024", *as_ministry).output.strip() == "(nothing)"
    assert run("report", "compensation", "--region", "KZ-75", *as_astana).exit_code == 1


def test_care_plan_create_and_approve(run, people) -> None:
    as_astana = ("--as", people["astana"])
    missing = run("care", "plan", *as_astana)
    assert missing.exit_code == 2 and "--region and --year are needed" in missing.output
    created = run("care", "plan", "--region", "KZ-71", "--year", "2025", *as_astana)
    plan_id = number_in(created.output)
    refused = run("care", "plan", "--approve", str(plan_id), "--as", people["almaty"])
    assert refused.exit_code == 1 and "may not approve care plan" in refused.output
    assert "approved" in run("care", "plan", "--approve", str(plan_id), *as_astana).output


def test_plan_show_names_the_species_and_the_green_space(run, people) -> None:
    """The lines showed ``species_id`` and ``green_space_id`` numbers only (#22): the table now
    names the species and the green space; the id stays beside the name, JSON keeps its ids."""
    with unit_of_work() as session:
        space = make_green_space(session, name="Парк Победы")
        space_id = space.id
    created = run(
        "planting", "plan", "create", "--region", "KZ-71", "--year", "2025", "--season", "spring"
    )
    plan_id = number_in(created.output)
    run("planting", "plan", "line", str(plan_id), "--species", "карагач", "--quantity", "3",
        "--green-space", str(space_id))  # fmt: skip
    table = run("planting", "plan", "show", str(plan_id)).output.splitlines()
    assert table[1].split() == [
        "line", "species", "form", "quantity", "unit", "green_space", "green_space_id", "supplier"
    ]  # fmt: skip
    assert "Ulmus pumila" in table[2] and "Парк Победы" in table[2]
    assert re.search(rf"Парк Победы\s+{space_id}\b", table[2])
    (line,) = json.loads(run("planting", "plan", "show", str(plan_id), "--format", "json").output)
    assert line["species"] == "Ulmus pumila" and line["species_id"] > 0
    assert line["green_space"] == "Парк Победы" and line["green_space_id"] == space_id
