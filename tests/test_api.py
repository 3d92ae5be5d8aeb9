"""The JSON API over HTTP: who may write where, conflicts, validation, what the public sees."""

from __future__ import annotations

import pytest
from shapely.geometry import Point
from sqlalchemy import text

from registry.db import engine_for, unit_of_work
from registry.species.services import get_species
from tests.factories import ALMATY, ASTANA, make_green_space, make_plant, square
from tests.web_client import new_user, send, sign_in
from web import create_app


@pytest.fixture
def site(clean):
    """An Astana plant with internal notes, an unpublished one, and users of every kind."""
    with unit_of_work(clean) as session:
        elm = make_plant(session, notes="дупло у основания", address="ул. Кенесары, 1")
        hidden = make_plant(session, published=False, inventory_number="71-SECRET")
        space = make_green_space(session, name="Сквер Жастар", notes="internal remark")
        ids = {"elm": elm.id, "hidden": hidden.id, "space": space.id}
        ids["elm_species"] = get_species(session, "Ulmus pumila").id
    new_user(clean, "astana@test.jasyl.kz", "forester", "KZ-71")
    new_user(clean, "almaty@test.jasyl.kz", "forester", "KZ-75")
    new_user(clean, "planner@test.jasyl.kz", "planner")
    app = create_app({"TESTING": True})
    return app, ids


def client_of(app, email=None):
    client = app.test_client()
    if email:
        assert sign_in(client, email).status_code == 302
    return client


def audit_rows(app, action: str) -> list:
    with engine_for(app.config["DATABASE_URL"]).connect() as conn:
        return conn.execute(
            text("SELECT actor, entity, entity_id FROM audit_log WHERE action = :a"), {"a": action}
        ).all()


def new_plant_body(species_id: int, where=ASTANA) -> dict:
    return {"species_id": species_id, "lon": where[0] + 0.01, "lat": where[1], "condition": 2}


# -- writes: public 401, other region 403 (audited), own region accepted -------------------------
def test_creating_a_plant(site) -> None:
    app, ids = site
    body = new_plant_body(ids["elm_species"])
    public = send(client_of(app), "POST", "/api/v1/plants", body)
    assert public.status_code == 401 and public.get_json()["error"] == "sign_in_required"
    planner = send(client_of(app, "planner@test.jasyl.kz"), "POST", "/api/v1/plants", body)
    assert planner.status_code == 403
    almaty = send(client_of(app, "almaty@test.jasyl.kz"), "POST", "/api/v1/plants", body)
    assert almaty.status_code == 403 and almaty.get_json()["error"] == "access_denied"
    denied = audit_rows(app, "denied")
    assert ("almaty@test.jasyl.kz", "plant", None) in denied
    astana = send(client_of(app, "astana@test.jasyl.kz"), "POST", "/api/v1/plants", body)
    assert astana.status_code == 201
    created = astana.get_json()
    assert created["region_id"] == 71 and created["inventory_number"].startswith("71-")
    assert astana.headers["Location"].endswith(f"/api/v1/plants/{created['id']}")


def test_changing_and_removing_a_plant_across_regions(site) -> None:
    app, ids = site
    url = f"/api/v1/plants/{ids['elm']}"
    almaty = client_of(app, "almaty@test.jasyl.kz")
    assert send(almaty, "PATCH", url, {"version": 1, "height_m": 9}).status_code == 403
    assert send(almaty, "DELETE", url, {"version": 1}).status_code == 403
    assert ("almaty@test.jasyl.kz", "plant", ids["elm"]) in audit_rows(app, "denied")
    assert send(client_of(app), "PATCH", url, {"version": 1, "height_m": 9}).status_code == 401
    astana = client_of(app, "astana@test.jasyl.kz")
    changed = send(astana, "PATCH", url, {"version": 1, "height_m": 9})
    assert changed.status_code == 200 and changed.get_json()["height_m"] == 9.0
    assert changed.get_json()["version"] == 2
    removed = send(astana, "DELETE", url, {"version": 2, "status": "dead", "reason": "засох"})
    assert removed.status_code == 200 and removed.get_json()["status"] == "dead"
    assert client_of(app).get(url).get_json()["status"] == "dead", "kept, never erased"


def test_a_stale_version_is_a_conflict_naming_who_and_when(site) -> None:
    app, ids = site
    url = f"/api/v1/plants/{ids['elm']}"
    first, second = client_of(app, "astana@test.jasyl.kz"), client_of(app, "astana@test.jasyl.kz")
    assert send(first, "PATCH", url, {"version": 1, "condition": 3}).status_code == 200
    late = send(second, "PATCH", url, {"version": 1, "condition": 5})
    assert late.status_code == 409
    answer = late.get_json()
    assert answer["error"] == "stale_version" and answer["changed_by"] == "astana@test.jasyl.kz"
    assert answer["current"]["condition"] == 3 and answer["current_version"] == 2
    assert client_of(app).get(url).get_json()["condition"] == 3, "nothing overwritten"


def test_bad_values_name_the_field_and_change_nothing(site) -> None:
    app, ids = site
    astana = client_of(app, "astana@test.jasyl.kz")
    url = f"/api/v1/plants/{ids['elm']}"
    for body, field in (
        ({"version": 1, "height_m": 400}, "height_m"),
        ({"version": 1, "condition": 9}, "condition"),
        ({"version": 1, "lon": "east", "lat": 51}, "lon"),
        ({"height_m": 5}, "version"),
        ({"version": 1, "colour": "green"}, "colour"),
    ):
        answer = send(astana, "PATCH", url, body)
        assert answer.status_code == 422, body
        assert answer.get_json()["field"] == field
    outside = new_plant_body(ids["elm_species"], (37.6173, 55.7558))
    answer = send(astana, "POST", "/api/v1/plants", outside)
    assert answer.status_code == 422 and answer.get_json()["field"] == "geom"
    assert client_of(app).get(url).get_json()["version"] == 1


def test_state_changes_need_the_csrf_token(site) -> None:
    app, ids = site
    astana = client_of(app, "astana@test.jasyl.kz")
    url = f"/api/v1/plants/{ids['elm']}"
    answer = astana.patch(url, json={"version": 1, "height_m": 9})
    assert answer.status_code == 400 and "CSRF" in answer.get_json()["message"]
    forged = astana.patch(url, json={"version": 1, "height_m": 9}, headers={"X-CSRFToken": "x"})
    assert forged.status_code == 400
    assert astana.get(url).get_json()["version"] == 1


# -- reads: what the public may see ---------------------------------------------------------------
def test_the_public_sees_no_internal_fields_nor_unpublished_plants(site) -> None:
    app, ids = site
    public, staff = client_of(app), client_of(app, "planner@test.jasyl.kz")
    elm = public.get(f"/api/v1/plants/{ids['elm']}").get_json()
    assert "notes" not in elm and elm["address"] == "ул. Кенесары, 1"
    assert staff.get(f"/api/v1/plants/{ids['elm']}").get_json()["notes"] == "дупло у основания"
    assert public.get(f"/api/v1/plants/{ids['hidden']}").status_code == 404
    assert staff.get(f"/api/v1/plants/{ids['hidden']}").status_code == 200
    listed = {p["id"] for p in public.get("/api/v1/plants").get_json()["items"]}
    assert listed == {ids["elm"]}
    assert len(staff.get("/api/v1/plants").get_json()["items"]) == 2
    space = public.get(f"/api/v1/green_spaces/{ids['space']}").get_json()
    assert "notes" not in space and space["name"] == "Сквер Жастар"
    assert public.get(f"/api/v1/plants/{ids['elm']}/history").status_code == 401
    history = staff.get(f"/api/v1/plants/{ids['elm']}/history").get_json()["items"]
    assert history[0]["action"] == "create"
    assert public.get("/api/v1/search?q=71-SECRET").get_json()["items"] == []
    assert staff.get("/api/v1/search?q=71-SECRET").get_json()["items"][0]["id"] == ids["hidden"]


def test_inspections_hide_the_inspector_from_the_public(site) -> None:
    app, ids = site
    url = f"/api/v1/plants/{ids['elm']}/inspections"
    astana = client_of(app, "astana@test.jasyl.kz")
    body = {"inspected_on": "2026-05-04", "condition": 4, "inspector": "Айгүл Серікқызы"}
    assert send(client_of(app), "POST", url, body).status_code == 401
    assert send(client_of(app, "almaty@test.jasyl.kz"), "POST", url, body).status_code == 403
    assert send(astana, "POST", url, {**body, "inspected_on": "2999-01-01"}).status_code == 422
    assert send(astana, "POST", url, body).status_code == 201
    public = client_of(app).get(url).get_json()["items"]
    assert public[0]["condition"] == 4 and "inspector" not in public[0]
    assert astana.get(url).get_json()["items"][0]["inspector"] == "Айгүл Серікқызы"
    assert client_of(app).get(f"/api/v1/plants/{ids['elm']}").get_json()["condition"] == 4


def test_lists_filter_and_page_by_keyset(site) -> None:
    app, ids = site
    with unit_of_work(app.config["DATABASE_URL"]) as session:
        for grade in (1, 5, 5, 6):
            make_plant(session, condition=grade)
    public = client_of(app)
    first = public.get("/api/v1/plants?limit=2").get_json()
    assert len(first["items"]) == 2 and first["next"]
    second = public.get(first["next"]).get_json()
    seen = [p["id"] for p in first["items"] + second["items"]]
    assert seen == sorted(set(seen)) and len(seen) == 4
    poor = public.get("/api/v1/plants?condition=5,6").get_json()["items"]
    assert sorted(p["condition"] for p in poor) == [5, 5, 6]
    assert public.get("/api/v1/plants?region=75").get_json()["items"] == []
    bad = public.get("/api/v1/plants?condition=9")
    assert bad.status_code == 422 and bad.get_json()["field"] == "condition"
    assert public.get("/api/v1/plants?limit=5000").status_code == 422


def test_green_spaces_are_drawn_and_redrawn_by_their_region(site) -> None:
    app, ids = site
    outline = square((ASTANA[0] + 0.02, ASTANA[1]), 0.002)
    body = {"name": "Парк «Жасыл»", "category": "public", "geometry": outline.__geo_interface__}
    assert (
        send(
            client_of(app, "almaty@test.jasyl.kz"), "POST", "/api/v1/green_spaces", body
        ).status_code
        == 403
    )
    astana = client_of(app, "astana@test.jasyl.kz")
    created = send(astana, "POST", "/api/v1/green_spaces", body)
    assert created.status_code == 201 and created.get_json()["name"] == "Парк «Жасыл»"
    url = f"/api/v1/green_spaces/{created.get_json()['id']}"
    moved = square(ALMATY, 0.002).__geo_interface__
    assert send(astana, "PATCH", url, {"version": 1, "geometry": moved}).status_code == 403
    bigger = square((ASTANA[0] + 0.02, ASTANA[1]), 0.004).__geo_interface__
    redrawn = send(astana, "PATCH", url, {"version": 1, "geometry": bigger})
    assert (
        redrawn.status_code == 200 and redrawn.get_json()["area_m2"] > created.get_json()["area_m2"]
    )
    line = {"type": "LineString", "coordinates": [[71.4, 51.1], [71.5, 51.2]]}
    assert (
        send(astana, "PATCH", url, {"version": 2, "geometry": line}).get_json()["field"]
        == "geometry"
    )


def test_a_green_space_card_is_found_even_where_a_tree_stands(site) -> None:
    """The map opens a green space (search hit, dashboard drill down) at its centre; a tree
    there must not take its place."""
    app, ids = site
    with unit_of_work(app.config["DATABASE_URL"]) as session:
        make_plant(session, geom=Point(*ASTANA), inventory_number="71-CENTRE")
    at = {"lon": ASTANA[0], "lat": ASTANA[1], "z": 18}
    client = client_of(app)
    assert client.get("/api/v1/plants/at", query_string=at).get_json()["kind"] == "plant"
    found = client.get("/api/v1/plants/at", query_string={**at, "kind": "green_space"}).get_json()
    assert (found["kind"], found["id"]) == ("green_space", ids["space"])
    assert "Сквер Жастар" in found["html"]


def test_reference_data_in_the_readers_language(site) -> None:
    app, _ = site
    public = client_of(app)
    regions = public.get("/api/v1/regions?lang=kk").get_json()["items"]
    assert len(regions) == 20 and any(r["name"] == "Астана" for r in regions)
    species = public.get("/api/v1/species?search=вяз&lang=en").get_json()["items"]
    assert any(s["latin"] == "Ulmus pumila" and s["name"] == s["name_en"] for s in species)
    astana = public.get("/api/v1/regions/KZ-71").get_json()
    assert astana["plants"] == 1 and astana["by_condition"] == {"2": 1}
    assert public.get("/api/v1/regions/KZ-99").status_code == 404
