"""Plans, events, survival, replacements, felling and compensation, through the services."""

from __future__ import annotations

from datetime import date

import pytest
from psycopg.errors import CheckViolation
from shapely.geometry import LineString
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from registry.access import Actor
from registry.accounts.services import actor_for
from registry.care.services import (
    add_care_work,
    approve_care_plan,
    care_summary,
    create_care_plan,
    record_care_done,
)
from registry.errors import AccessDenied, DuplicateRecord, InvalidValue, StaleVersion
from registry.felling.services import obligations, ratios, record_felling, set_ratio
from registry.inventory.models import Plant, PlantStatus
from registry.planting.models import PlantingTally
from registry.planting.services import (
    add_plan_line,
    approve_plan,
    create_plan,
    event_survival,
    plants_of,
    record_planting,
    record_survival_check,
    survival_rates,
)
from tests.factories import (
    ALMATY,
    ASTANA,
    forester,
    make_green_space,
    make_plant,
    make_user,
    point_near,
)

SPRING = date(2024, 4, 20)


def points(n: int, centre=ASTANA) -> list:
    return [point_near(centre) for _ in range(n)]


def ministry(session) -> Actor:
    return actor_for(make_user(session, "ministry"))


def approved_line(session, actor, species="Ulmus pumila", quantity=10, region="KZ-71"):
    plan = create_plan(session, actor, region, 2024, "spring", title="Весна 2024")
    line = add_plan_line(session, actor, plan.id, species, quantity)
    approve_plan(session, actor, plan.id, plan.version)
    return line


# -- plans ----------------------------------------------------------------------------------------
def test_a_plan_goes_from_draft_to_approved_and_then_stays_fixed(db) -> None:
    astana = forester(db)
    plan = create_plan(db, astana, "Астана", 2025, "autumn", funding_source="местный бюджет")
    with pytest.raises(InvalidValue, match="lines: a plan without lines cannot be approved"):
        approve_plan(db, astana, plan.id, plan.version)
    line = add_plan_line(db, astana, plan.id, "карагач", 120, supplier="питомник «Жасыл»")
    assert line.funding_source == "местный бюджет" and line.planting_form.value == "solitary"
    with pytest.raises(StaleVersion):
        approve_plan(db, astana, plan.id, plan.version + 5)
    approve_plan(db, astana, plan.id, plan.version)
    assert plan.status.value == "approved" and plan.version == 2
    with pytest.raises(InvalidValue, match="an approved plan cannot change"):
        add_plan_line(db, astana, plan.id, "Ulmus pumila", 5)


@pytest.mark.parametrize(
    ("quantity", "unit", "form", "message"),
    [
        (0, "pieces", None, "quantity: must be greater than zero"),
        (-3, "pieces", None, "quantity: must be greater than zero"),
        ("2.5", "pieces", None, "quantity: pieces must be a whole number"),
        ("abc", "pieces", None, "quantity: is not a number"),
        (40, "running_m", "solitary", "planting_form: in running_m must be one of hedge, row"),
        (40, "litres", None, "unit: must be one of pieces, running_m, m2"),
    ],
)
def test_plan_lines_refuse_bad_quantities_and_units(db, quantity, unit, form, message) -> None:
    astana = forester(db)
    plan = create_plan(db, astana, "KZ-71", 2025, "spring")
    with pytest.raises(InvalidValue, match=message):
        add_plan_line(db, astana, plan.id, "Ulmus pumila", quantity, unit, form)


def test_a_hedge_line_in_running_metres_and_a_lawn_in_square_metres(db) -> None:
    astana = forester(db)
    plan = create_plan(db, astana, "KZ-71", 2025, "spring")
    hedge = add_plan_line(db, astana, plan.id, "Ulmus pumila", "120.5", "running_m")
    assert (hedge.planting_form.value, float(hedge.quantity)) == ("hedge", 120.5)


def test_a_forester_plans_only_in_their_own_region(db) -> None:
    with pytest.raises(AccessDenied):
        create_plan(db, forester(db, "KZ-75"), "KZ-71", 2025, "spring")
    with pytest.raises(AccessDenied):
        create_plan(db, actor_for(make_user(db, "planner")), "KZ-71", 2025, "spring")


def test_a_plan_line_target_must_lie_in_the_plans_region(db) -> None:
    almaty = forester(db, "KZ-75")
    space = make_green_space(db)  # in Astana
    plan = create_plan(db, almaty, "KZ-75", 2025, "spring")
    with pytest.raises(InvalidValue, match="green_space_id: lies in KZ-71"):
        add_plan_line(db, almaty, plan.id, "Ulmus pumila", 5, green_space_id=space.id)


# -- planting events ------------------------------------------------------------------------------
def test_a_planting_event_creates_linked_plant_records(db) -> None:
    astana = forester(db)
    line = approved_line(db, astana)
    event = record_planting(
        db,
        astana,
        "Ulmus pumila",
        SPRING,
        geometries=points(4),
        plan_line_id=line.id,
        performer_kind="volunteers",
        performer="Taza Qazaqstan",
    )
    plants = plants_of(db, event.id)
    assert float(event.quantity) == 4 and len(plants) == 4
    assert {(p.planting_year, p.status, p.region_id) for p in plants} == {
        (2024, PlantStatus.ALIVE, 71)
    }


def test_a_count_on_a_green_space_becomes_one_group_record(db) -> None:
    astana = forester(db)
    space = make_green_space(db, astana)
    event = record_planting(
        db, astana, "Ulmus pumila", SPRING, quantity=35, green_space_id=space.id
    )
    (plant,) = plants_of(db, event.id)
    assert (plant.quantity, plant.planting_form.value, plant.green_space_id) == (
        35,
        "group",
        space.id,
    )


def test_a_hedge_in_running_metres_is_one_hedge_record(db) -> None:
    astana = forester(db)
    line = LineString([ASTANA, (ASTANA[0] + 0.001, ASTANA[1])])
    event = record_planting(db, astana, "Ulmus pumila", SPRING, 80, "running_m", [line])
    (plant,) = plants_of(db, event.id)
    assert plant.planting_form.value == "hedge" and float(event.quantity) == 80


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quantity": 5}, "quantity: must equal the number of surveyed points \\(3\\)"),
        ({"planted_on": date(2099, 1, 1)}, "planted_on: cannot be in the future"),
        ({"plan_line_id": 999999}, "plan_line_id: no such plan line"),
    ],
)
def test_planting_events_refuse_bad_input_and_write_nothing(db, kwargs, message) -> None:
    astana = forester(db)
    before = db.scalar(select(text("count(*)")).select_from(Plant))
    args = {"planted_on": SPRING, "geometries": points(3), **kwargs}
    with pytest.raises(InvalidValue, match=message):
        record_planting(db, astana, "Ulmus pumila", **args)
    assert db.scalar(select(text("count(*)")).select_from(Plant)) == before


def test_an_event_cannot_be_booked_on_a_draft_plan_or_another_species(db) -> None:
    astana = forester(db)
    plan = create_plan(db, astana, "KZ-71", 2024, "spring")
    draft = add_plan_line(db, astana, plan.id, "Ulmus pumila", 10)
    with pytest.raises(InvalidValue, match="plan_line_id: the plan is not approved yet"):
        record_planting(
            db, astana, "Ulmus pumila", SPRING, geometries=points(2), plan_line_id=draft.id
        )
    line = approved_line(db, astana)
    with pytest.raises(InvalidValue, match="another species"):
        record_planting(
            db, astana, "Pinus sylvestris", SPRING, geometries=points(2), plan_line_id=line.id
        )


def test_a_forester_records_planting_only_in_their_own_region(db) -> None:
    with pytest.raises(AccessDenied):
        record_planting(db, forester(db, "KZ-75"), "Ulmus pumila", SPRING, geometries=points(2))


# -- survival -------------------------------------------------------------------------------------
def test_survival_rates_per_event_species_and_year(db) -> None:
    astana = forester(db)
    elms = record_planting(db, astana, "Ulmus pumila", SPRING, geometries=points(10))
    more_elms = record_planting(
        db, astana, "Ulmus pumila", SPRING, quantity=30, green_space_id=make_green_space(db).id
    )
    pines = record_planting(db, astana, "Pinus sylvestris", SPRING, geometries=points(4))
    record_survival_check(db, astana, elms.id, 1, date(2024, 10, 1), alive=8, dead=2)
    record_survival_check(db, astana, more_elms.id, 1, date(2024, 10, 1), alive=21, dead=9)
    record_survival_check(db, astana, pines.id, 1, date(2024, 10, 1), alive=4, dead=0)
    record_survival_check(db, astana, elms.id, 3, date(2026, 10, 1), alive=7, dead=3)

    assert event_survival(db, astana, elms.id)["seasons"][1]["rate"] == 80.0
    assert event_survival(db, astana, elms.id)["seasons"][3]["rate"] == 70.0
    rows = {r["species"]: r for r in survival_rates(db, astana, "KZ-71", 2024, ("species",))}
    elm_id, pine_id = elms.species_id, pines.species_id
    assert rows[elm_id]["planted"] == 40 and rows[elm_id]["checked_1"] == 40
    assert rows[elm_id]["rate_1"] == round(29 * 100 / 40, 1)  # (8 + 21) of 40
    assert rows[elm_id]["rate_3"] == 70.0  # only the first event was re-counted after 3 seasons
    assert rows[pine_id]["rate_1"] == 100.0 and rows[pine_id]["rate_3"] is None
    (whole,) = survival_rates(db, astana, "KZ-71", 2024, ())
    assert whole["planted"] == 44 and whole["rate_1"] == round(33 * 100 / 44, 1)


@pytest.mark.parametrize(
    ("season", "checked_on", "alive", "dead", "message"),
    [
        (1, date(2024, 3, 1), 5, 0, "checked_on: is before the planting date 2024-04-20"),
        (1, date(2024, 10, 1), 11, 0, "alive: cannot exceed the 10 pieces planted"),
        (1, date(2024, 10, 1), 6, 5, "dead: alive \\+ dead cannot exceed"),
        (2, date(2024, 10, 1), 6, 4, "season: must be 1 or 3"),
        (1, date(2024, 10, 1), -1, 4, "alive: must be zero or more"),
    ],
)
def test_survival_checks_refuse_impossible_counts(db, season, checked_on, alive, dead, message):
    astana = forester(db)
    event = record_planting(db, astana, "Ulmus pumila", SPRING, geometries=points(10))
    with pytest.raises(InvalidValue, match=message):
        record_survival_check(db, astana, event.id, season, checked_on, alive, dead)


def test_a_season_is_checked_once_and_only_by_the_region(db) -> None:
    astana = forester(db)
    event = record_planting(db, astana, "Ulmus pumila", SPRING, geometries=points(3))
    with pytest.raises(AccessDenied):
        record_survival_check(db, forester(db, "KZ-75"), event.id, 1, date(2024, 10, 1), 3, 0)
    record_survival_check(db, astana, event.id, 1, date(2024, 10, 1), 3, 0)
    with pytest.raises(DuplicateRecord):
        record_survival_check(db, astana, event.id, 1, date(2024, 10, 2), 2, 1)


def test_replacements_are_replanting_never_new_planting(db) -> None:
    astana = forester(db)
    event = record_planting(db, astana, "Ulmus pumila", SPRING, geometries=points(10))
    with pytest.raises(InvalidValue, match="record a survival check"):
        record_planting(
            db,
            astana,
            "Ulmus pumila",
            date(2024, 10, 5),
            geometries=points(2),
            replaces_event_id=event.id,
        )
    record_survival_check(db, astana, event.id, 1, date(2024, 10, 1), alive=7, dead=3, replaced=3)
    first = record_planting(
        db,
        astana,
        "Ulmus pumila",
        date(2024, 10, 5),
        geometries=points(2),
        replaces_event_id=event.id,
    )
    with pytest.raises(InvalidValue, match="has 1 dead pieces left to replace"):
        record_planting(
            db,
            astana,
            "Ulmus pumila",
            date(2024, 10, 6),
            geometries=points(2),
            replaces_event_id=event.id,
        )
    record_planting(
        db,
        astana,
        "Ulmus pumila",
        date(2024, 10, 6),
        geometries=points(1),
        replaces_event_id=event.id,
    )
    (row,) = survival_rates(db, astana, "KZ-71", 2024, ())
    assert (row["planted"], row["replanted"], row["events"]) == (10, 3, 3)
    assert event_survival(db, astana, event.id)["replanted"] == 3
    assert len(plants_of(db, first.id)) == 2  # the replacements are in the inventory too


def test_the_tallies_equal_a_rebuild_from_the_events(db) -> None:
    astana = forester(db)
    event = record_planting(db, astana, "Ulmus pumila", SPRING, geometries=points(6))
    record_survival_check(db, astana, event.id, 1, date(2024, 10, 1), 5, 1, 1)
    record_planting(
        db,
        astana,
        "Ulmus pumila",
        date(2024, 10, 2),
        geometries=points(1),
        replaces_event_id=event.id,
    )
    columns = (
        "region_id, year, species_id, planting_form, unit, events, planted, replanted, "
        "checked_1, alive_1, checked_3, alive_3"
    )
    kept = db.execute(
        text(f"SELECT {columns} FROM planting_tallies WHERE events <> 0 ORDER BY 1, 2, 3, 4, 5")
    ).all()
    db.execute(text("SELECT jasyl_rebuild_planting_tallies()"))
    rebuilt = db.execute(
        text(f"SELECT {columns} FROM planting_tallies ORDER BY 1, 2, 3, 4, 5")
    ).all()
    assert kept == rebuilt and kept
    recount = text("UPDATE planting_events SET quantity = 99 WHERE id = :id")
    with (
        pytest.raises(IntegrityError, match="counted fields cannot change") as refused,
        db.begin_nested(),
    ):
        db.execute(recount, {"id": event.id})
    assert isinstance(refused.value.orig, CheckViolation)  # the trigger's ERRCODE
    assert db.get(PlantingTally, (71, 2024, event.species_id, "solitary", "pieces")).planted == 6


# -- felling and compensation ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reason", "legal", "protection", "case", "ratio"),
    [
        ("construction", True, "none", "permitted", 10),
        ("sanitary", True, "none", "permitted", 10),
        ("adjacent_death", True, "none", "adjacent", 10),
        ("construction", False, "none", "illegal", 20),
        ("construction", False, "red_book", "illegal_red_book", 30),
        ("construction", False, "rare", "illegal_rare", 100),
    ],
)
def test_felling_fixes_the_obligation_by_the_ratio_of_its_case(
    db, reason, legal, protection, case, ratio
):
    astana = forester(db)
    trees = [make_plant(db, astana), make_plant(db, astana, geom=point_near(ASTANA), quantity=1)]
    permit = record_felling(
        db,
        astana,
        "Р-1",
        [t.id for t in trees],
        reason,
        date(2025, 5, 1),
        legal=legal,
        protection=protection,
    )
    assert (permit.case.value, permit.ratio, permit.trees, permit.owed) == (
        case,
        ratio,
        2,
        2 * ratio,
    )
    assert permit.due_on == date(2026, 5, 1)
    assert {db.get(Plant, t.id).status for t in trees} == {PlantStatus.REMOVED}


def test_a_region_sets_its_own_ratio_and_past_obligations_keep_theirs(db) -> None:
    astana = forester(db)
    before = record_felling(
        db, astana, "Р-1", [make_plant(db, astana).id], "sanitary", date(2025, 5, 1)
    )
    with pytest.raises(AccessDenied):
        set_ratio(db, astana, "KZ-71", "permitted", 3)
    set_ratio(db, ministry(db), "KZ-71", "permitted", 3)
    assert ratios(db, "KZ-71")["permitted"] == {"ratio": 3, "source": "region"}
    assert ratios(db, "KZ-75")["permitted"] == {"ratio": 10, "source": "national"}
    after = record_felling(
        db, astana, "Р-2", [make_plant(db, astana).id], "sanitary", date(2025, 5, 2)
    )
    assert (before.owed, after.owed) == (10, 3)
    with pytest.raises(InvalidValue, match="ratio: must lie between 1 and 1000"):
        set_ratio(db, ministry(db), "KZ-71", "permitted", 0)


def test_felling_refuses_plants_already_gone_or_of_another_region(db) -> None:
    astana = forester(db)
    tree = make_plant(db, astana)
    record_felling(db, astana, "Р-1", [tree.id], "sanitary", date(2025, 5, 1))
    with pytest.raises(InvalidValue, match=f"plant {tree.id} is already removed"):
        record_felling(db, astana, "Р-2", [tree.id], "sanitary", date(2025, 5, 1))
    with pytest.raises(DuplicateRecord):
        record_felling(db, astana, "Р-1", [make_plant(db, astana).id], "sanitary", date(2025, 5, 1))
    with pytest.raises(AccessDenied):
        record_felling(
            db, forester(db, "KZ-75"), "Р-3", [make_plant(db).id], "sanitary", date(2025, 5, 1)
        )


def test_compensation_is_fulfilled_by_surviving_plants_and_overdue_otherwise(db) -> None:
    astana = forester(db)
    permit = record_felling(
        db,
        astana,
        "Р-7",
        [make_plant(db, astana).id],
        "construction",
        date(2024, 3, 1),
        due_on=date(2024, 11, 1),
    )  # owes 10
    late = record_felling(
        db,
        astana,
        "Р-8",
        [make_plant(db, astana).id],
        "construction",
        date(2024, 3, 1),
        due_on=date(2025, 11, 1),
    )
    event = record_planting(
        db, astana, "Ulmus pumila", SPRING, geometries=points(10), felling_permit_id=permit.id
    )
    today = date(2025, 1, 10)

    def status(number: str) -> dict:
        rows = obligations(db, ministry(db), today=today)
        return next(r for r in rows if r["number"] == number)

    assert status("Р-7")["status"] == "fulfilled" and status("Р-8")["status"] == "open"
    record_survival_check(db, astana, event.id, 1, date(2024, 10, 1), alive=6, dead=4)
    assert (status("Р-7")["status"], status("Р-7")["surviving"], status("Р-7")["outstanding"]) == (
        "overdue",
        6.0,
        4.0,
    )
    record_planting(
        db,
        astana,
        "Ulmus pumila",
        date(2024, 10, 20),
        geometries=points(4),
        replaces_event_id=event.id,
    )
    assert status("Р-7")["status"] == "fulfilled" and status("Р-7")["replanted"] == 4
    overdue = obligations(db, ministry(db), status="overdue", today=date(2026, 1, 1))
    assert [r["number"] for r in overdue] == [late.number]
    with pytest.raises(AccessDenied):
        obligations(db, astana)  # the national list is the ministry's
    assert len(obligations(db, astana, "KZ-71", today=today)) == 2
    with pytest.raises(AccessDenied):
        obligations(db, forester(db, "KZ-75"), "KZ-71")


# -- care -----------------------------------------------------------------------------------------
def test_care_works_planned_against_done(db) -> None:
    astana = forester(db)
    tree = make_plant(db, astana)
    space = make_green_space(db, astana)
    pruning = add_care_work(
        db,
        astana,
        "pruning_sanitary",
        "pieces",
        planned_volume=1,
        planned_on=date(2025, 4, 1),
        planned_cost=15000,
        plant_id=tree.id,
    )
    add_care_work(
        db,
        astana,
        "mowing",
        "m2",
        planned_volume=4000,
        done_volume=3500,
        done_on=date(2025, 6, 1),
        done_cost=80000,
        green_space_id=space.id,
    )
    record_care_done(db, astana, pruning.id, pruning.version, 1, date(2025, 4, 3), 14000)
    with pytest.raises(StaleVersion):
        record_care_done(db, astana, pruning.id, 1, 1, date(2025, 4, 3), 14000)
    rows = {r["kind"]: r for r in care_summary(db, astana, "KZ-71", 2025)}
    assert rows["mowing"]["planned_volume"] == 4000 and rows["mowing"]["done_volume"] == 3500
    assert rows["pruning_sanitary"]["done_cost"] == 14000
    with pytest.raises(InvalidValue, match="target: attach the work"):
        add_care_work(db, astana, "watering", "m3", planned_volume=10)
    with pytest.raises(InvalidValue, match="kind: must be one of"):
        add_care_work(db, astana, "dancing", "m3", planned_volume=10, plant_id=tree.id)
    with pytest.raises(InvalidValue, match="done_on: a done volume needs the date"):
        add_care_work(db, astana, "watering", "m3", done_volume=10, plant_id=tree.id)
    with pytest.raises(AccessDenied):
        add_care_work(
            db, forester(db, "KZ-75"), "watering", "m3", planned_volume=1, plant_id=tree.id
        )
    with pytest.raises(AccessDenied):
        care_summary(db, forester(db, "KZ-75"), "KZ-71")


def test_almaty_events_count_in_almaty(db) -> None:
    almaty = forester(db, "KZ-75")
    record_planting(db, almaty, "Ulmus pumila", SPRING, geometries=points(2, ALMATY))
    assert survival_rates(db, almaty, "KZ-75", 2024, ())[0]["planted"] == 2


def test_care_plans_go_from_draft_to_approved_in_their_region(db) -> None:
    astana = forester(db)
    plan = create_care_plan(db, astana, "KZ-71", 2025, "Уход 2025")
    work = add_care_work(
        db,
        astana,
        "winter_protection",
        "pieces",
        plan_id=plan.id,
        planned_volume=40,
        plant_id=make_plant(db, astana).id,
    )
    assert work.year == 2025 and work.region_id == 71
    with pytest.raises(AccessDenied):
        approve_care_plan(db, forester(db, "KZ-75"), plan.id)
    with pytest.raises(StaleVersion):
        approve_care_plan(db, astana, plan.id, 7)
    approve_care_plan(db, astana, plan.id, 1)
    assert (plan.status.value, plan.version) == ("approved", 2)
    with pytest.raises(InvalidValue, match="already approved"):
        approve_care_plan(db, astana, plan.id)
    almaty_plan = create_care_plan(db, forester(db, "KZ-75"), "KZ-75", 2025)
    with pytest.raises(InvalidValue, match="plan_id: no such care plan in the work's region"):
        add_care_work(
            db,
            astana,
            "mowing",
            "m2",
            plan_id=almaty_plan.id,
            planned_volume=5,
            plant_id=make_plant(db, astana).id,
        )
