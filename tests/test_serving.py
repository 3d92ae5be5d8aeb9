"""Production serving: granian via ``jasyl serve --production``, health and readiness."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import time

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from registry.config import load_settings
from registry.db import unit_of_work
from registry.inventory.models import Plant
from tests.factories import make_user
from tests.serving import Client, ProductionServer, http_get
from web import create_app
from web.cli import main
from web.cli.serve import granian_options

PASSWORD = "serving-test-password-1"


@pytest.fixture(autouse=True)
def _restore_environment(monkeypatch):
    """``serve --production`` sets these for its workers; put them back after each test."""
    for name in ("JASYL_PRODUCTION", "JASYL_WORKERS", "JASYL_THREADS"):
        monkeypatch.setenv(name, "")


def test_production_refuses_to_start_without_a_secret_key(monkeypatch) -> None:
    monkeypatch.delenv("JASYL_SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["serve", "--production", "--port", "1"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "JASYL_SECRET_KEY is not set" in lines[0]
    assert os.environ.get("JASYL_PRODUCTION") == "1"  # set for the workers it would have started


def test_workers_come_from_the_cores_and_the_pool_from_the_threads() -> None:
    settings = load_settings({})
    assert settings.workers == 2 * os.cpu_count() + 1
    assert settings.pool_size == settings.threads == 4
    chosen = load_settings(
        {"JASYL_WORKERS": "3", "JASYL_THREADS": "6", "JASYL_ACCESS_LOG": "a.log"}
    )
    options = granian_options("127.0.0.1", 8000, chosen)
    assert options["workers"] == 3 and options["blocking_threads"] == 6
    assert options["interface"] == "wsgi" and options["log_access"]
    access = options["log_dictconfig"]["handlers"]["access"]
    assert access["class"] == "logging.FileHandler" and access["filename"] == "a.log"
    assert load_settings({"JASYL_WORKERS": "7", "JASYL_THREADS": "2"}).pool_size == 2


def test_bad_worker_count_is_a_one_line_error(monkeypatch) -> None:
    monkeypatch.setenv("JASYL_WORKERS", "many")
    result = CliRunner().invoke(main, ["serve", "--production"])
    assert result.exit_code == 1
    assert "JASYL_WORKERS: must be a whole number of at least 1 (got 'many')" in result.output


def test_healthz_is_ok_on_a_migrated_database(database_url) -> None:
    client = create_app().test_client()
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json == {"status": "ok", "database": "reachable", "schema": "current"}
    assert answer.headers["Cache-Control"] == "no-store"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["replica"] == "none"


def test_healthz_is_503_when_the_schema_is_behind(database_url) -> None:
    admin = make_url(database_url).set(drivername="postgresql", database="postgres")
    name = make_url(database_url).database + "_bare"
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        bare = make_url(database_url).set(database=name).render_as_string(hide_password=False)
        answer = create_app({"DATABASE_URL": bare}).test_client().get("/healthz")
        assert answer.status_code == 503
        assert answer.json["status"] == "unavailable"
        assert "not current: at nothing" in answer.json["schema"]
        assert "jasyl db migrate" in answer.json["schema"]
    finally:
        from registry.db import engine_for

        engine_for(bare).dispose()
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_healthz_and_readyz_are_503_when_the_database_is_unreachable(database_url) -> None:
    app = create_app({"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"})
    for path in ("/healthz", "/readyz"):
        answer = app.test_client().get(path)
        assert answer.status_code == 503
        assert answer.json["database"].startswith("unreachable: ")


def test_production_server_serves_with_workers_and_logs_each_request(database_url) -> None:
    server = ProductionServer(database_url, workers=2, threads=2).start()
    try:
        status, body = http_get(server.url("/healthz"))
        assert status == 200 and json.loads(body)["schema"] == "current"
        assert http_get(server.url("/tiles/plants/14/11441/5366.pbf"))[0] in (200, 204)
        server.kill(15)
        log = server.output()
        assert "2 workers × 2 threads, 2 pooled connections per worker" in log
        assert log.count("Started worker") == 2
        assert '"GET /healthz HTTP/1.1" 200' in log
        assert '"GET /tiles/plants/14/11441/5366.pbf HTTP/1.1" 20' in log
        assert "Granian shutdown completed" in log  # SIGTERM: the workers finished and left
    finally:
        server.stop()


def test_a_server_that_never_becomes_ready_is_stopped_not_left_running(database_url) -> None:
    server = ProductionServer(database_url, workers=1, threads=1)
    with pytest.raises(RuntimeError, match="did not become ready"):
        server.start(timeout=0)
    assert server.process.poll() is not None  # the process group is gone with the failure
    server.stop()


@pytest.mark.parametrize("key", ["", "jasyl-development-key-not-for-production"])
def test_production_refuses_the_development_key(monkeypatch, key) -> None:
    monkeypatch.setenv("JASYL_SECRET_KEY", key)
    result = CliRunner().invoke(main, ["serve", "--production"])
    assert result.exit_code == 1 and "JASYL_SECRET_KEY is not set" in result.output


def test_a_worker_that_dies_is_replaced_and_the_server_keeps_serving(database_url) -> None:
    server = ProductionServer(database_url, workers=2, threads=2).start()
    try:
        workers = [
            int(pid) for pid in re.findall(r"Spawning worker-\d+ with PID: (\d+)", server.output())
        ]
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)  # out of memory, say
        wait_for_log(server, "Started worker", 3)  # replaced, and booted
        for _ in range(8):  # whichever worker answers
            assert http_get(server.url("/healthz"))[0] == 200
        assert server.process.poll() is None
    finally:
        server.stop()


def wait_for_log(server: ProductionServer, line: str, times: int) -> None:
    deadline = time.monotonic() + 30
    while server.output().count(line) < times:
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.2)


def test_a_survey_uploaded_through_the_production_server_is_imported(clean) -> None:
    """The web upload through granian end to end: sign-in, CSRF, a multipart body of about a
    megabyte under a Cyrillic file name, the importer's report on the page, the plants stored."""
    with unit_of_work(clean) as session:
        email = make_user(session, "forester", "KZ-71", password=PASSWORD).email
    rows = ["Инв. №,Порода,Диаметр см,Высота м,Состояние,lon,lat"]
    rows += [
        f"UP-{i},Вяз приземистый,{20 + i % 30},{5 + i % 10},хорошее,"
        f"{71.40 + (i % 200) * 0.0003:.6f},{51.10 + (i // 200) * 0.0003:.6f}"
        for i in range(16_000)
    ]
    survey = "\n".join(rows).encode()
    server = ProductionServer(clean, workers=1, threads=2).start()
    try:
        client = Client(server.port)
        client.sign_in(email, PASSWORD)
        _, form, _ = client.request("GET", "/imports/upload")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', form).group(1).decode()
        file = FileStorage(io.BytesIO(survey), filename="опись-улиц.csv", content_type="text/csv")
        boundary, body = encode_multipart({"region": "KZ-71", "csrf_token": token, "survey": file})
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        status, page, _ = client.request("POST", "/imports/upload", body, headers)
    finally:
        server.stop()
    assert len(body) > 1_000_000
    assert status == 200, page[-2000:]
    assert "опись-улиц.csv".encode() in page
    with unit_of_work(clean) as session:
        stored = session.scalar(select(func.count()).where(Plant.inventory_number.like("UP-%")))
    assert stored == 16_000
