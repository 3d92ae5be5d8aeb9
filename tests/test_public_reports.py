"""Residents' reports over HTTP: a report is received and followed by its number; bad values,
robots, floods and duplicates are answered as issue #21 asks; photos lose their metadata."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from PIL import Image
from sqlalchemy import func, select

from registry.config import OpenData, load_settings
from registry.db import unit_of_work
from registry.public_reports.models import PublicReport, PublicReportPhoto
from tests.factories import ALMATY, ASTANA, OUTSIDE_KAZAKHSTAN, make_plant
from tests.web_client import csrf_token
from web import create_app

REPORTS = "/api/v1/public-reports"


def site(database_url, tmp_path, **open_data):
    settings = load_settings()
    settings = replace(settings, open_data=replace(OpenData(), **open_data))
    app = create_app(
        {"TESTING": True, "UPLOADS_DIR": tmp_path / "uploads", "JASYL_SETTINGS": settings}
    )
    return app


@pytest.fixture
def app(clean, tmp_path):
    return site(clean, tmp_path)


def report(client, **fields):
    body = {"kind": "hazard", "lon": ASTANA[0], "lat": ASTANA[1], "description": "a leaning elm"}
    return client.post(REPORTS, json={**body, **fields})


def stored(database_url) -> list[PublicReport]:
    with unit_of_work(database_url) as session:
        return list(session.scalars(select(PublicReport).order_by(PublicReport.id)))


def test_a_resident_reports_and_follows_the_number_which_shows_only_received(app, clean) -> None:
    client = app.test_client()
    answer = report(client, contact="+7 701 000 00 00")
    assert answer.status_code == 201, answer.json
    number = answer.json["number"]
    assert answer.json["status_url"] == f"/report/{number}" and not answer.json["joined"]
    status = client.get(f"{REPORTS}/{number}").json
    assert status == {
        "number": number,
        "status": "received",
        "published": False,
        "received_on": status["received_on"],
    }
    page = client.get(answer.json["status_url"]).get_data(as_text=True)
    assert number in page and "+7 701" not in page and "leaning" not in page
    assert client.get(f"{REPORTS}/{number.lower().replace('-', '')}").json["number"] == number
    (kept,) = stored(clean)
    assert kept.contact == "+7 701 000 00 00" and kept.region_id is not None
    assert client.get(f"{REPORTS}/ABCD-EFGH").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "ugly"}, "kind"),
        ({"lon": OUTSIDE_KAZAKHSTAN[0], "lat": OUTSIDE_KAZAKHSTAN[1]}, "lon"),
        ({"lon": 61.0, "lat": 55.0}, "lon"),  # inside the box, in Russia: no region has it
        ({"description": "x" * 2001}, "description"),
        ({"contact": "y" * 201}, "contact"),
        ({"plant_id": 10**12}, "plant_id"),
        ({"kind": "plant_request", "plant_id": 1}, "plant_id"),
        ({"lat": None}, "lat"),
    ],
)
def test_bad_values_are_refused_naming_the_field(app, clean, change, field) -> None:
    answer = report(app.test_client(), **change)
    assert answer.status_code == 422, answer.json
    assert answer.json["field"] == field
    assert stored(clean) == []


def test_a_huge_json_body_is_refused_before_it_is_parsed(app, clean) -> None:
    padded = report(app.test_client(), description="x" * 200_000)
    assert padded.status_code == 413 and padded.json["field"] == "body"
    assert stored(clean) == []


def test_nan_and_non_json_are_refused(app, clean) -> None:
    client = app.test_client()
    nan = b'{"kind": "dead", "lon": NaN, "lat": 51.1}'
    answer = client.post(REPORTS, data=nan, content_type="application/json")
    assert answer.status_code == 422 and answer.json["field"] == "lon"
    answer = client.post(REPORTS, data="kind=dead", content_type="text/plain")
    assert answer.status_code == 422 and answer.json["field"] == "body"
    assert stored(clean) == []


def test_an_unpublished_tree_cannot_be_named(app, clean) -> None:
    with unit_of_work(clean) as session:
        hidden = make_plant(session, published=False).id
    answer = report(app.test_client(), plant_id=hidden)
    assert answer.status_code == 422 and answer.json["field"] == "plant_id"


def test_the_honeypot_refuses_a_robot_and_stores_nothing(app, clean) -> None:
    answer = report(app.test_client(), website="http://spam.example")
    assert answer.status_code == 422 and answer.json["field"] == "website"
    assert stored(clean) == []


def test_an_address_then_an_area_must_wait_with_retry_after(clean, tmp_path) -> None:
    app = site(clean, tmp_path, reports_per_address=2, reports_per_area=4)
    one = app.test_client()
    one.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    kinds = ["hazard", "dead", "damaged", "needs_care"]
    assert [report(one, kind=k).status_code for k in kinds[:3]] == [201, 201, 201]
    refused = report(one, kind="needs_care")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert len(stored(clean)) == 3
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    assert report(other, kind="needs_care").status_code == 201  # 4 in the area: the allowance
    third = app.test_client()
    third.environ_base["REMOTE_ADDR"] = "10.0.0.3"
    assert report(third, kind="illegal_felling").status_code == 201  # the 5th: backs off after
    far = {"lon": ALMATY[0], "lat": ALMATY[1]}
    assert report(third, kind="dead", **far).status_code == 201  # another area
    assert report(third, kind="needs_care").status_code == 429  # this area waits now


def test_the_same_problem_within_15_m_or_on_the_same_tree_joins_the_first(app, clean) -> None:
    client = app.test_client()
    with unit_of_work(clean) as session:
        plant = make_plant(session)
        tree, lon, lat = plant.id, ASTANA[0] + 0.05, ASTANA[1]
    first = report(client, lon=lon, lat=lat).json
    near = report(client, lon=lon + 0.0001, lat=lat).json  # ~7 m east
    assert near["joined"] and near["number"] == first["number"]
    other_kind = report(client, kind="dead", lon=lon, lat=lat).json
    far = report(client, lon=lon + 0.0004, lat=lat).json  # ~28 m east
    assert not other_kind["joined"] and not far["joined"] and far["number"] != first["number"]
    on_tree = report(client, kind="needs_care", plant_id=tree).json
    again = report(client, kind="needs_care", plant_id=tree, lon=lon, lat=lat).json
    assert again["joined"] and again["number"] == on_tree["number"]
    kept = stored(clean)
    assert len(kept) == 6 and sum(r.joined_to_id is not None for r in kept) == 2


def jpeg_with_location() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 12"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (51.0, 7.0, 41.0), 3: "E", 4: (71.0, 25.0, 49.0)})
    out = io.BytesIO()
    Image.new("RGB", (900, 600), (40, 140, 60)).save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825), "the test photo has GPS"
    return data


def send_with_photos(client, photos, **fields):
    form = {"kind": "dead", "lon": str(ASTANA[0]), "lat": str(ASTANA[1]), **fields}
    form["photos"] = [(io.BytesIO(p), f"IMG_{i}.jpg") for i, p in enumerate(photos)]
    return client.post(REPORTS, data=form, content_type="multipart/form-data")


def test_photos_are_kept_without_exif_or_gps(app, clean, tmp_path) -> None:
    client = app.test_client()
    answer = send_with_photos(client, [jpeg_with_location(), jpeg_with_location()])
    assert answer.status_code == 201, answer.json
    files = sorted((tmp_path / "uploads" / "public_reports").rglob("*.jpg"))
    assert len(files) == 2
    for path in files:
        with Image.open(path) as image:
            assert image.format == "JPEG" and image.size == (900, 600)
            assert not image.getexif() and "exif" not in image.info
        assert b"PhoneMaker" not in path.read_bytes() and b"Exif" not in path.read_bytes()


def test_more_than_three_photos_or_a_broken_one_stores_nothing(app, clean, tmp_path) -> None:
    client = app.test_client()
    four = send_with_photos(client, [jpeg_with_location()] * 4)
    assert four.status_code == 422 and four.json["field"] == "photos"
    broken = send_with_photos(client, [jpeg_with_location(), b"GIF89a not a photo"])
    assert broken.status_code == 422 and broken.json["field"] == "photo"
    assert stored(clean) == []
    assert not list((tmp_path / "uploads").rglob("*.jpg"))
    with unit_of_work(clean) as session:
        assert session.scalar(select(func.count()).select_from(PublicReportPhoto)) == 0


def test_the_web_form_shows_a_refusal_beside_it_and_stores_nothing(app, clean) -> None:
    client = app.test_client()
    where = f"/report?lon={ASTANA[0]}&lat={ASTANA[1]}"
    form = {"csrf_token": csrf_token(client, where), "kind": "dead", "lon": ASTANA[0]}
    form |= {"lat": ASTANA[1], "description": "x" * 2001}
    page = client.post("/report", data=form)
    assert page.status_code == 422
    assert 'data-field="description"' in page.get_data(as_text=True)
    assert stored(clean) == []
    sent = client.post("/report", data={**form, "description": "Сломано"})
    assert sent.status_code == 302 and "/report/" in sent.headers["Location"]
    assert len(stored(clean)) == 1


@pytest.mark.parametrize(
    ("lang", "words"),
    [("kk", "Ашық деректер"), ("ru", "Открытые данные"), ("en", "Open data")],
)
def test_the_open_data_page_names_licence_counts_apis_and_every_download(
    clean, tmp_path, lang, words
) -> None:
    with unit_of_work(clean) as session:
        make_plant(session)
        make_plant(session, published=False)
    app = site(clean, tmp_path, licence="ODbL 1.0", licence_url="https://opendatacommons.org/odbl/")
    page = app.test_client().get("/open-data", headers={"Accept-Language": lang})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and words in html
    assert 'href="https://opendatacommons.org/odbl/" rel="license">ODbL 1.0<' in html
    assert 'id="count-plants">1<' in html  # the published plant only
    for fmt in ("gpkg", "shp", "geojson", "csv", "xlsx"):
        assert f"/ogc/collections/plants/download?format={fmt}" in html
    assert "/api/v1/openapi.json" in html and "/ogc/api?f=html" in html
    status = app.test_client().get("/report/ABCD-EFGH", headers={"Accept-Language": lang})
    assert status.status_code == 404
