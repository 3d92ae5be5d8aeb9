"""Faults with real processes on a private cluster (its own port, under /tmp): the database
restarted under running requests, the writing process killed with SIGKILL mid-edit, a read-only
database and a full disk. Each ends by checking that no edit was half-written."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg.errors
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from bench.tiles import tile_of
from registry.access import Actor
from registry.db import engine_for, unit_of_work
from registry.errors import DatabaseFull, DatabaseReadOnly
from registry.inventory.models import Plant
from registry.inventory.services import update_plant
from tests.factories import ASTANA, make_plant, make_user
from tests.serving import Client, PrivateCluster, ProductionServer, http_get, python_process
from tests.web_client import new_user, sign_in
from web import create_app
from web.cli import main

PLANTS_PER_EDIT = 8
PASSWORD = "fault-test-password-1"
_T = tile_of(*ASTANA, 10)
TILE = f"/tiles/plants/{_T.z}/{_T.x}/{_T.y}.pbf"

# A forester's edit in its own process: every transaction renames the same group of plants
# together ("edit N"), each change audited; it prints N once the transaction has committed.
WRITER = """
import itertools, os, sys
import registry.models  # every table, so foreign keys resolve
from registry.access import Actor
from registry.db import unit_of_work
from registry.errors import DatabaseUnavailable
from registry.inventory.models import Plant
from registry.inventory.services import update_plant
ids = [int(i) for i in os.environ["FAULT_PLANTS"].split(",")]
actor = Actor.system("fault-test")
for n in itertools.count(1):
    try:
        with unit_of_work() as session:
            for plant_id in ids:
                plant = session.get(Plant, plant_id)
                update_plant(session, actor, plant_id, plant.version, {"notes": f"edit {n}"})
        print(n, flush=True)
    except DatabaseUnavailable as exc:
        print("unavailable", exc.message.splitlines()[0], flush=True)
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[PrivateCluster, str]]:
    private = PrivateCluster().up()
    try:
        url = private.migrated_url()
        yield private, url
    finally:
        engine_for(private.url()).dispose()
        private.destroy()


@pytest.fixture
def plants(cluster) -> list[int]:
    _, url = cluster
    with unit_of_work(url) as session:
        return [make_plant(session, notes="edit 0").id for _ in range(PLANTS_PER_EDIT)]


def assert_no_half_written_edit(url: str, ids: list[int]) -> int:
    """Every plant of the group carries the same edit, and its version matches its audit trail."""
    with engine_for(url).connect() as connection:
        rows = connection.execute(
            text("SELECT id, notes, version FROM plants WHERE id = ANY(:ids)"), {"ids": ids}
        ).all()
        audited = Counter(
            connection.execute(
                text(
                    "SELECT entity_id FROM audit_log WHERE entity = 'plant' AND field = 'notes' "
                    "AND entity_id = ANY(:ids)"
                ),
                {"ids": ids},
            ).scalars()
        )
    assert len({notes for _, notes, _ in rows}) == 1, f"a half-written edit: {rows}"
    for plant_id, _, version in rows:
        assert version - 1 == audited[plant_id], f"plant {plant_id}: version and audit disagree"
    return int(rows[0][1].split()[1])


def start_writer(url: str, ids: list[int]) -> subprocess.Popen:
    return python_process(WRITER, {"DATABASE_URL": url, "FAULT_PLANTS": ",".join(map(str, ids))})


def committed_edits(process: subprocess.Popen, at_least: int, timeout: float = 60) -> None:
    """Wait until the writer has committed ``at_least`` edits."""
    deadline = time.monotonic() + timeout
    for line in process.stdout:
        if line.strip().isdigit() and int(line) >= at_least:
            return
        assert time.monotonic() < deadline, "the writer made no progress"
    raise AssertionError(f"the writer stopped: {process.stderr.read()}")


def test_kill_9_of_the_writer_mid_edit_leaves_no_partial_write(cluster, plants) -> None:
    _, url = cluster
    for _ in range(3):
        writer = start_writer(url, plants)
        committed_edits(writer, 5)
        os.killpg(writer.pid, signal.SIGKILL)
        writer.wait()
        last_printed = max(int(line) for line in [*writer.stdout, "0"] if line.strip().isdigit())
        stored = assert_no_half_written_edit(url, plants)
        assert stored >= last_printed  # nothing it reported as saved was lost
        assert stored >= 5


def test_kill_9_of_the_server_loses_nothing_and_a_new_server_serves(cluster, plants) -> None:
    _, url = cluster
    server = ProductionServer(url, workers=2, threads=2).start()
    writer = start_writer(url, plants)
    try:
        committed_edits(writer, 3)
        server.kill(signal.SIGKILL)  # arbiter and workers, no goodbye
        assert server.process.returncode == -signal.SIGKILL
    finally:
        os.killpg(writer.pid, signal.SIGKILL)
        writer.wait()
        server.stop()
    assert_no_half_written_edit(url, plants)
    again = ProductionServer(url, workers=1, threads=2).start()
    try:
        assert http_get(again.url("/healthz"))[0] == 200
        assert http_get(again.url(TILE))[0] == 200
    finally:
        again.stop()


def test_kill_9_of_the_server_during_http_edits_leaves_no_partial_write(cluster, plants) -> None:
    """Foresters edit through the JSON API (signed in, CSRF) while the server is SIGKILLed."""
    _, url = cluster
    with unit_of_work(url) as session:
        email = make_user(session, "forester", "KZ-71", password=PASSWORD).email
    server = ProductionServer(url, workers=2, threads=4).start()
    confirmed: dict[int, int] = {}  # plant → highest version the server confirmed with 200
    refused: list[str] = []
    stop = threading.Event()

    def edit(plant_id: int) -> None:
        client = Client(server.port)
        token = client.sign_in(email, PASSWORD)
        headers = {"Content-Type": "application/json", "X-CSRFToken": token}
        n = 0
        while not stop.is_set():
            n += 1
            try:
                status, body, _ = client.request("GET", f"/api/v1/plants/{plant_id}")
                version = json.loads(body)["version"]
                change = json.dumps({"version": version, "notes": f"http {n}"}).encode()
                status, body, _ = client.request(
                    "PATCH", f"/api/v1/plants/{plant_id}", change, headers
                )
            except (OSError, http.client.HTTPException, ValueError):
                return  # the server is gone
            if status != 200:
                refused.append(f"{status} {body[:200]!r}")
                return
            confirmed[plant_id] = json.loads(body)["version"]

    editors = [threading.Thread(target=edit, args=(p,)) for p in plants[:4]]
    for thread in editors:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while sum(confirmed.values()) < 4 * 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert confirmed, f"no edit went through: {refused}"
        server.kill(signal.SIGKILL)
    finally:
        stop.set()
        for thread in editors:
            thread.join()
        server.stop()
    assert not refused, refused
    with engine_for(url).connect() as connection:
        rows = connection.execute(
            text("SELECT id, version FROM plants WHERE id = ANY(:ids)"), {"ids": plants[:4]}
        ).all()
        audited = Counter(
            connection.execute(
                text(
                    "SELECT entity_id FROM audit_log WHERE entity = 'plant' AND field = 'notes' "
                    "AND entity_id = ANY(:ids)"
                ),
                {"ids": plants[:4]},
            ).scalars()
        )
    for plant_id, version in rows:
        assert version - 1 == audited[plant_id], f"plant {plant_id}: version and audit disagree"
        assert version >= confirmed.get(plant_id, 1)  # every confirmed edit was kept


def test_the_server_recovers_from_a_database_restart_without_restarting(cluster, plants) -> None:
    private, url = cluster
    server = ProductionServer(url, workers=2, threads=4).start()
    writer = start_writer(url, plants)
    statuses: Counter[int] = Counter()
    stop = threading.Event()

    def browse() -> None:
        while not stop.is_set():
            try:
                statuses[http_get(server.url(TILE), timeout=10)[0]] += 1
            except OSError:
                statuses[0] += 1  # the connection itself failed: the server went away
            time.sleep(0.01)

    browsers = [threading.Thread(target=browse) for _ in range(4)]
    for thread in browsers:
        thread.start()
    try:
        committed_edits(writer, 3)
        time.sleep(0.5)
        private.stop()
        time.sleep(1.5)
        down = http_get(server.url("/healthz"))
        private.start()
        deadline = time.monotonic() + 30
        while (health := http_get(server.url("/healthz")))[0] != 200:
            assert time.monotonic() < deadline, f"the app did not recover by itself: {health}"
            time.sleep(0.2)
        before = statuses[200]
        time.sleep(1.0)
        assert statuses[200] > before  # tiles flow again from the same server
        assert server.process.poll() is None  # never restarted
    finally:
        stop.set()
        for thread in browsers:
            thread.join()
        os.killpg(writer.pid, signal.SIGKILL)
        writer.wait()
        log = server.output()
        server.stop()
    assert down[0] == 503 and b"unreachable" in down[1]
    assert set(statuses) <= {200, 503}, f"answers other than 200/503: {statuses}"
    assert statuses[503] > 0  # the outage was seen and answered clearly
    assert assert_no_half_written_edit(url, plants) >= 3
    assert "Traceback" not in log, log[-3000:]


def test_a_signed_in_forester_meets_a_clear_page_while_the_database_is_down(cluster) -> None:
    """Loading the signed-in user needs the database, and so does the site's layout: the answer
    is still a plain 503 page that says why, never an error raised from the error handler."""
    private, url = cluster
    new_user(url, "outage@test.jasyl.kz", "forester", "KZ-71")
    browser = create_app({"TESTING": True, "DATABASE_URL": url}).test_client()
    sign_in(browser, "outage@test.jasyl.kz")
    private.stop()
    try:
        for path in ("/", "/regions/KZ-71", "/plants/new"):
            page = browser.get(path, headers={"Accept-Language": "kk"})
            text = page.get_data(as_text=True)
            assert page.status_code == 503 and "not reachable" in text, path
    finally:
        private.start()
    assert browser.get("/regions/KZ-71").status_code == 200, "and it recovers by itself"


def test_a_read_only_database_refuses_edits_clearly_and_keeps_the_data(cluster, plants) -> None:
    private, url = cluster
    before = assert_no_half_written_edit(url, plants)
    private.sql("postgres", "ALTER DATABASE jasyl SET default_transaction_read_only = on")
    engine_for(url).dispose()  # new connections pick the setting up
    try:
        refused = pytest.raises(DatabaseReadOnly, match="read-only .* nothing was saved")
        with refused, unit_of_work(url) as session:
            plant = session.get(Plant, plants[0])
            update_plant(session, Actor.system("t"), plant.id, plant.version, {"notes": "x"})
        server = ProductionServer(url, workers=1, threads=2).start()
        try:
            assert http_get(server.url(TILE))[0] == 200  # reads still work
        finally:
            server.stop()
    finally:
        private.sql("postgres", "ALTER DATABASE jasyl RESET default_transaction_read_only")
        engine_for(url).dispose()
    assert assert_no_half_written_edit(url, plants) == before


def _as_root() -> list[str] | None:
    """How to run ``mount``: as we are (root), through password-less sudo (a CI runner's
    user), or not at all."""
    if os.geteuid() == 0:
        return []
    if (
        shutil.which("sudo")
        and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0
    ):
        return ["sudo", "-n"]
    return None


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 4 MB tmpfs owned by the database server's user, as a stand-in for a full disk.

    Mounting needs root, or password-less sudo, and the right to mount (CAP_SYS_ADMIN): a
    virtual machine's runner has it, an unprivileged container does not (the README lists it).
    """
    prefix = _as_root()
    if prefix is None:
        pytest.skip("cannot mount a small tmpfs: needs root or password-less sudo")
    folder = Path(tempfile.mkdtemp(prefix="jasyl-full-"))
    folder.chmod(0o755)
    uid, gid = _server_ids()
    options = f"size=4m,mode=0755,uid={uid},gid={gid}"
    mounted = subprocess.run(
        [*prefix, "mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip()})")
    try:
        yield folder
    finally:
        subprocess.run([*prefix, "umount", "-l", str(folder)], check=False)
        folder.rmdir()


def test_a_full_disk_refuses_edits_clearly_and_keeps_the_data(cluster, plants, small_disk) -> None:
    private, url = cluster
    space = small_disk / "tablespace"
    space.mkdir()
    os.chown(space, *_server_ids())
    before = assert_no_half_written_edit(url, plants)
    private.sql("jasyl", f"CREATE TABLESPACE tiny LOCATION '{space}'")
    try:
        private.sql("jasyl", "ALTER TABLE audit_log SET TABLESPACE tiny")
        private.sql("jasyl", "CREATE TABLE filler (x text) TABLESPACE tiny")
        with pytest.raises(psycopg.errors.DiskFull, match="No space left on device"):
            for _ in range(200):
                private.sql(
                    "jasyl",
                    "INSERT INTO filler SELECT repeat('x', 2000) FROM generate_series(1, 200)",
                )
        # Long notes (random, so incompressible): their audit entries need new pages in the
        # full tablespace.
        refused = pytest.raises(DatabaseFull, match="disk is full; nothing was saved")
        with refused, unit_of_work(url) as session:
            for plant_id in plants:
                plant = session.get(Plant, plant_id)
                notes = secrets.token_urlsafe(2_900)  # 3,867 characters: under the 4,000 limit
                update_plant(session, Actor.system("t"), plant_id, plant.version, {"notes": notes})
        with unit_of_work(url) as session:  # the plants themselves were not changed either
            notes = set(session.scalars(select(Plant.notes).where(Plant.id.in_(plants))))
        assert notes == {f"edit {before}"}
    finally:
        private.sql("jasyl", "DROP TABLE IF EXISTS filler")
        private.sql("jasyl", "ALTER TABLE audit_log SET TABLESPACE pg_default")
        private.sql("jasyl", "DROP TABLESPACE IF EXISTS tiny")
    assert assert_no_half_written_edit(url, plants) == before


def test_a_backup_onto_a_full_disk_fails_clearly_and_leaves_nothing(
    cluster, small_disk, monkeypatch
) -> None:
    _, url = cluster
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("JASYL_HOME", str(small_disk / "home"))
    (small_disk / "ballast").write_bytes(b"\0" * (3 * 1024 * 1024))
    result = CliRunner().invoke(main, ["backup", str(small_disk / "jasyl.backup")])
    assert result.exit_code == 1
    message = result.output.strip().splitlines()
    assert len(message) == 1 and "No space left on device" in message[0], result.output
    assert sorted(p.name for p in small_disk.iterdir()) == ["ballast"]  # no partial archive


def _server_ids() -> tuple[int, int]:
    """The user PostgreSQL runs as: ``postgres`` when we are root, else ourselves."""
    import pwd

    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    entry = pwd.getpwnam("postgres")
    return entry.pw_uid, entry.pw_gid
