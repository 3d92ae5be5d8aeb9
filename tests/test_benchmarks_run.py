"""Every benchmark runs, at a tiny size, as ``python -m bench.NAME`` would (issue #23).

A benchmark nobody runs rots: ``bench.nursery`` compared the national stock report with a
recomputation that had not followed the report's new columns (the species' kk and en names) and
stopped at its own assertion. Here each ``bench/*.py`` with a ``main`` runs as a subprocess at
the size in ``TINY`` (seconds; its figures mean nothing) against the test database's server,
where each makes its own database (``bench.load`` its own cluster under ``.jasyl/bench-load``,
kept so that later runs start from its pristine copy). A run must exit 0 and print its
figures, a ratio to its baseline and the machine's cores and load average. A new benchmark
without a tiny size fails ``test_every_benchmark_has_a_tiny_size``.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bench.harness import busy_cpu_seconds

PROJECT = Path(__file__).resolve().parents[1]
BENCH = PROJECT / "bench"
TINY = {
    "field": ["--plants", "300", "--repeat", "2"],
    "basemap": ["--tiles", "300", "--rounds", "1"],
    "benefits": ["--plants", "2000", "--repeat", "2", "--naive-repeat", "1", "--bulk", "500"]
    + ["--bulk-rounds", "1", "--fresh", "--import-rows", "200", "--import-rounds", "1"],
    "importer": ["--rows", "200"],
    "load": ["--tiny"],
    "nursery": ["--movements", "1000", "--repeat", "2"],
    "ogc": ["--plants", "50000"],  # its least: the deep page starts 40 pages before the end
    "page": ["--plants", "5000", "--repeat", "2"],
    "partitioning": ["--plants", "2000", "--copies", "1"],
    "reports": ["--plants", "2000", "--records", "2000", "--repeat", "2", "--bulk", "1000"]
    + ["--bulk-rounds", "1", "--fresh"],
    "tiles": ["--plants", "5000", "--clients", "1", "--rounds", "1"],
    "tiles_scale": ["--plants", "5000", "--repeat", "2"],
    "zonal": ["--size", "600", "--polygons", "200", "--rounds", "2"],
}
MACHINE = re.compile(r"machine: \d+ cores, load average \d+\.\d\d / \d+\.\d\d / \d+\.\d\d")
RATIO = re.compile(r"ratio\b.*\d×")
FIGURE = re.compile(r"\d ms\b")


def benchmarks() -> dict[str, str]:
    """Each ``bench/*.py`` runnable with ``python -m``, and the module whose ``main`` it runs
    (``bench.import`` is ``bench.importer`` under the name an issue gave it)."""
    found = {}
    for path in sorted(BENCH.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not any(isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)
                   for node in tree.body):  # fmt: skip
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == "main":
                found[path.stem] = path.stem
            elif isinstance(node, ast.ImportFrom) and any(a.name == "main" for a in node.names):
                found[path.stem] = (node.module or "").removeprefix("bench.")
    return found


def own_mains() -> list[str]:
    return sorted({target for target in benchmarks().values()})


def test_every_benchmark_has_a_tiny_size() -> None:
    found = benchmarks()
    assert {"importer", "load", "zonal"} <= set(found)  # the discovery finds what is there
    assert found["import"] == "importer" and found["ledger"] == "nursery"
    assert set(own_mains()) == set(TINY), "give a new benchmark its tiny size in TINY"


@pytest.mark.parametrize("name", own_mains())
def test_the_benchmark_runs_at_its_tiny_size(name: str, database_url: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JASYL_LOAD_HOME": str(PROJECT / ".jasyl" / "bench-load"),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", f"bench.{name}", *TINY[name]],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    finally:
        drop_databases_beside(database_url)
    said = f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"
    assert done.returncode == 0, said
    assert MACHINE.search(done.stdout), f"no machine line (cores, load average)\n{said}"
    assert RATIO.search(done.stdout), f"no ratio to the baseline\n{said}"
    assert FIGURE.search(done.stdout), f"no timing in ms\n{said}"
    if name == "importer":  # whether the machine has the cores for the goal at all (#17)
        floor = re.search(r"on \d+ cores our work takes at least ([\d.]+) s", done.stdout)
        assert floor and float(floor.group(1)) > 0, said


def test_busy_cpu_seconds_counts_work_done_meanwhile() -> None:
    before = busy_cpu_seconds()
    if before is None:
        pytest.skip("no /proc/stat here")
    spun = time.process_time() + 0.3
    while time.process_time() < spun:  # 0.3 s of this process's own CPU
        pass
    after = busy_cpu_seconds()
    assert after is not None and after - before >= 0.25


def drop_databases_beside(database_url: str) -> None:
    """A bench that keeps its database (``bench.reports``'s ``<name>_bench_reports``) keeps it
    beside the test database: dropped here, with it."""
    name = make_url(database_url).database
    admin = make_url(database_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        kept = conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (f"{name}_",)
        ).fetchall()
        for (database,) in kept:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
