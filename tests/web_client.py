"""Signing in through the real login form and sending the CSRF token, for HTTP tests."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

from flask.testing import FlaskClient
from werkzeug.serving import make_server

from registry.access import Actor
from registry.accounts.services import actor_for, add_user
from registry.db import unit_of_work

PASSWORD = "correct horse battery"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    match = CSRF_META.search(client.get(path).get_data(as_text=True))
    assert match, "every page carries the CSRF token in a meta tag"
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)}
    )


def new_user(database_url: str, email: str, role: str, region: str | None = None) -> Actor:
    with unit_of_work(database_url) as session:
        return actor_for(add_user(session, Actor.system("test"), email, role, region, PASSWORD))


def send(client: FlaskClient, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
    """A state-changing API call the way the map's fetch() makes it: X-CSRFToken from the meta."""
    headers = {"X-CSRFToken": csrf_token(client), **kwargs.pop("headers", {})}
    return client.open(path, method=method, json=json, headers=headers, **kwargs)


ASSET_URL = re.compile(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="((?:https?:)?//[^"]+)"', re.I)


def third_party_assets(html: str) -> list[str]:
    """Scripts, styles and images a page would fetch from another host (the app serves its own)."""
    return ASSET_URL.findall(html)


def serve(app) -> Iterator[str]:
    """``app`` on a loopback port, served from a thread while the generator is open (a fixture
    yields from it): its base address, for browser tests and service workers."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
