"""Uploads have bounds: a ZIP judged from its directory before unpacking, a raster from its
header before its pixels are read, a photo decoded whole before it is kept, a request body
limited per endpoint, and no temporary file left behind by an upload or an export."""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import tempfile
import zipfile
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from importers.sources import SourceError, open_source
from registry.config import Limits, load_settings
from registry.db import engine_for, unit_of_work
from registry.photos.models import PlantPhoto
from tests.factories import make_plant
from tests.test_ndvi import spaces, write_image  # noqa: F401  (the fixture)
from tests.test_photos import image_bytes
from tests.web_client import csrf_token, new_user, sign_in
from web import create_app

HEADER = "inventory_number;species;height_m;lon;lat\n"


def zip_bomb(path: Path, unpacked: int) -> Path:
    """A survey ZIP whose one CSV unpacks to ``unpacked`` bytes of blank lines (~1000:1)."""
    block = b"\n" * (1024 * 1024)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("опись.csv", "w", force_zip64=True) as member,
    ):
        member.write(HEADER.encode())
        for _ in range(unpacked // len(block)):
            member.write(block)
    return path


@pytest.fixture
def temp_folder(tmp_path, monkeypatch) -> Path:
    """The temporary folder of this process (``tempfile``) and of its children (``TMPDIR``)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


def left_in(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def test_a_zip_over_the_unpacked_limit_is_refused_before_unpacking(
    tmp_path, temp_folder, monkeypatch
) -> None:
    archive = zip_bomb(tmp_path / "survey.zip", 20 * 1024 * 1024)
    monkeypatch.setenv("JASYL_ZIP_MAX_BYTES", str(5 * 1024 * 1024))
    monkeypatch.setenv("JASYL_ZIP_MAX_RATIO", "100000")
    with pytest.raises(SourceError) as refused, ExitStack() as stack:
        open_source(archive, stack)
    assert "survey.zip: the ZIP unpacks to 21.0 MB, more than the 5.2 MB" in str(refused.value)
    assert "(JASYL_ZIP_MAX_BYTES)" in str(refused.value)
    assert left_in(temp_folder) == []


def test_zip_member_count_and_ratio_are_judged_from_the_directory(tmp_path, monkeypatch) -> None:
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as archive:
        for number in range(5):
            archive.writestr(f"part{number}.csv", HEADER)
    monkeypatch.setenv("JASYL_ZIP_MAX_MEMBERS", "4")
    with (
        pytest.raises(SourceError, match=r"holds 5 files, more than the 4 allowed"),
        ExitStack() as s,
    ):
        open_source(many, s)
    bomb = zip_bomb(tmp_path / "bomb.zip", 8 * 1024 * 1024)
    bomb_refused = r"JASYL_ZIP_MAX_RATIO\): it looks like a ZIP bomb"
    with pytest.raises(SourceError, match=bomb_refused), ExitStack() as s:
        open_source(bomb, s)


def test_jasyl_import_refuses_a_zip_bomb_writing_no_file_over_4_mb(
    clean, tmp_path, temp_folder
) -> None:
    """The real command in its own process, forbidden by the kernel to write any file past
    4 MB: today's unpacking of a 64 MB member killed it (SIGXFSZ); now it is refused first."""
    archive = zip_bomb(tmp_path / "bomb.zip", 64 * 1024 * 1024)
    jasyl = str(Path(sys.executable).with_name("jasyl"))

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4 * 1024 * 1024, 4 * 1024 * 1024))

    result = subprocess.run(
        [jasyl, "import", str(archive), "--region", "KZ-71"],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": clean},
        preexec_fn=small_files,  # noqa: PLW1509 (no threads in the test process yet)
        timeout=120,
    )
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert "bomb.zip: the ZIP unpacks" in result.stderr and "JASYL_ZIP_MAX_RATIO" in result.stderr
    assert left_in(temp_folder) == []


@pytest.fixture
def forester_site(clean, tmp_path):
    new_user(clean, "astana@test.kz", "forester", "KZ-71")
    with unit_of_work(clean) as session:
        plant = make_plant(session).id
    limits = Limits(max_survey_bytes=2 * 1024 * 1024)
    settings = replace(load_settings(), limits=limits)
    app = create_app(
        {"TESTING": True, "UPLOADS_DIR": tmp_path / "uploads", "JASYL_SETTINGS": settings}
    )
    client = app.test_client()
    sign_in(client, "astana@test.kz")
    return client, plant, clean


def post_survey(client, data: bytes, name: str):
    return client.post(
        "/imports/upload",
        data={"survey": (io.BytesIO(data), name), "region": "KZ-71",
              "csrf_token": csrf_token(client)},
        content_type="multipart/form-data",
    )  # fmt: skip


def test_the_web_importer_refuses_a_zip_bomb_and_leaves_no_temporary_file(
    forester_site, tmp_path, temp_folder
) -> None:
    client, _, _ = forester_site
    bomb = zip_bomb(tmp_path / "bomb.zip", 32 * 1024 * 1024).read_bytes()
    answer = post_survey(client, bomb, "bomb.zip")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422, html
    assert "bomb.zip: the ZIP unpacks" in html and "JASYL_ZIP_MAX_RATIO" in html
    assert left_in(temp_folder) == []


def test_a_request_body_over_its_endpoint_limit_is_413_naming_the_setting(forester_site) -> None:
    client, plant, _ = forester_site
    answer = post_survey(client, HEADER.encode() * 150_000, "big.csv")  # ~6 MB > 2 MiB
    assert answer.status_code == 413
    assert "JASYL_MAX_SURVEY_BYTES" in answer.get_data(as_text=True)
    too_big_json = client.post(
        f"/api/v1/plants/{plant}/inspections",
        data=b"{" + b" " * (5 * 1024 * 1024) + b"}",
        headers={"X-CSRFToken": csrf_token(client), "Content-Type": "application/json"},
    )
    assert too_big_json.status_code == 413
    assert "JASYL_MAX_REQUEST_BYTES" in too_big_json.get_json()["message"]


def test_a_truncated_jpeg_is_422_naming_the_file_and_nothing_is_kept(forester_site) -> None:
    client, plant, url = forester_site
    jpeg = image_bytes(size=(800, 600))
    answer = client.post(
        f"/api/v1/plants/{plant}/photos",
        data={"photo": (io.BytesIO(jpeg[: len(jpeg) // 2]), "берёза.jpg")},
        headers={"X-CSRFToken": csrf_token(client)},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422, answer.data
    assert answer.json["field"] == "photo" and answer.json["value"] == "берёза.jpg"
    assert "truncated" in answer.json["message"]
    with unit_of_work(url) as session:
        assert session.scalar(select(func.count()).select_from(PlantPhoto)) == 0


NAMELESS_PARTS = (
    b"--XX\r\nContent-Disposition: form-data; \\\r\nContent-Type: text/x\r\n\r\nab\r\n--XX--\r\n",
    b"--XX\r\nContent-Disposition: form-data; name=; filename=\r\n\r\nabc\r\n--XX--\r\n",
    b"--XX\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--XX--\r\n",
)  # fmt: skip


@pytest.mark.parametrize("signed_in", [False, True], ids=["public", "forester"])
def test_multipart_parts_without_a_name_are_400(forester_site, signed_in) -> None:
    """werkzeug keeps a nameless part under the key None, on which CSRF protection failed (500)."""
    client, plant, _ = forester_site
    if not signed_in:
        client.post("/logout", headers={"X-CSRFToken": csrf_token(client)})
    for body in NAMELESS_PARTS:
        answer = client.post(
            f"/api/v1/plants/{plant}/photos",
            data=body,
            content_type="multipart/form-data; boundary=XX",
            headers={"X-CSRFToken": csrf_token(client)},
        )
        assert answer.status_code == 400, (body, answer.data)
        assert "has no name" in answer.json["message"]


def test_a_raster_over_the_pixel_limit_is_refused_from_its_header(
    spaces,  # noqa: F811
    tmp_path,
    temp_folder,
    monkeypatch,
) -> None:
    """200 × 200 px in 4 bands = 160,000 against a limit lowered to 100,000."""
    monkeypatch.setenv("JASYL_RASTER_MAX_PIXELS", "100000")
    image = write_image(tmp_path / "july.tif")
    new_user(spaces["url"], "ndvi@test.kz", "forester", "KZ-71")
    client = create_app({"TESTING": True}).test_client()
    sign_in(client, "ndvi@test.kz")
    answer = client.post(
        "/raster/ndvi/upload",
        data={"image": (image.open("rb"), "июль.tif"), "red": "1", "nir": "4", "threshold": "0.3",
              "date": "", "csrf_token": csrf_token(client)},
        content_type="multipart/form-data",
    )  # fmt: skip
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422, html
    assert "has 200 × 200 pixels in 4 band(s) = 160,000, more than the 100,000" in html
    assert "JASYL_RASTER_MAX_PIXELS" in html
    with engine_for(spaces["url"]).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ndvi_images")).scalar() == 0
    assert left_in(temp_folder) == []
