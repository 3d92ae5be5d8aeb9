"""schemathesis over the generated documents of ``/api/v1`` and ``/ogc``, as the public and as a
signed-in forester (session cookie + CSRF header): no server error, every answer's status, media
type and body as documented, and every request the schema forbids refused with a 4xx.

Bounded and repeatable: a fixed number of examples per operation, derandomized (a fixed seed).
"""

from __future__ import annotations

import traceback
from collections import defaultdict
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES

from registry.db import unit_of_work
from tests.factories import make_green_space, make_plant
from tests.web_client import csrf_token, new_user, sign_in
from web import create_app

EXAMPLES = 12  # per operation, generation mode and role: the whole test stays near two minutes
# Bad data may also be refused for its size before anyone reads it: a body over the route's
# JASYL_MAX_REQUEST_BYTES is a 413, which schemathesis does not count as a rejection by default.
REFUSALS = [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "413"]
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}}}
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def roles(clean) -> Iterator[tuple[Any, dict[str, dict[str, Any]]]]:
    """The app with a plant and a green space, and how the public and a forester call it: the
    forester with the session cookie, the CSRF header and the browser it signed in with (the
    session is bound to it)."""
    with unit_of_work(clean) as session:
        make_plant(session)
        make_green_space(session)
    new_user(clean, "fuzz@test.jasyl.kz", "forester", "KZ-71")
    app = create_app({"TESTING": True})
    # the same browser and address (schemathesis's WSGI calls have no REMOTE_ADDR, so the
    # address comes as X-Forwarded-For, which Flask-Login's strong protection reads first)
    browser = {"User-Agent": "jasyl-fuzz", "X-Forwarded-For": "127.0.0.1"}
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = browser["User-Agent"]
    client.environ_base["HTTP_X_FORWARDED_FOR"] = browser["X-Forwarded-For"]
    assert sign_in(client, "fuzz@test.jasyl.kz").status_code == 302
    token = csrf_token(client)
    cookie = client.get_cookie("jasyl_session").value
    yield (
        app,
        {
            "public": {"headers": browser},
            "forester": {
                "headers": {**browser, "X-CSRFToken": token},
                "cookies": {"jasyl_session": cookie},
            },
        },
    )


@dataclass
class Run:
    """What a fuzz pass met: its failures, and each role's statuses per method."""

    failures: list[str] = field(default_factory=list)
    answers: dict[tuple[str, str], set[int]] = field(default_factory=lambda: defaultdict(set))


def fuzz(schema: Any, roles: dict[str, dict[str, Any]]) -> Run:
    """Every operation, positive and negative examples, each sent as every role."""
    run = Run()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])
            examples(operation.as_strategy(generation_mode=mode), checks, roles, run)
    return run


def asked(case: Any) -> str:
    """The method, and apart from the rest the one write the public may make: a report."""
    return "REPORT" if case.path == "/public-reports" else case.method


def examples(strategy: Any, checks: list, roles: dict, run: Run) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def send(case: Any) -> None:
        for role, how in roles.items():
            try:
                answer = case.call(**how)
                run.answers[role, asked(case)].add(answer.status_code)
                case.validate_response(answer, checks=checks, headers=how["headers"])
            except Exception as exc:  # noqa: BLE001 - each failure is reported below
                where = traceback.format_exc().splitlines()[-3:]
                message = f"{role} {case.method} {case.formatted_path}: {exc} {where}"
                run.failures.append(message[:900])

    with suppress(Unsatisfiable):  # negative examples of an operation that takes nothing
        send()


def test_the_json_api_meets_its_generated_document(roles) -> None:
    app, headers = roles
    run = fuzz(schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG), headers)
    assert run.failures == [], "\n\n".join(sorted(set(run.failures))[:20])
    # the pass reached the services: some of the forester's writes passed the schema and were
    # judged by a service (accepted, or a 404/409 for what is not there), none of the
    # public's were accepted, and reads answered both
    assert {200, 201, 404, 409} & run.answers["forester", "POST"]
    assert not {200, 201} & run.answers["public", "POST"]
    # a resident's report needs no account: judged (stored, refused or throttled), never 401
    assert run.answers["public", "REPORT"] and run.answers["public", "REPORT"] <= {201, 422, 429}
    assert 200 in run.answers["public", "GET"]


def test_the_ogc_api_meets_its_generated_document(roles) -> None:
    app, headers = roles
    run = fuzz(schemathesis.openapi.from_wsgi("/ogc/api", app, config=CONFIG), headers)
    assert run.failures == [], "\n\n".join(sorted(set(run.failures))[:20])
    assert 200 in run.answers["public", "GET"]
