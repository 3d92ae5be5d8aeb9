"""Which column became which field, said on every report; the mapping format; file-level errors.

Files are generated here as contractors and foreign inventories shape them: `;` CSVs with one
"lat, lon" column or a WKT column, genus and species in two columns, a survey date beside the
number and species codes beside the names, a layer mixing parks with trees, a UTF-8 CSV over the
2 MB encoding sample. Each test asserts what was stored (or that nothing was) and what was said.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from sqlalchemy import func, select

from importers.crs import ewkb_4326, type_names
from importers.fields import MAPPING_EXAMPLE, MappingError
from importers.services import ImportOptions, import_file
from importers.sources import SourceError
from registry.access import Actor
from registry.db import unit_of_work
from registry.inventory.models import GreenSpace, Plant
from registry.species.models import Species
from tests.import_files import ASTANA_LONLAT
from tests.web_client import csrf_token, new_user, sign_in
from web import create_app
from web.cli import main

ADMIN = Actor.system("test mapping")
JASYL = str(Path(sys.executable).with_name("jasyl"))


def write_csv(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def stored(db) -> list[tuple]:
    """(inventory number, species' Latin name, lon, lat, height) of every plant, by number."""
    rows = db.execute(
        select(
            Plant.inventory_number,
            Species.latin,
            func.ST_X(func.ST_PointOnSurface(Plant.geom)),
            func.ST_Y(func.ST_PointOnSurface(Plant.geom)),
            Plant.height_m,
        )
        .join(Species, Species.id == Plant.species_id)
        .order_by(Plant.inventory_number)
    )
    return [(n, s, round(x, 6), round(y, 6), h and float(h)) for n, s, x, y, h in rows]


def uses(report) -> dict[str, tuple]:
    return {u.column: (u.field, u.status) for u in report.columns}


def mapping_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- locations in tables --------------------------------------------------------------------------
def test_semicolon_csv_with_one_lat_lon_column(db, tmp_path: Path) -> None:
    (x1, y1), (x2, y2) = ASTANA_LONLAT[:2]
    path = write_csv(
        tmp_path / "latlon.csv",
        [
            "Номер;Порода;Координаты (lat, lon);Высота, м",
            f"L-1;Вяз приземистый;{y1}, {x1};8,5",
            f'L-2;Берёза повислая;"{str(y2).replace(".", ",")} {str(x2).replace(".", ",")}";',
        ],
    )
    report = import_file(db, ADMIN, path, region="KZ-71")
    assert (report.status, report.imported, report.errors) == ("done", 2, [])
    assert stored(db) == [
        ("L-1", "Ulmus pumila", x1, y1, 8.5),
        ("L-2", "Betula pendula", x2, y2, None),  # an empty height stays empty
    ]
    assert uses(report)["Координаты (lat, lon)"] == ("lat_lon", "recognised")


def test_semicolon_csv_with_a_wkt_column(db, tmp_path: Path) -> None:
    (x1, y1), (x2, y2) = ASTANA_LONLAT[:2]
    massif = shapely.box(x2, y2, x2 + 0.0005, y2 + 0.0004)
    path = write_csv(
        tmp_path / "wkt.csv",
        [
            "Инв_номер;Порода;WKT;Форма",
            f"W-1;Вяз приземистый;POINT ({x1} {y1});",
            f'W-2;Берёза повислая;"SRID=4326;{massif.wkt}";массив',
        ],
    )
    report = import_file(db, ADMIN, path, region="KZ-71")
    assert (report.status, report.imported, report.errors) == ("done", 2, [])
    shapes = dict(db.execute(select(Plant.inventory_number, func.ST_AsText(Plant.geom))).all())
    assert shapely.from_wkt(shapes["W-1"]).equals(shapely.Point(x1, y1))
    assert shapely.from_wkt(shapes["W-2"]).equals(massif)
    assert uses(report)["WKT"] == ("wkt", "recognised")
    lines = ["Порода;WKT", *[f"Вяз приземистый;POINT ({x1} {y1 + i / 1e4})" for i in range(9)]]
    bad = write_csv(tmp_path / "badwkt.csv", [*lines, "Вяз приземистый;POINT (71.43"])
    refused = import_file(db, ADMIN, bad, region="KZ-71", options=ImportOptions(dry_run=True))
    assert [(p.row, p.field, p.value) for p in refused.errors][:1] == [(10, "WKT", "POINT (71.43")]
    assert "is not a WKT geometry" in refused.errors[0].message


def test_a_pair_column_whose_name_gives_no_order_is_only_proposed(db, tmp_path: Path) -> None:
    x, y = ASTANA_LONLAT[0]
    path = write_csv(tmp_path / "pair.csv", ["Порода;Координаты", f"Вяз приземистый;{y}, {x}"])
    with pytest.raises(SourceError, match="no location columns") as refused:
        import_file(db, ADMIN, path, region="KZ-71")
    assert "name them in a mapping file" in str(refused.value)
    confirmed = mapping_file(tmp_path, '[columns]\nlat_lon = "Координаты"\n')
    report = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(confirmed))
    assert report.status == "done" and stored(db)[0][2:4] == (x, y)
    assert uses(report)["Координаты"] == ("lat_lon", "mapped")


def test_a_csv_of_parks_drawn_as_wkt_polygons_is_green_spaces(db, tmp_path: Path) -> None:
    x, y = ASTANA_LONLAT[0]
    park = shapely.box(x, y, x + 0.002, y + 0.001)
    path = write_csv(tmp_path / "parks.csv", ["Название;Тип;WKT", f"Сквер Победы;сквер;{park.wkt}"])
    report = import_file(db, ADMIN, path, region="KZ-71")
    assert (report.status, report.records, report.imported) == ("done", "green_spaces", 1)
    name, kind, shape = db.execute(
        select(GreenSpace.name, GreenSpace.kind, func.ST_AsText(GreenSpace.geom))
    ).one()
    assert (name, kind) == ("Сквер Победы", "square")
    assert shapely.from_wkt(shape).equals(park)


def test_the_mapped_location_wins_over_a_recognised_one(db, tmp_path: Path) -> None:
    x, y = ASTANA_LONLAT[0]
    path = write_csv(
        tmp_path / "both.csv",
        ["Порода;WKT;E;N", f"Вяз приземистый;POINT (0 0);{x};{y}"],
    )
    mapping = mapping_file(tmp_path, '[columns]\nx = "E"\ny = "N"\n')
    report = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(mapping))
    assert report.status == "done" and stored(db)[0][2:4] == (x, y)
    assert uses(report)["WKT"] == (None, "ignored")
    assert uses(report)["E"] == ("x", "mapped")


# -- detection ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "mapping_text",
    [
        '[columns]\ninventory_number = "Id"\nspecies = ["Genus", "Epithet"]\n',
        "columns:\n  inventory_number: Id\n  species: [Genus, Epithet]\n",
    ],
    ids=["toml", "yaml"],
)
def test_genus_and_species_columns_combined(db, tmp_path: Path, mapping_text) -> None:
    x, y = ASTANA_LONLAT[0]
    path = write_csv(
        tmp_path / "genus.csv",
        [
            "Id;Genus;Epithet;lon;lat",
            f"G-1;Ulmus;pumila;{x};{y}",
            f"G-2;Picea;pungens;{x};{y + 0.001}",
        ],
    )
    mapping = tmp_path / ("m.yaml" if mapping_text.startswith("columns:") else "m.toml")
    mapping.write_text(mapping_text, encoding="utf-8")
    report = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(mapping))
    assert (report.status, report.imported) == ("done", 2)
    assert [row[:2] for row in stored(db)] == [("G-1", "Ulmus pumila"), ("G-2", "Picea pungens")]
    assert uses(report)["Genus"] == ("species", "mapped")
    assert uses(report)["Epithet"] == ("species", "mapped")


def test_a_date_column_and_a_code_column_are_not_number_and_species(db, tmp_path: Path) -> None:
    (x1, y1), (x2, y2) = ASTANA_LONLAT[:2]
    path = write_csv(
        tmp_path / "us.csv",
        [
            "InventoryDate,SpeciesCode,Species,Longitude,Latitude",
            f"2023-06-14,ULPU,Ulmus pumila,{x1},{y1}",
            f"2023-06-15,BEPE,Betula pendula,{x2},{y2}",
        ],
    )
    report = import_file(db, ADMIN, path, region="KZ-71")
    assert (report.status, report.imported) == ("done", 2)
    numbers = db.scalars(select(Plant.inventory_number).order_by(Plant.id)).all()
    assert "2023-06-14" not in numbers and all(numbers)  # the registry numbered them
    assert sorted(s for _, s, *_ in stored(db)) == ["Betula pendula", "Ulmus pumila"]
    found = {u.column: u for u in report.columns}
    assert (found["InventoryDate"].field, found["InventoryDate"].status) == (
        "inventory_number",
        "proposed",
    )
    assert "dates" in found["InventoryDate"].reason
    assert (found["SpeciesCode"].field, found["SpeciesCode"].status) == ("species", "proposed")
    assert (found["Species"].field, found["Species"].status) == ("species", "recognised")
    said = [(w.field, w.code) for w in report.warnings if w.code == "column_proposed"]
    assert said == [("InventoryDate", "column_proposed"), ("SpeciesCode", "column_proposed")]


def test_a_geopackage_date_field_is_not_the_inventory_number(db, tmp_path: Path) -> None:
    (x1, y1), (x2, y2) = ASTANA_LONLAT[:2]
    layer = geopandas.GeoDataFrame(
        {
            "Number": pd.to_datetime(["2008-01-07", "2020-08-01"]),  # a survey date, misnamed
            "Species": ["Ulmus pumila", "Betula pendula"],
        },
        geometry=[shapely.Point(x1, y1), shapely.Point(x2, y2)],
        crs="EPSG:4326",
    )
    path = tmp_path / "census.gpkg"
    layer.to_file(path, layer="census")
    report = import_file(db, ADMIN, path, region="KZ-71")
    assert (report.status, report.imported) == ("done", 2)
    numbers = db.scalars(select(Plant.inventory_number)).all()
    assert not any(n.startswith(("2008", "2020")) for n in numbers)
    assert uses(report)["Number"] == ("inventory_number", "proposed")
    assert (
        "its values are dates (2008-01-07" in {u.column: u for u in report.columns}["Number"].reason
    )


def test_only_a_code_column_for_the_species_is_a_file_error_naming_it(db, tmp_path: Path) -> None:
    x, y = ASTANA_LONLAT[0]
    path = write_csv(tmp_path / "codes.csv", ["Species,X,Y", f"PINI,{x},{y}", f"ACPL,{x},{y}"])
    with pytest.raises(MappingError) as refused:
        import_file(db, ADMIN, path, region="KZ-71")
    message = str(refused.value)
    assert "no column holds the species" in message
    assert "its values look like codes (PINI, ACPL)" in message
    assert '[columns] species = "Species"' in message
    assert db.scalar(select(func.count()).select_from(Plant)) == 0


# -- the mapping format ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[colums]\nspecies = 'A'\n", "unknown key 'colums'; the valid keys are: columns ("),
        ("layers = 'x'\n", "unknown key 'layers'; the valid keys are: columns"),
        ("[columns]\nheigth = 'H'\n", "[columns] 'heigth' is not a field; fields: x, y,"),
        ("[units]\ndiameter = 'mm'\n", "[units] 'diameter' is not a field; fields:"),
        ("columns = 'Порода'\n", "[columns] must be a table (field = column"),
        ("[values]\ncondition = 1\n", "[values.condition] must be a table of cell value"),
        ("[columns]\nspecies = 5.5\n", "[columns] species = 5.5; give a column name"),
        ("[columns]\nspecies = ['Genus', 3]\n", "give a column name"),
        ("[species]\nPINI = ['a']\n", "[species] 'PINI' = ['a']; it must be a single text"),
        ("- species\n", "the mapping file must be a table of sections"),
        ("[values.condition]\nBuono = [1, 2]\n", "[values.condition] 'Buono' = [1, 2]; it must"),
        ("[defaults]\ncondition = {a = 1}\n", "[defaults] condition = {'a': 1}; it must be"),
    ],
)
def test_a_badly_shaped_mapping_is_a_clear_error(db, tmp_path: Path, text, expected) -> None:
    suffix = ".yaml" if text.startswith("-") else ".toml"
    path = tmp_path / f"m{suffix}"
    path.write_text(text, encoding="utf-8")
    survey = write_csv(tmp_path / "s.csv", ["Порода;lon;lat", "Вяз приземистый;71.43;51.13"])
    with pytest.raises(MappingError) as refused:
        import_file(db, ADMIN, survey, region="KZ-71", options=ImportOptions(path))
    assert expected in str(refused.value)


def test_the_worked_example_of_the_help_imports_as_written(db, tmp_path: Path) -> None:
    lines = [line[4:] for line in MAPPING_EXAMPLE.splitlines() if line.startswith("#   ")]
    survey = write_csv(tmp_path / "survey.csv", lines)
    mapping = mapping_file(tmp_path, MAPPING_EXAMPLE)
    report = import_file(db, ADMIN, survey, region="KZ-71", options=ImportOptions(mapping))
    assert (report.status, report.imported, report.errors) == ("done", 1, [])
    plant = db.scalars(select(Plant)).one()
    assert (plant.inventory_number, float(plant.height_m)) == ("A-1", 8.5)
    assert float(plant.trunk_diameter_cm) == pytest.approx(94 / 3.14159, abs=0.1)
    assert db.get(Species, plant.species_id).latin == "Ulmus pumila"
    assert uses(report)["Дата"] == (None, "ignored")


# -- mixed layers ---------------------------------------------------------------------------------
def mixed_layer(tmp_path: Path) -> Path:
    (x1, y1), (x2, y2), (x3, y3) = ASTANA_LONLAT[:3]
    park = shapely.box(x3, y3, x3 + 0.002, y3 + 0.001)
    layer = geopandas.GeoDataFrame(
        {
            "name": [None, None, "Сквер Победы"],
            "species": ["Вяз приземистый", "Берёза повислая", None],
        },
        geometry=[shapely.Point(x1, y1), shapely.Point(x2, y2), park],
        crs="EPSG:4326",
    )
    path = tmp_path / "mixed.geojson"
    layer.to_file(path)
    return path


def test_a_mixed_layer_names_the_option_then_imports_each_way(db, tmp_path: Path) -> None:
    path = mixed_layer(tmp_path)
    with pytest.raises(MappingError) as refused:
        import_file(db, ADMIN, path, region="KZ-71")
    message = str(refused.value)
    assert "mixes 1 polygons (1 without a species) with 2 points and lines" in message
    assert 'records = "green_spaces"' in message and 'records = "plants"' in message
    assert db.scalar(select(func.count()).select_from(Plant)) == 0
    spaces = mapping_file(tmp_path, 'records = "green_spaces"\n')
    report = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(spaces))
    assert (report.status, report.imported) == ("done", 1)
    assert db.scalars(select(GreenSpace.name)).all() == ["Сквер Победы"]
    assert [p.code for p in report.warnings] == ["left_out"]
    plants = mapping_file(tmp_path, 'records = "plants"\n')
    options = ImportOptions(plants, allow_partial=True)
    second = import_file(db, ADMIN, path, region="KZ-71", options=options)
    assert (second.status, second.imported, second.rejected) == ("done", 2, 1)
    assert sorted(s for _, s, *_ in stored(db)) == ["Betula pendula", "Ulmus pumila"]


def test_a_mapped_column_the_mixed_layer_lacks_is_named(db, tmp_path: Path) -> None:
    path = mixed_layer(tmp_path)
    mapping = mapping_file(tmp_path, '[columns]\nspecies = "Порода"\n')
    with pytest.raises(MappingError, match="names column 'Порода' for species, but the file"):
        import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(mapping))


def test_a_mixed_plant_layer_with_species_everywhere_is_plants(db, tmp_path: Path) -> None:
    (x1, y1), (x2, y2) = ASTANA_LONLAT[:2]
    layer = geopandas.GeoDataFrame(
        {"species": ["Вяз приземистый", "Берёза повислая"], "form": ["", "массив"]},
        geometry=[shapely.Point(x1, y1), shapely.box(x2, y2, x2 + 0.0005, y2 + 0.0004)],
        crs="EPSG:4326",
    )
    path = tmp_path / "plants.geojson"
    layer.to_file(path)
    report = import_file(db, ADMIN, path, region="KZ-71")
    assert (report.status, report.imported, report.records) == ("done", 2, "plants")


# -- file-level defects ---------------------------------------------------------------------------
def utf8_csv_cut_mid_letter(path: Path) -> Path:
    """A UTF-8 CSV over 2 MB whose 2,000,000th byte is the first half of a Cyrillic letter."""
    x, y = ASTANA_LONLAT[0]
    rows = [f"N-{i};Вяз приземистый;{x};{y};Ключевая улица, дом {i}" for i in range(40_000)]
    head = "Номер;Порода;lon;lat;Адрес\n"
    text = head + "\n".join(rows) + "\n"
    data = text.encode("utf-8")
    while data[1_999_999] & 0xC0 != 0xC0:  # not the lead byte of a two-byte letter
        head = head[:-1] + " \n"  # one byte more in the header shifts the rest
        data = (head + "\n".join(rows) + "\n").encode("utf-8")
    path.write_bytes(data)
    return path


def test_utf8_csv_whose_encoding_sample_ends_mid_letter(db, tmp_path: Path) -> None:
    path = utf8_csv_cut_mid_letter(tmp_path / "big.csv")
    assert path.stat().st_size > 2_000_000
    report = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(dry_run=True))
    assert report.encoding == "utf-8 (detected)"
    assert (report.status, report.rows_read, report.errors) == ("dry_run", 40_000, [])


def test_a_file_that_stops_reading_after_the_sample_names_the_line(db, tmp_path: Path) -> None:
    path = utf8_csv_cut_mid_letter(tmp_path / "mixed.csv")
    path.write_bytes(path.read_bytes() + "N-x;Вяз;71.43;51.13;двор\n".encode("cp1251"))
    with pytest.raises(SourceError) as refused:
        import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(dry_run=True))
    assert "line 40,002" in str(refused.value) and "does not read as utf-8" in str(refused.value)
    assert "pass --encoding" in str(refused.value)


@pytest.fixture
def cli(clean):
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def plant_count() -> int:
    with unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(Plant))


def test_an_unwritable_report_path_is_refused_before_importing(cli, tmp_path: Path) -> None:
    x, y = ASTANA_LONLAT[0]
    survey = write_csv(tmp_path / "s.csv", ["Порода;lon;lat", f"Вяз приземистый;{x};{y}"])
    report = tmp_path / "no such folder" / "report.csv"
    result = cli("import", str(survey), "--region", "KZ-71", "--report", str(report))
    assert result.exit_code == 2
    assert "--report" in result.output and "cannot be written" in result.output
    assert plant_count() == 0 and not report.parent.exists()
    written = tmp_path / "report.csv"
    done = cli("import", str(survey), "--region", "KZ-71", "--report", str(written))
    assert done.exit_code == 0 and plant_count() == 1
    assert "column_recognised" in written.read_text(encoding="utf-8-sig")


def test_dry_run_prints_the_column_table(cli, tmp_path: Path) -> None:
    x, y = ASTANA_LONLAT[0]
    survey = write_csv(
        tmp_path / "s.csv",
        [
            "ИНВ_НОМ;ПОРОДА;ДИАМ_СМ;Дата_обследования;lon;lat",
            f"1;Вяз приземистый;24;2024-05-01;{x};{y}",
        ],
    )
    result = cli("import", str(survey), "--region", "KZ-71", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "  ИНВ_НОМ → inventory_number: recognised, by its name\n" in result.output
    assert "  ДИАМ_СМ → trunk_diameter [cm]: recognised, by its name, unit cm" in result.output
    assert "  Дата_обследования: ignored, its name means no registry field" in result.output


def test_json_on_a_file_level_error_as_a_real_subprocess(clean, tmp_path: Path) -> None:
    x, y = ASTANA_LONLAT[0]
    survey = write_csv(tmp_path / "codes.csv", ["Species,X,Y", f"PINI,{x},{y}"])
    done = subprocess.run(
        [JASYL, "import", str(survey), "--region", "KZ-71", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["file"], answer["status"], answer["error"]) == ("codes.csv", "error", "mapping")
    assert "no column holds the species" in answer["message"]
    assert {c["column"]: c["status"] for c in answer["columns"]} == {
        "Species": "proposed",
        "X": "recognised",
        "Y": "recognised",
    }
    assert "Traceback" not in done.stderr
    unreadable = subprocess.run(
        [JASYL, "import", str(tmp_path / "none.csv"), "--region", "KZ-71", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert unreadable.returncode == 1
    assert json.loads(unreadable.stdout)["message"] == "none.csv: no such file"


def test_the_upload_page_shows_the_column_table(clean, tmp_path: Path) -> None:
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    app = create_app({"TESTING": True})
    forester = app.test_client()
    sign_in(forester, "les@test.jasyl.kz")
    x, y = ASTANA_LONLAT[0]
    survey = f"InventoryDate;Порода;Диаметр, мм;lon;lat\n2024-05-01;Вяз приземистый;240;{x};{y}\n"
    forester.set_cookie("lang", "ru")
    answer = forester.post(
        "/imports/upload",
        data={
            "survey": (io.BytesIO(survey.encode("utf-8")), "опись.csv"),
            "region": "KZ-71",
            "dry_run": "on",
            "csrf_token": csrf_token(forester),
        },
        content_type="multipart/form-data",
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html
    rows = re.findall(
        r'<tr class="column-(\w+)"><td>([^<]+)</td><td>([^<]+)</td><td>([^<]*)</td>', html
    )
    assert rows == [
        ("proposed", "InventoryDate", "inventory_number", ""),
        ("recognised", "Порода", "species", ""),
        ("recognised", "Диаметр, мм", "trunk_diameter", "mm"),
        ("recognised", "lon", "x", ""),
        ("recognised", "lat", "y", ""),
    ]
    assert "its name says it holds dates" in html  # the reason, and how, in the reader's words
    assert "предложен: не используется, пока его не назовёт файл соответствия" in html
    refused = forester.post(
        "/imports/upload",
        data={
            "survey": (io.BytesIO(f"Species;lon;lat\nPINI;{x};{y}\n".encode()), "codes.csv"),
            "region": "KZ-71",
            "csrf_token": csrf_token(forester),
        },
        content_type="multipart/form-data",
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "no column holds the species" in html
    assert '<tr class="column-proposed"><td>Species</td><td>species</td>' in html


def test_the_readme_and_the_help_carry_the_same_worked_example(cli) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"```toml\n{MAPPING_EXAMPLE}```" in readme
    shown = cli("import", "file", "--help").output
    assert 'species = ["Род", "Вид"]' in shown and "lat_lon = " in shown
    assert "proposed (a name that fits but values or words that do not" in " ".join(shown.split())


def test_a_file_level_error_shows_the_columns_and_goes_in_the_report(cli, tmp_path) -> None:
    x, y = ASTANA_LONLAT[0]
    survey = write_csv(tmp_path / "codes.csv", ["Species,X,Y", f"PINI,{x},{y}", f"ACPL,{x},{y}"])
    written = tmp_path / "report.csv"
    result = cli("import", str(survey), "--region", "KZ-71", "--report", str(written))
    assert result.exit_code == 1
    assert "  Species → species: proposed, its values look like codes (PINI, ACPL)" in result.output
    assert "Error: codes.csv: no column holds the species" in result.output
    with written.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert [r[2:5] for r in rows[1:]] == [
        ["species", "Species", "column_proposed"],
        ["x", "X", "column_recognised"],
        ["y", "Y", "column_recognised"],
        ["file", "", "mapping"],
    ]
    assert plant_count() == 0


def test_packed_point_ewkb_is_what_shapely_writes() -> None:
    """The importer packs points' EWKB with numpy (a faster path): byte for byte shapely's,
    trailing zero bytes included, and other shapes still through shapely."""
    shapes = np.array(
        [
            shapely.Point(71.4304, 51.1282),
            shapely.Point(0.0, 0.0),
            shapely.box(71.43, 51.12, 71.44, 51.13),
            shapely.LineString([(71.43, 51.12), (71.44, 51.13)]),
            shapely.Point(-0.5, 1e-300),
        ],
        dtype=object,
    )
    expected = shapely.to_wkb(shapely.set_srid(shapes, 4326), include_srid=True)
    assert list(ewkb_4326(shapes)) == list(expected)
    assert list(type_names(np.array([None, *shapes[:3]], dtype=object))) == [
        "",
        "Point",
        "Point",
        "Polygon",
    ]
