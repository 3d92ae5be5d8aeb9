"""``jasyl import`` as a user runs it: exit codes, JSON, the problem report, the registry after."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from registry.db import unit_of_work
from registry.inventory.models import Plant
from tests.import_files import survey_frame, write_shapefile
from web.cli import main


@pytest.fixture
def run(clean):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def plant_count() -> int:
    with unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(Plant))


def test_import_json_then_reimport_is_unchanged(run, tmp_path: Path) -> None:
    path = write_shapefile(tmp_path / "a.shp", survey_frame())
    result = run("import", str(path), "--region", "Астана", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert {k: summary[k] for k in ("status", "rows_read", "imported", "rejected")} == {
        "status": "done",
        "rows_read": 3,
        "imported": 3,
        "rejected": 0,
    }
    assert summary["encoding"] == "cp1251 (detected)" and plant_count() == 3
    again = run("import", str(path), "--region", "KZ-71")
    assert again.exit_code == 0
    assert again.output.startswith("a.shp: Already imported as batch ")


def test_bad_rows_exit_3_write_report_and_nothing(run, tmp_path: Path) -> None:
    frame = survey_frame(ПОРОДА=["Вяз приземистый", "баобаб", "Берёза повислая"])
    path = write_shapefile(tmp_path / "b.shp", frame)
    report = tmp_path / "problems.csv"
    result = run("import", str(path), "--region", "KZ-71", "--report", str(report))
    assert result.exit_code == 3
    assert "b.shp: Rejected: nothing was written." in result.output
    refused = "error: b.shp, row 2, ПОРОДА: needs confirmation: is not in the catalogue"
    assert refused in result.output
    with report.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["file", "row", "field", "value", "code", "message"]
    columns = [r[2:5] for r in rows[1:] if r[4].startswith("column_")]  # the column table first
    assert columns[:2] == [
        ["inventory_number", "ИНВ_НОМ", "column_recognised"],
        ["species", "ПОРОДА", "column_recognised"],
    ]
    assert rows[len(columns) + 1][:5] == ["b.shp", "2", "ПОРОДА", "баобаб", "needs_confirmation"]
    assert plant_count() == 0
    # A species to confirm stops even a partial import (issue #17: never a silent guess).
    partial = run("import", str(path), "--region", "KZ-71", "--allow-partial", "--json")
    assert partial.exit_code == 3 and json.loads(partial.output)["status"] == "rejected"
    assert plant_count() == 0


def test_dry_run_and_file_errors(run, tmp_path: Path) -> None:
    path = write_shapefile(tmp_path / "c.shp", survey_frame(), prj=False)
    result = run("import", str(path), "--region", "KZ-71", "--dry-run")
    assert result.exit_code == 1
    assert "pass --crs (likely: EPSG:32642 (WGS 84 / UTM zone 42N))" in result.output
    dry = run("import", str(path), "--region", "KZ-71", "--crs", "32642", "--dry-run", "--json")
    assert dry.exit_code == 0 and json.loads(dry.output)["status"] == "dry_run"
    assert plant_count() == 0
    unknown = run("import", str(path), "--region", "Atlantis")
    assert unknown.exit_code == 1 and "unknown region 'Atlantis'" in unknown.output


def test_import_help_and_undo(run, tmp_path: Path) -> None:
    result = run("import", "file", "--help")
    assert result.exit_code == 0 and "--allow-partial" in result.output
    assert "jasyl import undo BATCH" in run("import", "--help").output
    path = write_shapefile(tmp_path / "u.shp", survey_frame())
    batch = json.loads(run("import", str(path), "--region", "KZ-71", "--json").output)["batch_id"]
    undone = run("import", "undo", str(batch))
    assert undone.exit_code == 0
    assert undone.output == f"Batch {batch} undone: 3 plants removed, 0 reverted.\n"
    assert plant_count() == 0
    again = run("import", "undo", str(batch))
    assert again.exit_code == 1
    assert "only a finished import can be undone (it is undone)" in again.output
