"""The benefit tallies as the database keeps them per statement (revision 0028: one join of a
statement's plants to the methods, not a function call per plant) equal, to the gram, the sums of
the per-plant function ``jasyl_plant_benefit`` that a plant's card and the OGC collection use:
after one bulk insert over every species and every kind of input, after an UPDATE of each benefit
input alone (the ones an UPDATE leaving them all alone may skip), an UPDATE of none, deletes,
a rebuild from scratch, and a live import (its chunks booked as they are copied) and its undo.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from importers import sources
from importers.services import import_file, undo_batch
from registry.access import Actor
from tests.factories import make_green_space
from tests.test_import_pipeline import survey

BY_PLANT = text(
    """
    SELECT p.region_id, p.green_space_id, count(*) AS plants,
        coalesce(sum(CASE WHEN b.kind = 'computed' THEN p.quantity END), 0) AS trees,
        count(*) FILTER (WHERE b.kind = 'no_method') AS without_method,
        count(*) FILTER (WHERE b.kind = 'no_dbh') AS without_dbh,
        count(*) FILTER (WHERE b.kind = 'computed' AND b.outside_range) AS outside_range,
        count(*) FILTER (WHERE b.kind = 'computed' AND b.co2_sequestered_kg IS NULL)
            AS not_assessed,
        count(*) FILTER (WHERE b.kind = 'computed' AND b.rain_m3 IS NULL) AS without_rain,
        coalesce(sum(b.co2_stored_kg), 0), coalesce(sum(b.co2_sequestered_kg), 0),
        coalesce(sum(b.rain_m3), 0)
    FROM (SELECT jasyl_benefit_constants() AS k OFFSET 0) kc, plants p,
         jasyl_plant_benefit(p, kc.k) b
    GROUP BY p.region_id, p.green_space_id
    """
)
TALLIED = text(
    """
    SELECT region_id, green_space_id, plants, trees, without_method, without_dbh, outside_range,
           not_assessed, without_rain, co2_stored_kg, co2_sequestered_kg, rain_m3
    FROM benefit_tallies WHERE plants <> 0
    """
)
# Every species (with a method or not; a third of the records one with a leaf-area equation),
# every planting form but massifs, every status; DBH from 0.1 to 250 cm (outside most fitted
# ranges at both ends) or none, height or none, crown or none, conditions I–VI or not assessed,
# 1–3 plants a record, some in a park; two regions.
PLANTS = """
    INSERT INTO plants (region_id, inventory_number, species_id, planting_form, geom, quantity,
                        height_m, trunk_diameter_cm, crown_diameter_m, condition, status,
                        green_space_id, address, notes, hazardous, published, version)
    SELECT r.id, 'SET-' || g, CASE WHEN g % 3 = 1 THEN leafy.id ELSE s.id END,
           (ARRAY['solitary', 'row', 'group', 'hedge'])[1 + g % 4]::planting_form,
           ST_PointOnSurface(r.boundary), 1 + g % 3,
           CASE WHEN g % 3 = 0 THEN NULL ELSE 2 + (g * 7) % 250 / 10.0 END,
           CASE WHEN g % 13 = 0 THEN NULL ELSE 0.1 + (g * 37) % 2500 / 10.0 END,
           CASE WHEN g % 4 = 0 THEN NULL ELSE 1 + (g * 11) % 120 / 10.0 END,
           CASE WHEN g % 7 = 0 THEN NULL ELSE 1 + g % 6 END,
           (ARRAY['alive', 'alive', 'alive', 'dead', 'alive', 'stump', 'alive', 'removed',
                  'alive', 'vacant'])[1 + g % 10]::plant_status,
           CASE WHEN g % 5 = 0 AND r.iso_code = 'KZ-71' THEN :park END,
           '', '', false, true, 1
    FROM generate_series(1, 8 * (SELECT count(*) FROM species)) g
    JOIN LATERAL (SELECT id FROM species ORDER BY id OFFSET g % (SELECT count(*) FROM species)
                  LIMIT 1) s ON true
    CROSS JOIN (SELECT min(species_id) AS id FROM species_benefit_methods
                WHERE leaf_area_a IS NOT NULL) leafy
    JOIN regions r ON r.iso_code = (ARRAY['KZ-71', 'KZ-75'])[1 + g % 2]
"""
# One UPDATE per benefit input, each changing that input alone on a share of the plants (every
# 17th id or so: a modulus none of the generated inputs follows, so the share holds every kind).
EDITS = {
    "region_id": """UPDATE plants SET geom = (SELECT ST_PointOnSurface(boundary) FROM regions
                    WHERE iso_code = 'KZ-79') WHERE id % 17 < 6""",
    "green_space_id": "UPDATE plants SET green_space_id = NULL WHERE id % 17 < 6",
    "species_id": """UPDATE plants SET species_id = (SELECT min(id) FROM species)
                     WHERE id % 17 < 6""",
    "status": "UPDATE plants SET status = 'dead' WHERE id % 17 < 6 AND status = 'alive'",
    "planting_form": "UPDATE plants SET planting_form = 'hedge' WHERE id % 17 < 6",
    "quantity": "UPDATE plants SET quantity = quantity + 2 WHERE id % 17 < 6",
    "trunk_diameter_cm": """UPDATE plants SET trunk_diameter_cm = coalesce(trunk_diameter_cm, 8)
                            + 1.5 WHERE id % 17 < 6""",
    "height_m": """UPDATE plants SET height_m = CASE WHEN height_m IS NULL THEN 9 END
                   WHERE id % 17 < 6""",
    "crown_diameter_m": "UPDATE plants SET crown_diameter_m = 0.3 WHERE id % 17 < 6",
    "condition": """UPDATE plants SET condition = CASE WHEN condition IS NULL THEN 3
                    ELSE 1 + condition % 6 END WHERE id % 17 < 6""",
}


def tallies(db: Session) -> dict[tuple, tuple]:
    return {(r[0], r[1]): tuple(r[2:]) for r in db.execute(TALLIED)}


def assert_tallies_are_the_plants_sums(db: Session) -> dict[tuple, tuple]:
    kept = tallies(db)
    by_plant = {(r[0], r[1]): tuple(r[2:]) for r in db.execute(BY_PLANT)}
    assert kept == by_plant  # Decimal sums: equal to the gram, not approximately
    return kept


@pytest.fixture
def planted(db: Session) -> Session:
    """The plants above, with rain events where there is precipitation, so rain is computed."""
    db.execute(text("UPDATE region_precipitation SET rain_events_per_year = 40"))
    park = make_green_space(db)
    db.execute(text(PLANTS), {"park": park.id})
    return db


def test_a_bulk_insert_is_tallied_as_the_plants_sum_up(planted: Session) -> None:
    kept = assert_tallies_are_the_plants_sums(planted)
    counts = [sum(row[i] for row in kept.values()) for i in range(7)]
    plants, trees, without_method, without_dbh, outside_range, not_assessed, without_rain = counts
    assert min(trees, without_method, without_dbh, outside_range, not_assessed) > 0
    assert without_rain < plants  # rain computed for some: the crowns and events are there
    assert sum(row[9] for row in kept.values()) > 0
    assert len({key[0] for key in kept}) == 2 and any(key[1] for key in kept)


@pytest.mark.parametrize("changed", sorted(EDITS))
def test_an_update_of_one_benefit_input_moves_the_tallies_as_the_plants(
    planted: Session, changed: str
) -> None:
    before = tallies(planted)
    assert planted.execute(text(EDITS[changed])).rowcount > 0
    assert assert_tallies_are_the_plants_sums(planted) != before


def test_an_update_of_no_benefit_input_leaves_the_tallies(planted: Session) -> None:
    before = tallies(planted)
    planted.execute(text("UPDATE plants SET notes = 'осмотрено', published = NOT published"))
    assert assert_tallies_are_the_plants_sums(planted) == before


def test_deletes_and_a_rebuild_give_the_same_tallies(planted: Session) -> None:
    planted.execute(text("DELETE FROM plants WHERE id % 3 = 0"))
    kept = assert_tallies_are_the_plants_sums(planted)
    planted.execute(text("SELECT jasyl_rebuild_benefit_tallies()"))
    assert tallies(planted) == kept


def test_a_live_import_books_each_chunk_once_and_its_undo_takes_them_away(
    db: Session, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setattr(sources, "BATCH_SIZE", 4)  # ten rows merged live in three chunks
    db.execute(text("UPDATE region_precipitation SET rain_events_per_year = 40"))
    db.execute(text("SELECT jasyl_rebuild_benefit_tallies()"))
    before = assert_tallies_are_the_plants_sums(db)
    actor = Actor.system("live import test")

    report = import_file(db, actor, survey(tmp_path, "live.shp"), region="KZ-71")

    assert report.status == "done" and report.imported == 10, report.problems
    assert "write" in report.seconds  # the chunks went in as they were read
    # This transaction changed the precipitation, which a second connection would not see:
    # the chunks were booked by the trigger, in the import's own process.
    assert "benefits" not in report.seconds
    kept = assert_tallies_are_the_plants_sums(db)
    assert sum(row[0] for row in kept.values()) == sum(row[0] for row in before.values()) + 10
    undo_batch(db, actor, report.batch_id)
    assert assert_tallies_are_the_plants_sums(db) == before


def test_a_live_import_sums_its_chunks_beside_it_to_the_gram(
    db: Session, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """Revision 0031: with the reference data as committed, the chunks' figures are summed on
    a second connection while the import copies, and added to the tallies at the merge."""
    monkeypatch.setattr(sources, "BATCH_SIZE", 4)
    before = assert_tallies_are_the_plants_sums(db)
    actor = Actor.system("live import test")

    report = import_file(db, actor, survey(tmp_path, "beside.shp"), region="KZ-71")

    assert report.status == "done" and report.imported == 10, report.problems
    assert "benefits" in report.seconds  # summed beside, the trigger aside
    kept = assert_tallies_are_the_plants_sums(db)
    stored = sum(row[7] for row in kept.values()) - sum(row[7] for row in before.values())
    assert stored > 0 and sum(row[1] for row in kept.values()) >= 10
    # The trigger is back for the rest of the transaction: a plant added now is booked too.
    assert db.scalar(text("SELECT current_setting('jasyl.benefit_tallies', true)")) == ""
    db.execute(
        text(
            """INSERT INTO plants (region_id, inventory_number, species_id, planting_form, geom,
                   quantity, trunk_diameter_cm, status, address, notes)
               SELECT region_id, 'AFTER-1', species_id, planting_form, geom, 1, 30, 'alive',
                      '', '' FROM plants WHERE import_batch_id = :batch LIMIT 1"""
        ),
        {"batch": report.batch_id},
    )
    assert assert_tallies_are_the_plants_sums(db) != kept
    undo_batch(db, actor, report.batch_id)
    assert sum(row[0] for row in tallies(db).values()) == sum(r[0] for r in before.values()) + 1
