"""Condition, status and planting-form words in any grammatical form, Russian or Kazakh, full or
abbreviated (issue #17, item 7): усыхающее was refused though усыхающие is category IV."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from importers.lemmas import Vocabulary, kazakh_stem
from importers.vocabulary import CONDITIONS, FORMS, STATUSES, condition_of
from registry.db import unit_of_work
from registry.errors import InvalidValue
from tests.import_files import ASTANA_LONLAT
from web.cli import main

# condition, form, status as written → (grade, hazardous, form, status) stored
ROWS = [
    ("усыхающее", "одиночное", "живое", (4, False, "solitary", "alive")),
    ("усыхающие", "одиночные", "живые", (4, False, "solitary", "alive")),
    ("Усыхающий", "солитер", "растёт", (4, False, "solitary", "alive")),
    ("сухостой", "групповая", "сухие", (5, False, "group", "dead")),
    ("свежего сухостоя", "группы", "сухое", (5, False, "group", "dead")),
    ("қурағандар", "топ", "тірі", (5, False, "group", "dead")),  # grade V is dead wood: a warning
    ("әлсіреген", "жеке", "тірілер", (2, False, "solitary", "alive")),
    ("апаттылар", "одиночн.", "живое", (4, True, "solitary", "alive")),
    ("неудовл.", "одиночное", "живое", (3, False, "solitary", "alive")),
    ("сильно ослабленное", "одиночное", "живое", (3, False, "solitary", "alive")),
]


def survey(tmp_path: Path, rows: list[tuple[str, str, str]], name: str = "words.gpkg") -> Path:
    frame = geopandas.GeoDataFrame(
        {
            "ИНВ": [f"W-{i + 1}" for i in range(len(rows))],
            "ПОРОДА": ["Вяз приземистый"] * len(rows),
            "СОСТОЯНИЕ": [r[0] for r in rows],
            "ФОРМА": [r[1] for r in rows],
            "СТАТУС": [r[2] for r in rows],
        },
        geometry=geopandas.points_from_xy(*zip(*ASTANA_LONLAT[: len(rows)], strict=True)),
        crs="EPSG:4326",
    )
    frame.to_file(tmp_path / name, driver="GPKG")
    return tmp_path / name


def stored() -> dict[str, tuple]:
    with unit_of_work() as session:
        rows = session.execute(
            text("SELECT inventory_number, condition, hazardous, planting_form, status FROM plants")
        )
        return {number: tuple(rest) for number, *rest in rows.all()}


@pytest.fixture
def jasyl(clean):
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_words_in_any_form_are_stored_as_their_meaning(jasyl, tmp_path: Path) -> None:
    path = survey(tmp_path, [r[:3] for r in ROWS])
    result = jasyl("import", path, "--region", "KZ-71", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["imported"] == len(ROWS)
    assert stored() == {f"W-{i + 1}": row[3] for i, row in enumerate(ROWS)}


@pytest.mark.parametrize(
    ("column", "row", "field"),
    [
        ("СОСТОЯНИЕ", ("зелёное", "одиночное", "живое"), "condition"),
        ("ФОРМА", ("хорошее", "квадратное", "живое"), "planting_form"),
        ("СТАТУС", ("хорошее", "одиночное", "летает"), "status"),
    ],
)
def test_a_word_found_nowhere_is_an_error_listing_the_accepted_words(
    jasyl, tmp_path: Path, column: str, row: tuple[str, str, str], field: str
) -> None:
    path = survey(tmp_path, [ROWS[0][:3], row])
    result = jasyl("import", path, "--region", "KZ-71", "--json")
    assert result.exit_code == 3 and stored() == {}
    [problem] = json.loads(result.output)["problems"]
    word = row[("СОСТОЯНИЕ", "ФОРМА", "СТАТУС").index(column)]
    assert (problem["row"], problem["field"], problem["value"]) == (2, column, word)
    accepted = {"condition": CONDITIONS, "planting_form": FORMS, "status": STATUSES}[field]
    assert f"({accepted.accepted()})" in problem["message"]
    assert f"[values.{field}]" in problem["message"]


def test_a_mapping_value_table_still_translates_the_surveys_own_words(
    jasyl, tmp_path: Path
) -> None:
    rows = [("Morto", "одиночное", "живое"), ("BUONO ", "одиночное", "живое")]
    rows += [("сухие", "одиночное", "живое"), ("сухостой", "одиночное", "живое")]
    path = survey(tmp_path, rows)
    mapping = tmp_path / "m.toml"
    # The survey's own words, and "сухое" meaning grade VI in this survey: in any form.
    table = '[values.condition]\nMorto = 6\nBuono = 1\n"сухое" = 6\n'
    mapping.write_text(table, encoding="utf-8")
    result = jasyl("import", path, "--region", "KZ-71", "--mapping", mapping)
    assert result.exit_code == 0, result.output
    assert {n: v[0] for n, v in stored().items()} == {"W-1": 6, "W-2": 1, "W-3": 6, "W-4": 5}


def test_two_meanings_are_no_meaning() -> None:
    """A prefix shared by words of two grades decides nothing."""
    words = Vocabulary({"сухостой": 5, "сухостойкий": 1})
    assert words.find("сухост") is None
    assert words.find("сухостоя") == 5  # a form of one word only


def test_kazakh_stems_and_plain_letters() -> None:
    assert kazakh_stem("қурағандары") == kazakh_stem("кураган") == "кураган"
    assert kazakh_stem("түбірлер") == kazakh_stem("түбір")
    with pytest.raises(InvalidValue, match="is not on the sanitary scale"):
        condition_of("ху")  # too short to be an abbreviation of anything
