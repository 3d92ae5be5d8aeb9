"""Sign-in throttling kept in PostgreSQL (issue #18, item 7): one count for every worker, per
account and per address with back-off, and an attacker cannot lock a correct password out
from another address. Addresses are the WSGI ``REMOTE_ADDR`` a server would see, and
``X-Forwarded-For`` is believed only from the configured number of trusted proxies."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import text

from registry.db import engine_for
from registry.errors import InvalidValue
from tests.serving import Client, ProductionServer
from tests.web_client import PASSWORD, csrf_token, new_user
from web import create_app
from web.auth.throttle import ThrottleRules

OWNER = "les@test.jasyl.kz"
RULES = ThrottleRules(account_from_address=3, address=50, account=5)
PROXY = "10.0.0.1"


@pytest.fixture
def owner(clean) -> str:
    new_user(clean, OWNER, "forester", "KZ-71")
    return OWNER


def attempt(client, password: str, address: str = "127.0.0.1", forwarded: str | None = None):
    """One sign-in from ``address`` (as the server sees the connection), through a proxy that
    wrote ``forwarded`` into X-Forwarded-For when given."""
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"email": OWNER, "password": password, "csrf_token": token},
        headers=headers,
        environ_base=environ,
    ).status_code


def guess_until_refused(client, **where) -> list[int]:
    codes = []
    while not codes or codes[-1] != 429:
        codes.append(attempt(client, f"guess {len(codes)}", **where))
        assert len(codes) < 20, "never refused"
    return codes


def test_two_app_instances_share_one_count(owner) -> None:
    """Two workers (two apps on the same database): failures on one are refused on the other."""
    first = create_app({"TESTING": True, "SIGN_IN_RULES": RULES}).test_client()
    second = create_app({"TESTING": True, "SIGN_IN_RULES": RULES}).test_client()
    assert [attempt(first, "guess one"), attempt(second, "guess two")] == [401, 401]
    assert [attempt(first, "guess three"), attempt(second, "guess four")] == [401, 401]
    assert attempt(second, "guess five") == 429
    assert attempt(first, PASSWORD) == 429, "the same address waits on every worker"


def test_back_off_doubles(owner, clean) -> None:
    client = create_app({"TESTING": True, "SIGN_IN_RULES": RULES}).test_client()
    guess_until_refused(client)
    with engine_for(clean).begin() as conn:
        waits = text(
            "SELECT ceil(extract(epoch FROM blocked_until - now())) FROM sign_in_throttles "
            "WHERE key LIKE 'account-address:%'"
        )
        first = conn.execute(waits).scalar()
        conn.execute(text("UPDATE sign_in_throttles SET blocked_until = now()"))  # waited
    assert attempt(client, "one more guess") == 401
    with engine_for(clean).connect() as conn:
        second = conn.execute(waits).scalar()
    # Seconds left when read back (a slow machine reads them a little later, never sooner).
    assert 20 <= first <= 30 and 50 <= second <= 60


def test_the_wait_doubles_up_to_the_longest() -> None:
    rules = ThrottleRules(account_from_address=3)
    waits = [rules.wait_after(n, 3) for n in (3, 4, 5, 6, 10, 100)]
    assert [w and w.total_seconds() for w in waits] == [None, 30, 60, 120, 900, 900]


def test_an_attackers_failures_do_not_lock_out_the_owner_elsewhere(owner) -> None:
    app = create_app({"TESTING": True, "SIGN_IN_RULES": RULES})
    attacker = app.test_client()
    for address in ("203.0.113.5", "203.0.113.6", "203.0.113.7"):
        assert guess_until_refused(attacker, address=address)[-1] == 429
    assert attempt(attacker, PASSWORD, address="203.0.113.5") == 429, "the attacker waits"
    # The account is now guarded: a new address gets one guess, then waits too.
    assert attempt(attacker, "fresh guess", address="203.0.113.99") == 401
    assert attempt(attacker, "second guess", address="203.0.113.99") == 429
    owner_client = app.test_client()
    assert attempt(owner_client, PASSWORD, address="198.51.100.7") == 302


def test_forwarded_for_is_ignored_without_trusted_proxies(owner, monkeypatch) -> None:
    monkeypatch.setenv("JASYL_TRUSTED_PROXIES", "0")
    app = create_app({"TESTING": True, "SIGN_IN_RULES": RULES})
    attacker = app.test_client()
    codes = [attempt(attacker, f"guess {i}", forwarded=f"192.0.2.{i}") for i in range(5)]
    assert codes[-1] == 429, "a made-up X-Forwarded-For does not make a new address"


def test_one_trusted_proxy_gives_each_client_its_own_address(owner, monkeypatch) -> None:
    monkeypatch.setenv("JASYL_TRUSTED_PROXIES", "1")
    app = create_app({"TESTING": True, "SIGN_IN_RULES": RULES})
    attacker = app.test_client()
    guess_until_refused(attacker, address=PROXY, forwarded="203.0.113.5")
    colleague = app.test_client()  # another client behind the same proxy
    assert attempt(colleague, PASSWORD, address=PROXY, forwarded="198.51.100.7") == 302
    # Only the last hop is the proxy's to write; what the client put before it is not believed.
    spoofer = app.test_client()
    assert attempt(spoofer, "guess", PROXY, forwarded="198.51.100.7, 203.0.113.5") == 429


def test_with_no_trusted_proxy_everyone_behind_it_shares_an_address(owner, monkeypatch) -> None:
    """Why the setting exists: behind a proxy not declared, the proxy's address is everyone's."""
    monkeypatch.setenv("JASYL_TRUSTED_PROXIES", "0")
    app = create_app({"TESTING": True, "SIGN_IN_RULES": RULES})
    guess_until_refused(app.test_client(), address=PROXY, forwarded="203.0.113.5")
    assert attempt(app.test_client(), PASSWORD, address=PROXY, forwarded="198.51.100.7") == 429


def test_a_bad_trusted_proxies_setting_is_named(monkeypatch) -> None:
    monkeypatch.setenv("JASYL_TRUSTED_PROXIES", "one")
    with pytest.raises(InvalidValue, match="JASYL_TRUSTED_PROXIES"):
        create_app()


def post_sign_in(client: Client, password: str, forwarded: str) -> int:
    """A browser's sign-in through a proxy on a new connection (any worker may take it)."""
    client.connection.close()
    _, page, _ = client.request("GET", "/login", headers={"X-Forwarded-For": forwarded})
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
    form = urlencode({"email": OWNER, "password": password, "csrf_token": token}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Forwarded-For": forwarded,
        "X-Forwarded-Proto": "https",
        "Referer": f"https://127.0.0.1:{client.port}/login",  # checked by CSRF over HTTPS
    }
    return client.request("POST", "/login", form, headers)[0]


def test_the_production_servers_workers_share_the_count_behind_a_proxy(owner, clean) -> None:
    """granian with two workers behind one trusted proxy: the default allowance (5 failures of
    an account from one address) holds across the workers, and a colleague behind the same
    proxy still signs in."""
    server = ProductionServer(clean, workers=2, extra_env={"JASYL_TRUSTED_PROXIES": "1"})
    server.start()
    try:
        attacker = Client(server.port)
        codes = [post_sign_in(attacker, f"guess {i}", "203.0.113.5") for i in range(7)]
        assert codes == [401] * 6 + [429]
        colleague = Client(server.port)
        assert post_sign_in(colleague, PASSWORD, "198.51.100.7") == 302
        _, _, answer = colleague.request("GET", "/")
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    finally:
        server.stop()
