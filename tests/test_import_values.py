"""What a survey's cells become: empty means not measured, no condition means not assessed,
stumps and vacant sites keep their status without a species, units convert, forms on points.

Every file here is built by the test; each test asserts what is stored, value by value, and
that nothing was stored that the file did not say.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import geopandas
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString
from sqlalchemy import text

from importers.fields import Column, recognise
from importers.services import ImportOptions, import_file
from registry.access import Actor
from registry.db import engine_for, unit_of_work
from registry.errors import JasylError
from registry.species.services import get_species
from tests.factories import ASTANA, make_plant, point_near
from tests.import_files import ASTANA_LONLAT, write_shapefile
from web.cli import main

ADMIN = Actor.system("test import values")
DBH = '[columns]\ntrunk_diameter = "dbh"\n'
RECORD = (
    "SELECT p.inventory_number, p.species_id, p.planting_form::text, p.quantity, "
    "p.length_m::float8, p.area_m2::float8, p.planting_year, p.age_years, p.height_m::float8, "
    "p.trunk_diameter_cm::float8, p.crown_diameter_m::float8, p.condition, p.hazardous, "
    "p.status::text, p.address, ST_AsText(ST_SnapToGrid(p.geom, 1e-7)) "
    "FROM plants p WHERE p.region_id = 71 ORDER BY p.inventory_number"
)
# What a survey of Astana holds: every optional field empty somewhere, a plant not assessed,
# a stump and a vacant site without species, a dead tree, a hedge marked by a point.
SURVEY = [
    dict(height_m=None),
    dict(trunk_diameter_cm=None, crown_diameter_m=None, address=""),
    dict(planting_year=None, condition=None, age_years=None),
    dict(species_id=None, status="stump", condition=None, height_m=None, crown_diameter_m=None),
    dict(
        species_id=None,
        status="vacant",
        condition=None,
        height_m=None,
        trunk_diameter_cm=None,
        crown_diameter_m=None,
        planting_year=None,
    ),  # fmt: skip
    dict(status="dead", condition=6, hazardous=True),
    dict(planting_form="hedge", condition=None),
    dict(planting_form="group", quantity=7, age_years=12),
]
# Lengths and areas are not fields of the editing form: set by the survey's own words.
SIZES = "UPDATE plants SET length_m = 12.5 WHERE inventory_number = '71-V006';" \
        "UPDATE plants SET area_m2 = 40 WHERE inventory_number = '71-V007'"  # fmt: skip


def stored(url: str) -> list[tuple]:
    with engine_for(url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(RECORD))]


def seed(url: str, with_line: bool) -> None:
    with unit_of_work(url) as session:
        elm = get_species(session, "Ulmus pumila").id
        for n, overrides in enumerate(SURVEY):
            values = {"species_id": elm, "condition": 1 + n % 4, "address": f"улица {n}"}
            make_plant(session, geom=point_near(ASTANA, n), inventory_number=f"71-V{n:03}",
                       **{**values, **overrides})  # fmt: skip
        x, y = ASTANA
        if with_line:
            make_plant(session, geom=LineString([(x, y + 0.01), (x + 0.002, y + 0.01)]),
                       inventory_number="71-V100", quantity=12, height_m=None,
                       condition=None, species_id=elm)  # fmt: skip
    with engine_for(url).begin() as conn:
        conn.execute(text(SIZES))


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson", "csv", "xlsx"])
def test_export_with_empty_fields_reimports_exactly(clean, tmp_path, fmt) -> None:
    """Counts, values and nulls come back as they left, per format (the GeoPackage of plants
    with one empty height brought back none). A shapefile holds one kind of geometry: the row
    of trees goes to a file of its own, imported with the same mapping. CSV and XLSX hold
    points only here (a line is WKT text there, which the importer does not read yet)."""
    lines = fmt in ("gpkg", "shp", "geojson")
    seed(clean, with_line=lines)
    before = stored(clean)
    assert sum(r[8] is None for r in before) == 3 + lines
    assert sum(r[11] is None for r in before) == 4 + lines
    target = tmp_path / f"astana.{fmt}"
    args = ["export", "--layer", "plants", "--format", fmt, "--output", str(target)]
    result = CliRunner().invoke(main, [*args, "--region", "KZ-71"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with engine_for(clean).begin() as conn:
        conn.execute(text("DELETE FROM plants WHERE region_id = 71"))
    options = ImportOptions(mapping=target.with_suffix(".mapping.toml"))
    files = [target] + ([target.with_name("astana_lines.shp")] if fmt == "shp" else [])
    imported = 0
    for path in files:
        with unit_of_work(clean) as session:
            report = import_file(session, ADMIN, path, region="KZ-71", options=options)
        assert report.status == "done", report.errors
        imported += report.imported
    assert imported == len(before)
    assert stored(clean) == before


def point_survey(tmp_path: Path, name: str, columns: dict[str, list], fmt: str = "gpkg") -> Path:
    rows = len(next(iter(columns.values())))
    frame = geopandas.GeoDataFrame(
        pd.DataFrame(columns),
        geometry=geopandas.points_from_xy(*zip(*ASTANA_LONLAT[:rows], strict=True)),
        crs="EPSG:4326",
    )
    path = tmp_path / f"{name}.{fmt}"
    table = frame.assign(lon=frame.geometry.x, lat=frame.geometry.y).drop(columns="geometry")
    if fmt == "csv":
        table.to_csv(path, index=False)
    elif fmt == "xlsx":
        table.to_excel(path, index=False)  # an empty cell is no cell at all
    else:
        frame.to_file(path)
    return path


def imported(db, path: Path, mapping: str | None = None):
    options = ImportOptions()
    if mapping is not None:
        options = ImportOptions(mapping=path.with_suffix(".toml"))
        options.mapping.write_text(mapping, encoding="utf-8")
    return import_file(db, ADMIN, path, region="KZ-71", options=options)


def rows_of(db) -> dict[str, tuple]:
    sql = (
        "SELECT p.inventory_number, s.latin, p.height_m::float8, p.trunk_diameter_cm::float8, "
        "p.crown_diameter_m::float8, p.planting_year, p.condition, p.status::text, "
        "p.planting_form::text, p.length_m::float8, p.area_m2::float8 "
        "FROM plants p LEFT JOIN species s ON s.id = p.species_id"
    )
    return {r[0]: tuple(r[1:]) for r in db.execute(text(sql))}


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "csv", "xlsx"])
def test_empty_cells_are_not_measured_and_no_condition_is_not_assessed(db, tmp_path, fmt):
    path = point_survey(tmp_path, "nulls", {
        "inv": ["N-1", "N-2", "N-3"],
        "species": ["Ulmus pumila", "Ulmus pumila", "Betula pendula"],
        "height": [8.5, None, None],
        "diameter": [None, 24.0, None],
        "crown": [None, None, 4.0],
        "year": [2001, None, None],
    }, fmt)  # fmt: skip
    report = imported(db, path)
    assert report.status == "done" and report.imported == 3, report.errors
    assert rows_of(db) == {
        "N-1": ("Ulmus pumila", 8.5, None, None, 2001, None, "alive", "solitary", None, None),
        "N-2": ("Ulmus pumila", None, 24.0, None, None, None, "alive", "solitary", None, None),
        "N-3": ("Betula pendula", None, None, 4.0, None, None, "alive", "solitary", None, None),
    }


def test_empty_condition_cells_are_not_assessed_and_reported_apart(db, tmp_path) -> None:
    path = point_survey(tmp_path, "cond", {
        "inv": ["C-1", "C-2", "C-3"],
        "species": ["Ulmus pumila"] * 3,
        "condition": ["II", None, "  "],
        "height": ["—", "-", "7,5"],  # a dash says "no value"
    })  # fmt: skip
    assert imported(db, path).imported == 3
    got = sorted(rows_of(db).items())
    assert [(r[1], r[5]) for _, r in got] == [(None, 2), (None, None), (7.5, None)]
    tallies = db.execute(
        text("SELECT condition, plants FROM inventory_tallies WHERE region_id = 71 ORDER BY 1")
    ).all()
    assert [tuple(t) for t in tallies] == [(2, 1), (None, 2)]


def test_stumps_vacant_sites_and_dead_trees_keep_their_status(db, tmp_path) -> None:
    path = point_survey(tmp_path, "gone", {
        "ИНВ": ["S-1", "S-2", "S-3", "S-4", "S-5", "S-6", "S-7", "S-8"],
        "ПОРОДА": [None, "", "Ulmus pumila", None, "Ulmus pumila", None, "Ulmus pumila",
                   "Ulmus pumila"],
        "СТАТУС": ["пень", "Vacant", "Dead", "удалено", "сухостой", "посадочное место", None,
                   "Stump"],
        "СОСТ": [None, None, None, None, None, None, "сухостой", None],
        "ДИАМ_СМ": [40.0, None, 22.0, None, 30.0, None, 18.0, 35.0],
    })  # fmt: skip
    report = imported(db, path)
    assert report.status == "done" and report.imported == 8, report.errors
    got = {k: (v[0], v[2], v[5], v[6]) for k, v in rows_of(db).items()}
    assert got == {
        "S-1": (None, 40.0, None, "stump"),
        "S-2": (None, None, None, "vacant"),
        "S-3": ("Ulmus pumila", 22.0, None, "dead"),
        "S-4": (None, None, None, "removed"),
        "S-5": ("Ulmus pumila", 30.0, None, "dead"),
        "S-6": (None, None, None, "vacant"),
        "S-7": ("Ulmus pumila", 18.0, 5, "dead"),  # сухостой in the condition: grade V, dead
        "S-8": ("Ulmus pumila", 35.0, None, "stump"),
    }


def test_a_stump_in_the_condition_column_and_a_mapped_status_word(db, tmp_path) -> None:
    path = point_survey(tmp_path, "morto", {
        "id": ["M-1", "M-2", "M-3", "M-4", "M-5", "M-6"],
        "specie": ["Ulmus pumila", None] + ["Ulmus pumila"] * 4,
        "stato": ["Morto", None, "Vivo", None, "Vivo", "Vivo"],
        "condition": [None, "пень", "I", "Dead", "II", "VI"],
    })  # fmt: skip
    mapping = (
        '[columns]\ninventory_number = "id"\nspecies = "specie"\nstatus = "stato"\n'
        '[values.status]\nMorto = "dead"\nVivo = "alive"\n'
    )
    report = imported(db, path, mapping)
    assert report.status == "done" and report.imported == 6, report.errors
    got = {k: (v[0], v[5], v[6]) for k, v in rows_of(db).items()}
    assert got == {
        "M-1": ("Ulmus pumila", None, "dead"),
        "M-2": (None, None, "stump"),
        "M-3": ("Ulmus pumila", 1, "alive"),
        "M-4": ("Ulmus pumila", 5, "dead"),  # "Dead" in the condition: a dead tree (was alive)
        "M-5": ("Ulmus pumila", 2, "alive"),
        "M-6": ("Ulmus pumila", 6, "dead"),  # grade VI is сухостой, whatever "Vivo" says
    }
    [warning] = [w for w in report.warnings if w.code == "dead_by_condition"]
    assert (warning.row, warning.field, warning.value) == (6, "stato", "Vivo")


def test_a_living_tree_without_species_is_refused(db, tmp_path) -> None:
    path = point_survey(tmp_path, "nospecies", {
        "inv": ["L-1", "L-2"], "species": ["Ulmus pumila", None], "status": ["живое", None],
    })  # fmt: skip
    report = imported(db, path)
    assert report.status == "rejected" and rows_of(db) == {}
    [error] = report.errors
    assert (error.row, error.field, error.code) == (2, "species", "species")
    assert "a living plant needs a species" in error.message


@pytest.mark.parametrize(
    ("unit", "circumference", "diameter_cm", "height_m"),
    [
        ("in", False, 25.4, 9.1),  # 10 in, 30 ft
        ("ft", False, 30.5, 9.1),  # 1 ft
        ("mm", False, 1.0, 9.1),  # 10 mm
        ("in", True, 25.4 / 3.14159265, 9.1),  # a girth of 10 in
    ],
)
def test_us_units_and_circumference(db, tmp_path, unit, circumference, diameter_cm, height_m):
    trunk = "trunk_circumference" if circumference else "trunk_diameter"
    path = point_survey(tmp_path, "us", {
        "TreeID": ["U-1"], "Species": ["Ulmus pumila"], "Trunk": [1.0 if unit == "ft" else 10.0],
        "Height": [30.0],
    })  # fmt: skip
    mapping = (
        f'[columns]\ninventory_number = "TreeID"\n{trunk} = "Trunk"\nheight = "Height"\n'
        f'[units]\n{trunk} = "{unit}"\nheight = "ft"\n'
    )
    report = imported(db, path, mapping)
    assert report.status == "done", report.errors
    _, height, diameter, *_ = rows_of(db)["U-1"]
    assert (diameter, height) == (round(diameter_cm, 1), height_m)


def test_an_unknown_unit_is_an_error_listing_the_known_ones(db, tmp_path) -> None:
    """It was accepted and applied as ×1: inches stored as centimetres."""
    path = point_survey(tmp_path, "furlong", {"inv": ["F-1"], "species": ["Ulmus pumila"],
                                              "dbh": [10.0]})  # fmt: skip
    with pytest.raises(JasylError) as caught:
        imported(db, path, DBH + '[units]\ntrunk_diameter = "furlong"\n')
    message = caught.value.message
    assert "[units] trunk_diameter = 'furlong' is not a unit we know; known units:" in message
    assert all(f" {unit}," in message for unit in ("mm", "cm", "m", "in", "ft"))
    assert rows_of(db) == {}


def test_too_big_values_show_the_files_own_value_and_the_right_limit(db, tmp_path) -> None:
    """425 in is 1079.5 cm; a girth is compared with the largest girth, not the diameter."""
    path = point_survey(tmp_path, "big", {"inv": ["B-1", "B-2"], "species": ["Ulmus pumila"] * 2,
                                          "dbh": [425.0, 10.0]})  # fmt: skip
    report = imported(db, path, DBH + '[units]\ntrunk_diameter = "in"\n')
    assert report.status == "rejected" and rows_of(db) == {}
    [error] = report.errors
    assert (error.row, error.field, error.value) == (1, "dbh", 425.0)
    assert error.message.startswith("425.0 in = 1079.5 cm: exceeds the plausible maximum of")
    girths = point_survey(tmp_path, "girth", {"inv": ["G-1"], "species": ["Ulmus pumila"],
                                              "girth": [900.0]})  # fmt: skip
    report = imported(db, girths, '[columns]\ntrunk_circumference = "girth"\n')
    [error] = report.errors
    elm = db.scalar(text("SELECT max_trunk_diameter_cm FROM species WHERE latin = 'Ulmus pumila'"))
    assert (error.field, error.value) == ("girth", 900.0)
    assert f"maximum of {round(elm * Decimal(str(math.pi)), 1)} " in error.message, error.message


def test_row_trees_and_point_hedges_in_a_point_survey(db, tmp_path) -> None:
    """A tree in a row is a point; a hedge or group marked by a point keeps its form, with its
    length or area from a column, or a warning that it is unknown (they were refused)."""
    path = point_survey(tmp_path, "akimat", {
        "ИНВ": ["R-1", "R-2", "R-3", "R-4", "R-5"],
        "ПОРОДА": ["Ulmus pumila"] * 5,
        "ФОРМА": ["рядовая", "аллея", "живая изгородь", "живая изгородь", "группа"],
        "ДЛИНА_М": [None, None, 25.0, None, None],
    })  # fmt: skip
    report = imported(db, path)
    assert report.status == "done" and report.imported == 5, report.errors
    got = {k: (v[7], v[8], v[9]) for k, v in rows_of(db).items()}
    assert got == {
        "R-1": ("row", None, None),
        "R-2": ("row", None, None),
        "R-3": ("hedge", 25.0, None),
        "R-4": ("hedge", None, None),
        "R-5": ("group", None, None),
    }
    warned = {(w.row, w.code) for w in report.warnings}
    assert {(4, "unknown_length"), (5, "unknown_area")} <= warned
    assert not {r for r, c in warned if c.startswith("unknown_") and r in (1, 2, 3)}


def test_an_akimat_point_survey_through_the_real_command(clean, tmp_path) -> None:
    """``jasyl import`` as a subprocess on a CP1251 shapefile: row trees, a point hedge with
    its length, a stump without species, no condition column: what the file says, stored."""
    frame = pd.DataFrame({
        "ИНВ": ["K-1", "K-2", "K-3", "K-4"],
        "ПОРОДА": ["Вяз приземистый", "Вяз приземистый", "Вяз приземистый", None],
        "ФОРМА": ["аллея", "рядовая", "живая изгородь", None],
        "ДЛИНА_М": [None, None, 18.0, None],
        "СТАТУС": [None, None, None, "пень"],
        "ДИАМ_СМ": [24.0, None, None, 52.0],
    })  # fmt: skip
    path = write_shapefile(tmp_path / "аллеи.shp", frame, epsg=4326)
    jasyl = str(Path(sys.executable).with_name("jasyl"))
    done = subprocess.run(
        [jasyl, "import", str(path), "--region", "KZ-71", "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["status"], summary["imported"], summary["errors"]) == ("done", 4, 0)
    with engine_for(clean).connect() as conn:
        got = {r[0]: tuple(r[1:]) for r in conn.execute(text(
            "SELECT p.inventory_number, s.latin, p.planting_form::text, p.length_m::float8, "
            "p.trunk_diameter_cm::float8, p.condition, p.status::text "
            "FROM plants p LEFT JOIN species s ON s.id = p.species_id"))}  # fmt: skip
    assert got == {
        "K-1": ("Ulmus pumila", "row", None, 24.0, None, "alive"),
        "K-2": ("Ulmus pumila", "row", None, None, None, "alive"),
        "K-3": ("Ulmus pumila", "hedge", 18.0, None, None, "alive"),
        "K-4": (None, "solitary", None, 52.0, None, "stump"),
    }


@pytest.mark.parametrize(
    ("column", "field", "factor", "unit"),
    [
        ("DBH_IN", "trunk_diameter", 2.54, "in"),
        ("Height in m", "height", 1, "m"),  # the last unit word, not the preposition "in"
        ("HEIGHT_FT", "height", 0.3048, "ft"),
        ("ДИАМ_ММ", "trunk_diameter", 0.1, "mm"),  # units named in Latin letters in reports
        ("CIRC_IN", "trunk_circumference", 2.54, "in"),
        ("ВЫС_М", "height", 1, "m"),
    ],
)
def test_a_unit_in_the_column_name(column, field, factor, unit) -> None:
    assert recognise(column) == Column(column, field, factor, unit)
