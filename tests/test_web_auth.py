"""Sign-in, sign-out, CSRF, login throttling, cookies and the language of pages, over HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from registry.db import engine_for
from tests.web_client import PASSWORD, csrf_token, new_user, sign_in
from web import create_app
from web.auth.throttle import ThrottleRules


@pytest.fixture
def app(clean):
    return create_app({"TESTING": True})


@pytest.fixture
def forester(clean):
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    return "les@test.jasyl.kz"


def test_sign_in_and_out(app, forester) -> None:
    client = app.test_client()
    assert "les@test.jasyl.kz" not in client.get("/login").get_data(as_text=True)
    answer = sign_in(client, "LES@test.jasyl.kz")
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert "les@test.jasyl.kz" in client.get("/login").get_data(as_text=True)
    with engine_for(app.config["DATABASE_URL"]).connect() as conn:
        assert conn.execute(text("SELECT last_login_at FROM users")).scalar() is not None
    token = csrf_token(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert "les@test.jasyl.kz" not in client.get("/login").get_data(as_text=True)


def test_a_wrong_password_is_refused_next_to_the_field(app, forester) -> None:
    client = app.test_client()
    answer = sign_in(client, forester, "not the password")
    assert answer.status_code == 401
    page = answer.get_data(as_text=True)
    assert 'data-field="password"' in page and "Неверная почта или пароль." in page
    assert sign_in(client, "nobody@test.jasyl.kz").status_code == 401


def test_sign_in_never_redirects_off_site(app, forester) -> None:
    client = app.test_client()
    token = csrf_token(client)
    data = {"email": forester, "password": PASSWORD, "csrf_token": token}
    answer = client.post("/login?next=https://evil.example/x", data=data)
    assert answer.headers["Location"] == "/"
    client = app.test_client()
    data["csrf_token"] = csrf_token(client)
    assert client.post("/login?next=/api/v1/regions", data=data).headers["Location"] == (
        "/api/v1/regions"
    )


def test_csrf_is_required_on_forms(app, forester) -> None:
    client = app.test_client()
    answer = client.post("/login", data={"email": forester, "password": PASSWORD})
    assert answer.status_code == 400 and "CSRF" in answer.get_data(as_text=True)
    forged = client.post(
        "/login", data={"email": forester, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert forged.status_code == 400


def test_login_attempts_are_throttled(clean, forester) -> None:
    app = create_app({"TESTING": True, "SIGN_IN_RULES": ThrottleRules(account_from_address=3)})
    client = app.test_client()
    codes = [sign_in(client, forester, f"guess number {i}").status_code for i in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    refused = sign_in(client, forester)
    assert refused.status_code == 429, "even the right password waits, from this address"
    assert int(refused.headers["Retry-After"]) > 0
    assert "Слишком много неудачных попыток входа" in refused.get_data(as_text=True)
    assert client.get("/login").status_code == 200, "only attempts are counted"


def test_session_cookies_are_http_only_and_same_site(app, forester, monkeypatch) -> None:
    client = app.test_client()
    cookie = sign_in(client, forester).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    monkeypatch.setenv("JASYL_PRODUCTION", "1")
    monkeypatch.delenv("JASYL_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="JASYL_SECRET_KEY"):
        create_app()
    monkeypatch.setenv("JASYL_SECRET_KEY", "a long random production key")
    production = create_app({"TESTING": True}).test_client()
    assert "Secure" in sign_in(production, forester).headers["Set-Cookie"]


def test_a_deactivated_user_is_signed_out_at_once(app, forester) -> None:
    client = app.test_client()
    sign_in(client, forester)
    with engine_for(app.config["DATABASE_URL"]).begin() as conn:
        conn.execute(text("UPDATE users SET active = false"))
    assert forester not in client.get("/login").get_data(as_text=True)


# -- languages ------------------------------------------------------------------------------------
def test_the_browser_language_chooses_the_page_language(app) -> None:
    client = app.test_client()
    kazakh = client.get("/login", headers={"Accept-Language": "kk-KZ,kk;q=0.9,ru;q=0.5"})
    assert 'lang="kk"' in kazakh.get_data(as_text=True)
    assert "Кіру" in kazakh.get_data(as_text=True)
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert "Sign in" in english.get_data(as_text=True)
    fallback = client.get("/login", headers={"Accept-Language": "de-DE"})
    assert "Войти" in fallback.get_data(as_text=True), "Russian when nothing matches"


def test_lang_parameter_and_the_switcher(app) -> None:
    client = app.test_client()
    assert ">Sign in<" in client.get("/login?lang=en").get_data(as_text=True)
    assert "Кіру" in client.get("/login?lang=kk").get_data(as_text=True)
    assert "Кіру" in client.get("/login").get_data(as_text=True), "the choice is kept"
    token = csrf_token(client)
    switched = client.post("/language", data={"lang": "en", "next": "/login", "csrf_token": token})
    assert switched.status_code == 302 and switched.headers["Location"] == "/login"
    assert ">Sign in<" in client.get("/login").get_data(as_text=True)
    outside = client.post(
        "/language", data={"lang": "ru", "next": "//evil.example/", "csrf_token": token}
    )
    assert outside.headers["Location"] == "/"


def test_a_signed_in_users_language_is_their_saved_preference(app, forester) -> None:
    client = app.test_client()
    sign_in(client, forester)
    assert "Выйти" in client.get("/login?lang=en", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    ), "the profile's language (ru) wins over the request"
    client.post("/language", data={"lang": "kk", "csrf_token": csrf_token(client)})
    with engine_for(app.config["DATABASE_URL"]).connect() as conn:
        assert conn.execute(text("SELECT locale FROM users")).scalar() == "kk"
    assert "Шығу" in client.get("/login").get_data(as_text=True)
    fresh = app.test_client()
    sign_in(fresh, forester)
    assert "Шығу" in fresh.get("/login").get_data(as_text=True), "remembered across sessions"
