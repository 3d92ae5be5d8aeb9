"""NDVI: known answers on rasters built here, bad files, exactextract agreement, the real image.

exactextract agreement proves the plumbing only; ``test_ndvi_reference`` checks the statistics
against coverage worked out by hand.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from click.testing import CliRunner
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.ops import transform as reshape
from sqlalchemy import text

from gis.ndvi import (
    NODATA_BYTE,
    WGS84,
    NdviImage,
    ZoneFigures,
    compute_ndvi,
    overlay_png,
    read_ndvi,
    reproject_polygons,
    vegetated,
    zonal_figures,
)
from registry.db import engine_for, unit_of_work
from registry.errors import InvalidValue
from tests.factories import ASTANA, make_green_space
from web import create_app
from web.cli import main


def zone_figures(image: NdviImage, polygon, threshold: float) -> ZoneFigures | None:
    """NDVI over one polygon already in the image's CRS, through the many-polygon path."""
    return zonal_figures(image, [polygon], threshold, crs=image.crs)[0]


def to_image_crs(image: NdviImage, geometry_wgs84):
    return reproject_polygons([geometry_wgs84], WGS84, image.crs)[0]


UTM42 = "EPSG:32642"
TO_UTM = Transformer.from_crs("EPSG:4326", UTM42, always_xy=True)
TO_WGS84 = Transformer.from_crs(UTM42, "EPSG:4326", always_xy=True)
ORIGIN = TO_UTM.transform(ASTANA[0] - 0.01, ASTANA[1] + 0.01)  # north-west corner, metres
PIXEL = 10.0
SIZE = 200  # 2 km × 2 km
VEGETATION = (1000, 5000)  # red, NIR → NDVI 2/3
BARE = (3000, 3000)  # → 0


def test_ndvi_of_integers_never_wraps_around() -> None:
    red = np.array([[100, 200, 0, 255]], dtype=np.uint8)
    nir = np.array([[200, 100, 0, 255]], dtype=np.uint8)
    values = compute_ndvi(red, nir, invalid=np.array([[False, False, False, True]]))
    assert values[0, 0] == pytest.approx(1 / 3) and values[0, 1] == pytest.approx(-1 / 3)
    assert np.isnan(values[0, 2]) and np.isnan(values[0, 3])  # 0/0 and nodata


def write_image(
    path: Path,
    *,
    bands: int = 4,
    crs: str | None = UTM42,
    stamp: str | None = "2024:07:15 06:30:00",
    vegetated_share: float = 0.5,
) -> Path:
    """West part vegetated, east part bare; band 1 red, band 4 NIR; 0 is nodata."""
    red = np.full((SIZE, SIZE), BARE[0], dtype=np.uint16)
    nir = np.full((SIZE, SIZE), BARE[1], dtype=np.uint16)
    split = int(SIZE * vegetated_share)
    red[:, :split], nir[:, :split] = VEGETATION
    red[:5, :], nir[:5, :] = 0, 0  # a nodata strip along the north edge
    profile = {"driver": "GTiff", "width": SIZE, "height": SIZE, "count": bands, "dtype": "uint16",
               "transform": from_origin(*ORIGIN, PIXEL, PIXEL), "nodata": 0}  # fmt: skip
    if crs:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as out:
        layers = [red, red // 2, red // 3, nir][:bands] if bands > 1 else [red]
        for number, layer in enumerate(layers, start=1):
            out.write(layer, number)
        if stamp:
            out.update_tags(TIFFTAG_DATETIME=stamp)
    return path


def utm_square(x0: float, y0: float, side: float) -> shapely.Polygon:
    return shapely.box(x0, y0 - side, x0 + side, y0)


def to_wgs84(polygon: shapely.Polygon) -> shapely.Polygon:
    return reshape(TO_WGS84.transform, polygon)


def test_known_answers_per_zone(tmp_path) -> None:
    image = read_ndvi(write_image(tmp_path / "a.tif"), red=1, nir=4)
    assert image.acquired_on == date(2024, 7, 15)
    x0, y0 = ORIGIN
    middle = x0 + SIZE * PIXEL / 2
    green = zone_figures(image, utm_square(x0 + 100, y0 - 300, 400), threshold=0.3)
    assert green.mean == pytest.approx(2 / 3) and green.vegetated_share == pytest.approx(1)
    assert green.pixels == pytest.approx(1600)
    # straddling the edge, 30 % on the vegetated side, shifted off the pixel grid
    half = zone_figures(image, utm_square(middle - 123, y0 - 403, 410), threshold=0.3)
    assert half.vegetated_share == pytest.approx(123 / 410, rel=0.01)
    assert half.mean == pytest.approx(2 / 3 * 123 / 410, rel=0.01)
    assert (half.minimum, half.maximum) == (pytest.approx(0), pytest.approx(2 / 3))
    # the nodata strip counts for nothing
    strip = zone_figures(image, utm_square(x0 + 10, y0, 100), threshold=0.3)
    assert strip.pixels == pytest.approx(100 - 50)
    assert zone_figures(image, utm_square(x0 - 5000, y0, 100), threshold=0.3) is None


@pytest.mark.parametrize(
    "kind, message",
    [
        ("no_crs", "has no coordinate reference system"),
        ("one_band", "band 4 does not exist: one_band.tif has 1 band(s)"),
        ("corrupt", "is not a readable raster image"),
        ("missing", "does not exist"),
    ],
)
def test_bad_rasters_give_clear_errors(tmp_path, kind, message) -> None:
    path = tmp_path / f"{kind}.tif"
    if kind == "no_crs":
        write_image(path, crs=None)
    elif kind == "one_band":
        write_image(path, bands=1)
    elif kind == "corrupt":
        path.write_bytes(b"II*\x00" + b"\x13" * 500)
    with pytest.raises(InvalidValue) as caught:
        read_ndvi(path, red=1, nir=4)
    assert message in str(caught.value)


@pytest.fixture
def spaces(clean):
    return make_spaces(clean)


def make_spaces(url: str) -> dict:
    """A park inside the test image, a square across its vegetated edge, one far outside."""
    x0, y0 = ORIGIN
    middle = x0 + SIZE * PIXEL / 2
    with unit_of_work(url) as session:
        park = make_green_space(
            session, name="Парк «Жасыл»", geom=to_wgs84(utm_square(x0 + 100, y0 - 300, 400))
        )
        edge = make_green_space(
            session, name="Сквер на краю", geom=to_wgs84(utm_square(middle - 123, y0 - 403, 410))
        )
        make_green_space(
            session, name="Далеко", geom=shapely.Point(ASTANA[0] + 1, ASTANA[1]).buffer(0.001)
        )
    return {"park": park.id, "edge": edge.id, "url": url}


def test_cli_stores_ndvi_per_green_space_over_time(spaces, tmp_path) -> None:
    runner = CliRunner()
    july = write_image(tmp_path / "july.tif")
    done = runner.invoke(main, ["raster", "ndvi", str(july), "--red", "1", "--nir", "4"])
    assert done.exit_code == 0, done.output
    assert "2024-07-15" in done.output and "2 green space(s) measured" in done.output
    autumn = write_image(tmp_path / "october.tif", stamp=None, vegetated_share=0.1)
    done = runner.invoke(main, ["raster", "ndvi", str(autumn), "--red", "1", "--nir", "4",
                                "--date", "2024-10-01", "--threshold", "0.5"])  # fmt: skip
    assert done.exit_code == 0, done.output
    client = create_app({"TESTING": True}).test_client()
    history = client.get(f"/raster/ndvi/green_spaces/{spaces['edge']}").get_json()["ndvi"]
    assert [h["acquired_on"] for h in history] == ["2024-07-15", "2024-10-01"]
    assert history[0]["vegetated_share"] == pytest.approx(123 / 410, rel=0.01)
    assert history[1]["vegetated_share"] == pytest.approx(0, abs=1e-9)  # all bare by October
    latest = client.get(f"/ogc/collections/green_spaces/items/{spaces['edge']}").get_json()
    assert latest["properties"]["ndvi_date"] == "2024-10-01"
    assert latest["properties"]["vegetated_share"] == 0
    listing = client.get("/raster/ndvi").get_json()
    assert len(listing["images"]) == 2 and len(listing["legend"]) >= 5
    (south, west), (north, east) = listing["images"][0]["bounds"]
    assert west < ASTANA[0] < east and south < ASTANA[1] < north
    png = client.get(listing["images"][0]["overlay"])
    assert png.mimetype == "image/png" and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get("/raster/ndvi/999.png").status_code == 404


@pytest.mark.parametrize(
    "args, message",
    [
        (["--red", "1", "--nir", "9"], "--nir: band 9 does not exist"),
        (
            ["--red", "1", "--nir", "4", "--threshold", "2"],
            "--threshold: must lie between -1 and 1",
        ),
    ],
)
def test_cli_refusals_store_nothing(spaces, tmp_path, args, message) -> None:
    image = write_image(tmp_path / "x.tif")
    done = CliRunner().invoke(main, ["raster", "ndvi", str(image), *args])
    assert done.exit_code == 1 and message in done.output and "Traceback" not in done.output
    undated = write_image(tmp_path / "undated.tif", stamp=None)
    done = CliRunner().invoke(main, ["raster", "ndvi", str(undated), "--red", "1", "--nir", "4"])
    assert done.exit_code == 1 and "--date" in done.output
    with engine_for(spaces["url"]).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ndvi_images")).scalar() == 0


def _vegetated_share(threshold: float):
    """exactextract's own per-pixel values and coverage, summed here: an independent reference."""

    def share(values, coverage) -> float:
        valid = ~np.ma.getmaskarray(values) & ~np.isnan(np.ma.getdata(values))
        above = valid & (np.ma.getdata(values) > threshold)
        return float(coverage[above].sum() / coverage[valid].sum())

    return share


def _exactextract(image, polygons: list, threshold: float = 0.3) -> gpd.GeoDataFrame:
    source = NumPyRasterSource(image.values, *image.bounds, nodata=None, srs_wkt=image.crs.to_wkt())
    frame = gpd.GeoDataFrame(geometry=polygons, crs=image.crs)
    operations = ["mean", "min", "max", "count", _vegetated_share(threshold)]
    return exact_extract(source, frame, operations, output="pandas")


def _agree(ours: float, reference: float) -> bool:
    """Within 1 % of the reference (values near zero are measured against 0.1)."""
    return abs(ours - reference) <= 0.01 * max(abs(reference), 0.1)


@pytest.mark.shared
def test_real_4_band_image_against_exactextract(shared_data) -> None:
    path = shared_data / "raster-rgbn-5m" / "rgbn.tif"
    image = read_ndvi(path, red=1, nir=4)
    assert image.crs.to_epsg() == 32618 and image.values.shape == (403, 515)
    p5, p50, p95 = np.nanpercentile(image.values, [5, 50, 95])  # PROVENANCE.md: −0.29/−0.02/0.28
    assert (p5, p50, p95) == (
        pytest.approx(-0.29, abs=0.01),
        pytest.approx(-0.02, abs=0.01),
        pytest.approx(0.28, abs=0.01),
    )
    rng = np.random.default_rng(8)
    x0, y0, x1, y1 = image.bounds
    # green spaces arrive in EPSG:4326 and are reprojected to the image's UTM zone
    to_wgs = Transformer.from_crs(image.crs, "EPSG:4326", always_xy=True)
    polygons = []
    for _ in range(60):
        centre = shapely.Point(rng.uniform(x0 + 150, x1 - 150), rng.uniform(y0 + 150, y1 - 150))
        utm = shapely.affinity.rotate(centre.buffer(rng.uniform(15, 120), 6), rng.uniform(0, 90))
        polygons.append(to_image_crs(image, reshape(to_wgs.transform, utm)))
    ours = [zone_figures(image, p, threshold=0.2) for p in polygons]
    reference = _exactextract(image, polygons, threshold=0.2)
    for mine, (_, ref) in zip(ours, reference.iterrows(), strict=True):
        assert _agree(mine.mean, ref["mean"]), (mine.mean, ref["mean"])
        assert _agree(mine.vegetated_share, ref["share"]), (mine.vegetated_share, ref["share"])
        assert mine.minimum == pytest.approx(ref["min"]) and mine.maximum == pytest.approx(
            ref["max"]
        )
    picture, (west, south, east, north) = overlay_png(image)
    assert (
        picture[:4] == b"\x89PNG"
        and west == pytest.approx(-72.22, abs=0.02)
        and south == pytest.approx(18.50, abs=0.02)
    )


@pytest.mark.shared
def test_real_image_through_the_cli(shared_data, clean) -> None:
    path = shared_data / "raster-rgbn-5m" / "rgbn.tif"
    done = CliRunner().invoke(
        main, ["raster", "ndvi", str(path), "--red", "1", "--nir", "4", "--date", "2021-06-01"]
    )
    assert done.exit_code == 1 and "image: lies outside Kazakhstan" in done.output  # Haiti
    with engine_for(clean).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ndvi_images")).scalar() == 0


def _signed_in(database_url: str, role: str):
    from tests.factories import make_user

    with unit_of_work(database_url) as session:
        email = make_user(session, role, "KZ-71" if role == "forester" else None).email
    client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()
    signed = client.post("/login", data={"email": email, "password": "correct horse battery"})
    assert signed.status_code == 302, signed.data
    return client


def test_web_upload_by_a_forester_and_refusals(spaces, tmp_path) -> None:
    client = _signed_in(spaces["url"], "forester")
    assert client.get("/raster/ndvi/upload").status_code == 200
    image = write_image(tmp_path / "july.tif")
    with image.open("rb") as handle:
        answer = client.post("/raster/ndvi/upload", data={"image": (handle, "июль.tif"), "red": "1",
                             "nir": "4", "threshold": "0.3", "date": ""},
                             content_type="multipart/form-data")  # fmt: skip
    assert answer.status_code == 200, answer.data
    assert 'id="ndvi-result"' in answer.get_data(as_text=True)
    with engine_for(spaces["url"]).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM green_space_ndvi")).scalar() == 2
    one_band = write_image(tmp_path / "one.tif", bands=1)
    form = {"red": "1", "nir": "4", "threshold": "0.3"}
    with one_band.open("rb") as handle:
        answer = client.post("/raster/ndvi/upload", data={"image": (handle, "one.tif"), **form},
                             content_type="multipart/form-data")  # fmt: skip
    assert answer.status_code == 422 and "band 4 does not exist" in answer.get_data(as_text=True)
    nursery = _signed_in(spaces["url"], "nursery")
    with image.open("rb") as handle:
        answer = nursery.post("/raster/ndvi/upload", data={"image": (handle, "x.tif"), **form},
                              content_type="multipart/form-data")  # fmt: skip
    assert answer.status_code == 403
    with engine_for(spaces["url"]).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ndvi_images")).scalar() == 1


def _noisy_image(rng: np.random.Generator) -> NdviImage:
    """A 400 × 400 px NDVI field (5 m pixels, UTM 42N) with noise, NaN holes and a NaN block."""
    y, x = np.mgrid[0:400, 0:400] / 400
    values = 0.3 + 0.3 * np.sin(9 * x) * np.cos(7 * y) + rng.normal(0, 0.1, (400, 400))
    values[rng.random((400, 400)) < 0.01] = np.nan
    values[:40, :40] = np.nan
    return NdviImage(
        values, from_origin(*ORIGIN, 5.0, 5.0), rasterio.crs.CRS.from_epsg(32642), None
    )


def test_zonal_figures_agree_with_exactextract_from_any_crs() -> None:
    rng = np.random.default_rng(13)
    image = _noisy_image(rng)
    x0, y0 = ORIGIN
    utm = [
        shapely.affinity.rotate(
            shapely.Point(x0 + rng.uniform(150, 1850), y0 - rng.uniform(150, 1850)).buffer(
                rng.uniform(10, 140), 5
            ),
            rng.uniform(0, 90),
        )
        for _ in range(40)
    ]
    on_nodata = utm_square(x0 + 20, y0 - 20, 100)  # inside the NaN block only
    outside = utm_square(x0 - 5000, y0, 100)
    stored = reproject_polygons([*utm, on_nodata, outside], image.crs, WGS84)
    ours = zonal_figures(image, stored, threshold=0.35)
    assert ours[-2:] == [None, None]
    mercator = reproject_polygons(stored, WGS84, rasterio.crs.CRS.from_epsg(3857))
    from_mercator = zonal_figures(image, mercator, threshold=0.35, crs="EPSG:3857")
    reference = _exactextract(image, utm, threshold=0.35)
    for mine, again, (_, ref) in zip(ours, from_mercator, reference.iterrows(), strict=False):
        assert _agree(mine.mean, ref["mean"]) and _agree(mine.vegetated_share, ref["share"])
        assert mine.pixels == pytest.approx(ref["count"], rel=0.01)
        assert (mine.minimum, mine.maximum) == (
            pytest.approx(ref["min"]),
            pytest.approx(ref["max"]),
        )
        assert again.mean == pytest.approx(mine.mean, rel=1e-6)
        assert again.vegetated_share == pytest.approx(mine.vegetated_share, abs=1e-6)
    assert zonal_figures(image, [], threshold=0.3) == []


def test_vegetated_flags_keep_nodata_apart() -> None:
    flags = vegetated(np.array([[0.1, 0.5, np.nan, 0.3]]), threshold=0.3)
    assert flags.dtype == np.uint8 and flags.tolist() == [[0, 1, NODATA_BYTE, 0]]
