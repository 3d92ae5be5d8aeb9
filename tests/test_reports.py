"""Yearly reports: generated figures against independent sums, the workflow, locked snapshots."""

from __future__ import annotations

import io
import random
from collections import defaultdict
from datetime import date

import pytest
from openpyxl import load_workbook
from psycopg.errors import CheckViolation
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from registry.access import Actor
from registry.accounts.services import actor_for
from registry.care.services import add_care_work
from registry.errors import AccessDenied, InvalidValue
from registry.felling.services import record_felling
from registry.inventory.services import update_plant
from registry.planting.services import (
    add_plan_line,
    approve_plan,
    create_plan,
    plants_of,
    record_planting,
    record_survival_check,
)
from registry.reports import exports
from registry.reports.dashboards import list_reports, national_planting
from registry.reports.services import (
    approve_report,
    build_report,
    get_report,
    return_report,
    submit_report,
)
from tests.factories import ALMATY, ASTANA, forester, make_plant, make_user, point_near

SPECIES = ("Ulmus pumila", "Pinus sylvestris", "Betula pendula")


def ministry(session) -> Actor:
    return actor_for(make_user(session, "ministry"))


def generated_year(session, actor, centre, seed: int) -> dict:
    """Random events and checks; returns sums computed here, independently of the registry."""
    rng = random.Random(seed)
    sums: dict = defaultdict(lambda: defaultdict(float))
    for _ in range(12):
        species = rng.choice(SPECIES)
        n = rng.randint(1, 5)
        on = date(2024, rng.randint(4, 5), rng.randint(1, 28))
        event = record_planting(
            session, actor, species, on, geometries=[point_near(centre) for _ in range(n)]
        )
        sums[species]["planted"] += n
        if rng.random() < 0.7:
            alive = rng.randint(0, n)
            record_survival_check(session, actor, event.id, 1, date(2024, 10, 1), alive, n - alive)
            sums[species]["checked_1"] += n
            sums[species]["alive_1"] += alive
            if alive < n and rng.random() < 0.5:
                record_planting(
                    session,
                    actor,
                    species,
                    date(2024, 10, 15),
                    geometries=[point_near(centre) for _ in range(n - alive)],
                    replaces_event_id=event.id,
                )
                sums[species]["replanted"] += n - alive
    return sums


def test_report_figures_equal_independent_sums(db) -> None:
    astana, almaty = forester(db), forester(db, "KZ-75")
    expected = generated_year(db, astana, ASTANA, seed=6)
    other = generated_year(db, almaty, ALMATY, seed=7)
    plan = create_plan(db, astana, "KZ-71", 2024, "spring")
    add_plan_line(db, astana, plan.id, "Ulmus pumila", 40)
    approve_plan(db, astana, plan.id)

    content = build_report(db, astana, "KZ-71", 2024).content
    planted = {r["latin"]: r for r in content["planting"]}
    for species, sums in expected.items():
        assert planted[species]["planted"] == sums["planted"]
        assert planted[species]["replanted"] == sums["replanted"]
    assert planted["Ulmus pumila"]["planned"] == 40
    survival = {r["latin"]: r for r in content["survival"] if r["planting_year"] == 2024}
    for species, sums in expected.items():
        assert survival[species]["checked_1"] == sums["checked_1"]
        assert survival[species]["alive_1"] == sums["alive_1"]
    total = sum(s["planted"] for s in expected.values())
    assert content["planting_totals_pieces"]["planted"] == total
    alive_plants = sum(content["inventory"]["alive_by_condition"].values())
    assert alive_plants == content["inventory"]["alive"] >= total

    national = national_planting(db, ministry(db), 2024, ("region",))
    by_region = {r["region"]: r["planted"] for r in national}
    assert by_region == {"KZ-71": total, "KZ-75": sum(s["planted"] for s in other.values())}
    by_species = national_planting(db, ministry(db), 2024, ("species",))
    elm = next(r for r in by_species if r["species"] == "ulmus_pumila")
    assert elm["planned"] == 40
    assert elm["planted"] == expected["Ulmus pumila"]["planted"] + other["Ulmus pumila"]["planted"]


def test_a_submitted_report_is_a_snapshot_later_edits_do_not_change(db) -> None:
    astana = forester(db)
    event = record_planting(
        db,
        astana,
        "Ulmus pumila",
        date(2024, 4, 2),
        geometries=[point_near(ASTANA) for _ in range(3)],
    )
    tree = make_plant(db, astana, condition=2)
    add_care_work(db, astana, "watering", "m3", planned_volume=50, plant_id=tree.id, year=2024)
    build_report(db, astana, "KZ-71", 2024)
    submitted = submit_report(db, astana, "KZ-71", 2024)
    frozen = submitted.content
    assert frozen["planting"][0]["planted"] == 3 and frozen["care"][0]["planned_volume"] == 50

    # later edits: more planting, a plant's condition, a felling
    record_planting(db, astana, "Ulmus pumila", date(2024, 9, 1), geometries=[point_near(ASTANA)])
    plant = plants_of(db, event.id)[0]
    update_plant(db, astana, plant.id, plant.version, {"condition": 5})
    record_felling(db, astana, "Р-1", [tree.id], "sanitary", date(2024, 6, 1))
    db.expire_all()
    again = get_report(db, astana, "KZ-71", 2024)
    assert again.content == frozen and again.status.value == "submitted"
    rewrite = text("UPDATE region_reports SET content = '{}' WHERE id = :id")
    with (
        pytest.raises(IntegrityError, match="its figures are locked") as refused,
        db.begin_nested(),
    ):
        db.execute(rewrite, {"id": again.id})
    assert isinstance(refused.value.orig, CheckViolation)  # the trigger's ERRCODE
    with pytest.raises(InvalidValue, match="awaits the ministry's review"):
        build_report(db, astana, "KZ-71", 2024)

    return_report(db, ministry(db), "KZ-71", 2024, "Нет данных о приживаемости")
    second = build_report(db, astana, "KZ-71", 2024)
    assert second.edition == 2 and second.content["planting"][0]["planted"] == 4
    assert second.content["felling"]["owed"] == 10
    assert get_report(db, astana, "KZ-71", 2024, edition=1).content == frozen
    submit_report(db, astana, "KZ-71", 2024)
    approved = approve_report(db, ministry(db), "KZ-71", 2024)
    assert approved.status.value == "approved"
    assert list_reports(db, ministry(db), 2024) == [
        {"region": "KZ-71", "year": 2024, "edition": 2, "status": "approved"}
    ]


def test_report_access_akimat_submits_ministry_reviews_others_refused(db) -> None:
    astana = forester(db)
    with pytest.raises(AccessDenied):
        build_report(db, forester(db, "KZ-75"), "KZ-71", 2024)
    build_report(db, astana, "KZ-71", 2024)
    with pytest.raises(AccessDenied):
        submit_report(db, actor_for(make_user(db, "planner")), "KZ-71", 2024)
    submit_report(db, astana, "KZ-71", 2024)
    for refused in (astana, actor_for(make_user(db, "planner")), Actor.public()):
        with pytest.raises(AccessDenied):
            approve_report(db, refused, "KZ-71", 2024)
    with pytest.raises(AccessDenied):
        get_report(db, forester(db, "KZ-75"), "KZ-71", 2024)
    with pytest.raises(AccessDenied):
        get_report(db, actor_for(make_user(db, "nursery", region=None)), "KZ-71", 2024)
    assert get_report(db, actor_for(make_user(db, "planner")), "KZ-71", 2024).edition == 1
    with pytest.raises(AccessDenied):
        national_planting(db, astana, 2024)
    with pytest.raises(InvalidValue, match="comment: say why"):
        return_report(db, ministry(db), "KZ-71", 2024, "  ")
    with pytest.raises(InvalidValue, match="only a draft can be submitted"):
        submit_report(db, astana, "KZ-71", 2024)


def test_exports_carry_the_figures_and_totals_formulas(db) -> None:
    astana = forester(db)
    record_planting(
        db,
        astana,
        "Ulmus pumila",
        date(2024, 4, 2),
        geometries=[point_near(ASTANA) for _ in range(3)],
    )
    record_planting(
        db,
        astana,
        "Pinus sylvestris",
        date(2024, 4, 3),
        geometries=[point_near(ASTANA) for _ in range(2)],
    )
    content = build_report(db, astana, "KZ-71", 2024).content
    book = load_workbook(io.BytesIO(exports.to_xlsx(content)))
    sheet = book["planting"]
    header = [c.value for c in sheet[1]]
    planted_col = header.index("planted")
    assert sorted(sheet.cell(r, planted_col + 1).value for r in (2, 3)) == [2, 3]
    assert sheet.cell(4, 1).value == "total"
    assert sheet.cell(4, planted_col + 1).value == "=SUM(I2:I3)"
    csv_text = exports.to_csv(content)
    assert (
        "KZ-71,г. Астана,2024,planting,ulmus_pumila / solitary / pieces,"
        "вяз приземистый / solitary / pieces,planted,3.0" in csv_text
    )


def test_the_report_drills_down_to_the_green_spaces_planted(db) -> None:
    from tests.factories import make_green_space

    astana = forester(db)
    square = make_green_space(db, astana, name="Сквер «Жасыл»")
    record_planting(
        db, astana, "Ulmus pumila", date(2024, 5, 2), quantity=25, green_space_id=square.id
    )
    record_planting(
        db, astana, "Ulmus pumila", date(2023, 5, 2), quantity=7, green_space_id=square.id
    )
    content = build_report(db, astana, "KZ-71", 2024).content
    assert content["green_spaces"] == [
        {
            "green_space_id": square.id,
            "name": "Сквер «Жасыл»",
            "unit": "pieces",
            "events": 1,
            "quantity": 25.0,
        }
    ]
