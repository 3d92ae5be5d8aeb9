"""Species aliases of a mapping file, kept in the catalogue: --keep-aliases, species alias keep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from registry.access import Actor
from registry.accounts.models import Role
from registry.audit.models import AuditEntry
from registry.db import unit_of_work
from registry.errors import AccessDenied
from registry.species.models import Species
from registry.species.services import keep_aliases
from tests.import_files import survey_frame, write_shapefile
from web.cli import main

SPELLING = "Кустозавр степной"  # what a contractor wrote; no catalogue name is near it
MAPPING = f'[species]\n"{SPELLING}" = "Ulmus pumila"\n'


@pytest.fixture
def run(clean):
    """The CLI against the test database; the catalogue's aliases are put back afterwards."""
    with unit_of_work() as session:
        before = {s.code: list(s.aliases) for s in session.scalars(select(Species))}
    runner = CliRunner()
    yield lambda *args: runner.invoke(main, list(args), catch_exceptions=False)
    with unit_of_work() as session:
        for species in session.scalars(select(Species)):
            species.aliases = before[species.code]


def aliases_of(code: str) -> list[str]:
    with unit_of_work() as session:
        return list(session.scalar(select(Species.aliases).where(Species.code == code)))


def survey(tmp_path: Path, name: str, numbers: list[str]) -> Path:
    frame = survey_frame(rows=2, ИНВ_НОМ=numbers, ПОРОДА=[SPELLING, "Берёза повислая"])
    return write_shapefile(tmp_path / name, frame)


def test_import_keeps_aliases_so_the_next_survey_needs_no_mapping(run, tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    later = survey(tmp_path, "later.shp", ["L-1", "L-2"])
    refused = run("import", str(later), "--region", "KZ-71", "--json")
    assert refused.exit_code == 3 and json.loads(refused.output)["status"] == "rejected"

    first = survey(tmp_path, "first.shp", ["F-1", "F-2"])
    args = ["import", str(first), "--region", "KZ-71", "--mapping", str(mapping)]
    result = run(*args, "--keep-aliases", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["status"] == "done" and summary["imported"] == 2
    assert summary["kept_aliases"] == [f"{SPELLING} → ulmus_pumila"]
    assert SPELLING in aliases_of("ulmus_pumila")

    again = run("import", str(later), "--region", "KZ-71", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["imported"] == 2
    with unit_of_work() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "keep_alias")).all()
    assert [(a.entity, a.field, a.actor) for a in audit] == [("species", "aliases", "jasyl import")]
    assert SPELLING in audit[0].new_value and SPELLING not in audit[0].old_value


def test_dry_run_and_rejected_imports_keep_nothing(run, tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    path = survey(tmp_path, "a.shp", ["D-1", "D-2"])
    args = ["import", str(path), "--region", "KZ-71", "--mapping", str(mapping), "--keep-aliases"]
    assert run(*args, "--dry-run").exit_code == 0
    bad = write_shapefile(
        tmp_path / "bad.shp",
        survey_frame(rows=2, ПОРОДА=[SPELLING, "баобаб"]),
    )
    rejected = run(
        "import", str(bad), "--region", "KZ-71", "--mapping", str(mapping), "--keep-aliases"
    )
    assert rejected.exit_code == 3
    assert SPELLING not in aliases_of("ulmus_pumila")


def test_species_alias_keep_command(run, tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(f'species:\n  "{SPELLING}": "вяз приземистый"\n', encoding="utf-8")
    result = run("species", "alias", "keep", str(mapping))
    assert result.exit_code == 0, result.output
    assert f"kept '{SPELLING}' → ulmus_pumila (Ulmus pumila)" in result.output
    assert aliases_of("ulmus_pumila").count(SPELLING) == 1
    twice = run("species", "alias", "keep", str(mapping))
    assert "0 alias(es) kept, 1 already known." in twice.output
    assert aliases_of("ulmus_pumila").count(SPELLING) == 1


def test_an_alias_of_another_species_is_refused(run, tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text('[species]\n"берёза повислая" = "Ulmus pumila"\n', encoding="utf-8")
    before = aliases_of("ulmus_pumila")
    result = CliRunner().invoke(main, ["species", "alias", "keep", str(mapping)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: alias: already names берёза повислая (Betula pendula), not Ulmus pumila "
        "(got 'берёза повислая')"
    )
    assert aliases_of("ulmus_pumila") == before
    empty = tmp_path / "none.toml"
    empty.write_text("[columns]\n", encoding="utf-8")
    nothing = CliRunner().invoke(main, ["species", "alias", "keep", str(empty)])
    assert nothing.exit_code == 1 and "has no [species] aliases" in nothing.output


@pytest.mark.parametrize(
    ("role", "allowed"), [(Role.FORESTER, True), (Role.PLANNER, False), (Role.MINISTRY, False)]
)
def test_who_may_keep_aliases(run, role: Role, allowed: bool) -> None:
    actor = Actor(label=f"a {role}", role=role, region_id=71)
    with unit_of_work() as session:
        if allowed:
            kept = keep_aliases(session, actor, {SPELLING: "ulmus_pumila"})
            assert [(a, s.code) for a, s in kept] == [(SPELLING, "ulmus_pumila")]
        else:
            with pytest.raises(AccessDenied, match="may not add aliases to the species catalogue"):
                keep_aliases(session, actor, {SPELLING: "ulmus_pumila"})
    assert (SPELLING in aliases_of("ulmus_pumila")) is allowed
    if not allowed:
        with unit_of_work() as session:
            denied = session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "denied", AuditEntry.entity == "species"
                )
            ).all()
        assert [d.actor for d in denied] == [f"a {role}"]
