"""The survey importer on real files built with GDAL: encodings, CRSs, formats, stored values."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from importers.services import ImportOptions, import_file, undo_batch
from importers.sources import SourceError
from registry.access import Actor
from registry.db import unit_of_work
from registry.errors import AccessDenied, InvalidValue
from registry.imports.models import ImportBatch
from registry.inventory.models import Plant
from registry.inventory.services import update_plant
from registry.species.models import Species
from tests.factories import forester
from tests.import_files import ASTANA_LONLAT, points, survey_frame, write_shapefile

ADMIN = Actor.system("test import")


def stored(db) -> dict[str, tuple]:
    rows = db.execute(
        select(
            Plant.inventory_number,
            Species.latin,
            Plant.height_m,
            Plant.trunk_diameter_cm,
            Plant.condition,
            Plant.hazardous,
            Plant.age_years,
            Plant.notes,
            Plant.region_id,
            func.ST_X(Plant.geom),
            func.ST_Y(Plant.geom),
        ).join(Species, Species.id == Plant.species_id)
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def assert_astana_survey(db, report) -> None:
    assert report.status == "done" and report.imported == 3 and not report.errors
    plants = stored(db)
    assert plants["A-1"][:7] == ("Ulmus pumila", 8.5, 24.0, 1, False, 20, "у школы №5")
    assert plants["A-2"][:4] == ("Picea pungens", 12.0, 30.0, 2)
    assert plants["A-3"][0] == "Betula pendula" and plants["A-3"][3:5] == (4, True)
    assert plants["A-3"][6] == "двор" and plants["A-1"][7] == 71
    x, y = plants["A-1"][8:]
    assert x == pytest.approx(ASTANA_LONLAT[0][0], abs=1e-6)
    assert y == pytest.approx(ASTANA_LONLAT[0][1], abs=1e-6)


def test_cp1251_shapefile_without_cpg_utm(db, tmp_path: Path) -> None:
    path = write_shapefile(tmp_path / "деревья.shp", survey_frame(), epsg=32642)
    report = import_file(db, ADMIN, path, region="KZ-71")
    assert report.encoding == "cp1251 (detected)" and report.crs == "EPSG:32642"
    assert_astana_survey(db, report)
    batch = db.get(ImportBatch, report.batch_id)
    assert (batch.status, batch.rows_read, batch.rows_imported) == ("done", 3, 3)
    assert batch.encoding == "cp1251 (detected)" and batch.crs == "EPSG:32642"


def test_cp866_with_ldid_byte_and_pulkovo_gauss_kruger(db, tmp_path: Path) -> None:
    path = write_shapefile(
        tmp_path / "survey.shp", survey_frame(), epsg=28412, encoding="cp866", ldid=0x65
    )
    report = import_file(db, ADMIN, path, region="Астана")
    assert report.encoding == "cp866 (DBF language byte 0x65)"
    assert report.crs == "EPSG:28412"
    assert report.status == "done"
    plants = stored(db)
    assert plants["A-1"][0] == "Ulmus pumila" and plants["A-1"][6] == "у школы №5"
    # Pulkovo 1942 → WGS 84 shifts by metres at most
    assert plants["A-1"][8] == pytest.approx(ASTANA_LONLAT[0][0], abs=2e-4)


def test_kazakh_text_in_kz1048_with_cpg(db, tmp_path: Path) -> None:
    frame = survey_frame(
        ПОРОДА=["аласа қарағаш", "Қарағай", "қайың"],
        СОСТ=["жақсы", "қанағаттанарлық", "апатты"],
        ПРИМ=["Әлихан Бөкейхан көшесі", "", "Ұлы Дала"],
    )
    path = write_shapefile(tmp_path / "kk.shp", frame, encoding="RK1048", cpg=True)
    report = import_file(db, ADMIN, path, region="KZ-71")
    assert report.status == "done", report.problems
    assert report.encoding.startswith("kz1048")
    plants = stored(db)
    assert plants["A-1"][6] == "Әлихан Бөкейхан көшесі" and plants["A-3"][6] == "Ұлы Дала"
    assert plants["A-1"][0] == "Ulmus pumila" and plants["A-2"][3] == 2
    assert plants["A-3"][3:5] == (4, True)


def test_zip_holding_a_utf8_shapefile_with_english_fields(db, tmp_path: Path) -> None:
    english = ["INV_NO", "SPECIES", "DBH_CM", "HEIGHT_M", "COND", "AGE", "NOTES"]
    frame = survey_frame()
    frame.columns = english
    write_shapefile(tmp_path / "trees.shp", frame, encoding="UTF-8", cpg=True)
    archive = tmp_path / "survey.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in tmp_path.glob("trees.*"):
            zipped.write(part, f"Опись/{part.name}")
    report = import_file(db, ADMIN, archive, region="71")
    assert report.file_name == "survey.zip"
    assert_astana_survey(db, report)


def test_geopackage_with_layer_and_circumference(db, tmp_path: Path) -> None:
    import geopandas

    frame = survey_frame().rename(columns={"ДИАМ_СМ": "Обхват ствола, см"})
    frame["Обхват ствола, см"] = [75.4, 94.2, 58.1]
    path = tmp_path / "survey.gpkg"
    geoms = points(32642, ASTANA_LONLAT[:3])
    geopandas.GeoDataFrame(frame, geometry=geoms, crs=32642).to_file(path, layer="trees")
    geopandas.GeoDataFrame(frame, geometry=geoms, crs=32642).to_file(path, layer="old")
    with pytest.raises(
        SourceError, match=r"holds 2 layers \(trees, old\); choose one with --layer"
    ):
        import_file(db, ADMIN, path, region="KZ-71")
    report = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(layer="trees"))
    assert report.status == "done"
    assert stored(db)["A-1"][2] == 24.0  # 75.4 cm around the trunk


def test_csv_semicolons_decimal_commas_lonlat(db, tmp_path: Path) -> None:
    lines = ["Инв. №;Порода;Диаметр, см;Высота, м;Состояние;lon;lat"]
    for i, (x, y) in enumerate(ASTANA_LONLAT[:2]):
        lon, lat = f"{x:.6f}".replace(".", ","), f"{y:.6f}".replace(".", ",")
        lines.append(f"C-{i};Вяз приземистый;24,5;8,5;хорошее;{lon};{lat}")
    path = tmp_path / "опись.csv"
    path.write_bytes("\n".join(lines).encode("cp1251"))
    report = import_file(db, ADMIN, path, region="KZ-71")
    assert report.status == "done" and report.encoding == "cp1251 (detected)"
    assert report.crs == "EPSG:4326"
    assert [p.code for p in report.warnings] == ["assumed_crs"]
    assert stored(db)["C-0"][:3] == ("Ulmus pumila", 8.5, 24.5)


def test_xlsx_with_utm_columns_and_crs_option(db, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["№", "Species", "DBH_MM", "Height", "Condition", "X", "Y"])
    for i, p in enumerate(points(32642, ASTANA_LONLAT[:2])):
        sheet.append([i + 1, "Ulmus pumila L.", 245, 8.5, "IV", p.x, p.y])
    path = tmp_path / "survey.xlsx"
    book.save(path)
    report = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(crs="32642"))
    assert report.status == "done", report.problems
    assert stored(db)["1"][:5] == ("Ulmus pumila", 8.5, 24.5, 4, False)


def test_reimport_updates_by_inventory_number(db, tmp_path: Path) -> None:
    first = write_shapefile(tmp_path / "a.shp", survey_frame())
    initial = import_file(db, ADMIN, first, region="KZ-71")
    assert initial.imported == 3
    first_batch = initial.batch_id
    again = import_file(db, ADMIN, first, region="KZ-71")
    assert again.status == "unchanged"
    corrected = survey_frame(ВЫС_М=[9.5, 12.0, 9.0])
    second = write_shapefile(tmp_path / "b.shp", corrected, geometry=None)
    report = import_file(db, ADMIN, second, region="KZ-71")
    assert (report.imported, report.updated, report.unchanged) == (0, 1, 2)
    assert db.scalar(select(func.count()).select_from(Plant)) == 3
    plant = db.scalar(select(Plant).where(Plant.inventory_number == "A-1"))
    assert float(plant.height_m) == 9.5 and plant.version == 2
    assert plant.import_batch_id == report.batch_id
    assert undo_batch(db, ADMIN, report.batch_id) == (1, 0)
    db.expire_all()
    restored = db.scalar(select(Plant).where(Plant.inventory_number == "A-1"))
    assert float(restored.height_m) == 8.5 and restored.import_batch_id == first_batch
    assert db.get(ImportBatch, report.batch_id).status == "undone"
    assert undo_batch(db, ADMIN, first_batch) == (0, 3)
    assert db.scalar(select(func.count()).select_from(Plant)) == 0


def test_undo_refuses_to_lose_a_forester_edit(clean, tmp_path: Path) -> None:
    path = write_shapefile(tmp_path / "a.shp", survey_frame())
    with unit_of_work(clean) as session:
        batch_id = import_file(session, ADMIN, path, region="71").batch_id
    with unit_of_work(clean) as session:  # a later transaction: a later clock
        plant = session.scalar(select(Plant).where(Plant.inventory_number == "A-2"))
        update_plant(session, ADMIN, plant.id, plant.version, {"height_m": 11})
    changed = rf"1 plant\(s\) of batch {batch_id} were changed"
    with unit_of_work(clean) as session, pytest.raises(InvalidValue, match=changed):
        undo_batch(session, ADMIN, batch_id)


def test_forester_imports_only_into_own_region(db, tmp_path: Path) -> None:
    path = write_shapefile(tmp_path / "a.shp", survey_frame())
    with pytest.raises(AccessDenied, match="may not import plants in region 75"):
        import_file(db, forester(db, "KZ-71"), path, region="KZ-75")
    report = import_file(db, forester(db, "KZ-71"), path, region="KZ-71")
    assert report.imported == 3


def test_geojson_lines_become_rows_of_trees(db, tmp_path: Path) -> None:
    import geopandas
    import shapely

    frame = survey_frame(rows=2, ФОРМА=["живая изгородь", "рядовая"], ДЛИНА_М=[12.5, 40])
    a, b, c = ASTANA_LONLAT[:3]
    lines = [shapely.LineString([a, b]), shapely.LineString([b, c])]
    path = tmp_path / "hedges.geojson"
    geopandas.GeoDataFrame(frame, geometry=lines, crs=4326).to_file(path, driver="GeoJSON")
    report = import_file(db, ADMIN, path, region="KZ-71")
    assert report.status == "done" and report.crs == "EPSG:4326"
    rows = db.execute(select(Plant.planting_form, Plant.length_m).order_by(Plant.inventory_number))
    assert [(f.value, float(n)) for f, n in rows] == [("hedge", 12.5), ("row", 40.0)]


@pytest.mark.parametrize(
    ("encoding", "ldid", "expected"),
    [
        ("RK1048", None, "kz1048 (detected)"),
        ("cp866", None, "cp866 (detected)"),
        ("UTF-8", None, "utf-8 (detected)"),
        ("cp1251", 0xC9, "cp1251 (DBF language byte 0xC9)"),
    ],
)
def test_encoding_without_cpg(db, tmp_path: Path, encoding, ldid, expected) -> None:
    frame = survey_frame(ПРИМ=["Қабанбай батыр даңғылы", "", "Ұлы Дала"])
    if encoding != "RK1048":
        frame["ПРИМ"] = ["Кабанбай батыра проспект", "", "двор"]
    frame.columns = ["INV", "SPECIES", "DBH_CM", "H_M", "COND", "AGE", "NOTES"]
    path = write_shapefile(tmp_path / "e.shp", frame, encoding=encoding, ldid=ldid)
    report = import_file(db, ADMIN, path, region="KZ-71")
    assert report.status == "done" and report.encoding == expected
    assert stored(db)["A-1"][6] == frame["NOTES"][0]
