"""Map, region and editing pages over HTTP: filters reach the tiles, forms validate next to the
field, conflicts show both values, and every write is refused to those who may not make it."""

from __future__ import annotations

import io
import json
import re

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from gis.basemap import tile_xy
from registry.access import Actor
from registry.db import engine_for, unit_of_work
from registry.inventory.services import update_plant
from tests.factories import ASTANA, make_plant, point_near, square
from tests.web_client import csrf_token, new_user, sign_in
from web import create_app


def tile_of(lon: float, lat: float, z: int) -> str:
    x, y = tile_xy(lon, lat, z)
    return f"{z}/{x}/{y}"


@pytest.fixture
def site(clean):
    with unit_of_work(clean) as session:
        # Fixed steps: the factories' running counter would drift across tile edges.
        plants = [
            make_plant(session, condition=grade, geom=point_near(ASTANA, step))
            for step, grade in enumerate((1, 2, 5, 5))
        ]
        hidden = make_plant(session, published=False, condition=6, geom=point_near(ASTANA, 4))
        ids = {"plants": [p.id for p in plants], "hidden": hidden.id}
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    new_user(clean, "almaty@test.jasyl.kz", "forester", "KZ-75")
    new_user(clean, "plan@test.jasyl.kz", "planner")
    return create_app({"TESTING": True}), ids


def signed(app, email):
    client = app.test_client()
    sign_in(client, email)
    return client


def features(answer, layer="plants") -> list:
    if answer.status_code == 204:
        return []
    return mapbox_vector_tile.decode(answer.data)[layer]["features"]


def test_filters_and_sign_in_shape_the_tiles(site) -> None:
    app, ids = site
    url = "/tiles/plants/" + tile_of(*ASTANA, 15) + ".pbf"
    public = app.test_client()
    assert len(features(public.get(url))) == 4
    poor = features(public.get(url + "?condition=5,6"))
    assert [f["properties"]["condition"] for f in poor] == [5, 5], "unpublished stays hidden"
    assert features(public.get(url + "?region=75")) == []
    assert features(public.get(url + "?year_from=2006")) == [], "factory plants are from 2005"
    assert public.get(url + "?condition=9").status_code == 422
    answer = public.get(url)
    assert (
        answer.headers["Cache-Control"].startswith("public") and "Cookie" in answer.headers["Vary"]
    )
    staff = signed(app, "plan@test.jasyl.kz")
    inside = staff.get(url)
    assert len(features(inside)) == 5 and inside.headers["Cache-Control"].startswith("private")
    low = "/tiles/plants/" + tile_of(*ASTANA, 9) + ".pbf"
    cells = features(public.get(low + "?condition=5"), "plants_grid")
    assert sum(c["properties"]["plants"] for c in cells) == 2


def test_the_map_page_offers_editing_only_to_foresters(site) -> None:
    app, _ = site
    public = app.test_client().get("/").get_data(as_text=True)
    assert 'id="add-plant"' not in public and "Jasyl.init(" in public
    assert (
        '"green_spaces": Jasyl.spaceStyle' not in public
        and "{green_spaces: Jasyl.spaceStyle}" in public
    )
    assert 'id="add-plant"' not in signed(app, "plan@test.jasyl.kz").get("/").get_data(as_text=True)
    assert 'id="add-plant"' in signed(app, "les@test.jasyl.kz").get("/").get_data(as_text=True)


def test_the_survey_upload_is_linked_only_for_those_who_may_import(site) -> None:
    app, _ = site
    upload = 'href="/imports/upload"'
    assert upload not in app.test_client().get("/").get_data(as_text=True)
    assert upload not in signed(app, "plan@test.jasyl.kz").get("/").get_data(as_text=True)
    assert upload in signed(app, "les@test.jasyl.kz").get("/").get_data(as_text=True)


def test_a_region_page_shows_its_numbers(site) -> None:
    app, _ = site
    page = app.test_client().get("/regions/KZ-71?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Astana" in html
    assert '<strong id="plant-total">4</strong>' in html, "the unpublished plant is not counted"
    assert "Siberian elm" in html or "Ulmus pumila" in html
    assert app.test_client().get("/regions/KZ-00").status_code == 404
    staff = signed(app, "plan@test.jasyl.kz").get("/regions/KZ-71").get_data(as_text=True)
    assert '<strong id="plant-total">5</strong>' in staff


def form_post(client, url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client)})


def test_an_error_page_is_in_the_readers_language_and_says_what_is_wrong(site) -> None:
    app, _ = site
    page = app.test_client().get("/regions/KZ-00", headers={"Accept-Language": "kk"})
    html = page.get_data(as_text=True)
    assert page.status_code == 404
    assert 'id="error-headline">Табылмады<' in html
    assert "KZ-00" in html.split('id="error-message"')[1], "the service's reason is kept"
    assert 'href="/regions"' in html, "the site's header and navigation, not a bare page"
    api = app.test_client().get("/regions/KZ-00", headers={"Accept": "application/json"})
    assert api.status_code == 404 and api.get_json()["error"] == "not_found"


def test_editing_forms_are_for_the_regions_forester(site) -> None:
    app, ids = site
    edit = f"/plants/{ids['plants'][0]}/edit"
    anonymous = app.test_client().get(edit)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    data = {"version": "1", "species_id": "", "condition": "2", "height_m": "9"}
    assert form_post(signed(app, "plan@test.jasyl.kz"), edit, data).status_code == 403
    assert form_post(signed(app, "almaty@test.jasyl.kz"), edit, data).status_code == 403
    with engine_for(app.config["DATABASE_URL"]).connect() as conn:
        refused = conn.execute(
            text("SELECT actor FROM audit_log WHERE action = 'denied' AND entity_id = :id"),
            {"id": ids["plants"][0]},
        ).scalars()
        assert set(refused) == {"plan@test.jasyl.kz", "almaty@test.jasyl.kz"}
    forester = signed(app, "les@test.jasyl.kz")
    assert forester.post(edit, data=data).status_code == 400, "no CSRF token, no change"


def test_a_bad_value_is_shown_next_to_its_field(site) -> None:
    app, ids = site
    forester = signed(app, "les@test.jasyl.kz")
    edit = f"/plants/{ids['plants'][0]}/edit"
    form = forester.get(edit).get_data(as_text=True)
    assert 'name="version" value="1"' in form
    species = form.split('<option value="', 2)[2].split('"')[0]
    answer = form_post(
        forester, edit, {"version": "1", "species_id": species, "condition": "1", "height_m": "x"}
    )
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'data-field="height_m">height_m: is not a number' in html
    assert 'value="x"' in html, "what was typed is kept"
    new = form_post(forester, "/plants/new", {"lon": "200", "lat": "51", "species_id": species})
    assert new.status_code == 422 and 'data-field="lon"' in new.get_data(as_text=True)


def test_a_stale_form_shows_who_changed_it_and_both_values(site) -> None:
    app, ids = site
    plant = ids["plants"][1]
    with unit_of_work(app.config["DATABASE_URL"]) as session:
        update_plant(session, Actor.system("import"), plant, 1, {"condition": 4})
    forester = signed(app, "les@test.jasyl.kz")
    form = forester.get(f"/plants/{plant}/edit").get_data(as_text=True)
    species = form.split("selected>")[0].rsplit('<option value="', 1)[1].split('"')[0]
    answer = form_post(
        forester,
        f"/plants/{plant}/edit",
        {
            "version": "1",
            "species_id": species,
            "condition": "3",
            "status": "alive",
            "quantity": "1",
            "published": "on",
        },
    )
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert "an import or system process" in html
    row = '<tr data-field="condition"><td>condition</td>'
    assert row + '<td class="theirs">4</td><td class="mine">3</td>' in html
    assert 'name="version" value="2"' in html, "saving again is a deliberate overwrite"


def test_marking_a_plant_removed_and_recording_an_inspection(site) -> None:
    app, ids = site
    plant = ids["plants"][2]
    forester = signed(app, "les@test.jasyl.kz")
    bad = form_post(
        forester, f"/plants/{plant}/inspect", {"inspected_on": "yesterday", "condition": "2"}
    )
    assert bad.status_code == 422 and 'data-field="inspected_on"' in bad.get_data(as_text=True)
    done = form_post(
        forester,
        f"/plants/{plant}/inspect",
        {"inspected_on": "2026-06-01", "condition": "2", "inspector": "А. Иманова"},
    )
    assert done.status_code == 302
    removed = form_post(
        forester, f"/plants/{plant}/remove", {"version": "2", "status": "stump", "reason": "спил"}
    )
    assert removed.status_code == 302
    api = forester.get(f"/api/v1/plants/{plant}").get_json()
    assert api["status"] == "stump" and api["condition"] == 2 and "спил" in api["notes"]


def test_drawing_a_green_space(site) -> None:
    app, _ = site
    forester = signed(app, "les@test.jasyl.kz")
    outline = json.dumps(square((ASTANA[0] + 0.01, ASTANA[1]), 0.001).__geo_interface__)
    missing = form_post(forester, "/green_spaces/new", {"name": "Сквер", "category": "public"})
    assert missing.status_code == 422 and 'data-field="geometry"' in missing.get_data(as_text=True)
    created = form_post(
        forester,
        "/green_spaces/new",
        {
            "name": "Сквер «Достык»",
            "category": "public",
            "kind": "square",
            "geometry": outline,
            "published": "on",
        },
    )
    assert created.status_code == 302 and "green_space=" in created.headers["Location"]
    space = created.headers["Location"].split("green_space=")[1]
    page = forester.get(f"/green_spaces/{space}/edit").get_data(as_text=True)
    assert "Сквер «Достык»" in page and "leaflet-geoman" in page
    assert signed(app, "almaty@test.jasyl.kz").get(f"/green_spaces/{space}/edit").status_code == 200
    refused = form_post(
        signed(app, "almaty@test.jasyl.kz"),
        f"/green_spaces/{space}/edit",
        {"version": "1", "name": "X", "category": "public"},
    )
    assert refused.status_code == 403


def survey_csv(rows: list[str]) -> bytes:
    header = "Инв. №;Порода;Диаметр, см;Высота, м;Состояние;lon;lat"
    return "\n".join([header, *rows]).encode("cp1251")


def test_uploading_a_survey_shows_the_import_report(site) -> None:
    app, _ = site
    forester = signed(app, "les@test.jasyl.kz")
    assert 'value="KZ-71" selected' in forester.get("/imports/upload").get_data(as_text=True)
    good = survey_csv(
        [
            "U-1;Вяз приземистый;24,5;8,5;хорошее;71,4310;51,1290",
            "U-2;Берёза повислая;18;9;II;71,4320;51,1295",
        ]
    )
    answer = forester.post(
        "/imports/upload",
        data={
            "survey": (io.BytesIO(good), "опись.csv"),
            "region": "KZ-71",
            "csrf_token": csrf_token(forester),
        },
        content_type="multipart/form-data",
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html
    assert 'data-status="done"' in html and '<td class="imported">2</td>' in html
    assert "опись.csv" in html
    assert forester.get("/api/v1/search?q=U-2").get_json()["items"][0]["kind"] == "plant"
    bad = survey_csv(["U-3;Вяз приземистый;24,5;800;хорошее;71,4330;51,1290"])
    rejected = forester.post(
        "/imports/upload",
        data={
            "survey": (io.BytesIO(bad), "bad.csv"),
            "region": "KZ-71",
            "csrf_token": csrf_token(forester),
        },
        content_type="multipart/form-data",
    )
    html = rejected.get_data(as_text=True)
    assert rejected.status_code == 422 and 'data-status="rejected"' in html
    assert re.search(r'<tr class="error"><td>\d+</td><td>[^<]+</td><td>800</td>', html), html
    assert forester.get("/api/v1/search?q=U-3").get_json()["items"] == []
    missing = forester.post(
        "/imports/upload", data={"region": "KZ-71", "csrf_token": csrf_token(forester)}
    )
    assert missing.status_code == 422 and 'data-field="survey"' in missing.get_data(as_text=True)
    almaty = signed(app, "almaty@test.jasyl.kz")
    refused = almaty.post(
        "/imports/upload",
        data={
            "survey": (io.BytesIO(good), "опись.csv"),
            "region": "KZ-71",
            "csrf_token": csrf_token(almaty),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 403
