"""Every ``jasyl`` command run as a real subprocess: good input works, bad input is one line.

In-process CLI tests (``CliRunner``) share this process's imports: a command whose own module
path forgot a model still passed there, and ended in a traceback for a user
(``NoReferencedTableError`` in ``jasyl planting record``). Here each command runs in a fresh
interpreter through the installed ``jasyl`` script, once with good input and once with bad:
good input exits 0 and says what it did; bad input exits non-zero with exactly one
``Error: …`` line on stderr (click's usage lines may precede a usage error) and never a
traceback.

The list of commands comes from the click command tree, so a new command without a case here
fails ``test_every_command_has_a_good_and_a_bad_run``. The runs share one prepared database
(seeded through the services); commands that would replace or reset it (``db reset``,
``restore``, ``demo``) run against a second, throwaway database.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import click
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from registry.db import engine_for, unit_of_work
from tests.conftest import _admin_dsn, empty_inventory
from tests.factories import ALMATY, make_green_space, make_plant, point_near, square
from tests.nursery_factories import make_nursery, ready_batch
from tests.test_ndvi import ORIGIN, to_wgs84, utm_square, write_image
from tests.web_client import new_user
from web.cli import main

JASYL = Path(sys.executable).with_name("jasyl")
NOBODY = "nobody@test.jasyl.kz"  # --as a user who does not exist


@dataclass
class Run:
    """One run of a command: its arguments (``{name}`` filled from the ids found so far),
    whether the input is good, a text the answer must contain, and ids to find in stdout."""

    args: list[str]
    good: bool = True
    says: str = ""
    finds: dict[str, str] = field(default_factory=dict)  # name → regex with one group
    env: dict[str, str] = field(default_factory=dict)  # {name} filled too
    asks: dict[str, str] = field(default_factory=dict)  # name → SQL giving one value, after

    def command(self) -> tuple[str, ...]:
        return command_path(self.args)


def good(
    *args: str,
    says: str = "",
    finds: dict | None = None,
    env: dict | None = None,
    asks: dict | None = None,
) -> Run:
    return Run(list(args), True, says, finds or {}, env or {}, asks or {})


def bad(*args: str, says: str = "", env: dict | None = None) -> Run:
    return Run(list(args), False, says, {}, env or {})


# -- the command tree -----------------------------------------------------------------------------
def leaf_commands() -> set[tuple[str, ...]]:
    """Every command that runs (not a group), as its path of names: ("planting", "plan", …)."""
    found: set[tuple[str, ...]] = set()

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        if isinstance(command, click.Group):
            context = click.Context(command)
            for name in command.list_commands(context):
                walk(command.get_command(context, name), (*path, name))
        else:
            found.add(path)

    walk(main, ())
    return found


LEAVES = leaf_commands()


def command_path(args: list[str]) -> tuple[str, ...]:
    path: tuple[str, ...] = ()
    for arg in args:
        if any(leaf[: len(path) + 1] == (*path, arg) for leaf in LEAVES):
            path = (*path, arg)
        else:
            break
    return path


# -- the runs -------------------------------------------------------------------------------------
# Planting, care, felling, the nursery ledger and the reports, in the order a year goes: each
# chain runs in order, the chains side by side.
YEAR_IN_ALMATY = [
    good("planting", "plan", "create", "--region", "KZ-75", "--year", "2025", "--season",
         "autumn", says="Created draft planting plan", finds={"plan": r"plan (\d+)"}),
    bad("planting", "plan", "create", "--region", "KZ-99", "--year", "2025", "--season",
        "autumn", says="KZ-99"),
    good("planting", "plan", "line", "{plan}", "--species", "Ulmus pumila", "--quantity", "10",
         "--green-space", "{almaty_park}", finds={"line": r"line (\d+)"}),
    bad("planting", "plan", "line", "{plan}", "--species", "Ulmus pumila", "--quantity", "abc"),
    good("planting", "plan", "show", "{plan}", says="Ulmus pumila"),
    bad("planting", "plan", "show", "999999", says="999999"),
    bad("planting", "plan", "approve", "{plan}", "--version", "99"),
    good("planting", "plan", "approve", "{plan}", says="approved"),
    good("nursery", "supply", "{line}", "--nursery", "{nursery}", says="supplied by"),
    bad("nursery", "supply", "{line}", "--nursery", "NO-SUCH-NURSERY"),
    good("nursery", "list", says="{nursery}"),
    bad("nursery", "list", "--format", "xml"),
    good("nursery", "stock", "--nursery", "{nursery}", says="Ulmus pumila"),
    bad("nursery", "stock", "--nursery", "NO-SUCH-NURSERY"),
    good("nursery", "seedlot", "{nursery}", "--code", "L-1", "--species", "Ulmus pumila",
         "--place", "Капчагай", "--year", "2024", "--kg", "5", "--germination", "80",
         "--certificate", "C-1", "--on", "2025-01-10", says="Seed lot L-1"),
    bad("nursery", "seedlot", "{nursery}", "--code", "L-2", "--species", "Ulmus pumila",
        "--place", "Капчагай", "--year", "2024", "--kg", "abc", "--germination", "80",
        "--certificate", "C-2", "--on", "2025-01-10", says="kg"),
    good("nursery", "sow", "{nursery}", "--section", "sowing", "--quantity", "1000",
         "--seed-lot", "L-1", "--seed-kg", "1", "--on", "2025-04-01",
         finds={"sown": r"\(id (\d+)\)"}),
    bad("nursery", "sow", "{nursery}", "--section", "sowing", "--quantity", "-5",
        "--seed-lot", "L-1", "--seed-kg", "1", "--on", "2025-04-01", says="quantity"),
    good("nursery", "move", "{sown}", "germination", "--counted", "800", "--on", "2025-05-01"),
    bad("nursery", "move", "{sown}", "loss", "--quantity", "999999", "--cause", "frost",
        "--on", "2025-05-02"),
    good("nursery", "ledger", "--batch", "{sown}", "--kind", "germination", "--format", "csv",
         finds={"movement": r"\n(\d+),"}),
    bad("nursery", "ledger", "--since", "2025-99-99", says="since"),
    good("nursery", "reverse", "{movement}", "--reason", "пересчёт", "--on", "2025-05-03"),
    bad("nursery", "reverse", "999999", "--reason", "пересчёт"),
    good("nursery", "dispatch", "{nursery}", "--to", "KZ-75", "--line", "{ready}:10", "--on",
         "2025-10-01", finds={"shipment": r"\(id (\d+)\)"}),
    bad("nursery", "dispatch", "{nursery}", "--to", "KZ-75", "--line", "{ready}:999999",
        "--on", "2025-10-01", says="left"),
    bad("nursery", "receive", "{shipment}", "--count", "abc:10", "--on", "2025-10-02"),
    good("nursery", "receive", "{shipment}", "--count", "{ready}:10", "--on", "2025-10-02",
         says="received"),
    good("planting", "record", "--species", "Ulmus pumila", "--on", "2025-10-03", "--point",
         "76.93,43.24", "--plan-line", "{line}", finds={"event": r"planting event (\d+)"},
         asks={"event_plant": "SELECT plant_id FROM planting_event_plants WHERE event_id = "
                              "{event}"}),
    bad("planting", "record", "--species", "Ulmus pumila", "--on", "2025-10-03", "--point",
        "abc", says="LON,LAT"),
    good("nursery", "link", "{event}", "--line", "{shipment_line}", says="planted stock"),
    bad("nursery", "link", "{event}", "--line", "999999"),
    good("planting", "check", "{event}", "--season", "1", "--on", "2026-10-01", "--alive", "1",
         "--dead", "0", says="Survival of event"),
    bad("planting", "check", "{event}", "--season", "1", "--on", "2026-10-01", "--alive", "5",
        "--dead", "5"),
    good("planting", "survival", "--region", "KZ-75", "--year", "2025"),
    bad("planting", "survival", "--region", "KZ-99", "--year", "2025", says="KZ-99"),
    good("care", "plan", "--region", "KZ-75", "--year", "2026",
         finds={"care_plan": r"care plan (\d+)"}),
    bad("care", "plan", "--region", "KZ-99", "--year", "2026", says="KZ-99"),
    good("care", "plan", "--approve", "{care_plan}", says="approved"),
    good("care", "add", "--kind", "watering", "--unit", "m3", "--plan", "{care_plan}",
         "--planned", "10", "--green-space", "{almaty_park}",
         finds={"work": r"care work (\d+)"}),
    bad("care", "add", "--kind", "watering", "--unit", "m3", "--plan", "{care_plan}",
        "--planned", "abc", "--green-space", "{almaty_park}", says="planned"),
    good("care", "done", "{work}", "--version", "1", "--volume", "10", "--on", "2026-06-01"),
    bad("care", "done", "{work}", "--version", "99", "--volume", "10", "--on", "2026-06-01"),
    good("care", "summary", "--region", "KZ-75", "--year", "2026"),
    bad("care", "summary", "--region", "KZ-99", says="KZ-99"),
    good("felling", "ratios", "--region", "KZ-75"),
    bad("felling", "ratios", "--region", "KZ-99", says="KZ-99"),
    good("felling", "record", "--number", "P-1", "--plant", "{almaty_plant}", "--reason",
         "construction", "--on", "2026-11-01"),
    bad("felling", "record", "--number", "P-2", "--plant", "999999", "--reason",
        "construction", "--on", "2026-11-01", says="999999"),
    good("felling", "obligations", "--region", "KZ-75"),
    bad("felling", "obligations", "--as", NOBODY, says=NOBODY),
    good("report", "build", "--region", "KZ-75", "--year", "2026"),
    bad("report", "build", "--region", "KZ-99", "--year", "2026", says="KZ-99"),
    good("report", "show", "--region", "KZ-75", "--year", "2026"),
    good("report", "show", "--region", "KZ-75", "--year", "2026", "--format", "csv",
         "--language", "kk", says="KZ-75,Алматы,2026"),
    bad("report", "show", "--region", "KZ-75", "--year", "2026", "--as", NOBODY),
    good("report", "submit", "--region", "KZ-75", "--year", "2026"),
    bad("report", "submit", "--region", "KZ-75", "--year", "2026", "--as", NOBODY),
    good("report", "return", "--region", "KZ-75", "--year", "2026", "--comment", "уточнить"),
    bad("report", "return", "--region", "KZ-99", "--year", "2026", "--comment", "x"),
    good("report", "build", "--region", "KZ-75", "--year", "2026", says="edition 2, built"),
    good("report", "submit", "--region", "KZ-75", "--year", "2026", says="edition 2, submitted"),
    good("report", "approve", "--region", "KZ-75", "--year", "2026", says="edition 2, approved"),
    bad("report", "approve", "--region", "KZ-75", "--year", "2026", "--as", NOBODY),
    good("report", "list"),
    bad("report", "list", "--as", NOBODY, says=NOBODY),
    good("report", "national"),
    bad("report", "national", "--as", NOBODY),
    good("report", "planting", "--year", "2025"),
    bad("report", "planting", "--year", "2025", "--region", "KZ-99"),
    good("report", "survival", "--year", "2025"),
    bad("report", "survival", "--year", "2025", "--region", "KZ-99"),
    good("report", "care", "--year", "2026"),
    bad("report", "care", "--year", "2026", "--region", "KZ-99"),
    good("report", "benefits", "--year", "2026", "--format", "json", says='"price_basis"'),
    bad("report", "benefits", "--year", "2026", "--region", "KZ-99", says="KZ-99"),
    good("benefits", "rain", "set", "--region", "KZ-71", "--annual-mm", "318", "--events", "60",
         "--source", "test: a count a person supplied", says="recounted"),  # fmt: skip
    bad("benefits", "rain", "set", "--region", "KZ-71", "--annual-mm", "318", "--events", "0",
        "--source", "test", says="events"),  # fmt: skip
    good("report", "compensation"),
    bad("report", "compensation", "--region", "KZ-99"),
    good("nursery", "provenance", "{event_plant}"),
    bad("nursery", "provenance", "999999"),
    good("nursery", "report", "--year", "2025"),
    bad("nursery", "report", "--as", NOBODY),
    good("nursery", "survival", "--nursery", "{nursery}"),
    bad("nursery", "survival", "--nursery", "NO-SUCH-NURSERY"),
]  # fmt: skip

# The two commands of the hardening issue that ended in NoReferencedTableError, as written there.
AS_IN_THE_ISSUE = [
    good("planting", "record", "--species", "Ulmus pumila", "--on", "2026-11-10", "--point",
         "71.43,51.13", says="Recorded planting event"),
    good("felling", "record", "--number", "P-71", "--plant", "{astana_plant}", "--reason",
         "construction", "--on", "2026-11-01"),
]  # fmt: skip

ACCOUNTS_AND_REFERENCE = [
    good("users", "add", "new@test.jasyl.kz", "--role", "forester", "--region", "KZ-71",
         "--password", "correct horse battery"),
    bad("users", "add", "other@test.jasyl.kz", "--role", "forester", "--region", "KZ-99",
        "--password", "correct horse battery", says="KZ-99"),
    good("users", "list", says="new@test.jasyl.kz"),
    bad("users", "list", "everyone"),
    good("species", "list", "--search", "Ulmus", says="Ulmus pumila"),
    bad("species", "list", "--format", "xml"),
    good("species", "show", "Ulmus pumila", says="PSW-GTR-253"),
    bad("species", "show", "no such tree", says="no such tree"),
    good(
        "species", "add", "--latin", "Carpinus betulus", "--ru", "Граб обыкновенный",
        "--kk", "Кәдімгі шамшат", "--en", "European hornbeam", "--life-form", "tree",
        "--leaf-type", "broadleaf", "--max-height", "30", "--max-trunk-diameter", "150",
        says="Carpinus betulus",
    ),  # fmt: skip
    bad(
        "species", "add", "--latin", "Ulmus pumila", "--ru", "Вяз", "--kk", "Шегіршін",
        "--en", "Elm", "--life-form", "tree", "--leaf-type", "broadleaf", "--max-height", "30",
        "--max-trunk-diameter", "150", says="Ulmus pumila",
    ),  # fmt: skip
    good("species", "alias", "keep", "{folder}/mapping.toml", says="kept"),
    bad("species", "alias", "keep", "{folder}/empty-mapping.toml", says="no [species] aliases"),
    good("regions", "list", says="KZ-75"),
    bad("regions", "list", "KZ-75"),
    good("public-reports", "list", "--region", "KZ-71", "--overdue", says="(nothing)"),
    bad("public-reports", "list", "--region", "KZ-99", says="KZ-99"),
    good("tiles", "refresh", "--region", "KZ-71"),
    bad("tiles", "refresh", "--region", "KZ-99", says="KZ-99"),
]  # fmt: skip

FILES = [
    good("import", "file", "{folder}/survey.csv", "--region", "KZ-71",
         finds={"batch": r"batch (\d+)"}),
    bad("import", "file", "{folder}/no-such-survey.csv", "--region", "KZ-71"),
    good("import", "undo", "{batch}"),
    bad("import", "undo", "999999", says="999999"),
    good("export", "--layer", "plants", "--format", "csv", "--output", "{folder}/plants.csv"),
    bad("export", "--layer", "plants", "--format", "csv", "--output", "{folder}/x.csv",
        "--region", "KZ-99", says="KZ-99"),
    good("raster", "ndvi", "{folder}/july.tif", "--red", "1", "--nir", "4",
         says="green space(s) measured"),
    bad("raster", "ndvi", "{folder}/july.tif", "--red", "1", "--nir", "9",
        says="band 9 does not exist"),
    good("backup", "{folder}/registry.tar", says="Backed up"),
    bad("backup", "{folder}/no-such-folder/registry.tar"),
]  # fmt: skip

# The local cluster's commands, against the external DATABASE_URL (nothing starts or stops).
DATABASE = [
    good("db", "status", says="schema: current"),
    bad("db", "status", env={"DATABASE_URL": "{unreachable}"}),
    good("db", "up", says="external database"),
    bad("db", "up", env={"DATABASE_URL": "{unreachable}"}, says="cannot reach DATABASE_URL"),
    good("db", "down", says="nothing to stop"),
    bad("db", "down", "now"),
    bad("db", "migrate", env={"DATABASE_URL": "{unreachable}"}),
    bad("db", "reset", env={"DATABASE_URL": "{throwaway}"}, says="--yes"),
    bad("demo", "--scale", "0", says="greater than zero"),
    bad("restore", "{folder}/registry.tar", says="not empty"),
    bad("serve", "--production", env={"JASYL_SECRET_KEY": ""}, says="JASYL_SECRET_KEY"),
]  # fmt: skip

# After the others (the backup exists by then), in the throwaway database, in this order.
THROWAWAY = {"DATABASE_URL": "{throwaway}"}
LAST = [
    good("db", "migrate", env=THROWAWAY, says="The schema is current"),
    good("demo", "--scale", "0.002", env=THROWAWAY, says="Loaded the demo data set"),
    good("db", "reset", "--yes", env=THROWAWAY, says="empty"),
    good("restore", "{folder}/registry.tar", "--force", env=THROWAWAY, says="Restored"),
]  # fmt: skip

CHAINS = [YEAR_IN_ALMATY, AS_IN_THE_ISSUE, ACCOUNTS_AND_REFERENCE, FILES + DATABASE]
EVERY_RUN = [run for chain in [*CHAINS, LAST] for run in chain]
SERVE = ("serve",)  # run apart: it serves until stopped (``test_serve_answers_and_stops``)


def test_every_command_has_a_good_and_a_bad_run() -> None:
    assert len(LEAVES) >= 50 and ("planting", "plan", "create") in LEAVES
    runs = {(run.command(), run.good) for run in EVERY_RUN}
    missing = sorted(
        " ".join(leaf) + (" (good input)" if kind else " (bad input)")
        for leaf in LEAVES
        for kind in (True, False)
        if (leaf, kind) not in runs and not (leaf == SERVE and kind)
    )
    assert not missing, f"commands without a subprocess run: {missing}"


# -- running them ---------------------------------------------------------------------------------
@dataclass
class Outcome:
    run: Run
    args: list[str]
    code: int
    stdout: str
    stderr: str
    says: str  # the run's expected text, its {names} filled

    def problem(self) -> str | None:
        """What is wrong with this outcome, or None."""
        shown = f"jasyl {' '.join(self.args)}"[:200]
        if "Traceback" in self.stdout + self.stderr:
            return f"{shown}: a traceback\n{self.stderr[-2000:]}"
        if self.run.good:
            if self.code != 0:
                return f"{shown}: exit {self.code} on good input\n{self.stderr[-1000:]}"
            if self.says and self.says not in self.stdout:
                return f"{shown}: stdout lacks {self.says!r}\n{self.stdout[-1000:]}"
            return None
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("Error: ")]
        if self.code not in (1, 2):
            return f"{shown}: exit {self.code} on bad input\n{self.stderr[-1000:]}"
        if len(errors) != 1 or (self.code == 1 and len(lines) != 1):
            return f"{shown}: not one 'Error:' line\n{self.stderr[-1000:]}"
        if self.says and self.says not in errors[0]:
            return f"{shown}: the error lacks {self.says!r}: {errors[0]}"
        return None


TIMES: dict[str, float] = {}  # seconds each run took, to show the slowest


def run_jasyl(run: Run, found: dict[str, str], base_env: dict[str, str]) -> Outcome:
    args = [arg.format(**found) for arg in run.args]
    env = {**base_env, **{k: v.format(**found) for k, v in run.env.items()}}
    started = time.monotonic()
    done = subprocess.run([str(JASYL), *args], env=env, capture_output=True, text=True, timeout=300)
    TIMES[" ".join(args)[:80]] = time.monotonic() - started
    says = run.says.format(**found)
    return Outcome(run, args, done.returncode, done.stdout, done.stderr, says)


def run_chain(chain: list[Run], found: dict[str, str], env: dict[str, str]) -> list[str]:
    """Run a chain in order; ids a run finds (or asks the database for) serve the later ones."""
    problems = []
    for run in chain:
        try:
            outcome = run_jasyl(run, found, env)
        except KeyError as exc:
            problems.append(f"jasyl {' '.join(run.args)}: not run, no {exc} found before")
            continue
        problem = outcome.problem()
        if problem:
            problems.append(problem)
        for name, pattern in run.finds.items():  # first: the asks may use what the run printed
            match = re.search(pattern, outcome.stdout)
            if match:
                found[name] = match.group(1)
            else:
                problems.append(f"jasyl {' '.join(outcome.args)}: no {name} in {outcome.stdout}")
        for name, sql in run.asks.items():
            try:
                query = text(sql.format(**found))
            except KeyError as exc:
                problems.append(f"jasyl {' '.join(run.args)}: cannot ask for {name}, no {exc}")
                continue
            with engine_for(env["DATABASE_URL"]).connect() as conn:
                found[name] = str(conn.execute(query).scalar())
    return problems


@pytest.fixture
def throwaway(database_url: str) -> Iterator[str]:
    """A second, empty database beside the test database, for resets and restores."""
    name = f"jasyl_cli_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_admin_dsn(database_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(_admin_dsn(database_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def world(clean, tmp_path: Path, throwaway: str) -> tuple[dict[str, str], dict[str, str]]:
    """The prepared database (through the services) and the files the commands read."""
    empty_inventory(clean)  # ids from 1, whatever ran before
    x0, y0 = ORIGIN
    with unit_of_work(clean) as session:
        astana_plant = make_plant(session)
        almaty_plant = make_plant(session, geom=point_near(ALMATY))
        almaty_park = make_green_space(session, name="Парк Алматы", geom=square(ALMATY, 0.003))
        make_green_space(session, name="Сквер у снимка", geom=to_wgs84(utm_square(x0 + 100,
                         y0 - 300, 400)))  # fmt: skip
        nursery = make_nursery(session)
        ready = ready_batch(session, nursery, 500)
        found = {
            "astana_plant": str(astana_plant.id),
            "almaty_plant": str(almaty_plant.id),
            "almaty_park": str(almaty_park.id),
            "nursery": nursery.code,
            "ready": str(ready.id),
            "shipment_line": "1",  # the first shipment's first line
            "folder": str(tmp_path),
            "throwaway": throwaway,
            "unreachable": make_url(clean).set(port=free_port()).render_as_string(False),
        }
    new_user(clean, "ministry@test.jasyl.kz", "ministry")
    write_image(tmp_path / "july.tif")
    (tmp_path / "mapping.toml").write_text('[species]\n"карагач мелколист" = "Ulmus pumila"\n')
    (tmp_path / "empty-mapping.toml").write_text("[columns]\n")
    survey = "Инв. №;Порода;Диаметр, см;Высота, м;Состояние;lon;lat\n"
    survey += "S-1;Вяз приземистый;24,5;8,5;хорошее;71,4310;51,1290\n"
    (tmp_path / "survey.csv").write_bytes(survey.encode("cp1251"))
    env = {**os.environ, "DATABASE_URL": clean, "JASYL_HOME": str(tmp_path / "home")}
    env.pop("PYTEST_CURRENT_TEST", None)
    return found, env


def test_every_command_in_a_fresh_process(world) -> None:
    found, env = world
    problems = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for chain_problems in pool.map(lambda chain: run_chain(chain, found, env), CHAINS):
            problems += chain_problems
    problems += run_chain(LAST, found, env)
    slowest = sorted(TIMES.items(), key=lambda item: -item[1])[:12]
    timing = "\n".join(f"{seconds:6.1f} s  {args}" for args, seconds in slowest)
    assert not problems, "\n\n".join(problems) + f"\n\nslowest runs:\n{timing}"


def test_serve_answers_and_stops(world) -> None:
    """``jasyl serve`` (good input) serves the health probe until it is stopped."""
    _, env = world
    port = free_port()
    server = subprocess.Popen(
        [str(JASYL), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status = None
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    status = r.status
                break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.5)
    finally:
        server.terminate()
        stdout, stderr = server.communicate(timeout=30)
    assert status == 200, stderr
    assert f"serving on http://127.0.0.1:{port}" in stdout and "Traceback" not in stderr
