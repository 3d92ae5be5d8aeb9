"""Never a silent guess: species names the catalogue does not hold as written stop the import as
proposals, ``--write-mapping`` writes them for a person to confirm, the next run stores exactly
what was confirmed (issue #17, item 1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from registry.db import unit_of_work
from registry.species.services import SpeciesIndex
from tests.import_files import ASTANA_LONLAT
from web.cli import main

# written → the species it names without any guess (None: only a person can say)
WRITTEN = {
    "Ulmus pumila L.": "ulmus_pumila",  # author
    "Acer platanoides 'Globosum'": "acer_platanoides",  # cultivar in quotes
    "ACER SPP.": "acer_sp",  # case and spp.
    "Берёза повислая": "betula_pendula",  # ё
    "Carpinus betulus": None,  # was stored as Pinus sp.
    "Platanus × acerifolia": None,  # was stored as Acer sp.
    "Acer saccharum": None,  # was stored as Acer saccharinum
    "PINI": None,  # was stored as Ulmus minor
    "береза повислоя": None,  # a near miss: probably Betula pendula, but only a person knows
}
JASYL = Path(sys.executable).with_name("jasyl")


def survey(tmp_path: Path, names: list[str], name: str = "survey.gpkg") -> Path:
    """A UTF-8 GeoPackage, one tree per species name, numbered T-1 …"""
    frame = geopandas.GeoDataFrame(
        {
            "INV": [f"T-{i + 1}" for i in range(len(names))],
            "SPECIES": names,
            "HEIGHT_M": [6.5] * len(names),
        },
        geometry=geopandas.points_from_xy(*zip(*ASTANA_LONLAT[: len(names)], strict=True)),
        crs="EPSG:4326",
    )
    path = tmp_path / name
    frame.to_file(path, driver="GPKG")
    return path


def stored() -> dict[str, str]:
    """Inventory number → species code of every plant in the registry."""
    with unit_of_work() as session:
        rows = session.execute(
            text(
                "SELECT p.inventory_number, s.code FROM plants p "
                "JOIN species s ON s.id = p.species_id"
            )
        )
        return dict(rows.all())


@pytest.fixture
def jasyl(clean):
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_exact_and_normalised_names_match_and_guesses_do_not(db) -> None:
    index = SpeciesIndex.load(db)
    for written, code in WRITTEN.items():
        found = index.match(written)
        assert (found.species.code if found else None) == code, written
    for hybrid in ("Populus × canadensis", "Populus x canadensis", "POPULUS X CANADENSIS"):
        assert index.match(hybrid).species.code == "populus_x_canadensis", hybrid
    for author in ("Ulmus pinnato-ramosa Dieck ex Koehne", "ULMUS PUMILA L.", "Ulmus pumila (L.)"):
        assert index.match(author).species.code == "ulmus_pumila", author


@pytest.mark.parametrize(
    ("written", "reason", "first"),
    [
        ("Carpinus betulus", "unknown", None),  # "pinus" inside "carpinus" is no likeness
        ("Platanus × acerifolia", "genus", "platanus_orientalis"),
        ("Acer saccharum", "near", "acer_saccharinum"),
        ("PINI", "code", "pinus_nigra_pallasiana"),
        ("береза повислоя", "near", "betula_pendula"),
        ("клён красный", "genus", None),
    ],
)
def test_other_names_are_proposals_with_candidates(db, written, reason, first) -> None:
    proposal = SpeciesIndex.load(db).propose(written)
    assert proposal.reason == reason
    codes = [m.species.code for m in proposal.candidates]
    if first:
        assert codes[0] == first
    if reason == "genus" and "клён" in written:
        assert "acer_sp" in codes and all(c.startswith("acer_") for c in codes)
    if reason == "unknown":
        assert codes == []


def test_guesses_stop_the_import_until_confirmed_in_the_written_mapping(
    jasyl, tmp_path: Path
) -> None:
    path = survey(tmp_path, list(WRITTEN))
    refused = jasyl("import", path, "--region", "KZ-71", "--json")
    assert refused.exit_code == 3, refused.output
    report = json.loads(refused.output)
    assert report["status"] == "rejected" and stored() == {}
    proposed = {p["written"]: p for p in report["proposals"]}
    assert set(proposed) == {w for w, code in WRITTEN.items() if code is None}
    assert [c["code"] for c in proposed["PINI"]["candidates"]] == ["pinus_nigra_pallasiana"]
    assert {p["rows"] for p in proposed.values()} == {1}
    assert {p["value"] for p in report["problems"] if p["code"] == "needs_confirmation"} == set(
        proposed
    )

    mapping = tmp_path / "map.toml"
    dry = jasyl("import", path, "--region", "KZ-71", "--dry-run", "--write-mapping", mapping)
    assert dry.exit_code == 3 and "5 species name(s) need confirmation" in dry.output
    written = mapping.read_text(encoding="utf-8")
    assert '# "Acer saccharum" = "acer_saccharinum"' in written
    assert '# "Carpinus betulus" = "?"' in written
    assert stored() == {}

    # Proposals left commented change nothing: the import still stops.
    again = jasyl("import", path, "--region", "KZ-71", "--mapping", mapping, "--json")
    assert again.exit_code == 3 and len(json.loads(again.output)["proposals"]) == 5

    # The person confirms three, corrects one (PINI is their Pinus sylvestris), marks Carpinus
    # as still open with "?": still stopped, by Carpinus alone.
    confirmed = (
        written.replace('# "Acer saccharum" = "acer_saccharinum"', '"Acer saccharum" = "acer_sp"')
        .replace('# "PINI" = "pinus_nigra_pallasiana"', '"PINI" = "Pinus sylvestris"')
        .replace(
            '# "Platanus × acerifolia" = "?"', '"Platanus × acerifolia" = "platanus_orientalis"'
        )
        .replace('# "береза повислоя" = "betula_pendula"', '"береза повислоя" = "betula_pendula"')
        .replace('# "Carpinus betulus" = "?"', '"Carpinus betulus" = "?"')
    )
    mapping.write_text(confirmed, encoding="utf-8")
    open_one = jasyl("import", path, "--region", "KZ-71", "--mapping", mapping, "--json")
    assert open_one.exit_code == 3
    assert [p["written"] for p in json.loads(open_one.output)["proposals"]] == ["Carpinus betulus"]
    assert stored() == {}

    mapping.write_text(confirmed.replace('"Carpinus betulus" = "?"', ""), encoding="utf-8")
    without = survey(tmp_path, list(WRITTEN)[:4] + list(WRITTEN)[5:], "without.gpkg")
    done = jasyl("import", without, "--region", "KZ-71", "--mapping", mapping, "--json")
    assert done.exit_code == 0, done.output
    assert stored() == {
        "T-1": "ulmus_pumila",
        "T-2": "acer_platanoides",
        "T-3": "acer_sp",
        "T-4": "betula_pendula",
        "T-5": "platanus_orientalis",
        "T-6": "acer_sp",
        "T-7": "pinus_sylvestris",
        "T-8": "betula_pendula",
    }


def test_a_confirmation_must_name_a_catalogue_species(jasyl, tmp_path: Path) -> None:
    path = survey(tmp_path, ["Acer saccharum"])
    mapping = tmp_path / "map.toml"
    mapping.write_text('[species]\n"Acer saccharum" = "Acer sacharinum"\n', encoding="utf-8")
    result = jasyl("import", path, "--region", "KZ-71", "--mapping", mapping)
    assert result.exit_code == 1 and stored() == {}
    assert '"Acer sacharinum" is not a catalogue code or name' in result.output
    assert "Acer saccharinum (acer_saccharinum)" in result.output


def test_write_mapping_keeps_the_persons_mapping_and_does_not_repeat(jasyl, tmp_path: Path) -> None:
    path = survey(tmp_path, ["Acer saccharum", "Ulmus pumila"])
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[columns]\nspecies = "SPECIES"\n\n[species]\n"вяз" = "ulmus_sp"\n', encoding="utf-8"
    )
    for _ in range(2):
        args = ["import", path, "--region", "KZ-71", "--mapping", mapping, "--dry-run"]
        jasyl(*args, "--write-mapping", mapping)
    written = mapping.read_text(encoding="utf-8")
    assert written.count('# "Acer saccharum" = ') == 1
    assert '[columns]\nspecies = "SPECIES"' in written and '"вяз" = "ulmus_sp"' in written
    assert written.count("[species]") == 1
    refused = jasyl("import", path, "--region", "KZ-71", "--write-mapping", tmp_path / "m.yaml")
    assert refused.exit_code == 2 and "name a .toml file" in refused.output


def test_the_cli_as_a_process_writes_the_proposals(clean, tmp_path: Path) -> None:
    path = survey(tmp_path, ["Carpinus betulus", "Ulmus pumila"])
    mapping = tmp_path / "new.toml"
    command = [str(JASYL), "import", str(path), "--region", "KZ-71", "--dry-run"]
    result = subprocess.run(
        [*command, "--write-mapping", str(mapping)],
        capture_output=True,
        text=True,
        env=os.environ,
        timeout=120,
    )
    assert result.returncode == 3, result.stderr
    assert "needs confirmation: is not in the catalogue and no species is close" in result.stdout
    assert "1 species proposal(s) to confirm" in result.stderr
    lines = mapping.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("## Mapping template written by: jasyl import survey.gpkg")
    assert "[species]" in lines and '# "Carpinus betulus" = "?"' in "\n".join(lines)
    assert stored() == {}
