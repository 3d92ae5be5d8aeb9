"""``jasyl export`` and the /ogc download: every format read back equals the database."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from openpyxl import load_workbook
from shapely.geometry import LineString
from sqlalchemy import text

from registry.db import engine_for, unit_of_work
from registry.species.services import get_species
from tests.factories import ALMATY, ASTANA, make_green_space, make_plant, point_near
from web import create_app
from web.cli import main

ADDRESS = "Қабанбай батыр даңғылы, 11"  # Kazakh letters that CP1251 cannot hold


@pytest.fixture
def inventory(clean):
    with unit_of_work(clean) as session:
        pine = get_species(session, "Pinus sylvestris").id
        for n in range(12):
            make_plant(
                session,
                geom=point_near(ASTANA if n < 8 else ALMATY, n),
                address=ADDRESS if n == 0 else f"улица {n}",
                species_id=pine if n % 3 == 0 else get_species(session, "Ulmus pumila").id,
                condition=1 + n % 4,
            )
        x, y = ASTANA
        make_plant(session, geom=LineString([(x, y + 0.01), (x + 0.002, y + 0.01)]), quantity=12)
        make_plant(session, geom=point_near(ASTANA, 77), published=False, notes="жалоба")
        make_green_space(session, name="Сквер «Қарағай»")
    return clean


def expected(database_url: str, where: str = "TRUE") -> dict[int, tuple]:
    sql = (
        "SELECT p.id, p.address, s.name_kk, p.condition, p.height_m::float8, ST_AsText(p.geom) "
        f"FROM plants p JOIN species s ON s.id = p.species_id WHERE {where} ORDER BY p.id"
    )
    with engine_for(database_url).connect() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(text(sql))}


def run(*args: str):
    return CliRunner().invoke(main, ["export", *args], catch_exceptions=False)


def _same_shape(a: str, b: str) -> bool:
    return shapely.from_wkt(a).equals_exact(shapely.from_wkt(b), 1e-6)


def _check(rows: dict[int, tuple], truth: dict[int, tuple]) -> None:
    assert sorted(rows) == sorted(truth)
    for fid, (address, kk, condition, height, wkt) in rows.items():
        t_address, t_kk, t_condition, t_height, t_wkt = truth[fid]
        address = address if isinstance(address, str) else ""  # DBF and XLSX: blank is null
        assert (address, kk, int(condition)) == (t_address, t_kk, t_condition)
        assert float(height) == pytest.approx(t_height)
        assert _same_shape(wkt, t_wkt), (wkt, t_wkt)


def _read_ogr(path: Path, names: dict[str, str] | None = None) -> dict[int, tuple]:
    frame = pyogrio.read_dataframe(path, fid_as_index=True)
    n = names or {}
    if n.get("id", "id") not in frame.columns:  # GeoJSON: the id is the feature's
        frame["id"] = frame.index
    col = lambda name: n.get(name, name)  # noqa: E731
    return {
        int(r[col("id")]): (
            r[col("address")],
            r[col("species_kk")],
            r[col("condition")],
            r[col("height_m")],
            r.geometry.wkt,
        )  # fmt: skip
        for _, r in frame.iterrows()
    }


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv", "xlsx"])
def test_every_format_reads_back_as_the_same_records(inventory, tmp_path, fmt) -> None:
    target = tmp_path / f"plants.{fmt}"
    result = run("--layer", "plants", "--format", fmt, "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "Exported 14 plants" in result.output
    if fmt in ("gpkg", "geojson"):
        rows = _read_ogr(target)
    else:
        if fmt == "csv":
            text_ = target.read_text(encoding="utf-8-sig")
            table = list(csv.DictReader(io.StringIO(text_)))
        else:
            sheet = load_workbook(target, read_only=True).active
            values = list(sheet.values)
            table = [dict(zip(values[0], row, strict=True)) for row in values[1:]]
        rows = {
            int(r["id"]): (
                r["address"] or "",
                r["species_kk"],
                r["condition"],
                r["height_m"],
                r["wkt"],
            )
            for r in table
        }
    _check(rows, expected(inventory))
    if fmt == "geojson":
        doc = json.loads(target.read_text(encoding="utf-8"))
        assert any(f["properties"]["address"] == ADDRESS for f in doc["features"])


def test_shapefiles_keep_kazakh_text_and_document_short_names(inventory, tmp_path) -> None:
    target = tmp_path / "plants.shp"
    result = run("--layer", "plants", "--format", "shp", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert target.with_suffix(".cpg").read_text().strip().upper() in ("UTF-8", "UTF8")
    mapping = list(csv.DictReader(target.with_suffix(".fields.csv").open(encoding="utf-8")))
    names = {row["full_name"]: row["short_name"] for row in mapping}
    assert names["inventory_number"] == "inventory_" and names["trunk_diameter_cm"] == "trunk_diam"
    assert all(len(short) <= 10 for short in names.values())
    assert len(set(names.values())) == len(names)
    points = _read_ogr(target, names)
    lines = _read_ogr(tmp_path / "plants_lines.shp", names)  # a row of trees is a line
    assert len(lines) == 1 and set(points).isdisjoint(lines)
    truth = expected(inventory)
    assert points[min(points)][0] == ADDRESS
    _check({**points, **lines}, truth)


def test_filters_region_and_public_exports(inventory, tmp_path) -> None:
    target = tmp_path / "almaty.geojson"
    result = run("--layer", "plants", "--format", "geojson", "--output", str(target),
                 "--region", "Алматы", "--filter", "condition=1", "--public")  # fmt: skip
    assert result.exit_code == 0, result.output
    features = json.loads(target.read_text(encoding="utf-8"))["features"]
    truth = expected(inventory, "p.published AND p.region_id = 75 AND p.condition = 1")
    assert sorted(f["id"] for f in features) == sorted(truth) and truth
    assert all("notes" not in f["properties"] for f in features)
    public = tmp_path / "public.csv"
    assert (
        run("--layer", "plants", "--format", "csv", "--output", str(public), "--public").exit_code
        == 0
    )
    assert "жалоба" not in public.read_text(encoding="utf-8-sig")
    spaces = tmp_path / "spaces.gpkg"
    assert (
        run("--layer", "green_spaces", "--format", "gpkg", "--output", str(spaces)).exit_code == 0
    )
    assert pyogrio.read_dataframe(spaces).name.tolist() == ["Сквер «Қарағай»"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--filter", "colour=red"], "colour: is not a parameter of plants"),
        (["--filter", "condition"], "--filter: must look like NAME=VALUE"),
        (["--region", "Atlantis"], "unknown region 'Atlantis'"),
    ],
)
def test_bad_export_requests_are_one_line_errors(inventory, tmp_path, args, message) -> None:
    out = tmp_path / "x.gpkg"
    result = CliRunner().invoke(main, ["export", "--layer", "plants", "--format", "gpkg",
                                       "--output", str(out), *args])  # fmt: skip
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_download_button_endpoint_serves_the_filtered_layer(inventory) -> None:
    client = create_app({"TESTING": True}).test_client()
    response = client.get("/ogc/collections/plants/download?format=shp&region=KZ-71")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert {"plants.shp", "plants.dbf", "plants.cpg", "plants.fields.csv"} <= set(
        archive.namelist()
    )
    gpkg = client.get("/ogc/collections/plants/download?format=gpkg&condition=2")
    assert gpkg.mimetype == "application/geopackage+sqlite3"
    bad = client.get("/ogc/collections/plants/download?format=dwg")
    assert bad.status_code == 400 and "format" in bad.get_json()["description"]


RECORD = (
    "SELECT p.inventory_number, p.species_id, p.planting_form::text, p.quantity, p.planting_year, "
    "p.height_m::float8, p.trunk_diameter_cm::float8, p.crown_diameter_m::float8, p.condition, "
    "p.status::text, p.address, ST_AsText(ST_SnapToGrid(p.geom, 1e-7)) "
    "FROM plants p WHERE p.region_id = 71 ORDER BY p.inventory_number"
)


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson", "csv", "xlsx"])
def test_export_then_import_reproduces_the_same_records(clean, tmp_path, fmt) -> None:
    """Export a region, empty it, import the file with the importer: the same plants return."""
    from importers.services import ImportOptions, import_file
    from registry.access import Actor

    with unit_of_work(clean) as session:
        for n in range(10):
            make_plant(
                session,
                geom=point_near(ASTANA, n),
                inventory_number=f"71-RT{n:03}",
                address=ADDRESS if n == 0 else f"улица Сейфуллина, {n}",
                condition=1 + n % 5,
                planting_year=1990 + n,
                status="dead" if n % 5 == 4 else "alive",
            )  # fmt: skip  (V: dead wood)
    engine = engine_for(clean)
    with engine.connect() as conn:
        before = [tuple(r) for r in conn.execute(text(RECORD))]
    target = tmp_path / f"astana.{fmt}"
    assert run("--layer", "plants", "--format", fmt, "--output", str(target),
               "--region", "KZ-71").exit_code == 0  # fmt: skip
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM plants WHERE region_id = 71"))
    with unit_of_work(clean) as session:
        mapping = ImportOptions(mapping=target.with_suffix(".mapping.toml"))
        report = import_file(session, Actor.system("test"), target, region="KZ-71", options=mapping)
    assert report.status == "done", report
    with engine.connect() as conn:
        after = [tuple(r) for r in conn.execute(text(RECORD))]
    assert after == before


def test_map_download_links_follow_the_map_filters(inventory) -> None:
    client = create_app({"TESTING": True}).test_client()
    page = client.get("/").get_data(as_text=True)
    assert "/ogc/collections/plants/download?format=shp" in page
    with engine_for(inventory).connect() as conn:
        pine = conn.execute(
            text("SELECT id FROM species WHERE latin = 'Pinus sylvestris'")
        ).scalar()
        wanted = text(
            "SELECT id FROM plants WHERE species_id = :s AND condition IN (1, 2) "
            "AND region_id = 71 AND planting_year BETWEEN 2000 AND 2010"
        )
        truth = sorted(conn.execute(wanted, {"s": pine}).scalars())
    query = f"species={pine}&condition=1,2&region=71&year_from=2000&year_to=2010&status="
    response = client.get(f"/ogc/collections/plants/download?format=geojson&{query}")
    assert response.status_code == 200, response.data
    got = sorted(f["id"] for f in json.loads(response.data)["features"])
    assert got == truth and truth
    assert (
        client.get("/ogc/collections/plants/download?format=csv&year_from=soon").status_code == 400
    )
