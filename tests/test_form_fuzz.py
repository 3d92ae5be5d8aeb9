"""Every HTML form, fuzzed: hostile values in every field never make a server error.

The forms are found from the app's URL map (every rule that takes POST outside the JSON APIs),
so a form added later is fuzzed without anyone remembering to. Each form's fields are read
from its page, as a browser would send them, and from its view's source (forms posted from
another page, such as the plant card's photo form). The client is signed in as an
administrator (who reaches every write path) with a valid CSRF token; hypothesis draws values
from what broke forms before: non-numbers, non-ASCII digits, NaN and Infinity, strings for
booleans, NUL characters, over-long text, broken GeoJSON, and fields named like the numbered
ones (``got_abc`` beside ``got_12``). Derandomized and bounded: the same examples every run.
"""

from __future__ import annotations

import inspect
import io
import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import Rule

from registry.access import Actor
from registry.db import unit_of_work
from registry.nursery.shipping import dispatch
from tests.conftest import empty_inventory
from tests.factories import make_green_space, make_plant, make_user
from tests.nursery_factories import make_nursery, ready_batch
from tests.web_client import PASSWORD, csrf_token, sign_in
from web import create_app

EXAMPLES_PER_FORM = 40
# The JSON APIs are fuzzed by their schemas; signing out ends the fuzzing client's session.
NOT_HTML_FORMS = ("/api/", "/ogc")
SKIPPED = {"auth.logout": "has no fields, and would sign the fuzzing client out"}

HOSTILE = [
    "",
    " ",
    "abc",
    "²",
    "١٢",
    "-1",
    "0",
    "0.0001",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "false",
    "true",
    "on",
    "2026-13-45",
    "99999999999999999999999",
    "x\x00y",
    "x" * 70_000,
    "KZ-99",
    "../../etc/passwd",
    '{"type": "Point", "coordinates": [71.43, 51.13]}',
    '{"type": "Polygon", "coordinates": [[[0, 0]]]}',
    '{"type": "Hexagon"}',
    "[1, 2",
    "null",
]
values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))


class FormFields(HTMLParser):
    """The named inputs of a page's forms: {name: "file" or "text"}."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag in ("input", "select", "textarea") and named.get("name"):
            kind = "file" if named.get("type") == "file" else "text"
            self.fields[named["name"]] = kind


def source_fields(view) -> dict[str, str]:
    """Field names the view itself reads, for forms drawn on another page."""
    source = inspect.getsource(view)
    found = {n: "text" for n in re.findall(r'form(?:\.get\(|\[)"(\w+)"', source)}
    found.update({n: "file" for n in re.findall(r'request\.files\.get\("(\w+)"\)', source)})
    return found


def html_forms(app) -> list[Rule]:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if "POST" in rule.methods and not rule.rule.startswith(NOT_HTML_FORMS)
        ),
        key=lambda rule: rule.rule,
    )


FORMS = [rule.endpoint for rule in html_forms(create_app({"TESTING": True}))]


def test_the_forms_are_found_from_the_url_map() -> None:
    assert {"editing.edit_green_space", "nursery.shipment_page", "raster.upload"} <= set(FORMS)
    assert len(FORMS) >= 12


@pytest.fixture(scope="module")
def app(database_url):
    return create_app({"TESTING": True, "JASYL_LOGIN_LIMIT": "1000 per minute"})


@pytest.fixture(scope="module")
def records(database_url):
    """An admin, a plant, a green space, a nursery with ready stock and a shipment of it."""
    with unit_of_work(database_url) as session:
        email = make_user(session, "admin", None, password=PASSWORD).email
        plant = make_plant(session, inventory_number="FUZZ-1")
        space = make_green_space(session, name="Сквер для проверки форм")
        nursery = make_nursery(session)
        batch = ready_batch(session, nursery, 1000)
        shipment = dispatch(
            session, Actor.system("test"), nursery, "KZ-75", [f"{batch.id}:10"], "2025-10-01"
        )
        made = {
            "email": email,
            "plant_id": str(plant.id),
            "space_id": str(space.id),
            "shipment_id": str(shipment.id),
            "code": nursery.code,
        }
    yield made
    empty_inventory(database_url)  # the next file in this worker starts from an empty registry


def url_of(rule: Rule, records: dict[str, str]) -> str:
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[^:<>]+:)?{name}>", records.get(name, "1"), url)
    return url


def fields_of(app, client, rule: Rule, url: str) -> dict[str, str]:
    parser = FormFields()
    if "GET" in rule.methods:
        parser.feed(client.get(url).get_data(as_text=True))
    fields = {**source_fields(app.view_functions[rule.endpoint]), **parser.fields}
    fields.pop("csrf_token", None)
    return fields


def numbered_fields(fields: dict[str, str]) -> st.SearchStrategy[dict[str, str]]:
    """Fields named like the form's numbered ones with something else after the prefix
    (``got_abc`` beside ``got_12``)."""
    prefixes = sorted({m.group(1) for n in fields if (m := re.match(r"(\w+_)\d+$", n))})
    if not prefixes:
        return st.just({})
    suffixes = st.one_of(st.sampled_from(["abc", "²", "-1", "1.5", ""]), st.text(max_size=8))
    names = st.builds(str.__add__, st.sampled_from(prefixes), suffixes)
    return st.dictionaries(names, values, max_size=2)


@pytest.mark.parametrize("endpoint", FORMS)
def test_no_form_answers_with_a_server_error(app, records, endpoint) -> None:
    if endpoint in SKIPPED:
        pytest.skip(SKIPPED[endpoint])
    rule = next(r for r in html_forms(app) if r.endpoint == endpoint)
    client = app.test_client()
    assert sign_in(client, records["email"]).status_code == 302
    url = url_of(rule, records)
    token = csrf_token(client, "/plants/new")
    fields = fields_of(app, client, rule, url)
    texts = [n for n, kind in fields.items() if kind == "text"]
    files = [n for n, kind in fields.items() if kind == "file"]
    form = st.fixed_dictionaries(
        {},
        optional={
            **{name: values for name in texts},
            **{name: st.binary(max_size=64) for name in files},
        },
    )
    extra = numbered_fields(fields)

    @settings(
        max_examples=EXAMPLES_PER_FORM,
        derandomize=True,
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(sent=form, odd=extra)
    def post(sent: dict, odd: dict) -> None:
        data: dict = {"csrf_token": token, **odd}
        for name, value in sent.items():
            data[name] = (io.BytesIO(value), "upload.bin") if name in files else value
        answer = client.post(url, data=data, content_type="multipart/form-data")
        shown = {k: (v if isinstance(v, str) else "<file>")[:60] for k, v in data.items()}
        assert answer.status_code < 500, f"POST {url} {shown} → {answer.status_code}"

    post()
