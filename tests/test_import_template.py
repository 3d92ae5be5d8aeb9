"""``--write-mapping`` writes a complete mapping template (issue #17, "Visible detection" and
"Never a silent guess"): every column's field, the units read from names, the distinct words of
the condition and status columns with their meaning ("?" where the importer does not know one),
the species to confirm. Read back, it gives the same column decisions; an unknown word stays a
refusal until the person writes its meaning."""

from __future__ import annotations

import html
import io
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from importers.fields import load_mapping
from importers.vocabulary import DISTINCT_CAP, WordTally, translated
from registry.db import unit_of_work
from tests.import_files import ASTANA_LONLAT
from tests.web_client import csrf_token, new_user, sign_in
from web import create_app
from web.cli import main

JASYL = Path(sys.executable).with_name("jasyl")
HEADER = "SPECIES;DBH_IN;ВЫС;СОСТОЯНИЕ;STATUS;InventoryDate;lon;lat;Заметка"
ROWS = [  # species, diameter (in), height, condition, status
    ("Ulmus pumila", "12", "8,5", "усыхающее", "живое"),
    ("Ulmus pumila", "14", "9", "усыхающие", ""),
    ("Acer saccharum", "10", "7", "хорошее", ""),  # a near miss: Acer saccharinum?
    ("Ulmus pumila", "", "", "сухоподобное", "пень"),  # a word no table holds
    ("Ulmus pumila", "9", "6", "Аварийное", ""),
]


def survey_csv(tmp_path: Path) -> Path:
    lines = [HEADER]
    for i, (species, dbh, height, condition, status) in enumerate(ROWS):
        lon, lat = ASTANA_LONLAT[i]
        cells = [species, dbh, height, condition, status, "2024-05-14", str(lon), str(lat), "x"]
        lines.append(";".join(cells))
    path = tmp_path / "опись.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def jasyl(clean):
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def stored() -> dict[float | None, tuple]:
    """Trunk diameter (cm) → (species, condition, hazardous, status) of every plant."""
    with unit_of_work() as session:
        rows = session.execute(
            text(
                "SELECT p.trunk_diameter_cm, s.code, p.condition, p.hazardous, p.status "
                "FROM plants p LEFT JOIN species s ON s.id = p.species_id"
            )
        )
        return {None if d is None else float(d): tuple(rest) for d, *rest in rows.all()}


def decisions(report: dict) -> dict[str, tuple[str | None, str]]:
    """Column → (field, used or not) as a report's column table says."""
    return {
        use["column"]: (use["field"], "proposed" if use["status"] == "proposed" else use["status"])
        for use in report["columns"]
    }


def used(report: dict) -> dict[str, str | None]:
    """Column → the field it fills (None for proposed and ignored columns)."""
    return {
        u["column"]: u["field"] if u["status"] in ("mapped", "recognised") else None
        for u in report["columns"]
    }


def test_the_template_lists_columns_units_words_and_species(jasyl, tmp_path: Path) -> None:
    path, mapping = survey_csv(tmp_path), tmp_path / "map.toml"
    dry = jasyl("import", path, "--region", "KZ-71", "--dry-run", "--write-mapping", mapping)
    assert dry.exit_code == 3, dry.output
    written = mapping.read_text(encoding="utf-8")
    data = tomllib.loads(written)
    assert data["columns"] == {
        "species": "SPECIES",
        "trunk_diameter": "DBH_IN",
        "height": "ВЫС",
        "condition": "СОСТОЯНИЕ",
        "status": "STATUS",
        "x": "lon",
        "y": "lat",
    }
    assert '# inventory_number = "InventoryDate"  # proposed: its name says it holds dates' in (
        written
    )
    assert '## "Заметка" is ignored: its name means no registry field' in written
    assert data["units"] == {"trunk_diameter": "in"}  # from the name DBH_IN
    assert "# height = \"m\"  # 'ВЫС' names no unit: the registry's own (m) is assumed" in written
    assert data["values"]["condition"] == {
        "усыхающее": 4,
        "усыхающие": 4,
        "хорошее": 1,
        "Аварийное": "аварийное",  # grade IV and hazardous: the word says both
    }
    assert '# "сухоподобное" = "?"  # 1 row(s); write a grade 1–6' in written
    assert data["values"]["status"] == {"живое": "alive", "пень": "stump"}
    assert '# "Acer saccharum" = "acer_saccharinum"  # 1 row(s); spelled like' in written
    assert data["species"] == {}  # a proposal is not a confirmation
    assert "1 not understood" in dry.output and stored() == {}
    assert "words of СОСТОЯНИЕ are not understood: --dry-run --write-mapping" in dry.output
    # The README's example is this survey's template, shortened: each active line is true.
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    example = tomllib.loads(re.search(r"mapping template\n.*?```toml\n(.*?)```", readme, re.S)[1])
    for section, lines in example.items():
        shown = lines.items() if section != "values" else []
        assert all(data[section][key] == value for key, value in shown), section
    for name, words in example["values"].items():
        assert words.items() <= data["values"][name].items(), name


def test_read_back_the_template_decides_the_same_and_refuses_the_unknown_word(
    jasyl, tmp_path: Path
) -> None:
    path, mapping = survey_csv(tmp_path), tmp_path / "map.toml"
    args = ["import", path, "--region", "KZ-71", "--dry-run", "--json"]
    first = json.loads(jasyl(*args, "--write-mapping", mapping).stdout)
    again = json.loads(jasyl(*args, "--mapping", mapping).output)
    assert used(again) == used(first) and decisions(again)["InventoryDate"] == (
        "inventory_number",
        "proposed",
    )
    assert [u["unit"] for u in again["columns"] if u["column"] == "DBH_IN"] == ["in"]
    refused = {(p["field"], p["value"]) for p in again["problems"] if p["severity"] == "error"}
    assert refused == {("SPECIES", "Acer saccharum"), ("СОСТОЯНИЕ", "сухоподобное")}

    # "?" uncommented confirms nothing: the file's own word is refused, not "?".
    written = mapping.read_text(encoding="utf-8")
    open_word = written.replace('# "сухоподобное" = "?"', '"сухоподобное" = "?"')
    open_word = open_word.replace('# "Acer saccharum" = ', '"Acer saccharum" = ')
    mapping.write_text(open_word, encoding="utf-8")
    still = json.loads(jasyl(*args, "--mapping", mapping).output)
    refused = [(p["field"], p["value"]) for p in still["problems"] if p["severity"] == "error"]
    assert refused == [("СОСТОЯНИЕ", "сухоподобное")] and stored() == {}

    mapping.write_text(open_word.replace('"сухоподобное" = "?"', '"сухоподобное" = 5'), "utf-8")
    done = jasyl("import", path, "--region", "KZ-71", "--mapping", mapping, "--json")
    assert done.exit_code == 0, done.output
    assert stored() == {  # 12 in = 30.48 cm, stored to 0.1
        30.5: ("ulmus_pumila", 4, False, "alive"),
        35.6: ("ulmus_pumila", 4, False, "alive"),
        25.4: ("acer_saccharinum", 1, False, "alive"),
        None: ("ulmus_pumila", 5, False, "stump"),
        22.9: ("ulmus_pumila", 4, True, "alive"),
    }


def test_the_persons_mapping_keeps_its_lines_and_gains_only_what_it_lacks(
    jasyl, tmp_path: Path
) -> None:
    path, mapping = survey_csv(tmp_path), tmp_path / "map.toml"
    mine = (
        "# my survey of 2024\n"
        "[columns]\n"
        'height = "ВЫС"  # metres, I checked\n'
        "\n"
        "[values.condition]\n"
        '"хорошее" = 2  # our crew writes хорошее for weakened trees\n'
    )
    mapping.write_text(mine, encoding="utf-8")
    args = ["import", path, "--region", "KZ-71", "--dry-run", "--mapping", mapping]
    jasyl(*args, "--write-mapping", mapping)
    once = mapping.read_text(encoding="utf-8")
    for line in mine.splitlines():
        assert line in once.splitlines()
    data = tomllib.loads(once)  # one key each: a repeated key would not parse
    assert data["columns"]["height"] == "ВЫС" and data["columns"]["species"] == "SPECIES"
    assert data["values"]["condition"]["хорошее"] == 2
    assert data["values"]["condition"]["усыхающее"] == 4
    jasyl(*args, "--write-mapping", mapping)
    twice = mapping.read_text(encoding="utf-8")
    jasyl(*args, "--write-mapping", mapping)
    assert mapping.read_text(encoding="utf-8") == twice  # rewritten, not piled up
    assert twice.count('# "сухоподобное" = "?"') == 1
    assert twice.count('# "Acer saccharum" = ') == 1
    assert twice.count("## Mapping template written by") == 1
    assert sorted(twice.splitlines()) == sorted(once.splitlines())


def test_a_file_refused_for_its_columns_still_gets_a_template(jasyl, tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    spots = zip(["ULPU", "ACNE"], ASTANA_LONLAT[:2], strict=True)
    rows = [f"{code};{lon};{lat}" for code, (lon, lat) in spots]
    path.write_text("\n".join(["SpeciesCode;lon;lat", *rows]) + "\n", encoding="utf-8")
    mapping = tmp_path / "map.toml"
    refused = jasyl("import", path, "--region", "KZ-71", "--dry-run", "--write-mapping", mapping)
    assert refused.exit_code == 1 and "no column holds the species" in refused.output
    written = mapping.read_text(encoding="utf-8")
    assert '# species = "SpeciesCode"  # proposed: its name says it holds codes' in written
    confirmed = written.replace('# species = "SpeciesCode"', 'species = "SpeciesCode"')
    mapping.write_text(confirmed, encoding="utf-8")
    args = ["import", path, "--region", "KZ-71", "--dry-run", "--mapping", mapping, "--json"]
    report = json.loads(jasyl(*args).output)
    assert used(report)["SpeciesCode"] == "species"
    assert {p["written"] for p in report["proposals"]} == {"ULPU", "ACNE"}  # codes: asked
    assert stored() == {}


def test_the_cli_as_a_process_writes_a_template_the_mapping_reader_takes(
    clean, tmp_path: Path
) -> None:
    path, mapping = survey_csv(tmp_path), tmp_path / "new.toml"
    command = [str(JASYL), "import", str(path), "--region", "KZ-71", "--dry-run"]
    result = subprocess.run(
        [*command, "--write-mapping", str(mapping)],
        capture_output=True,
        text=True,
        env=os.environ,
        timeout=120,
    )
    assert result.returncode == 3, result.stderr
    assert f"{mapping}: mapping template written: 7 column(s) read, 1 proposed" in result.stderr
    assert "7 distinct word(s), 1 not understood" in result.stderr
    read = load_mapping(mapping)
    assert read.units == {"trunk_diameter": "in"} and read.columns["status"] == "STATUS"
    assert read.values["status"] == {"живое": "alive", "пень": "stump"}
    assert read.species == {} and stored() == {}


def test_the_upload_page_shows_the_template_after_a_dry_run(clean, tmp_path: Path) -> None:
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    client = create_app({"TESTING": True}).test_client()
    sign_in(client, "les@test.jasyl.kz")
    data = {
        "survey": (io.BytesIO(survey_csv(tmp_path).read_bytes()), "опись.csv"),
        "region": "KZ-71",
        "dry_run": "on",
        "csrf_token": csrf_token(client),
    }
    answer = client.post("/imports/upload", data=data, content_type="multipart/form-data")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'id="mapping-template"' in page
    shown = html.unescape(re.search(r'<pre id="proposed-mapping">(.*?)</pre>', page, re.S)[1])
    data = tomllib.loads(shown)
    assert data["units"] == {"trunk_diameter": "in"}
    assert data["values"]["condition"]["усыхающее"] == 4
    assert '# "сухоподобное" = "?"' in shown and '# "Acer saccharum" = ' in shown
    assert stored() == {}


def test_the_word_tally_counts_distinct_cells_up_to_its_cap() -> None:
    tally = WordTally()
    tally.add("condition", pd.Series(["хорошее", 2.0, None, "", "хорошее", 2]))
    tally.add("condition", pd.Series([f"w{i}" for i in range(DISTINCT_CAP + 5)] + ["хорошее"]))
    counted = tally.counts["condition"]
    assert counted["хорошее"] == 3 and counted["2"] == 2  # 2.0 read from a DBF is "2"
    assert len(counted) == DISTINCT_CAP and "" not in counted


def test_a_template_key_for_a_whole_number_reads_the_dbf_float() -> None:
    cells = np.array([7.0, "7", "?word", None], dtype=object)
    out = translated("condition", cells, {"7": 6, "?word": "?"})
    assert list(out) == [6, 6, "?word", None]  # "?" confirms nothing: the cell stays as written


def test_a_mapping_the_template_cannot_join_is_refused_before_importing(
    jasyl, tmp_path: Path
) -> None:
    path, mapping = survey_csv(tmp_path), tmp_path / "map.toml"
    mine = '[columns]\nheight = "ВЫС"\nheight = "DBH_IN"\n'  # a key twice: not TOML
    mapping.write_text(mine, encoding="utf-8")
    confirmed = tmp_path / "ok.toml"
    confirmed.write_text(
        '[species]\n"Acer saccharum" = "acer_sp"\n[values.condition]\n"сухоподобное" = 5\n',
        encoding="utf-8",
    )
    args = ["import", path, "--region", "KZ-71", "--mapping", confirmed]
    refused = jasyl(*args, "--write-mapping", mapping)
    assert refused.exit_code == 1 and "map.toml: the mapping file cannot be read" in refused.output
    assert mapping.read_text(encoding="utf-8") == mine and stored() == {}  # not imported first
    assert jasyl(*args).exit_code == 0 and len(stored()) == len(ROWS)
