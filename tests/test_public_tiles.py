"""The public's tiles are answered in front of Flask (``web.tiles.public``): the same bytes and
headers as the Flask view, never a staff tile, and Flask for everyone and everything else."""

from __future__ import annotations

import mapbox_vector_tile
import pytest

from bench.tiles import tile_of
from registry.db import unit_of_work
from tests.factories import ASTANA, make_plant, point_near
from tests.web_client import new_user, sign_in
from web import create_app

_T = tile_of(*ASTANA, 16)
TILE = f"/tiles/plants/16/{_T.x}/{_T.y}.pbf"


@pytest.fixture
def app(clean):
    with unit_of_work(clean) as session:
        make_plant(session, geom=point_near(ASTANA, 0), published=True)
        make_plant(session, geom=point_near(ASTANA, 1), published=False)
    app = create_app({"TESTING": True})
    calls = []
    view = app.view_functions["tiles.tile"]

    def counted(**kwargs):
        calls.append(kwargs)
        return view(**kwargs)

    app.view_functions["tiles.tile"] = counted
    app.flask_tile_calls = calls
    return app


def plants_in(body: bytes) -> int:
    return len(mapbox_vector_tile.decode(body)["plants"]["features"]) if body else 0


def test_the_public_gets_the_flask_views_bytes_and_headers_without_flask(app) -> None:
    client = app.test_client()
    fast = client.get(TILE)
    assert app.flask_tile_calls == [], "answered in front of Flask"
    through_flask = client.get(TILE + "?species=")  # a query string always goes to Flask
    assert len(app.flask_tile_calls) == 1
    assert fast.status_code == through_flask.status_code == 200
    assert fast.data == through_flask.data and plants_in(fast.data) == 1
    for header in ("ETag", "Cache-Control", "Vary", "Content-Type", "Content-Length"):
        assert fast.headers[header] == through_flask.headers[header], header
    assert fast.headers["Cache-Control"] == "public, max-age=300"
    again = client.get(TILE, headers={"If-None-Match": fast.headers["ETag"]})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"]
    assert "Content-Length" not in again.headers and app.flask_tile_calls[1:] == []
    assert client.head(TILE).data == b"" and app.flask_tile_calls[1:] == []


def test_an_anonymous_session_stays_public_and_staff_go_through_flask(app, clean) -> None:
    new_user(clean, "planner@jasyl.kz", "planner")
    client = app.test_client()
    client.get("/login")  # the login page puts a CSRF token in the (anonymous) session
    assert client.get_cookie(app.config["SESSION_COOKIE_NAME"]) is not None
    assert plants_in(client.get(TILE).data) == 1 and app.flask_tile_calls == []
    assert sign_in(client, "planner@jasyl.kz").status_code == 302
    staff = client.get(TILE)
    assert len(app.flask_tile_calls) == 1, "a signed-in user's tile goes through Flask"
    assert plants_in(staff.data) == 2 and staff.headers["Cache-Control"].startswith("private")


def test_addresses_that_do_not_exist_get_flasks_explanation(app) -> None:
    client = app.test_client()
    missing = client.get("/tiles/plants/3/9/0.pbf")
    assert missing.status_code == 404 and "does not exist at zoom 3" in missing.json["message"]
    assert client.get("/tiles/trees/3/0/0.pbf").status_code == 404
    assert len(app.flask_tile_calls) == 2
