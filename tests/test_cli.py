"""The ``jasyl`` command as a user runs it: through click's runner and as a real process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from registry.accounts.models import User
from registry.care.models import CareWork
from registry.db import unit_of_work
from registry.demo.cities import CITIES
from registry.demo.users import DEMO_PASSWORD
from registry.inventory.models import GreenSpace, Plant
from registry.planting.models import PlantingEvent, SurvivalCheck
from tests.web_client import sign_in
from web import create_app
from web.cli import main


@pytest.fixture
def run(database_url):
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["db"],
        ["db", "up"],
        ["db", "down"],
        ["db", "status"],
        ["db", "migrate"],
        ["db", "reset"],
        ["demo"],
        ["serve"],
        ["users"],
        ["users", "add"],
        ["species", "list"],
        ["regions", "list"],
    ],
)
def test_every_command_has_help(run, command) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Usage: main" in result.output or "Usage:" in result.output


def test_regions_list_in_text_and_json(run) -> None:
    result = run("regions", "list")
    assert result.exit_code == 0
    assert "KZ-75  75  Almaty" in result.output and "Ұлытау облысы" in result.output
    data = json.loads(run("regions", "list", "--json").output)
    assert len(data) == 20 and {"iso": "KZ-71"}.items() <= data[17].items()


def test_species_search(run) -> None:
    result = run("species", "list", "--search", "карагач")
    assert result.exit_code == 0 and "Ulmus pumila" in result.output
    missing = run("species", "list", "--search", "баобаб")
    assert missing.exit_code == 1 and "no species matches 'баобаб'" in missing.output


def test_users_add_and_its_errors(run, clean) -> None:
    ok = run(
        "users",
        "add",
        "Aigerim@akimat.kz",
        "--role",
        "forester",
        "--region",
        "Алматы",
        "--password",
        "long enough pw",
    )
    assert ok.exit_code == 0 and "as forester in region 75" in ok.output
    again = run("users", "add", "aigerim@akimat.kz", "--role", "planner", "--no-password")
    assert again.exit_code == 1 and "already exists" in again.output
    no_region = run("users", "add", "b@akimat.kz", "--role", "forester", "--no-password")
    assert no_region.exit_code == 1
    assert "a forester must be given the region" in no_region.output
    bad_region = run(
        "users", "add", "c@akimat.kz", "--role", "forester", "--region", "Mordor", "--no-password"
    )
    assert bad_region.exit_code == 1 and "valid regions: KZ-10 (Abai Region)" in bad_region.output
    bad_role = run("users", "add", "d@akimat.kz", "--role", "king", "--no-password")
    assert bad_role.exit_code == 2 and "'king' is not one of" in bad_role.output
    bad_email = run("users", "add", "not-an-email", "--role", "planner", "--no-password")
    assert bad_email.exit_code == 1 and "email: is not an e-mail address" in bad_email.output
    with unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1


def test_demo_loads_once(run, clean, monkeypatch) -> None:
    monkeypatch.setenv("JASYL_DEMO_SCALE", "0.02")
    first = run("demo")
    assert first.exit_code == 0 and "Loaded the demo data set" in first.output
    with unit_of_work() as session:
        plants = session.scalar(select(func.count()).select_from(Plant))
        by_region = dict(
            session.execute(select(Plant.region_id, func.count()).group_by(Plant.region_id)).all()
        )
        spaces = session.scalar(select(func.count()).select_from(GreenSpace))
        cyrillic = session.scalar(select(GreenSpace.name).where(GreenSpace.name.like("Парк%")))
    assert plants > 2000 and set(by_region) == {71, 75, 79}
    assert spaces > 40 and cyrillic.startswith("Парк")
    assert "Demo plantings added" in first.output
    with unit_of_work() as session:
        seasons = demo_seasons(session)
    last_year = date.today().year - 1
    assert seasons["events"] > 0 and seasons["unplanned"] == 0 and seasons["checks"] > 0
    assert seasons["care_done"] > 0
    ministry = create_app({"TESTING": True}).test_client()
    sign_in(ministry, "ministry@demo.jasyl.kz", DEMO_PASSWORD)
    national = ministry.get(f"/api/v1/reports/dashboard?year={last_year}").get_json()
    assert national["totals"]["planted"] > 0 and national["totals"]["planned"] > 0
    second = run("demo")
    assert second.exit_code == 0 and "already loaded" in second.output
    with unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Plant)) == plants
        assert demo_seasons(session) == seasons


def demo_seasons(session) -> dict[str, int]:
    """What the planting demo holds: events, events outside any plan line, re-counts, care done."""
    events = select(func.count()).select_from(PlantingEvent)
    done = select(func.count()).select_from(CareWork).where(CareWork.done_volume.is_not(None))
    return {
        "events": session.scalar(events),
        "unplanned": session.scalar(events.where(PlantingEvent.plan_line_id.is_(None))),
        "checks": session.scalar(select(func.count()).select_from(SurvivalCheck)),
        "care_done": session.scalar(done),
    }


def test_db_status_says_the_schema_is_current(run) -> None:
    result = run("db", "status")
    assert result.exit_code == 0 and "schema: current" in result.output


def test_reset_needs_confirmation(run) -> None:
    result = run("db", "reset")
    assert result.exit_code == 2 and "repeat with --yes" in result.output


def test_errors_are_one_line_without_traceback(database_url) -> None:
    """The installed entry point, in a real process, on a database that does not answer."""
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"}
    jasyl = str(Path(sys.executable).with_name("jasyl"))
    result = subprocess.run(
        [jasyl, "regions", "list"], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "database is not reachable" in lines[0]
    assert "check DATABASE_URL" in lines[0]


def test_an_external_database_is_used_as_is(run) -> None:
    """With DATABASE_URL set (as in this session), no local cluster is started or stopped."""
    up = run("db", "up")
    assert up.exit_code == 0 and "Using the external database from DATABASE_URL" in up.output
    down = run("db", "down")
    assert down.exit_code == 0 and "nothing to stop" in down.output


def test_an_unreachable_external_database_is_one_clear_line(run, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:9/none")
    result = run("db", "up")
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot reach DATABASE_URL:")
    assert len(result.output.strip().splitlines()) == 1


def test_every_command_is_where_the_lazy_group_looks_for_it() -> None:
    """``jasyl`` imports a command's module only when it runs (``COMMAND_MODULES``): every
    module of ``web.cli`` with commands must be named there, each command under its name."""
    import importlib
    import pkgutil

    import web.cli
    from web.cli import COMMAND_MODULES

    found = {}
    for module in pkgutil.iter_modules(web.cli.__path__, "web.cli."):
        for command in getattr(importlib.import_module(module.name), "commands", []):
            found[command.name] = module.name
    assert found == COMMAND_MODULES


def test_demo_at_a_small_scale_loads_at_most_that_many_plants(run, clean) -> None:
    """A city's streets took at least four plants each, however small the scale, and left its
    parks a negative number of plants: ``jasyl demo --scale 0.002`` ended in a traceback."""
    result = run("demo", "--scale", "0.002")
    assert result.exit_code == 0, result.output
    loaded = int(
        re.search(r"Loaded the demo data set: ([\d,]+) plants", result.output)[1].replace(",", "")
    )
    assert 0 < loaded <= sum(int(city.plants * 0.002) for city in CITIES)


def test_demo_at_a_scale_too_small_for_a_plant_says_it_loaded_the_rest(run, clean) -> None:
    """No city gets a plant at 0.00001, yet the nurseries, plantings and accounts load: the
    first run said "already loaded"."""
    result = run("demo", "--scale", "0.00001")
    assert result.exit_code == 0, result.output
    assert "Loaded the demo data set: 0 plants." in result.output
    assert "already loaded" not in result.output and "Demo nurseries added" in result.output
    assert "already loaded" in run("demo", "--scale", "0.00001").output
