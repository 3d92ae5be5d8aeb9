"""The live merge: an all-or-nothing import merges its plants chunk by chunk while it reads.

Chunks are made small here (``BATCH_SIZE``) so that a ten-row survey is merged in three
chunks, as a million-row one is in twenty: later chunks may still refuse the file, and the
plants' book-keeping (tallies, tile versions, grid) must come out as one INSERT's would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from importers import sources, staging
from importers.services import ImportOptions, import_file
from registry.access import Actor
from registry.imports.models import ImportBatch
from registry.inventory.models import Plant
from registry.inventory.services import registry_number
from tests.factories import make_plant
from tests.import_files import ASTANA_LONLAT, points, survey_frame, write_shapefile
from tests.test_report_tallies import assert_inventory_adds_up

ADMIN = Actor.system("test live import")
SPECIES = ["Вяз приземистый", "ель колючая", "Берёза повислая", "тополь", "карагач"] * 2


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sources, "BATCH_SIZE", 4)
    return 4


def ten_rows(**overrides: list) -> dict[str, list]:
    frame = survey_frame(1)
    columns = {
        "ИНВ_НОМ": [f"L-{i + 1}" for i in range(10)],
        "ПОРОДА": SPECIES,
        "ДИАМ_СМ": [20.0 + i for i in range(10)],
        "ВЫС_М": [6.0 + i / 2 for i in range(10)],
        "СОСТ": ["хорошее", "II"] * 5,
        "ВОЗР_ЛЕТ": [10 + i for i in range(10)],
        "ПРИМ": [""] * 10,
    }
    assert set(columns) == set(frame.columns)
    return {**columns, **overrides}


def survey(tmp_path: Path, name: str, lonlat=ASTANA_LONLAT, **overrides: list) -> Path:
    frame = survey_frame(10, **ten_rows(**overrides))
    return write_shapefile(tmp_path / name, frame, geometry=points(32642, lonlat))


def registry_state(session: Session) -> dict[str, object]:
    """What an import may change: plants, batches, tallies (inventory and benefits), tile
    versions, the grid's flags, whether the benefits' trigger stands aside."""
    session.flush()
    return {
        "plants": session.scalar(select(func.count()).select_from(Plant)),
        "batches": session.scalar(select(func.count()).select_from(ImportBatch)),
        "tallies": sorted(session.execute(text("SELECT * FROM inventory_tallies")).all()),
        "benefits": sorted(session.execute(text("SELECT * FROM benefit_tallies")).all()),
        "benefit trigger": session.scalar(
            text("SELECT coalesce(current_setting('jasyl.benefit_tallies', true), '')")
        ),
        "tiles": sorted(session.execute(text("SELECT * FROM tile_versions")).all()),
        "grid": sorted(session.execute(text("SELECT region_id, dirty FROM plant_grid_state"))),
        "audit": session.scalar(text("SELECT count(*) FROM audit_log")),
    }


def cells_of_batch(session: Session, batch_id: int) -> set[tuple[int, int]]:
    query = text(
        "SELECT DISTINCT c.cx, c.cy FROM plants p, jasyl_tile_cells(p.geom_3857::box2d) c "
        "WHERE p.import_batch_id = :batch"
    )
    return {tuple(r) for r in session.execute(query, {"batch": batch_id})}


def test_chunks_merged_live_are_booked_once_like_one_insert(db, small_chunks, tmp_path) -> None:
    make_plant(db)  # the region already holds a plant, and tallies and tile versions
    db.execute(text("UPDATE plant_grid_state SET dirty = false"))
    before = registry_state(db)
    tiles_before = {(layer, cx, cy): v for layer, cx, cy, v in before["tiles"]}

    report = import_file(db, ADMIN, survey(tmp_path, "live.shp"), region="KZ-71")

    assert report.status == "done" and report.imported == 10, report.problems
    assert "merge" in report.seconds and "write" in report.seconds
    assert_inventory_adds_up(db)  # tallies moved by exactly the ten plants
    cells = cells_of_batch(db, report.batch_id)
    after = {(layer, cx, cy): v for layer, cx, cy, v in registry_state(db)["tiles"]}
    for cx, cy in cells:  # each cell bumped once, not once per chunk
        assert after[("plants", cx, cy)] == tiles_before.get(("plants", cx, cy), 0) + 1
    assert {k: v for k, v in after.items() if k[1:] not in cells} == {
        k: v for k, v in tiles_before.items() if k[1:] not in cells
    }
    assert (71, True) in registry_state(db)["grid"]
    setting = "SELECT current_setting('jasyl.plants_bookkeeping', true)"
    assert db.scalar(text(setting)) in (None, "")  # later statements book their own plants


def test_bad_last_row_refuses_the_file_after_chunks_were_merged(db, small_chunks, tmp_path):
    make_plant(db)
    before = registry_state(db)
    path = survey(tmp_path, "last.shp", ПОРОДА=[*SPECIES[:9], "Пальма кокосовая"])

    report = import_file(db, ADMIN, path, region="KZ-71")

    assert report.status == "rejected" and report.imported == 0
    assert [(p.row, p.code) for p in report.errors] == [(10, "needs_confirmation")]
    assert registry_state(db) == before


def test_number_repeated_in_the_last_chunk_is_refused(db, small_chunks, tmp_path) -> None:
    before = registry_state(db)
    numbers = [f"L-{i + 1}" for i in range(9)] + ["L-2"]
    report = import_file(db, ADMIN, survey(tmp_path, "twice.shp", ИНВ_НОМ=numbers), region="71")

    assert report.status == "rejected"
    assert sorted((p.row, p.code) for p in report.errors) == [
        (2, "duplicate_number"),
        (10, "duplicate_number"),
    ]
    assert "rows 2, 10" in report.errors[0].message
    assert registry_state(db) == before


def test_own_trees_are_not_near_each_other_but_existing_ones_are(db, small_chunks, tmp_path):
    existing = make_plant(db, inventory_number="OLD-1")  # Ulmus pumila
    lon, lat = db.execute(select(func.ST_X(existing.geom), func.ST_Y(existing.geom))).one()
    lonlat = list(ASTANA_LONLAT)
    lonlat[5] = (lon + 0.000003, lat)  # row 6, a Вяз, 0.2 m from the existing elm
    lonlat[6] = (lonlat[1][0] + 0.000003, lonlat[1][1])  # row 7 (an ель) beside row 2's
    path = survey(tmp_path, "near.shp", lonlat=lonlat)

    report = import_file(db, ADMIN, path, region="KZ-71")

    assert report.status == "done" and report.imported == 10
    assert [(p.row, p.code) for p in report.warnings] == [(6, "near_existing")]
    assert f"plant {existing.id} (OLD-1)" in report.warnings[0].message


def test_corrected_survey_in_chunks_updates_matches_and_inserts_the_rest(
    db, small_chunks, tmp_path
) -> None:
    first = import_file(db, ADMIN, survey(tmp_path, "first.shp"), region="KZ-71")
    assert first.imported == 10
    numbers = [f"L-{i + 1}" for i in range(8)] + ["L-11", "L-12"]
    heights = [6.0 + i / 2 for i in range(10)]
    heights[6] = 15.5  # L-7 re-measured
    path = survey(tmp_path, "second.shp", ИНВ_НОМ=numbers, ВЫС_М=heights)

    report = import_file(db, ADMIN, path, region="KZ-71")

    assert (report.imported, report.updated, report.unchanged) == (2, 1, 7), report.problems
    assert db.scalar(select(func.count()).select_from(Plant)) == 12
    seventh = db.scalar(select(Plant).where(Plant.inventory_number == "L-7"))
    assert float(seventh.height_m) == 15.5 and seventh.version == 2
    assert seventh.import_batch_id == report.batch_id
    assert_inventory_adds_up(db)


def test_partial_and_dry_runs_stage_first_and_merge_after(db, small_chunks, tmp_path) -> None:
    # A bad height, not a species to confirm: that stops even a partial import.
    heights = [6.0 + i / 2 for i in range(9)] + [95.0]
    path = survey(tmp_path, "partial.shp", ВЫС_М=heights)
    before = registry_state(db)
    dry = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(dry_run=True))
    assert dry.status == "dry_run" and registry_state(db) == before
    options = ImportOptions(allow_partial=True)
    report = import_file(db, ADMIN, path, region="KZ-71", options=options)
    assert report.status == "done" and (report.imported, report.rejected) == (9, 1)
    assert_inventory_adds_up(db)


def test_booking_bumps_the_cells_of_points_hedges_and_massifs_alike(db) -> None:
    """``jasyl_book_imported_plants`` names a point's cell directly and a hedge's or massif's
    through its box (revision 0019): the same cells as ``jasyl_tile_cells`` for every plant."""
    batch = db.scalar(
        text(
            "INSERT INTO import_batches (file_name, file_sha256, source, status, rows_read,"
            " rows_imported, rows_updated, rows_rejected, warnings, details)"
            " VALUES ('book.gpkg', 'x', 'file', 'running', 0, 0, 0, 0, 0, '{}') RETURNING id"
        )
    )
    shapes = {
        "solitary": "POINT(71.43 51.128)",
        "group": "POINT(71.52 51.16)",
        "hedge": "LINESTRING(71.40 51.12, 71.47 51.15)",
        "massif": "POLYGON((71.44 51.13, 71.46 51.13, 71.46 51.14, 71.44 51.13))",
    }
    db.execute(text("SELECT set_config('jasyl.plants_bookkeeping', 'deferred', true)"))
    for number, (form, wkt) in enumerate(shapes.items()):
        db.execute(
            text(
                "INSERT INTO plants (region_id, inventory_number, species_id, planting_form, geom,"
                " quantity, condition, status, address, notes, import_batch_id)"
                " SELECT r.id, :number, s.id, CAST(:form AS planting_form),"
                " ST_GeomFromText(:wkt, 4326), 1, 2, 'alive', '', '', :batch"
                " FROM regions r, species s WHERE r.iso_code = 'KZ-71' AND s.latin = 'Ulmus pumila'"
            ),
            {"number": f"BOOK-{number}", "form": form, "wkt": wkt, "batch": batch},
        )
    db.execute(text("SELECT set_config('jasyl.plants_bookkeeping', '', true)"))
    before = {(cx, cy): v for layer, cx, cy, v in registry_state(db)["tiles"] if layer == "plants"}

    db.execute(text("SELECT jasyl_book_imported_plants(:batch)"), {"batch": batch})

    after = {(cx, cy): v for layer, cx, cy, v in registry_state(db)["tiles"] if layer == "plants"}
    bumped = {cell for cell, version in after.items() if version != before.get(cell, 0)}
    assert bumped == cells_of_batch(db, batch)
    assert len(bumped) > len(shapes)  # the hedge and the massif span several cells


PLANT_VALUES = text(
    "SELECT species_id, planting_form::text, ST_AsEWKT(geom), quantity, planting_year, "
    "age_years, height_m, trunk_diameter_cm, condition, hazardous, status::text, address, notes, "
    "region_id, updated_by, version, published FROM plants WHERE import_batch_id = :batch "
    "ORDER BY ST_X(geom)"
)


def test_new_plants_copied_live_equal_those_merged_from_staging(db, small_chunks, tmp_path):
    """New plants, numbered or not, go straight into plants by COPY: they hold what the staged
    merge of an --allow-partial import holds, to the last digit and character, and unnumbered
    plants are numbered from their ids."""
    notes = ["дупло\tс гнилью \\ «старое»", "", "берёза; ёлка", *[""] * 7]
    numbers = ["L-1", "", "L-3", "", "L-5", "L-6", "", "L-8", "L-9", ""]
    heights = [6.04, 6.05, 6.15, 7.25, 8.0, 8.5, 9.0, 9.5, 10.0, 10.5]
    live = import_file(
        db,
        ADMIN,
        survey(tmp_path, "live.shp", ИНВ_НОМ=numbers, ПРИМ=notes, ВЫС_М=heights),
        region="71",
    )
    staged = import_file(
        db,
        ADMIN,
        survey(
            tmp_path,
            "staged.shp",
            ИНВ_НОМ=[f"S-{n}" if n else "" for n in numbers],
            ПРИМ=notes,
            ВЫС_М=heights,
        ),
        region="KZ-71",
        options=ImportOptions(allow_partial=True),
    )

    assert (live.status, live.imported, staged.imported) == ("done", 10, 10), live.problems
    copied = db.execute(PLANT_VALUES, {"batch": live.batch_id}).all()
    merged = db.execute(PLANT_VALUES, {"batch": staged.batch_id}).all()
    assert copied == merged
    assert copied[0].notes == notes[0]
    kato = db.scalar(text("SELECT kato FROM regions WHERE id = 71"))
    plants = db.execute(
        text("SELECT id, inventory_number FROM plants WHERE import_batch_id = :b ORDER BY id"),
        {"b": live.batch_id},
    ).all()
    given = {n for n in numbers if n}
    assert {n for _, n in plants if n in given} == given
    assert sorted(n for i, n in plants if n not in given) == sorted(
        f"{kato}-{i:08d}" for i, n in plants if n not in given
    )
    assert_inventory_adds_up(db)


def test_corrected_survey_of_known_plants_only_updates_them(db, small_chunks, tmp_path) -> None:
    """Every number known to the region: the live import inserts nothing and updates those
    that changed."""
    first = import_file(db, ADMIN, survey(tmp_path, "first.shp"), region="KZ-71")
    heights = [6.0 + i / 2 for i in range(10)]
    heights[2] = heights[8] = 20.0
    path = survey(tmp_path, "again.shp", ВЫС_М=heights)

    report = import_file(db, ADMIN, path, region="KZ-71")

    assert report.status == "done", report.problems
    assert (report.imported, report.updated, report.unchanged) == (0, 2, 8)
    assert db.scalar(select(func.count()).select_from(Plant)) == 10
    moved = db.scalars(select(Plant.inventory_number).where(Plant.height_m == 20)).all()
    assert sorted(moved) == ["L-3", "L-9"] and first.batch_id != report.batch_id
    assert_inventory_adds_up(db)


@pytest.mark.parametrize("plant_id", [7, 12_345_678, 123_456_789, 10**12])
def test_registry_numbers_are_the_same_in_sql_and_python(db, plant_id: int) -> None:
    """Staged imports number plants in SQL, live ones and the map's form in Python."""
    query = text(
        f"SELECT '710000000' || '-' || {staging.REGISTRY_NUMBER} FROM (SELECT :id AS id) n"
    )
    number = db.scalar(query, {"id": plant_id})
    assert number == registry_number("710000000", plant_id)
    assert number.endswith(str(plant_id))  # long ids are never cut
