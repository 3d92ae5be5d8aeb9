"""``kill -9`` of a real ``jasyl import`` in the middle of its merge leaves the registry intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import func, select, text

from importers.sources import BATCH_SIZE
from registry.db import engine_for, unit_of_work
from registry.imports.models import ImportBatch
from registry.inventory.models import Plant
from tests.factories import make_plant
from tests.import_files import points, write_shapefile

ROWS = 10_000


def survey(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "ИНВ_НОМ": [f"K-{i}" for i in range(rows)],
            "ПОРОДА": rng.choice(["Вяз приземистый", "берёза повислая", "тополь"], rows),
            "ВЫС_М": rng.uniform(2, 15, rows).round(1),
            "СОСТ": rng.choice(["хорошее", "II"], rows),
        }
    )


def merge_backend(database_url: str) -> int | None:
    with engine_for(database_url).connect() as conn:
        return conn.scalar(
            text(
                "SELECT pid FROM pg_stat_activity WHERE state = 'active' "
                "AND (query LIKE '%INSERT INTO plants (id, region_id, inventory_number%' "
                "     OR query LIKE 'COPY plants (%') "  # a live import's new plants
                "AND pid <> pg_backend_pid()"
            )
        )


def backend_alive(database_url: str, pid: int) -> bool:
    with engine_for(database_url).connect() as conn:
        return bool(
            conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid})
        )


def kill_during_merge(database_url: str, tmp_path: Path, rows: int) -> None:
    """Start ``jasyl import`` of ``rows`` points, ``kill -9`` it once it inserts into plants."""
    with unit_of_work(database_url) as session:
        make_plant(session, inventory_number="K-1")
    lonlat = [
        (71.40 + 0.06 * x, 51.10 + 0.05 * y) for x, y in np.random.default_rng(1).random((rows, 2))
    ]
    path = write_shapefile(tmp_path / "big.shp", survey(rows), geometry=points(32642, lonlat))
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [
        str(Path(sys.executable).with_name("jasyl")),
        "import",
        str(path),
        "--region",
        "KZ-71",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    backend = None
    deadline = time.monotonic() + 300
    while backend is None and process.poll() is None and time.monotonic() < deadline:
        backend = merge_backend(database_url)
        time.sleep(0.05)
    assert backend is not None, "the import finished before its merge could be caught"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    while backend_alive(database_url, backend) and time.monotonic() < deadline:
        time.sleep(0.2)


def assert_registry_unchanged(database_url: str) -> None:
    with unit_of_work(database_url) as session:
        assert session.scalar(select(func.count()).select_from(Plant)) == 1
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0
        kept = session.scalar(select(Plant))
        assert kept.inventory_number == "K-1" and kept.import_batch_id is None


def test_kill_during_merge_leaves_registry_unchanged(clean, tmp_path: Path) -> None:
    kill_during_merge(clean, tmp_path, ROWS)
    assert_registry_unchanged(clean)


def test_kill_during_a_live_merge_leaves_registry_unchanged(clean, tmp_path: Path) -> None:
    """A file of two chunks: killed while its first chunk goes into plants (the second one
    still being read), after its import batch was opened."""
    kill_during_merge(clean, tmp_path, BATCH_SIZE + 5_000)
    assert_registry_unchanged(clean)
    with unit_of_work(clean) as session:
        tallied = session.scalar(text("SELECT sum(plants) FROM inventory_tallies"))
        assert tallied == 1
