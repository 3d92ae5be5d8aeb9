"""The HTML forms answer bad input with 422 and a message naming the field, and store nothing.

Each case here was a server error or a wrong value before: ``version=abc`` in the green-space
form, ``got_abc`` in the receipt form, ``"false"`` stored as true for hazardous and published,
a 1 MB inventory number, an unknown geometry type, an empty removal status.
"""

from __future__ import annotations

import json
from html import unescape

import pytest
from shapely.geometry import mapping
from sqlalchemy import select

from registry.access import Actor
from registry.db import unit_of_work
from registry.errors import InvalidValue
from registry.inventory.models import GreenSpace, Plant
from registry.nursery.models import Shipment
from registry.nursery.shipping import dispatch
from tests.factories import ASTANA, make_green_space, make_plant, square
from tests.nursery_factories import make_nursery, ready_batch
from tests.web_client import csrf_token, new_user, sign_in
from web import create_app


@pytest.fixture
def site(clean):
    """An Astana forester, an Almaty one, a plant and a park in Astana, a shipment to Almaty."""
    with unit_of_work(clean) as session:
        plant = make_plant(session, inventory_number="71-FORM")
        park = make_green_space(session, name="Сквер «Форма»")
        nursery = make_nursery(session)
        batch = ready_batch(session, nursery, 100)
        shipment = dispatch(
            session, Actor.system("test"), nursery, "KZ-75", [f"{batch.id}:10"], "2025-10-01"
        )
        ids = {"plant": plant.id, "park": park.id, "shipment": shipment.id, "batch": batch.id}
        ids["species"] = plant.species_id
    new_user(clean, "astana@test.jasyl.kz", "forester", "KZ-71")
    new_user(clean, "almaty@test.jasyl.kz", "forester", "KZ-75")
    return create_app({"TESTING": True}), ids


def post(app, email: str, url: str, data: dict):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    data = {"csrf_token": csrf_token(client, "/plants/new"), **data}
    return client.post(url, data=data)


def shown_error(answer, field: str) -> str:
    """The message shown for ``field`` (the form marks it with ``data-field``)."""
    html = answer.get_data(as_text=True)
    marker = f'data-field="{field}">'
    assert marker in html, f"no error shown for {field}"
    return unescape(html.split(marker, 1)[1].split("<", 1)[0])


def stored(model, record_id: int):
    with unit_of_work() as session:
        return session.get(model, record_id)


@pytest.mark.parametrize("version", ["abc", "²", " ", "-1"])
def test_a_green_space_form_with_a_broken_version_is_refused(site, version) -> None:
    app, ids = site
    form = {"name": "Сквер «Иной»", "category": "public", "kind": "park", "version": version}
    answer = post(app, "astana@test.jasyl.kz", f"/green_spaces/{ids['park']}/edit", form)
    assert answer.status_code == 422
    assert shown_error(answer, "version").startswith("version: is not a whole number")
    assert stored(GreenSpace, ids["park"]).name == "Сквер «Форма»"


@pytest.mark.parametrize("version", ["abc", "²"])
def test_plant_forms_with_a_broken_version_are_refused(site, version) -> None:
    app, ids = site
    edit = {"version": version, "species_id": str(ids["species"]), "condition": "3"}
    answer = post(app, "astana@test.jasyl.kz", f"/plants/{ids['plant']}/edit", edit)
    assert answer.status_code == 422 and "version: is not a whole number" in shown_error(
        answer, "version"
    )
    remove = {"version": version, "status": "removed"}
    answer = post(app, "astana@test.jasyl.kz", f"/plants/{ids['plant']}/remove", remove)
    assert answer.status_code == 422
    assert stored(Plant, ids["plant"]).status.value == "alive"


def test_a_receipt_form_with_a_field_naming_no_line_is_refused(site) -> None:
    app, ids = site
    url = f"/nurseries/shipments/{ids['shipment']}"
    form = {"on": "2025-10-02", "got_abc": "10", f"got_{ids['batch']}": "10"}
    answer = post(app, "almaty@test.jasyl.kz", url, form)
    assert answer.status_code == 422
    assert "got_abc: is not a whole number" in answer.get_data(as_text=True)
    assert stored(Shipment, ids["shipment"]).status.value == "dispatched"


def test_false_in_a_checkbox_is_false(site) -> None:
    app, ids = site
    form = {
        "version": "1",
        "species_id": str(ids["species"]),
        "condition": "2",
        "hazardous": "false",
        "published": "0",
    }
    answer = post(app, "astana@test.jasyl.kz", f"/plants/{ids['plant']}/edit", form)
    assert answer.status_code == 302
    plant = stored(Plant, ids["plant"])
    assert (plant.hazardous, plant.published) == (False, False)
    form.update(version="2", hazardous="on", published="maybe")
    answer = post(app, "astana@test.jasyl.kz", f"/plants/{ids['plant']}/edit", form)
    assert answer.status_code == 422
    assert shown_error(answer, "published").startswith("published: must be true or false")


def test_the_services_read_false_as_false(db) -> None:
    """The JSON API and importers reach the same rule through the services."""
    plant = make_plant(db, hazardous="false", published="false")
    assert (plant.hazardous, plant.published) == (False, False)
    with pytest.raises(InvalidValue, match="hazardous: must be true or false"):
        make_plant(db, hazardous="sometimes")


@pytest.mark.parametrize(
    ("field", "length", "limit"),
    [("inventory_number", 1_000_000, 64), ("notes", 4_001, 4_000), ("address", 501, 500)],
)
def test_over_long_text_is_refused_naming_the_field(site, field, length, limit) -> None:
    app, ids = site
    form = {"species_id": str(ids["species"]), "lon": "71.44", "lat": "51.13", field: "7" * length}
    answer = post(app, "astana@test.jasyl.kz", "/plants/new", form)
    assert answer.status_code == 422
    message = shown_error(answer, field)
    assert message == f"{field}: is longer than {limit} characters (got '{length} characters')"
    with unit_of_work() as session:
        assert session.scalars(select(Plant.id)).all() == [ids["plant"]]


def test_a_nul_character_is_refused_naming_the_field(db) -> None:
    with pytest.raises(InvalidValue, match="notes: contains a NUL character"):
        make_plant(db, notes="дупло\x00")
    with pytest.raises(InvalidValue, match="name: is longer than 300 characters"):
        make_green_space(db, name="С" * 301)


@pytest.mark.parametrize(
    "geometry", ['{"type": "Hexagon"}', '{"type": "Polygon", "coordinates": [[[0, 0]]]}', "[1"]
)
def test_a_broken_outline_is_refused(site, geometry) -> None:
    app, _ = site
    form = {"name": "Сквер", "category": "public", "geometry": geometry}
    answer = post(app, "astana@test.jasyl.kz", "/green_spaces/new", form)
    assert answer.status_code == 422 and shown_error(answer, "geometry")


def test_an_empty_removal_status_is_refused(site) -> None:
    app, ids = site
    form = {"version": "1", "status": ""}
    answer = post(app, "astana@test.jasyl.kz", f"/plants/{ids['plant']}/remove", form)
    assert answer.status_code == 422
    assert shown_error(answer, "status").startswith("status: must be one of")


def test_a_valid_green_space_form_still_saves(site) -> None:
    app, _ = site
    outline = json.dumps(mapping(square((ASTANA[0] + 0.02, ASTANA[1]))))
    form = {"name": "Сквер «Новый»", "category": "public", "published": "on", "geometry": outline}
    answer = post(app, "astana@test.jasyl.kz", "/green_spaces/new", form)
    assert answer.status_code == 302
    with unit_of_work() as session:
        saved = session.scalar(select(GreenSpace).where(GreenSpace.name == "Сквер «Новый»"))
        assert saved.published is True
