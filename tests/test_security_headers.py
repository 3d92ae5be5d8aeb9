"""Security headers on every response (issue #18): pages, the API, errors, static files and the
public tiles answered before Flask; the page's inline blocks carry that response's nonce."""

from __future__ import annotations

import re

import pytest

from registry.db import unit_of_work
from tests.factories import make_plant
from web import create_app

NONCE = re.compile(r"'nonce-([^']+)'")
INLINE_BLOCK = re.compile(r"<(script|style)\b([^>]*)>", re.I)


@pytest.fixture
def client(clean):
    with unit_of_work(clean) as session:
        make_plant(session)
    return create_app({"TESTING": True}).test_client()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/login",
        "/api/v1/regions",
        "/api/v1/plants/999999",  # a 404 from the API
        "/no/such/page",
        "/static/jasyl-map.js",
        "/tiles/plants/5/22/10.pbf",  # answered by the public tile layer, not Flask
        "/ogc/collections?f=json",
    ],
)
def test_every_response_carries_the_headers(client, path) -> None:
    answer = client.get(path)
    assert answer.status_code < 500
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"
    assert answer.headers["X-Frame-Options"] == "DENY"
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert (
        "object-src 'none'" in policy and "'unsafe-inline'" not in policy.split("style-src-attr")[0]
    )


def test_inline_blocks_run_only_with_the_responses_nonce(client) -> None:
    for path in ("/", "/login", "/regions/KZ-71"):
        answer = client.get(path)
        nonce = NONCE.search(answer.headers["Content-Security-Policy"])[1]
        page = answer.get_data(as_text=True)
        blocks = [attrs for _, attrs in INLINE_BLOCK.findall(page) if "src=" not in attrs]
        assert blocks, path
        assert all(f'nonce="{nonce}"' in attrs for attrs in blocks), (path, blocks)
    first, second = (client.get("/").headers["Content-Security-Policy"] for _ in range(2))
    assert NONCE.search(first)[1] != NONCE.search(second)[1], "a new nonce for every response"
