"""Polygons and lines to the right record kind: park surveys → green spaces, massifs → plants."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer
from sqlalchemy import func, select

from importers.fields import MappingError
from importers.services import ImportOptions, import_file
from registry.access import Actor
from registry.audit.models import AuditEntry
from registry.db import unit_of_work
from registry.inventory.models import GreenSpace, Plant
from registry.inventory.services import update_green_space
from tests.factories import make_green_space, square
from tests.import_files import write_shapefile
from web.cli import main

ADMIN = Actor.system("test import")
PARKS = [(71.4304, 51.1282), (71.4404, 51.1322), (71.4504, 51.1362)]


def utm(shapes: list[shapely.Geometry], epsg: int = 32642) -> list[shapely.Geometry]:
    to = Transformer.from_crs(4326, epsg, always_xy=True)
    return [
        shapely.transform(s, lambda xy: list(zip(*to.transform(*xy.T), strict=True)))
        for s in shapes
    ]


def parks_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "НАЗВАНИЕ": ["Парк Победы", "Сквер у театра", "Бульвар Нуржол"],
            "ТИП": ["парк", "сквер", "бульвар"],
            "КАТЕГОР": ["общего пользования", "ограниченного пользования", ""],
            "ПЛОЩ_ГА": [12.5, 0.8, 3.1],
            "БАЛАНСОД": ["ГКП Астана зеленстрой", "", ""],
        }
    )


def parks_shapefile(tmp_path: Path, frame: pd.DataFrame | None = None, **kwargs) -> Path:
    frame = parks_frame() if frame is None else frame
    shapes = kwargs.pop("geometry", None) or utm([square(c, 0.002) for c in PARKS[: len(frame)]])
    return write_shapefile(tmp_path / "parks.shp", frame, geometry=shapes, **kwargs)


def counts(session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(GreenSpace)),
        session.scalar(select(func.count()).select_from(Plant)),
    )


def test_park_survey_becomes_green_spaces(db, tmp_path: Path) -> None:
    report = import_file(db, ADMIN, parks_shapefile(tmp_path), region="KZ-71")
    assert (report.status, report.imported, report.errors) == ("done", 3, [])
    assert counts(db) == (3, 0)
    spaces = db.scalars(select(GreenSpace).order_by(GreenSpace.id)).all()
    assert [(s.name, s.kind, s.category.value) for s in spaces] == [
        ("Парк Победы", "park", "public"),
        ("Сквер у театра", "square", "limited"),
        ("Бульвар Нуржол", "boulevard", "public"),
    ]
    assert spaces[0].balance_holder == "ГКП Астана зеленстрой"
    assert {s.import_batch_id for s in spaces} == {report.batch_id}
    assert {s.region_id for s in spaces} == {71}
    assert 120_000 < spaces[0].area_m2 < 130_000  # 0.004° × 0.004° at 51° N, from the UTM file
    created = db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.entity == "green_space", AuditEntry.action == "create")
    )
    assert created == 3


def test_green_space_rows_are_checked_all_or_nothing(db, tmp_path: Path) -> None:
    make_green_space(db, name="Сквер у театра", geom=square((71.47, 51.14), 0.001))
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    to = Transformer.from_crs(4326, 32642, always_xy=True)
    x, y = to.transform(71.4504, 51.1362)
    shapes = utm([square(c, 0.002) for c in [PARKS[0], PARKS[1]]]) + [
        shapely.affinity.translate(shapely.affinity.scale(bowtie, 100, 100), x, y)
    ]
    frame = parks_frame()
    frame.loc[0, "КАТЕГОР"] = "для красоты"
    report = import_file(
        db, ADMIN, parks_shapefile(tmp_path, frame, geometry=shapes), region="KZ-71"
    )
    assert report.status == "rejected"
    assert [(p.row, p.field, p.code) for p in report.problems] == [
        (1, "КАТЕГОР", "invalid_value"),
        (2, "НАЗВАНИЕ", "conflict"),
        (3, "geometry", "invalid_value"),
    ]
    assert report.problems[2].message == "the polygon is not valid (self-intersecting or broken)"
    assert counts(db) == (1, 0)
    partial = import_file(
        db,
        ADMIN,
        tmp_path / "parks.shp",
        region="KZ-71",
        options=ImportOptions(allow_partial=True),
    )
    assert (partial.status, partial.imported, partial.rejected, partial.conflicts) == (
        "done",
        0,
        2,
        1,
    )
    assert counts(db) == (1, 0)


def test_green_spaces_outside_the_region_are_row_errors(db, tmp_path: Path) -> None:
    shapes = utm([square(PARKS[0], 0.002)]) + utm([square((76.9286, 43.2389), 0.002)], 32643)
    path = parks_shapefile(tmp_path, parks_frame().head(2), geometry=shapes)
    report = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(crs="32642"))
    assert report.status == "rejected"
    assert [(p.row, p.code) for p in report.errors] == [(2, "outside_region")]  # 6° west
    assert "not in Astana (KZ-71)" in report.errors[0].message


def test_massifs_and_hedges_with_species_stay_plants(db, tmp_path: Path) -> None:
    path = tmp_path / "inventory.gpkg"
    massifs = geopandas.GeoDataFrame(
        {"ПОРОДА": ["Вяз приземистый", "берёза повислая"], "ФОРМА": ["массив", ""]},
        geometry=utm([square(PARKS[0], 0.001), square(PARKS[1], 0.001)]),
        crs="EPSG:32642",
    )
    hedges = geopandas.GeoDataFrame(
        {"ПОРОДА": ["кизильник блестящий"], "ФОРМА": ["живая изгородь"], "ДЛИНА_М": [48.0]},
        geometry=utm([shapely.LineString([PARKS[0], (71.4310, 51.1284)])]),
        crs="EPSG:32642",
    )
    pyogrio.write_dataframe(massifs, path, layer="massifs")
    pyogrio.write_dataframe(hedges, path, layer="hedges")
    first = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(layer="massifs"))
    second = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(layer="hedges"))
    assert (first.status, first.imported, second.status, second.imported) == ("done", 2, "done", 1)
    forms = db.execute(select(Plant.planting_form, Plant.length_m).order_by(Plant.id)).all()
    assert [(f.value, None if n is None else float(n)) for f, n in forms] == [
        ("massif", None),
        ("group", None),
        ("hedge", 48.0),
    ]
    assert counts(db) == (0, 3)


def test_mapping_file_forces_the_record_kind(db, tmp_path: Path) -> None:
    path = tmp_path / "areas.gpkg"
    layer = geopandas.GeoDataFrame(
        {"title": ["Сквер Победы"], "species": ["Вяз приземистый"]},
        geometry=utm([square(PARKS[2], 0.001)]),
        crs="EPSG:32642",
    )
    pyogrio.write_dataframe(layer, path, layer="areas")
    pyogrio.write_dataframe(layer, tmp_path / "copy.gpkg", layer="areas")  # another file
    mapping = tmp_path / "m.toml"
    mapping.write_text('records = "green_spaces"\n[columns]\nname = "title"\n', encoding="utf-8")
    report = import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(mapping=mapping))
    assert (report.status, report.imported) == ("done", 1)
    assert counts(db) == (1, 0)
    assert db.scalar(select(GreenSpace.name)) == "Сквер Победы"
    as_plants = tmp_path / "p.toml"
    as_plants.write_text('records = "plants"\n', encoding="utf-8")
    options = ImportOptions(mapping=as_plants)
    plants = import_file(db, ADMIN, tmp_path / "copy.gpkg", region="KZ-71", options=options)
    assert (plants.status, plants.imported) == ("done", 1)
    assert counts(db) == (1, 1)
    bad = tmp_path / "bad.toml"
    bad.write_text('records = "trees"\n', encoding="utf-8")
    with pytest.raises(MappingError, match="it must be one of plants, green_spaces"):
        import_file(db, ADMIN, path, region="KZ-71", options=ImportOptions(mapping=bad))


def test_green_space_import_undo_and_reimport_from_the_cli(clean, tmp_path: Path) -> None:
    path = parks_shapefile(tmp_path)
    runner = CliRunner()
    first = runner.invoke(main, ["import", str(path), "--region", "KZ-71", "--json"])
    assert first.exit_code == 0, first.output
    batch = json.loads(first.output)["batch_id"]
    again = runner.invoke(main, ["import", str(path), "--region", "KZ-71"])
    assert again.output.startswith(f"parks.shp: Already imported as batch {batch}")
    undone = runner.invoke(main, ["import", "undo", str(batch)])
    assert undone.output == f"Batch {batch} undone: 3 green spaces removed, 0 reverted.\n"
    with unit_of_work() as session:
        assert counts(session) == (0, 0)
    redo = runner.invoke(main, ["import", str(path), "--region", "KZ-71", "--json"])
    assert json.loads(redo.output)["imported"] == 3
    with unit_of_work() as session:
        space = session.scalars(select(GreenSpace).order_by(GreenSpace.id)).first()
        update_green_space(session, ADMIN, space.id, space.version, {"notes": "обследован"})
    refused = runner.invoke(main, ["import", "undo", str(json.loads(redo.output)["batch_id"])])
    assert refused.exit_code == 1
    assert (
        "1 green space(s) of batch" in refused.output and "would lose that work" in refused.output
    )
    with unit_of_work() as session:
        assert counts(session) == (3, 0)
