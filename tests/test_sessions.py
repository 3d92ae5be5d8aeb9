"""Session cookies that cannot be forged and that end (issue #18, items 1 and 2), over HTTP.

A forged cookie is one signed with the development key written in ``registry/config.py``; a
copied cookie is another client given this client's ``jasyl_session`` value. Lifetimes are
tested with cookies whose recorded times are rewritten through Flask's own signing (what a
browser would send after that long), never by waiting.
"""

from __future__ import annotations

import time

import pytest

from registry.access import Actor
from registry.accounts.services import find_user, set_password
from registry.config import DEV_SECRET_KEY
from registry.db import unit_of_work
from registry.species.services import get_species
from tests.web_client import PASSWORD, csrf_token, new_user, send, sign_in
from web import create_app
from web.auth.sessions import SEEN_AT, SIGNED_IN_AT, InsecureSigningKey

COOKIE = "jasyl_session"
ASTANA_POINT = {"lon": 71.44, "lat": 51.13, "condition": 2}
FORESTER = "les@test.jasyl.kz"
REAL_KEY = "a long random key for this deployment 0123456789"


@pytest.fixture
def forester(clean) -> str:
    new_user(clean, FORESTER, "forester", "KZ-71")
    return FORESTER


@pytest.fixture
def deployed(monkeypatch):
    """The environment of a server started on the factory: no JASYL_ENV."""
    monkeypatch.delenv("JASYL_ENV", raising=False)
    monkeypatch.delenv("JASYL_PRODUCTION", raising=False)
    monkeypatch.delenv("JASYL_SECRET_KEY", raising=False)
    monkeypatch.delenv("JASYL_SECRET_KEY_FALLBACKS", raising=False)
    return monkeypatch


def signed_in_as(client) -> bool:
    return FORESTER in client.get("/login").get_data(as_text=True)


def plant_body(database_url: str) -> dict:
    with unit_of_work(database_url) as session:
        return {"species_id": get_species(session, "Ulmus pumila").id, **ASTANA_POINT}


def copy_of(app, client):
    """Another browser holding a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return thief


# -- 1. no forged sessions ------------------------------------------------------------------------
def test_the_factory_refuses_no_key_or_the_key_from_the_source(deployed) -> None:
    with pytest.raises(InsecureSigningKey, match="JASYL_SECRET_KEY is not set"):
        create_app()
    deployed.setenv("JASYL_SECRET_KEY", DEV_SECRET_KEY)
    with pytest.raises(InsecureSigningKey, match="development key"):
        create_app()
    deployed.setenv("JASYL_SECRET_KEY", REAL_KEY)
    deployed.setenv("JASYL_SECRET_KEY_FALLBACKS", f"an older key,{DEV_SECRET_KEY}")
    with pytest.raises(InsecureSigningKey, match="development key"):
        create_app()
    deployed.setenv("JASYL_ENV", "development")
    assert create_app().config["SECRET_KEY"] == REAL_KEY


def test_development_and_tests_say_so_explicitly(deployed) -> None:
    deployed.setenv("JASYL_ENV", "development")
    assert create_app().config["SECRET_KEY"] == DEV_SECRET_KEY
    deployed.setenv("JASYL_PRODUCTION", "1")
    with pytest.raises(InsecureSigningKey):
        create_app()


def test_a_cookie_forged_with_the_source_key_is_no_sign_in(clean, forester, deployed) -> None:
    deployed.setenv("JASYL_ENV", "test")
    forger = create_app({"TESTING": True})  # what anyone who read the source can build
    forging = forger.test_client()
    assert sign_in(forging, forester).status_code == 302 and signed_in_as(forging)
    forged = forging.get_cookie(COOKIE).value
    deployed.delenv("JASYL_ENV")
    deployed.setenv("JASYL_SECRET_KEY", REAL_KEY)
    deployed_app = create_app({"TESTING": True})
    victim_site = deployed_app.test_client()
    victim_site.set_cookie(COOKIE, forged)
    assert not signed_in_as(victim_site)
    answer = send(victim_site, "POST", "/api/v1/plants", plant_body(clean))
    assert answer.status_code == 401


def test_keys_rotate_through_the_fallbacks(clean, forester, deployed) -> None:
    deployed.setenv("JASYL_SECRET_KEY", "the old key of this deployment 0123456789")
    before = create_app({"TESTING": True}).test_client()
    sign_in(before, forester)
    deployed.setenv("JASYL_SECRET_KEY", REAL_KEY)
    deployed.setenv("JASYL_SECRET_KEY_FALLBACKS", "the old key of this deployment 0123456789")
    rotated = create_app({"TESTING": True})
    assert signed_in_as(copy_of(rotated, before)), "sessions signed with the old key still hold"
    deployed.delenv("JASYL_SECRET_KEY_FALLBACKS")
    assert not signed_in_as(copy_of(create_app({"TESTING": True}), before))


# -- 2. sessions that end -----------------------------------------------------------------------
def test_a_cookie_copied_before_sign_out_cannot_write_afterwards(clean, forester) -> None:
    app = create_app({"TESTING": True})
    client = app.test_client()
    sign_in(client, forester)
    thief = copy_of(app, client)
    assert send(thief, "POST", "/api/v1/plants", plant_body(clean)).status_code == 201
    assert client.post("/logout", data={"csrf_token": csrf_token(client)}).status_code == 302
    answer = send(thief, "POST", "/api/v1/plants", plant_body(clean))
    assert answer.status_code == 401 and answer.get_json()["error"] == "sign_in_required"
    assert not signed_in_as(thief)
    again = app.test_client()
    assert sign_in(again, forester).status_code == 302 and signed_in_as(again)


def test_signing_out_ends_the_users_sessions_on_other_devices(clean, forester) -> None:
    app = create_app({"TESTING": True})
    phone, desk = app.test_client(), app.test_client()
    sign_in(phone, forester)
    sign_in(desk, forester)
    phone.post("/logout", data={"csrf_token": csrf_token(phone)})
    assert not signed_in_as(desk)


def test_a_new_password_ends_earlier_sessions(clean, forester) -> None:
    app = create_app({"TESTING": True})
    client = app.test_client()
    sign_in(client, forester)
    with unit_of_work(clean) as session:
        user = find_user(session, forester)
        set_password(session, Actor.system("test"), user, "a brand new password")
    assert not signed_in_as(client)
    assert send(client, "POST", "/api/v1/plants", plant_body(clean)).status_code == 401
    assert sign_in(client, forester, PASSWORD).status_code == 401, "the old password is gone"
    assert sign_in(client, forester, "a brand new password").status_code == 302
    assert signed_in_as(client)


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(clean, forester):
    app = create_app({"TESTING": True})
    desk, phone = app.test_client(), app.test_client()
    sign_in(desk, forester)
    sign_in(phone, forester)
    new = "a brand new password"
    form = {"current": PASSWORD, "new": new, "repeat": new, "csrf_token": csrf_token(desk)}
    for wrong, field in (
        ({"current": "not the password"}, "current"),
        ({"repeat": "another new password"}, "repeat"),
        ({"new": "short", "repeat": "short"}, "new"),
    ):
        answer = desk.post("/account/password", data={**form, **wrong})
        assert answer.status_code == 422 and f'data-field="{field}"' in answer.get_data(True)
    assert signed_in_as(phone), "nothing changed"
    answer = desk.post("/account/password", data=form)
    assert answer.status_code == 302
    assert signed_in_as(desk), "the session that changed it carries on"
    assert not signed_in_as(phone)
    assert send(phone, "POST", "/api/v1/plants", plant_body(clean)).status_code == 401
    assert sign_in(app.test_client(), forester, new).status_code == 302


def _age(client, key: str, seconds: int) -> None:
    with client.session_transaction() as cookie:
        cookie[key] = int(time.time()) - seconds


def test_an_idle_session_ends(clean, forester, monkeypatch) -> None:
    monkeypatch.setenv("JASYL_SESSION_IDLE_MINUTES", "30")
    app = create_app({"TESTING": True})
    client = app.test_client()
    sign_in(client, forester)
    _age(client, SEEN_AT, 29 * 60)
    assert signed_in_as(client), "used 29 minutes ago"
    with client.session_transaction() as cookie:
        assert int(time.time()) - cookie[SEEN_AT] < 60, "the use is noted"
    _age(client, SEEN_AT, 31 * 60)
    assert not signed_in_as(client)
    with client.session_transaction() as cookie:
        assert "_user_id" not in cookie, "the sign-in is dropped from the cookie"


def test_tiles_note_no_use_so_a_shared_cache_never_keeps_a_cookie(clean, forester) -> None:
    client = create_app({"TESTING": True}).test_client()
    sign_in(client, forester)
    _age(client, SEEN_AT, 10 * 60)
    tile = client.get("/tiles/plants/5/22/10.pbf")
    assert tile.status_code in (200, 204) and "Set-Cookie" not in tile.headers
    assert "Set-Cookie" in client.get("/login").headers, "a page notes the use"


def test_a_session_ends_after_its_absolute_lifetime(clean, forester, monkeypatch) -> None:
    monkeypatch.setenv("JASYL_SESSION_HOURS", "8")
    app = create_app({"TESTING": True})
    client = app.test_client()
    sign_in(client, forester)
    _age(client, SIGNED_IN_AT, 7 * 3600)
    assert signed_in_as(client)
    _age(client, SIGNED_IN_AT, 8 * 3600 + 60)
    assert not signed_in_as(client), "in use all along, but signed in over 8 hours ago"


def test_production_cookies_are_secure_http_only_same_site(clean, forester, deployed) -> None:
    deployed.setenv("JASYL_PRODUCTION", "1")
    deployed.setenv("JASYL_SECRET_KEY", REAL_KEY)
    client = create_app({"TESTING": True}).test_client()
    cookie = sign_in(client, forester).headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
