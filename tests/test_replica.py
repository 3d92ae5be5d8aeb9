"""Read-replica routing against a real streaming replica (``pg_basebackup -R``) of a private
primary, each on its own port under /tmp: the shared cluster is never touched."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bench.tiles import tile_of
from registry.db import engine_for, unit_of_work
from tests.factories import ASTANA, make_plant
from tests.serving import PrivateCluster, start_replica
from web import create_app
from web.db import WRITTEN_LSN, read_connection, request_session

_T = tile_of(*ASTANA, 10)
ASTANA_TILE = f"/tiles/plants/{_T.z}/{_T.x}/{_T.y}.pbf"  # holds the factories' Astana plants


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[PrivateCluster, str, PrivateCluster, str]]:
    primary = PrivateCluster().up()
    replica = None
    try:
        primary_url = primary.migrated_url()
        replica = start_replica(primary)
        replica_url = replica.url()
        wait_for(lambda: _in_recovery(replica_url), "the replica to accept connections")
        yield primary, primary_url, replica, replica_url
    finally:
        for cluster in (replica, primary):
            if cluster is not None:
                for url in (cluster.url(),):
                    engine_for(url).dispose()
                cluster.destroy()


def wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception as exc:  # noqa: BLE001 - the server may still be starting
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last error: {last})")


def _in_recovery(url: str) -> bool:
    with engine_for(url).connect() as connection:
        return bool(connection.execute(text("SELECT pg_is_in_recovery()")).scalar())


def _replayed(primary_url: str, replica_url: str) -> bool:
    with engine_for(primary_url).connect() as connection:
        lsn = connection.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar()
    with engine_for(replica_url).connect() as connection:
        query = text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)")
        return bool(connection.execute(query, {"lsn": lsn}).scalar())


def served_by_replica(app) -> bool:
    with read_connection() as connection:
        return bool(connection.execute(text("SELECT pg_is_in_recovery()")).scalar())


def test_reads_go_to_the_replica_and_writes_to_the_primary(pair) -> None:
    _, primary_url, _, replica_url = pair
    app = create_app({"DATABASE_URL": primary_url, "REPLICA_URL": replica_url})
    with app.test_request_context("/tiles/plants/1/1/1.pbf"):
        assert served_by_replica(app)
        with request_session() as session:
            assert not session.execute(text("SELECT pg_is_in_recovery()")).scalar()
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200 and ready.json["replica"].startswith("streaming")


def test_tiles_come_from_the_replica_while_the_primary_is_down(pair) -> None:
    primary, primary_url, _, replica_url = pair
    with unit_of_work(primary_url) as session:
        for _ in range(5):
            make_plant(session)
    wait_for(lambda: _replayed(primary_url, replica_url), "the replica to replay the plants")
    app = create_app({"DATABASE_URL": primary_url, "REPLICA_URL": replica_url})
    client = app.test_client()
    primary.stop()
    try:
        answer = client.get(ASTANA_TILE)
        assert answer.status_code == 200 and len(answer.data) > 0
        assert client.get("/healthz").status_code == 503
    finally:
        primary.start()
    wait_for(lambda: client.get("/healthz").status_code == 200, "the primary to be back")


def test_a_client_reads_its_own_writes_until_the_replica_catches_up(pair) -> None:
    primary, primary_url, replica, replica_url = pair
    app = create_app({"DATABASE_URL": primary_url, "REPLICA_URL": replica_url})
    replica.sql("postgres", "SELECT pg_wal_replay_pause()")
    try:
        with app.test_request_context("/api/v1/plants", method="POST"):
            from flask import session as flask_session

            with request_session() as session:
                make_plant(session)
            written = flask_session[WRITTEN_LSN]
            assert written  # the write was remembered
            assert not served_by_replica(app)  # the replica has not replayed it: primary
            assert flask_session[WRITTEN_LSN] == written
            replica.sql("postgres", "SELECT pg_wal_replay_resume()")
            wait_for(lambda: _replayed(primary_url, replica_url), "the replica to catch up")
            assert served_by_replica(app)
            assert WRITTEN_LSN not in flask_session  # caught up: the marker is dropped
    finally:
        replica.sql("postgres", "SELECT pg_wal_replay_resume()")


def test_reads_alone_do_not_pin_a_client_to_the_primary(pair) -> None:
    _, primary_url, _, replica_url = pair
    app = create_app({"DATABASE_URL": primary_url, "REPLICA_URL": replica_url})
    with app.test_request_context("/"):
        from flask import session as flask_session

        with request_session() as session:
            session.execute(text("SELECT count(*) FROM plants")).scalar()
        assert WRITTEN_LSN not in flask_session
        assert served_by_replica(app)


def test_an_unreachable_replica_falls_back_to_the_primary(pair) -> None:
    _, primary_url, _, _ = pair
    dead = "postgresql+psycopg://postgres@127.0.0.1:1/jasyl"
    app = create_app({"DATABASE_URL": primary_url, "REPLICA_URL": dead})
    with app.test_request_context("/"):
        assert not served_by_replica(app)
    assert app.test_client().get("/tiles/plants/1/1/1.pbf").status_code in (200, 204)
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200 and ready.json["replica"].startswith("unreachable")
