"""``jasyl raster ndvi`` as a person uses it: red and NIR in two files, digital numbers with a
scale and offset, the same image twice, green spaces the image only partly covers, an image
outside Kazakhstan and foresters outside their region. Rasters are written here (rasterio)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from click.testing import CliRunner
from rasterio.transform import from_origin
from sqlalchemy import text

from registry.db import engine_for, unit_of_work
from tests.factories import ASTANA, OUTSIDE_KAZAKHSTAN, make_green_space, make_user
from tests.test_ndvi import (
    ORIGIN,
    PIXEL,
    SIZE,
    _signed_in,
    make_spaces,
    to_wgs84,
    utm_square,
    write_image,
)
from web.cli import main

STAMP = "2024:07:15 06:30:00"


@pytest.fixture
def spaces(clean):
    return make_spaces(clean)


def write_band(path: Path, values: np.ndarray, transform, crs: str = "EPSG:32642") -> Path:
    """One single-band GeoTIFF (uint16, 0 is nodata), as Landsat and Sentinel deliver a band."""
    profile = {"driver": "GTiff", "width": values.shape[1], "height": values.shape[0], "count": 1,
               "dtype": "uint16", "transform": transform, "crs": crs, "nodata": 0}  # fmt: skip
    with rasterio.open(path, "w", **profile) as out:
        out.write(values.astype(np.uint16), 1)
        out.update_tags(TIFFTAG_DATETIME=STAMP)
    return path


def split_bands(image: Path, folder: Path) -> tuple[Path, Path]:
    """Band 1 (red) and band 4 (NIR) of ``write_image``'s file as two files on its grid."""
    with rasterio.open(image) as source:
        red, nir, transform = source.read(1), source.read(4), source.transform
    return write_band(folder / "B04.tif", red, transform), write_band(folder / "B08.tif", nir,
                                                                     transform)  # fmt: skip


def run(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(main, ["raster", "ndvi", *args])
    return done.exit_code, done.output


def figures(output: str) -> dict[int, dict]:
    return {space["green_space_id"]: space for space in json.loads(output)["green_spaces"]}


def count(url: str, table: str) -> int:
    with engine_for(url).connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608


def test_red_and_nir_from_two_files_same_grid_and_another(spaces, tmp_path) -> None:
    red, nir = split_bands(write_image(tmp_path / "scene.tif"), tmp_path)
    code, output = run("--red", str(red), "--nir", f"{nir}:1", "--json")
    assert code == 0, output
    found = figures(output)
    assert found[spaces["park"]]["mean"] == pytest.approx(2 / 3)
    assert found[spaces["edge"]]["vegetated_share"] == pytest.approx(123 / 410, rel=0.01)
    # NIR at 20 m on its own grid (as Sentinel's B8A beside a 10 m B04): aligned onto red's
    with rasterio.open(nir) as source:
        fine = source.read(1).astype(np.float64)
    coarse = fine.reshape(SIZE // 2, 2, SIZE // 2, 2).mean(axis=(1, 3))
    coarse[:3, :] = 0  # the nodata strip, whole 20 m pixels
    nir20 = write_band(tmp_path / "B8A.tif", coarse, from_origin(*ORIGIN, 2 * PIXEL, 2 * PIXEL))
    code, output = run("--red", str(red), "--nir", str(nir20), "--json")
    assert code == 0, output
    assert figures(output)[spaces["park"]]["mean"] == pytest.approx(2 / 3, abs=1e-6)
    assert count(spaces["url"], "ndvi_images") == 2


def test_band_of_a_multiband_file_and_refusals_of_bad_bands(spaces, tmp_path) -> None:
    scene = write_image(tmp_path / "scene.tif")
    code, output = run("--red", f"{scene}:1", "--nir", f"{scene}:4")
    assert code == 0 and "2 green space(s) measured" in output, output
    code, output = run("--red", f"{scene}:1", "--nir", f"{scene}:1")
    assert code == 1 and "--nir: must be a different band from --red" in output
    code, output = run("--red", f"{scene}:x", "--nir", f"{scene}:4")
    assert code == 1 and "--red: the band after ':' must be a number" in output
    code, output = run(str(scene), "--red", "1", "--nir", str(scene))
    assert code == 1 and "--nir: with IMAGE give a band number" in output


def test_scale_and_offset_turn_digital_numbers_into_reflectance(spaces, tmp_path) -> None:
    """DN 3000/7000 is NDVI 0.4; as reflectance (×0.0001 − 0.1: 0.2/0.6) it is 0.5."""
    transform = from_origin(*ORIGIN, PIXEL, PIXEL)
    red = write_band(tmp_path / "red.tif", np.full((SIZE, SIZE), 3000), transform)
    nir = write_band(tmp_path / "nir.tif", np.full((SIZE, SIZE), 7000), transform)
    code, output = run("--red", str(red), "--nir", str(nir), "--json")
    assert code == 0 and figures(output)[spaces["park"]]["mean"] == pytest.approx(0.4)
    code, output = run("--red", str(red), "--nir", str(nir), "--scale", "0.0001",
                       "--offset", "-0.1", "--json")  # fmt: skip
    assert code == 0 and figures(output)[spaces["park"]]["mean"] == pytest.approx(0.5)
    assert json.loads(output)["replaced"] is True  # the same files: their figures replaced
    code, output = run("--red", str(red), "--nir", str(nir), "--scale", "0")
    assert code == 1 and "--scale: must not be 0" in output


def test_the_same_image_replaces_its_figures(spaces, tmp_path) -> None:
    scene = write_image(tmp_path / "scene.tif")
    code, first = run(str(scene), "--red", "1", "--nir", "4")
    assert code == 0 and "replaced" not in first, first
    copy = tmp_path / "copy-of-scene.tif"
    copy.write_bytes(scene.read_bytes())  # renamed, same content
    code, again = run(str(copy), "--red", "1", "--nir", "4", "--threshold", "0.5")
    assert code == 0 and "the same image as before: its figures replaced" in again, again
    assert count(spaces["url"], "ndvi_images") == 1
    assert count(spaces["url"], "green_space_ndvi") == 2
    with engine_for(spaces["url"]).connect() as conn:
        kept = conn.execute(text("SELECT file_name, threshold FROM ndvi_images")).one()
    assert tuple(kept) == ("copy-of-scene.tif", 0.5)


def test_partly_covered_green_spaces_are_kept_and_reported(spaces, tmp_path) -> None:
    x0, y0 = ORIGIN
    east = x0 + SIZE * PIXEL
    with unit_of_work(spaces["url"]) as session:
        # 100 m of its 400 m width on the image; and one half under the nodata strip (50 m)
        off_edge = make_green_space(
            session,
            name="Сквер у края снимка",
            geom=to_wgs84(utm_square(east - 100, y0 - 600, 400)),
        ).id
        strip = make_green_space(
            session, name="Бульвар под полосой", geom=to_wgs84(utm_square(x0 + 600, y0, 100))
        ).id
    scene = write_image(tmp_path / "scene.tif")
    code, output = run(str(scene), "--red", "1", "--nir", "4", "--json")
    assert code == 0, output
    found = figures(output)
    assert found[off_edge]["covered_share"] == pytest.approx(0.25, rel=0.01)
    assert found[strip]["covered_share"] == pytest.approx(0.5, rel=0.01)
    assert found[spaces["park"]]["covered_share"] == pytest.approx(1)
    assert [s for s in found if found[s]["partly_covered"]] == sorted([off_edge, strip])
    with engine_for(spaces["url"]).connect() as conn:
        stored = dict(
            conn.execute(text("SELECT green_space_id, covered_share FROM green_space_ndvi")).all()
        )
    assert stored[off_edge] == pytest.approx(0.25, rel=0.01) and stored[spaces["park"]] == 1
    code, output = run(str(scene), "--red", "1", "--nir", "4")
    assert "2 green space(s) covered under 90 %" in output.replace("90%", "90 %"), output
    assert f"{off_edge} Сквер у края снимка: 25% covered" in output
    assert f"{strip} Бульвар под полосой: 50% covered" in output


def test_an_image_outside_kazakhstan_is_refused(spaces, tmp_path) -> None:
    west, north = OUTSIDE_KAZAKHSTAN
    moscow = write_band(tmp_path / "moscow.tif", np.full((50, 50), 3000),
                        from_origin(west, north, 0.001, 0.001), crs="EPSG:4326")  # fmt: skip
    code, output = run("--red", str(moscow), "--nir", str(moscow))
    assert code == 1 and "--nir: must be a different band" in output
    code, output = run("--red", f"{moscow}:1", "--nir", str(write_band(
        tmp_path / "nir.tif", np.full((50, 50), 5000), from_origin(west, north, 0.001, 0.001),
        crs="EPSG:4326")))  # fmt: skip
    assert code == 1 and "image: lies outside Kazakhstan" in output, output
    assert count(spaces["url"], "ndvi_images") == 0


def geographic_pair(folder: Path, west: float, north: float, degrees: float) -> tuple[Path, Path]:
    """Red and NIR over a square of ``degrees`` (0.002° pixels), vegetated everywhere."""
    size = round(degrees / 0.002)
    transform = from_origin(west, north, 0.002, 0.002)
    red = write_band(folder / "wide-red.tif", np.full((size, size), 1000), transform, "EPSG:4326")
    nir = write_band(folder / "wide-nir.tif", np.full((size, size), 5000), transform, "EPSG:4326")
    return red, nir


def test_foresters_record_ndvi_only_for_their_own_region(spaces, tmp_path) -> None:
    with unit_of_work(spaces["url"]) as session:
        astana = make_user(session, "forester", "KZ-71").email
        almaty = make_user(session, "forester", "KZ-75").email
        planner = make_user(session, "planner", None).email
        beyond = make_green_space(  # west of the city, in Akmola Region
            session,
            name="Лесополоса",
            geom=shapely.Point(ASTANA[0] - 0.45, ASTANA[1]).buffer(0.002),
        )
        assert beyond.region_id != session.scalar(
            text("SELECT id FROM regions WHERE iso_code = 'KZ-71'")
        )
        beyond = beyond.id
    scene = write_image(tmp_path / "scene.tif")
    for email, refusal in ((almaty, "may not record NDVI outside region"),
                           (planner, "may not record NDVI images")):  # fmt: skip
        code, output = run(str(scene), "--red", "1", "--nir", "4", "--as", email)
        assert code == 1 and refusal in output, output
    assert count(spaces["url"], "ndvi_images") == 0
    with engine_for(spaces["url"]).connect() as conn:
        denied = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'denied' "
                                   "AND entity = 'NDVI image'")).scalar()  # fmt: skip
    assert denied == 2
    red, nir = geographic_pair(tmp_path, ASTANA[0] - 0.6, ASTANA[1] + 0.3, 0.8)
    code, output = run("--red", str(red), "--nir", str(nir), "--json", "--as", astana)
    assert code == 0, output
    assert sorted(figures(output)) == sorted([spaces["park"], spaces["edge"]])
    code, output = run("--red", str(red), "--nir", str(nir), "--json")  # the operator: all
    assert sorted(figures(output)) == sorted([spaces["park"], spaces["edge"], beyond])
    code, output = run("--red", str(red), "--nir", str(nir), "--json", "--as", astana)
    assert json.loads(output)["replaced"] is True
    assert count(spaces["url"], "green_space_ndvi") == 3  # Akmola's figure left as it was


def test_web_upload_reports_partial_cover_and_replacement(spaces, tmp_path) -> None:
    x0, y0 = ORIGIN
    with unit_of_work(spaces["url"]) as session:
        edge_of_image = utm_square(x0 + SIZE * PIXEL - 100, y0 - 600, 400)
        make_green_space(session, name="Сквер у края снимка", geom=to_wgs84(edge_of_image))
    client = _signed_in(spaces["url"], "forester")  # of Astana
    scene = write_image(tmp_path / "scene.tif")
    form = {"red": "1", "nir": "4", "threshold": "0.3", "date": ""}
    for attempt in range(2):
        with scene.open("rb") as handle:
            answer = client.post("/raster/ndvi/upload", data={"image": (handle, "s.tif"), **form},
                                 content_type="multipart/form-data")  # fmt: skip
        page = answer.get_data(as_text=True)
        assert answer.status_code == 200, page
        assert 'id="ndvi-partial"' in page and "Сквер у края снимка: 25 %" in page
        assert ('id="ndvi-replaced"' in page) is (attempt == 1)
    assert count(spaces["url"], "ndvi_images") == 1
