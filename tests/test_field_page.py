"""The field app's shell over HTTP: the page in kk/ru/en, its manifest and icons, the messages
its script shows, and the service worker with the precache list of this version."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from tests.web_client import new_user, sign_in
from web import create_app


@pytest.fixture
def client(database_url):
    return create_app({"TESTING": True}).test_client()


@pytest.mark.parametrize(
    ("lang", "title"), [("kk", "Далалық режим"), ("ru", "Полевой режим"), ("en", "Field mode")]
)
def test_the_field_page_speaks_each_language(client, lang, title) -> None:
    page = client.get(f"/field?lang={lang}").get_data(as_text=True)
    assert title in page and 'rel="manifest"' in page
    words = client.get(f"/field/strings.{lang}.json").get_json()
    assert words["add_plant"] and "%(m)s" in words["fix_dropped"]


def test_the_manifest_names_the_app_and_its_drawn_icons(client) -> None:
    manifest = json.loads(client.get("/field/manifest.webmanifest").get_data())
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/field",
        "/field",
        "standalone",
    )
    for icon in manifest["icons"]:
        png = client.get(icon["src"])
        assert png.mimetype == "image/png"
        size = Image.open(io.BytesIO(png.get_data())).size
        assert f"{size[0]}x{size[1]}" == icon["sizes"]
    assert client.get("/field/icon-77.png").status_code == 404


def test_the_service_worker_precaches_the_shell_by_content(client) -> None:
    worker = client.get("/field-sw.js")
    assert worker.mimetype == "application/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"
    script = worker.get_data(as_text=True)
    assert "/vendor/workbox-sw/build/workbox-sw.js" in script and "https://" not in script
    for url in ("/static/field.js", "/vendor/idb/build/umd.js", "/field/icon-192.png"):
        assert f'"url": "{url}"' in script or f'"url":"{url}"' in script
        assert client.get(url).status_code == 200
    for module in ("workbox-core", "workbox-precaching", "workbox-routing", "workbox-strategies"):
        assert client.get(f"/vendor/{module}/build/{module}.prod.js").status_code == 200
    assert '"/api/v1/species"' in script and '"/field/strings.kk.json"' in script


def test_the_session_says_the_public_must_sign_in(client) -> None:
    state = client.get("/field/session").get_json()
    assert state["signed_in"] is False and state["csrf_token"]
    assert state["max_gps_error_m"] == 15 and state["area_max_plants"] == 20_000


def test_foresters_find_field_mode_in_the_header(client, clean) -> None:
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    assert 'id="nav-field"' not in client.get("/").get_data(as_text=True)
    sign_in(client, "les@test.jasyl.kz")
    assert 'id="nav-field" ' in client.get("/").get_data(as_text=True).replace(">", " >")
