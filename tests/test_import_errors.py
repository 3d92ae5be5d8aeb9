"""Bad survey files: each gives its exact error and leaves the registry as it was."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import shapely
from sqlalchemy import func, select

from importers.services import ImportOptions, import_file
from importers.vocabulary import CONDITIONS
from registry.access import Actor
from registry.audit.models import AuditEntry
from registry.errors import JasylError
from registry.imports.models import ImportBatch
from registry.inventory.models import Plant
from tests.factories import make_plant
from tests.import_files import ALMATY_LONLAT, ASTANA_LONLAT, points, survey_frame, write_shapefile

ADMIN = Actor.system("test import")
NOT_A_CONDITION = (
    "is not on the sanitary scale: use I–VI, 1–6 or a word in any form "
    f"({CONDITIONS.accepted()}), or translate it in the mapping's [values.condition]"
)


def counts(db) -> tuple[int, int, int]:
    return tuple(
        db.scalar(select(func.count()).select_from(t)) for t in (Plant, ImportBatch, AuditEntry)
    )


@pytest.fixture
def unchanged(db):
    """Asserts after the test that no plant, batch or audit entry was added."""
    make_plant(db, inventory_number="A-1")
    before = counts(db)
    yield db
    assert counts(db) == before


def rejected(db, path: Path, **options) -> list[tuple]:
    report = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(**options))
    assert report.status == "rejected" and report.batch_id is None
    return [(p.row, p.field, p.value, p.code, p.message) for p in report.errors]


def file_error(db, path: Path, **options) -> str:
    with pytest.raises(JasylError) as caught:
        import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(**options))
    return caught.value.message


# -- row errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("column", "bad", "expected"),
    [
        ("ДИАМ_СМ", -5.0, ("ДИАМ_СМ", "-5.0", "invalid_value", "must be greater than zero")),
        ("ДИАМ_СМ", 0.0, ("ДИАМ_СМ", "0.0", "invalid_value", "must be greater than zero")),
        (
            "ВЫС_М",
            95.0,
            (
                "ВЫС_М",
                "95.0",
                "invalid_value",
                "exceeds the plausible maximum of 25.0 for вяз приземистый (Ulmus pumila)",
            ),
        ),
        ("ВОЗР_ЛЕТ", 900, ("ВОЗР_ЛЕТ", "900", "invalid_value", "must lie between 0 and 800")),
        ("СОСТ", "синее", ("СОСТ", "синее", "invalid_value", NOT_A_CONDITION)),
        ("СОСТ", "VII", ("СОСТ", "VII", "invalid_value", NOT_A_CONDITION)),
        (
            "ПОРОДА",
            "баобаб",
            (
                "ПОРОДА",
                "баобаб",
                "needs_confirmation",
                "needs confirmation: is not in the catalogue and no species is close. Confirm "
                "the species in the mapping's [species] (jasyl import FILE --dry-run "
                "--write-mapping MAP.toml writes the proposals) or add it to the catalogue "
                "(jasyl species add)",
            ),
        ),
    ],
)
def test_bad_value_rejects_the_file(unchanged, tmp_path: Path, column, bad, expected) -> None:
    frame = survey_frame()
    frame[column] = frame[column].astype(object)
    frame.loc[0, column] = bad
    errors = rejected(unchanged, write_shapefile(tmp_path / "bad.shp", frame))
    assert errors == [(1, *expected)]


def test_small_misspellings_are_proposed_not_taken(unchanged, tmp_path: Path) -> None:
    """A near spelling is probably the species it is near, but only a person may say so
    (issue #17: near misses across genera were stored as another species)."""
    frame = survey_frame(ПОРОДА=["Вяз призимистый", "ель колючая", "берёза повисла"])
    path = write_shapefile(tmp_path / "s.shp", frame)
    report = import_file(
        unchanged, ADMIN, path, region="KZ-71", options=ImportOptions(dry_run=True)
    )
    assert [(p.row, p.code) for p in report.errors] == [
        (1, "needs_confirmation"),
        (3, "needs_confirmation"),
    ]
    first = {p.written: p.candidates[0].species.code for p in report.proposals}
    assert first == {"Вяз призимистый": "ulmus_pumila", "берёза повисла": "betula_pendula"}


def test_text_in_numeric_column_and_duplicates(unchanged, tmp_path: Path) -> None:
    frame = survey_frame(ИНВ_НОМ=["A-7", "A-7", "A-9"], ДИАМ_СМ=["24", "18,5", "тридцать"])
    errors = rejected(unchanged, write_shapefile(tmp_path / "d.shp", frame))
    twice = "the inventory number appears 2 times in this file (rows 1, 2)"
    assert errors == [
        (1, "inventory_number", "A-7", "duplicate_number", twice),
        (2, "inventory_number", "A-7", "duplicate_number", twice),
        (3, "ДИАМ_СМ", "тридцать", "invalid_value", "is not a number"),
    ]


def test_points_in_another_region_and_outside_kazakhstan(unchanged, tmp_path: Path) -> None:
    lonlat = [ASTANA_LONLAT[0], ALMATY_LONLAT, (37.6173, 55.7558)]
    path = write_shapefile(
        tmp_path / "far.shp", survey_frame(), epsg=4326, geometry=points(4326, lonlat)
    )
    assert rejected(unchanged, path) == [
        (
            2,
            "geometry",
            None,
            "outside_region",
            "lies in Almaty (KZ-75), not in Astana (KZ-71) (lon 76.92860, lat 43.23890)",
        ),
        (
            3,
            "geometry",
            None,
            "outside_kazakhstan",
            "lies outside Kazakhstan's regions (lon 37.61730, lat 55.75580)",
        ),
    ]


def test_swapped_lon_lat(unchanged, tmp_path: Path) -> None:
    lonlat = [ASTANA_LONLAT[0], (51.1282, 71.4304), ASTANA_LONLAT[2]]
    geoms = [shapely.Point(x, y) for x, y in lonlat]
    path = write_shapefile(tmp_path / "sw.shp", survey_frame(), epsg=4326, geometry=geoms)
    assert rejected(unchanged, path) == [
        (
            2,
            "geometry",
            "51.12820 71.43040",
            "swapped_coordinates",
            "lies outside Kazakhstan; longitude and latitude look swapped",
        ),
    ]


def test_empty_and_self_intersecting_geometry(unchanged, tmp_path: Path) -> None:
    x, y = points(32642, ASTANA_LONLAT[:1])[0].coords[0]
    bowtie = shapely.Polygon([(x, y), (x + 10, y + 10), (x + 10, y), (x, y + 10)])
    square = shapely.box(x, y, x + 5, y + 5)
    path = write_shapefile(
        tmp_path / "poly.shp", survey_frame(), geometry=[shapely.Polygon(), bowtie, square]
    )
    errors = rejected(unchanged, path)
    assert errors[0] == (1, "geometry", None, "invalid_geometry", "a location is required")
    assert errors[1][:2] == (2, "geometry") and errors[1][3:] == (
        "invalid_geometry",
        "the geometry is not valid (self-intersecting or broken)",
    )
    assert len(errors) == 2


def test_allow_partial_writes_good_rows_only(db, tmp_path: Path) -> None:
    frame = survey_frame(ВЫС_М=[8.5, "восемь", 9.0])
    path = write_shapefile(tmp_path / "p.shp", frame)
    report = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(allow_partial=True))
    assert (report.status, report.imported, report.rejected) == ("done", 2, 1)
    numbers = set(db.scalars(select(Plant.inventory_number)))
    assert numbers == {"A-1", "A-3"}
    batch = db.get(ImportBatch, report.batch_id)
    assert batch.rows_rejected == 1 and batch.details["problems"][0]["value"] == "восемь"


def test_a_species_to_confirm_stops_even_a_partial_import(db, tmp_path: Path) -> None:
    """Its rows could never come in later: the same file again is "already imported"."""
    frame = survey_frame(ПОРОДА=["Вяз приземистый", "баобаб", "Берёза повислая"])
    path = write_shapefile(tmp_path / "p.shp", frame)
    report = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(allow_partial=True))
    assert (report.status, report.imported, report.batch_id) == ("rejected", 0, None)
    assert [p.written for p in report.proposals] == ["баобаб"]
    assert set(db.scalars(select(Plant.inventory_number))) == set()


def test_dry_run_writes_nothing(unchanged, tmp_path: Path) -> None:
    path = write_shapefile(tmp_path / "ok.shp", survey_frame(ИНВ_НОМ=["B-1", "B-2", "B-3"]))
    report = import_file(
        unchanged, ADMIN, path, region="KZ-71", options=ImportOptions(dry_run=True)
    )
    assert report.status == "dry_run" and report.rows_read == 3 and not report.errors


def test_conflict_with_a_forester_edit_is_kept(db, tmp_path: Path) -> None:
    make_plant(db, inventory_number="A-2")  # entered by hand in Jasyl
    path = write_shapefile(tmp_path / "c.shp", survey_frame())
    report = import_file(db, ADMIN, path, region="KZ-71")
    assert (report.imported, report.conflicts) == (2, 1)
    assert report.warnings[0].message.endswith(
        "was changed in Jasyl after its last import; kept as it is, this row was not applied"
    )
    kept = db.scalar(select(Plant).where(Plant.inventory_number == "A-2"))
    assert float(kept.height_m) == 8.5 and kept.import_batch_id is None


# -- file errors ----------------------------------------------------------------------------------
def test_zero_byte_missing_and_unknown_files(unchanged, tmp_path: Path) -> None:
    (tmp_path / "empty.shp").write_bytes(b"")
    assert file_error(unchanged, tmp_path / "empty.shp") == "empty.shp: the file is empty (0 bytes)"
    assert file_error(unchanged, tmp_path / "nope.shp") == "nope.shp: no such file"
    (tmp_path / "a.dwg").write_bytes(b"x")
    assert file_error(unchanged, tmp_path / "a.dwg").startswith(
        "a.dwg: unsupported file type .dwg; use .csv, .geojson"
    )


def test_missing_dbf_and_shx(unchanged, tmp_path: Path) -> None:
    path = write_shapefile(tmp_path / "a.shp", survey_frame())
    path.with_suffix(".shx").unlink()
    assert file_error(unchanged, path) == "a.shp: the .shx index file is missing next to the .shp"
    path = write_shapefile(tmp_path / "b.shp", survey_frame())
    path.with_suffix(".dbf").unlink()
    assert file_error(unchanged, path) == "b.shp: the .dbf file (the attribute table) is missing"


def test_truncated_dbf(unchanged, tmp_path: Path) -> None:
    path = write_shapefile(tmp_path / "t.shp", survey_frame())
    path.with_suffix(".dbf").write_bytes(path.with_suffix(".dbf").read_bytes()[:20])
    assert file_error(unchanged, path) == "t.dbf: the .dbf file is truncated (no header)"


def test_missing_prj_with_utm_coordinates_suggests_crs(unchanged, tmp_path: Path) -> None:
    path = write_shapefile(tmp_path / "n.shp", survey_frame(), prj=False)
    message = file_error(unchanged, path)
    assert message.startswith(
        "n.shp: the file has no coordinate system (.prj or metadata) and its coordinates look "
        "projected (x "
    )
    assert message.endswith("; pass --crs (likely: EPSG:32642 (WGS 84 / UTM zone 42N))")


def test_unknown_crs_option(unchanged, tmp_path: Path) -> None:
    path = write_shapefile(tmp_path / "u.shp", survey_frame())
    assert file_error(unchanged, path, crs="99999") == (
        "--crs: unknown coordinate system '99999' (give an EPSG code)"
    )


def test_cp866_text_with_a_lying_cpg_is_refused(unchanged, tmp_path: Path) -> None:
    path = write_shapefile(tmp_path / "l.shp", survey_frame(), encoding="cp866")
    path.with_suffix(".cpg").write_text("1251")
    message = file_error(unchanged, path)
    assert message.startswith("l.dbf: the text reads only ")
    assert message.endswith(
        "as text in cp1251 (from .cpg '1251'); pass --encoding (cp1251, cp866, kz1048 or utf-8)"
    )


def test_unknown_encoding_option(unchanged, tmp_path: Path) -> None:
    path = write_shapefile(tmp_path / "e.shp", survey_frame())
    assert file_error(unchanged, path, encoding="koi9") == (
        "unknown encoding 'koi9'; use one of utf-8, cp1251, kz1048, cp866"
    )


def test_binary_garbage_is_not_guessed(unchanged, tmp_path: Path) -> None:
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes(range(128, 256)) * 20)
    assert file_error(unchanged, path).startswith(
        "junk.csv: cannot tell the text encoding with confidence"
    )


def test_zip_with_two_shapefiles(unchanged, tmp_path: Path) -> None:
    write_shapefile(tmp_path / "a.shp", survey_frame())
    write_shapefile(tmp_path / "b.shp", survey_frame())
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in sorted(tmp_path.glob("[ab].*")):
            zipped.write(part, part.name)
    assert file_error(unchanged, archive) == (
        "two.zip: the ZIP holds 2 surveys (a.shp, b.shp); import them one at a time"
    )


def test_no_species_column_names_the_columns_seen(unchanged, tmp_path: Path) -> None:
    frame = survey_frame().drop(columns=["ПОРОДА"])
    assert file_error(unchanged, write_shapefile(tmp_path / "x.shp", frame)) == (
        "x.shp: no column holds the species (columns seen: ИНВ_НОМ, ДИАМ_СМ, ВЫС_М, СОСТ, "
        'ВОЗР_ЛЕТ, ПРИМ); name it in a mapping file: [columns] species = "<column>"'
    )


def test_csv_without_coordinates_and_ragged_rows(unchanged, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("Порода;Высота\nВяз;5\n", encoding="utf-8")
    assert file_error(unchanged, path) == (
        'c.csv: no location columns: X and Y (or lon and lat), one "lat, lon" column or a '
        'WKT column; name them in a mapping file ([columns] x = "…" and y = "…", '
        'lat_lon = "…" or wkt = "…"); columns seen: Порода, Высота'
    )
    path.write_text("Порода;Высота;lon;lat\nВяз;5;71.4\n", encoding="utf-8")
    assert file_error(unchanged, path) == (
        "c.csv: record 1 has 3 cells, the header has 4 (delimiter ';')"
    )


def test_plant_within_a_metre_of_the_same_species(db, tmp_path: Path) -> None:
    existing = make_plant(db, inventory_number="OLD-1", geom=shapely.Point(ASTANA_LONLAT[0]))
    near = [(ASTANA_LONLAT[0][0] + 0.000005, ASTANA_LONLAT[0][1]), *ASTANA_LONLAT[1:3]]
    path = write_shapefile(tmp_path / "near.shp", survey_frame(), geometry=points(32642, near))
    check = ImportOptions(dry_run=True)
    report = import_file(db, ADMIN, path, region="KZ-71", options=check)
    assert report.status == "dry_run" and not report.errors
    assert [(p.row, p.code, p.message) for p in report.warnings] == [
        (
            1,
            "near_existing",
            f"lies 0.35 m from plant {existing.id} (OLD-1) of the same species; "
            "the same tree surveyed again?",
        ),
    ]
    strict = ImportOptions(near_is_error=True)
    assert rejected_rows(db, path, strict) == [1]


def test_plant_within_a_metre_of_an_existing_hedge(db, tmp_path: Path) -> None:
    """The distance to a hedge is to its nearest point; a plant further off is no neighbour."""
    lon, lat = ASTANA_LONLAT[0]
    hedge = make_plant(
        db,
        inventory_number="HEDGE-1",
        planting_form="hedge",
        quantity=40,
        geom=shapely.LineString([(lon - 0.0003, lat + 0.000004), (lon + 0.0003, lat + 0.000004)]),
    )
    make_plant(db, inventory_number="FAR-1", geom=shapely.Point(lon, lat + 0.0001))  # 11 m
    path = write_shapefile(
        tmp_path / "hedge.shp", survey_frame(), geometry=points(32642, ASTANA_LONLAT[:3])
    )
    report = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(dry_run=True))
    assert [(p.row, p.code) for p in report.warnings] == [(1, "near_existing")]
    assert f"lies 0.45 m from plant {hedge.id} (HEDGE-1)" in report.warnings[0].message


def rejected_rows(db, path: Path, options: ImportOptions) -> list[int]:
    report = import_file(db, ADMIN, path, region="KZ-71", options=options)
    assert report.status == "rejected"
    return [p.row for p in report.errors]


def test_truncated_shp(unchanged, tmp_path: Path) -> None:
    path = write_shapefile(tmp_path / "cut.shp", survey_frame())
    path.write_bytes(path.read_bytes()[:150])
    assert file_error(unchanged, path) == (
        "cut.shp: the file is truncated (150 of 184 bytes; 1 of 3 shapes complete)"
    )


def test_shapefile_without_records(unchanged, tmp_path: Path) -> None:
    path = write_shapefile(tmp_path / "none.shp", survey_frame().iloc[:0], geometry=[])
    assert file_error(unchanged, path) == "none.shp: the file holds no records"


def test_utf8_text_under_a_cp1251_cpg_is_refused(unchanged, tmp_path: Path) -> None:
    frame = survey_frame()
    frame.columns = ["INV", "SPECIES", "DBH_CM", "H_M", "COND", "AGE", "NOTES"]
    path = write_shapefile(tmp_path / "m.shp", frame, encoding="UTF-8")
    path.with_suffix(".cpg").write_text("CP1251")
    message = file_error(unchanged, path)
    assert message.startswith("m.dbf: the text reads only ")
    assert "as text in cp1251 (from .cpg 'CP1251')" in message


def test_self_touching_ring_is_repaired_and_said_so(db, tmp_path: Path) -> None:
    x, y = points(32642, ASTANA_LONLAT[:1])[0].coords[0]
    ring = [(0, 0), (10, 0), (10, 10), (5, 10), (7, 5), (3, 5), (5, 10), (0, 10)]
    pinched = shapely.Polygon([(x + a, y + b) for a, b in ring])
    frame = survey_frame(rows=1, ФОРМА=["группа"])
    path = write_shapefile(tmp_path / "pinch.shp", frame, geometry=[pinched])
    report = import_file(db, ADMIN, path, region="KZ-71")
    assert report.status == "done" and report.imported == 1
    assert [(p.row, p.code, p.message) for p in report.warnings] == [
        (
            1,
            "repaired_geometry",
            "the geometry was not valid and was repaired without changing its shape type",
        ),
    ]
    assert db.scalar(select(func.ST_IsValid(Plant.geom))) is True


def test_session_stays_usable_after_a_refused_file(db, tmp_path: Path) -> None:
    path = write_shapefile(tmp_path / "n.shp", survey_frame(), prj=False)
    with pytest.raises(JasylError):
        import_file(db, ADMIN, path, region="KZ-71")
    report = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(crs="32642"))
    assert report.status == "done" and report.imported == 3
