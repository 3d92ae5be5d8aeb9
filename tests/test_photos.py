"""Plant photos over HTTP: who may add them, what is accepted, who sees them, and backups."""

from __future__ import annotations

import io
import tarfile

import pytest
from PIL import Image
from sqlalchemy import func, select

from registry.audit.models import AuditEntry
from registry.backup.services import backup
from registry.db import unit_of_work
from registry.photos.models import PlantPhoto
from registry.photos.rules import MAX_PHOTO_BYTES
from tests.factories import make_plant
from tests.web_client import csrf_token, new_user, sign_in
from web import create_app


def image_bytes(kind: str = "JPEG", size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (40, 140, 60)).save(out, kind)
    return out.getvalue()


@pytest.fixture
def site(clean, tmp_path):
    """The app storing uploads in a folder of the test's own, a published and a hidden plant."""
    with unit_of_work(clean) as session:
        shown = make_plant(session).id
        hidden = make_plant(session, published=False).id
    new_user(clean, "astana@test.kz", "forester", "KZ-71")
    new_user(clean, "almaty@test.kz", "forester", "KZ-75")
    app = create_app({"TESTING": True, "UPLOADS_DIR": tmp_path / "uploads"})
    return app, tmp_path / "uploads", {"shown": shown, "hidden": hidden}


def upload(client, plant_id: int, data: bytes, name: str = "берёза.jpg"):
    return client.post(
        f"/api/v1/plants/{plant_id}/photos",
        data={"photo": (io.BytesIO(data), name)},
        headers={"X-CSRFToken": csrf_token(client)},
        content_type="multipart/form-data",
    )


def stored(database_url: str) -> int:
    with unit_of_work(database_url) as session:
        return session.scalar(select(func.count()).select_from(PlantPhoto))


def files_in(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_a_forester_adds_a_photo_and_everyone_sees_it_on_a_public_plant(site, clean) -> None:
    app, uploads, plants = site
    forester, public = app.test_client(), app.test_client()
    sign_in(forester, "astana@test.kz")
    jpeg = image_bytes()
    answer = upload(forester, plants["shown"], jpeg, "../../etc/Қайың 1.jpg")
    assert answer.status_code == 201, answer.json
    photo = answer.json
    assert photo["content_type"] == "image/jpeg" and (photo["width"], photo["height"]) == (640, 480)
    assert photo["file_name"] == "Қайың 1.jpg"  # a label only: no path, Cyrillic intact
    on_disk = files_in(uploads)
    assert [p.parent for p in on_disk] == [uploads / "photos" / str(plants["shown"])] * 2
    assert all(".." not in p.name and "Қайың" not in p.name for p in on_disk)
    listed = public.get(f"/api/v1/plants/{plants['shown']}/photos").json["items"]
    assert [p["id"] for p in listed] == [photo["id"]]
    full = public.get(photo["url"])
    assert full.status_code == 200 and full.data == jpeg and full.mimetype == "image/jpeg"
    assert full.headers["X-Content-Type-Options"] == "nosniff"
    thumb = public.get(photo["thumbnail_url"])
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.data)).size) <= 320
    lon, lat = public.get(f"/api/v1/plants/{plants['shown']}").json["geometry"]["coordinates"]
    card = public.get("/api/v1/plants/at", query_string={"lon": lon, "lat": lat, "z": 18}).json
    assert card["id"] == plants["shown"] and photo["thumbnail_url"] in card["html"]
    assert "photo-upload" not in card["html"]  # the public gets no upload form


def test_a_png_is_kept_as_png_whatever_its_name_says(site) -> None:
    app, _, plants = site
    forester = app.test_client()
    sign_in(forester, "astana@test.kz")
    answer = upload(forester, plants["shown"], image_bytes("PNG"), "photo.jpg")
    assert answer.status_code == 201 and answer.json["content_type"] == "image/png"


def test_the_public_is_asked_to_sign_in_and_nothing_is_stored(site, clean) -> None:
    app, uploads, plants = site
    answer = upload(app.test_client(), plants["shown"], image_bytes())
    assert answer.status_code == 401 and answer.json["error"] == "sign_in_required"
    assert stored(clean) == 0 and files_in(uploads) == []


def test_a_forester_of_another_region_is_refused_and_audited(site, clean) -> None:
    app, uploads, plants = site
    almaty = app.test_client()
    sign_in(almaty, "almaty@test.kz")
    answer = upload(almaty, plants["shown"], image_bytes())
    assert answer.status_code == 403 and answer.json["error"] == "access_denied"
    assert stored(clean) == 0 and files_in(uploads) == []
    with unit_of_work(clean) as session:
        denied = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "denied", AuditEntry.entity == "plant")
        ).all()
    assert [d.entity_id for d in denied] == [plants["shown"]]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"GIF89a" + b"\x00" * 100, "tree.jpg"),
        (b"#!/bin/sh\nrm -rf /\n", "tree.png"),
        (b"", "empty.jpg"),
        (image_bytes()[:200], "cut.jpg"),
    ],
)
def test_what_is_not_a_jpeg_or_png_is_refused_by_its_content(site, clean, data, name) -> None:
    app, uploads, plants = site
    forester = app.test_client()
    sign_in(forester, "astana@test.kz")
    answer = upload(forester, plants["shown"], data, name)
    assert answer.status_code == 422 and answer.json["field"] == "photo", answer.json
    assert stored(clean) == 0 and files_in(uploads) == []


def test_a_gif_image_is_refused_even_though_it_is_an_image(site, clean) -> None:
    app, uploads, plants = site
    forester = app.test_client()
    sign_in(forester, "astana@test.kz")
    answer = upload(forester, plants["shown"], image_bytes("GIF"), "tree.gif")
    assert answer.status_code == 422 and "JPEG and PNG" in answer.json["message"]
    assert stored(clean) == 0


def test_a_photo_over_the_size_limit_is_refused(site, clean) -> None:
    app, uploads, plants = site
    forester = app.test_client()
    sign_in(forester, "astana@test.kz")
    too_big = image_bytes() + b"\x00" * MAX_PHOTO_BYTES
    answer = upload(forester, plants["shown"], too_big)
    assert answer.status_code == 413 and answer.json["field"] == "photo"
    assert stored(clean) == 0 and files_in(uploads) == []


def test_a_missing_file_field_names_the_field(site) -> None:
    app, _, plants = site
    forester = app.test_client()
    sign_in(forester, "astana@test.kz")
    answer = forester.post(
        f"/api/v1/plants/{plants['shown']}/photos",
        data={"other": "x"},
        headers={"X-CSRFToken": csrf_token(forester)},
    )
    assert answer.status_code == 422 and answer.json["field"] == "photo"


def test_without_the_csrf_token_the_upload_is_refused(site, clean) -> None:
    app, _, plants = site
    forester = app.test_client()
    sign_in(forester, "astana@test.kz")
    answer = forester.post(
        f"/api/v1/plants/{plants['shown']}/photos",
        data={"photo": (io.BytesIO(image_bytes()), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400 and stored(clean) == 0


def test_photos_of_an_unpublished_plant_are_for_staff_only(site) -> None:
    app, _, plants = site
    forester, public = app.test_client(), app.test_client()
    sign_in(forester, "astana@test.kz")
    photo = upload(forester, plants["hidden"], image_bytes()).json
    assert public.get(f"/api/v1/plants/{plants['hidden']}/photos").status_code == 404
    assert public.get(photo["url"]).status_code == 404
    assert public.get(photo["thumbnail_url"]).status_code == 404
    staff = forester.get(photo["url"])
    assert staff.status_code == 200 and "private" in staff.headers["Cache-Control"]


def test_the_card_form_stores_the_photo_and_returns_to_the_plant(site, clean) -> None:
    app, uploads, plants = site
    forester = app.test_client()
    sign_in(forester, "astana@test.kz")
    answer = forester.post(
        f"/photos/plants/{plants['shown']}",
        data={"photo": (io.BytesIO(image_bytes()), "a.jpg"), "csrf_token": csrf_token(forester)},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302 and f"plant={plants['shown']}" in answer.location
    assert stored(clean) == 1 and len(files_in(uploads)) == 2


def test_backups_carry_the_photo_files(site, clean, tmp_path) -> None:
    app, uploads, plants = site
    forester = app.test_client()
    sign_in(forester, "astana@test.kz")
    photo = upload(forester, plants["shown"], image_bytes()).json
    archive = tmp_path / "backup.tar"
    backup(clean, uploads, archive)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    folder = f"uploads/photos/{plants['shown']}/"
    assert len([n for n in names if n.startswith(folder)]) == 2, names
    assert photo["id"]
