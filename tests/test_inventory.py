"""Plant and green-space rules, enforced by the services against the real database."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point
from sqlalchemy import select, text

from registry.access import Actor
from registry.accounts.services import actor_for
from registry.audit.models import AuditEntry
from registry.audit.services import history
from registry.db import unit_of_work
from registry.errors import AccessDenied, DuplicateRecord, InvalidValue, NotFound, StaleVersion
from registry.inventory.models import Plant, PlantStatus
from registry.inventory.services import (
    get_plant,
    inspections_of,
    record_inspection,
    remove_plant,
    update_green_space,
    update_plant,
)
from registry.species.services import get_species
from tests.factories import (
    ALMATY,
    ASTANA,
    OUTSIDE_KAZAKHSTAN,
    forester,
    make_green_space,
    make_plant,
    make_user,
    point_near,
    square,
)


def test_region_and_number_come_from_the_location(db) -> None:
    plant = make_plant(db, geom=point_near(ALMATY))
    assert plant.region_id == 75
    assert plant.inventory_number == f"75-{plant.id:08d}"


def test_region_is_never_taken_from_input(db) -> None:
    with pytest.raises(InvalidValue, match="region_id: is not a plant field"):
        make_plant(db, region_id=75)
    # Even raw SQL cannot put an Astana tree into Almaty: the trigger derives it.
    species_id = get_species(db, "Ulmus pumila").id
    plant_id = db.execute(
        text(
            "INSERT INTO plants (region_id, inventory_number, species_id, planting_form, geom, "
            "quantity, condition, status, address, notes) VALUES (75, 'raw-1', :s, 'solitary', "
            "ST_SetSRID(ST_MakePoint(71.43, 51.128), 4326), 1, 1, 'alive', '', '') RETURNING id"
        ),
        {"s": species_id},
    ).scalar()
    assert db.get(Plant, plant_id).region_id == 71


def test_a_location_outside_kazakhstan_is_refused(db) -> None:
    with pytest.raises(InvalidValue, match=r"geom: lies outside Kazakhstan's regions \(lon 37"):
        make_plant(db, geom=Point(OUTSIDE_KAZAKHSTAN))


@pytest.mark.parametrize(
    "field, value, reason",
    [
        (
            "height_m",
            60,
            "exceeds the plausible maximum of 25.0 for вяз приземистый (Ulmus pumila)",
        ),
        ("trunk_diameter_cm", 400, "exceeds the plausible maximum"),
        ("height_m", -2, "must be greater than zero"),
        ("height_m", "высокий", "is not a number"),
        ("crown_diameter_m", 55, "exceeds the plausible maximum of 40"),
        ("condition", 7, "must be a grade from I to VI"),
        ("planting_year", date.today().year + 1, "must lie between 1800"),
        ("quantity", 0, "must be at least 1"),
        ("status", "sleeping", "must be one of alive, dead"),
        ("planting_form", "forest", "must be one of solitary, row, group, hedge, massif"),
        ("species_id", None, "a living plant needs a species"),
    ],
)
def test_implausible_values_name_the_field_and_the_reason(db, field, value, reason) -> None:
    with pytest.raises(InvalidValue) as caught:
        make_plant(db, **{field: value})
    assert caught.value.field in (field, "geom")
    assert reason in str(caught.value)


def test_roman_grades_and_line_plantings(db) -> None:
    hedge = make_plant(
        db,
        condition="III",
        planting_form="hedge",
        height_m=1.5,
        geom=LineString([ASTANA, (ASTANA[0] + 0.001, ASTANA[1])]),
    )
    assert hedge.condition == 3 and hedge.planting_form.value == "hedge"


def test_inventory_numbers_are_unique_within_a_region_only(db) -> None:
    make_plant(db, inventory_number="A-001")
    make_plant(db, inventory_number="A-001", geom=point_near(ALMATY))
    with pytest.raises(DuplicateRecord, match="'A-001' is already used by plant"):
        make_plant(db, inventory_number="A-001")


def test_an_edit_is_audited_field_by_field(db) -> None:
    actor = forester(db, "KZ-71")
    plant = make_plant(db, actor)
    update_plant(db, actor, plant.id, 1, {"height_m": 9.5, "condition": 3, "notes": "дупло"})
    assert plant.version == 2
    entries = history(db, "plant", plant.id)
    assert entries[0].action == "create" and entries[0].actor == actor.label
    changed = {e.field: (e.old_value, e.new_value) for e in entries[1:]}
    assert changed == {"height_m": (8.5, 9.5), "condition": (2, 3), "notes": ("", "дупло")}


def test_an_edit_from_an_old_version_is_a_conflict_not_an_overwrite(db) -> None:
    first, second = forester(db), forester(db)
    plant = make_plant(db, first)
    update_plant(db, first, plant.id, 1, {"height_m": 10})
    with pytest.raises(StaleVersion) as caught:
        update_plant(db, second, plant.id, 1, {"height_m": 12})
    assert f"was changed by {first.label}" in str(caught.value)
    assert caught.value.details["current"]["height_m"] == 10
    assert db.get(Plant, plant.id).height_m == 10


def test_concurrent_writers_never_lose_an_update(database_url, clean) -> None:
    """Two real connections save the same version at once: one wins, the other is told."""
    with unit_of_work() as session:
        plant_id = make_plant(session).id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def edit(height: float) -> None:
        try:
            with unit_of_work() as session:
                session.execute(text("SELECT 1"))
                barrier.wait()
                update_plant(
                    session, Actor.system(f"writer-{height}"), plant_id, 1, {"height_m": height}
                )
            outcomes.append("saved")
        except StaleVersion:
            outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(h,)) for h in (11.0, 12.0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "saved"]
    with unit_of_work() as session:
        plant = session.get(Plant, plant_id)
        assert plant.version == 2
        assert len(history(session, "plant", plant_id)) == 2


def test_a_forester_writes_only_in_their_region_and_refusals_are_audited(db, database_url) -> None:
    almaty_forester = forester(db, "KZ-75")
    with pytest.raises(AccessDenied, match="may not create plant in region 71"):
        make_plant(db, almaty_forester)
    astana_plant = make_plant(db)
    with pytest.raises(AccessDenied):
        update_plant(db, almaty_forester, astana_plant.id, 1, {"height_m": 3})
    own = make_plant(db, almaty_forester, geom=point_near(ALMATY))
    with pytest.raises(AccessDenied, match="may not move plant in region 71"):
        update_plant(db, almaty_forester, own.id, 1, {"geom": point_near(ASTANA)})
    # The refusals were written in their own transaction: visible from another connection.
    with unit_of_work(database_url) as other:
        denied = other.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "denied", AuditEntry.actor == almaty_forester.label
            )
        ).all()
        assert len(denied) == 3
        for entry in denied:
            other.delete(entry)


@pytest.mark.parametrize("role", ["planner", "ministry", "nursery"])
def test_readers_cannot_write(db, role) -> None:
    reader = actor_for(make_user(db, role))
    with pytest.raises(AccessDenied):
        make_plant(db, reader)
    with pytest.raises(AccessDenied):
        make_plant(db, Actor.public())
    db.execute(text("DELETE FROM audit_log WHERE action = 'denied'"))


def test_the_public_sees_published_plants_only(db) -> None:
    hidden = make_plant(db, published=False)
    with pytest.raises(NotFound):
        get_plant(db, Actor.public(), hidden.id)
    assert get_plant(db, forester(db), hidden.id).id == hidden.id


def test_inspections_keep_history_and_the_newest_sets_condition(db) -> None:
    actor = forester(db)
    plant = make_plant(db, actor, condition=1)
    record_inspection(db, actor, plant.id, date.today() - timedelta(days=30), "II", "Асель")
    record_inspection(db, actor, plant.id, date.today() - timedelta(days=400), 1, "Болат")
    assert plant.condition == 2
    record_inspection(db, actor, plant.id, date.today(), 4, hazardous=True, height_m=9)
    assert (plant.condition, plant.hazardous, float(plant.height_m)) == (4, True, 9.0)
    assert [i.condition for i in inspections_of(db, plant.id)] == [4, 2, 1]
    with pytest.raises(InvalidValue, match="inspected_on: cannot be in the future"):
        record_inspection(db, actor, plant.id, date.today() + timedelta(days=1), 1)


def test_removal_keeps_the_record(db) -> None:
    plant = make_plant(db)
    remove_plant(db, Actor.system(), plant.id, 1, PlantStatus.STUMP, "снос по разрешению №12")
    assert plant.status is PlantStatus.STUMP and "№12" in plant.notes
    with pytest.raises(InvalidValue):
        remove_plant(db, Actor.system(), plant.id, plant.version, PlantStatus.ALIVE)


def test_green_space_area_is_geodesic_square_metres(db) -> None:
    shape = square(ASTANA, 0.002)
    space = make_green_space(db, geom=shape)
    db.refresh(space)
    expected = abs(Geod(ellps="WGS84").geometry_area_perimeter(shape)[0])
    assert space.region_id == 71
    assert space.area_m2 == pytest.approx(expected, rel=1e-3)
    assert 120_000 < space.area_m2 < 130_000  # 280 m × 445 m at 51° N


def test_green_space_edits_are_versioned(db) -> None:
    space = make_green_space(db)
    update_green_space(db, Actor.system(), space.id, 1, {"name": "Сквер Абая"})
    with pytest.raises(StaleVersion):
        update_green_space(db, Actor.system(), space.id, 1, {"name": "Другое"})
    with pytest.raises(InvalidValue, match="geom: a green space must be a polygon"):
        update_green_space(db, Actor.system(), space.id, 2, {"geom": Point(ASTANA)})
    assert space.name == "Сквер Абая"


def test_a_failed_unit_of_work_leaves_nothing_behind(database_url, clean) -> None:
    with pytest.raises(InvalidValue), unit_of_work() as session:
        make_plant(session, inventory_number="half-1")
        make_plant(session, height_m=500)
    with unit_of_work() as session:
        assert session.scalar(select(Plant).where(Plant.inventory_number == "half-1")) is None
