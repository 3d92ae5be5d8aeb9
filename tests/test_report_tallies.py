"""The tallies the reports read equal sums computed here from the plants and works themselves.

``inventory_tallies`` and ``care_tallies`` are moved by statement-level triggers (migration
0012). Every way the registry changes (services, the importer's merge and undo, plain SQL,
concurrent transactions) must leave them equal to an independent ``GROUP BY`` over the source
rows, and the report services must answer from them with those same figures.
"""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

from shapely.geometry import Point
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from importers.services import import_file, undo_batch
from registry.access import Actor
from registry.care.models import CareWork
from registry.care.services import add_care_work, care_summary, record_care_done
from registry.db import unit_of_work
from registry.inventory.models import Plant, PlantStatus
from registry.inventory.services import remove_plant, update_plant
from registry.regions.services import resolve_region
from registry.reports.content import build_content
from registry.reports.dashboards import national_dashboard
from registry.species.services import get_species
from tests.factories import ALMATY, ASTANA, make_plant, point_near
from tests.import_files import survey_frame, write_shapefile
from tests.locks import waiting_on

SYSTEM = Actor.system("tally test")

INVENTORY_BY_HAND = text(
    """
    SELECT region_id, species_id, status::text, condition, count(*), sum(quantity)
    FROM plants GROUP BY 1, 2, 3, 4
    """
)
INVENTORY_TALLIED = text(
    """
    SELECT region_id, species_id, status::text, condition, plants, quantity
    FROM inventory_tallies WHERE plants <> 0 OR quantity <> 0
    """
)
CARE_BY_HAND = text(
    """
    SELECT region_id, year, kind::text, unit::text, count(*), count(done_volume),
           coalesce(sum(planned_volume), 0), coalesce(sum(done_volume), 0),
           coalesce(sum(planned_cost), 0), coalesce(sum(done_cost), 0)
    FROM care_works GROUP BY 1, 2, 3, 4
    """
)
CARE_TALLIED = text(
    """
    SELECT region_id, year, kind::text, unit::text, works, done_works, planned_volume,
           done_volume, planned_cost, done_cost
    FROM care_tallies WHERE works <> 0
    """
)


def keyed(session: Session, query, width: int) -> dict[tuple, tuple]:
    return {tuple(row[:width]): tuple(row[width:]) for row in session.execute(query)}


def assert_inventory_adds_up(session: Session) -> dict[tuple, tuple]:
    session.flush()
    by_hand = keyed(session, INVENTORY_BY_HAND, 4)
    assert keyed(session, INVENTORY_TALLIED, 4) == by_hand
    return by_hand


def assert_care_adds_up(session: Session) -> dict[tuple, tuple]:
    session.flush()
    by_hand = keyed(session, CARE_BY_HAND, 4)
    assert keyed(session, CARE_TALLIED, 4) == by_hand
    return by_hand


def test_inventory_tallies_follow_creation_edits_removal_moves_and_deletion(db) -> None:
    elm = get_species(db, "Ulmus pumila").id
    pine = get_species(db, "Pinus sylvestris").id
    plants = [make_plant(db, condition=1 + i % 3) for i in range(5)]
    make_plant(db, geom=point_near(ALMATY), species_id=pine, condition=4)
    before = assert_inventory_adds_up(db)
    astana = resolve_region(db, "KZ-71").id
    assert before[(astana, elm, "alive", 1)] == (2, 2)

    first, second, third, fourth, fifth = plants
    update_plant(db, SYSTEM, first.id, first.version, {"species_id": pine})  # species change
    update_plant(db, SYSTEM, second.id, second.version, {"condition": 5})  # condition change
    remove_plant(db, SYSTEM, third.id, third.version, PlantStatus.STUMP, "спилено")  # removal
    update_plant(db, SYSTEM, fourth.id, fourth.version, {"geom": point_near(ALMATY)})  # region
    update_plant(db, SYSTEM, fifth.id, fifth.version, {"notes": "только заметка"})  # no count
    after = assert_inventory_adds_up(db)
    almaty = resolve_region(db, "KZ-75").id
    assert after[(astana, pine, "alive", 1)] == (1, 1)
    assert after[(astana, elm, "stump", 3)] == (1, 1)
    assert after[(almaty, elm, "alive", fourth.condition)] == (1, 1)

    db.execute(text("UPDATE plants SET quantity = 7 WHERE id = :id"), {"id": fifth.id})
    db.execute(text("DELETE FROM plants WHERE id = :id"), {"id": second.id})
    assert_inventory_adds_up(db)
    inventory = build_content(db, resolve_region(db, "KZ-71"), 2024)["inventory"]
    alive = db.execute(
        text(
            "SELECT condition, sum(quantity) FROM plants WHERE region_id = :r AND status = 'alive'"
            " GROUP BY 1"
        ),
        {"r": astana},
    ).all()
    assert inventory["alive_by_condition"] == {str(c): int(n) for c, n in alive}
    assert inventory["alive"] == 1 + 7 and inventory["by_status"] == {"alive": 8, "stump": 1}


def test_import_merge_and_undo_move_the_tallies(db, tmp_path: Path) -> None:
    first = import_file(
        db, SYSTEM, write_shapefile(tmp_path / "a.shp", survey_frame()), region="KZ-71"
    )
    assert first.imported == 3
    added = assert_inventory_adds_up(db)
    assert sum(plants for plants, _ in added.values()) == 3
    worse = survey_frame(СОСТ=["аварийное", "II", "аварийное"])
    second = import_file(db, SYSTEM, write_shapefile(tmp_path / "b.shp", worse), region="KZ-71")
    assert second.updated == 1
    assert assert_inventory_adds_up(db) != added
    assert undo_batch(db, SYSTEM, second.batch_id) == (1, 0)
    assert assert_inventory_adds_up(db) == added
    assert undo_batch(db, SYSTEM, first.batch_id) == (0, 3)
    assert assert_inventory_adds_up(db) == {}


def test_care_tallies_and_the_care_figures_of_reports_are_the_registrys_now(db) -> None:
    plant = make_plant(db)
    far = make_plant(db, geom=point_near(ALMATY))
    planned = add_care_work(
        db,
        SYSTEM,
        "watering",
        "pieces",
        year=2024,
        planned_volume=40,
        planned_cost=12000,
        plant_id=plant.id,
    )
    add_care_work(
        db,
        SYSTEM,
        "watering",
        "pieces",
        year=2024,
        done_volume=5,
        done_on=date(2024, 6, 1),
        done_cost=800,
        plant_id=plant.id,
    )
    add_care_work(
        db, SYSTEM, "pruning_sanitary", "pieces", year=2024, planned_volume=3, plant_id=far.id
    )
    assert_care_adds_up(db)
    record_care_done(db, SYSTEM, planned.id, planned.version, 38, date(2024, 7, 1), 11500)
    assert_care_adds_up(db)
    db.execute(text("UPDATE care_works SET year = 2025 WHERE kind = 'pruning_sanitary'"))
    db.execute(text("DELETE FROM care_works WHERE done_cost = 800"))
    by_hand = assert_care_adds_up(db)

    astana = resolve_region(db, "KZ-71")
    rows = care_summary(db, SYSTEM, "KZ-71", 2024)
    assert rows == [
        {
            "kind": "watering",
            "unit": "pieces",
            "works": 1,
            "done_works": 1,
            "planned_volume": 40.0,
            "done_volume": 38.0,
            "planned_cost": 12000.0,
            "done_cost": 11500.0,
        }
    ]
    assert build_content(db, astana, 2024)["care"] == rows
    national = care_summary(db, SYSTEM, None, None)
    assert sum(r["works"] for r in national) == sum(v[0] for v in by_hand.values()) == 2
    figures = {r["region"]: r for r in national_dashboard(db, SYSTEM, 2024)["regions"]}
    done_cost = db.scalar(select(func.sum(CareWork.done_cost)).where(CareWork.year == 2024))
    assert figures["KZ-71"]["care_cost"] == float(done_cost) == 11500.0
    assert figures["KZ-75"]["care_cost"] == 0.0


def test_concurrent_transactions_add_up_without_lost_updates(clean) -> None:
    """Two transactions write the same tally rows at once; the second waits, then adds on."""
    with unit_of_work(clean) as session:
        base = [make_plant(session, geom=Point(ASTANA[0] + 0.01 * i, ASTANA[1])) for i in range(4)]
        ids = [p.id for p in base]
    holding = threading.Event()
    holder: list[int] = []
    release = threading.Event()
    failures: list[BaseException] = []

    def first_writer() -> None:
        try:
            with unit_of_work(clean) as session:
                make_plant(session, condition=2)
                plant = session.get(Plant, ids[0])
                update_plant(session, SYSTEM, plant.id, plant.version, {"condition": 3})
                holder.append(session.scalar(text("SELECT pg_backend_pid()")))
                holding.set()
                release.wait(10)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
            holding.set()

    def second_writer() -> None:
        try:
            with unit_of_work(clean) as session:
                make_plant(session, condition=2)
                plant = session.get(Plant, ids[1])
                update_plant(session, SYSTEM, plant.id, plant.version, {"condition": 3})
        except BaseException as exc:
            failures.append(exc)

    one = threading.Thread(target=first_writer)
    one.start()
    assert holding.wait(10)
    two = threading.Thread(target=second_writer)
    two.start()
    waiting = waiting_on(clean, holder[0]) if holder else None
    release.set()
    one.join(10)
    two.join(10)
    assert not failures
    assert waiting is not None, "the second writer waits for the rows the first one holds"
    # its new plant's tally row is the one the first transaction updated: a row lock, whose
    # wait PostgreSQL shows as one on the holder's transaction id
    assert waiting.query.startswith("INSERT INTO plants") and waiting.locktype == "transactionid"
    with unit_of_work(clean) as session:
        by_hand = assert_inventory_adds_up(session)
        astana = resolve_region(session, "KZ-71").id
        elm = get_species(session, "Ulmus pumila").id
        assert by_hand[(astana, elm, "alive", 2)] == (4, 4)  # 4 made, 2 new, 2 moved to grade 3
        assert by_hand[(astana, elm, "alive", 3)] == (2, 2)
        assert session.scalar(text("SELECT sum(quantity) FROM inventory_tallies")) == Decimal(6)
