"""A region's report as CSV and XLSX names what it counts in the reader's language (species,
region, kind of care, unit, planting form, condition) beside the codes a machine reads, over
the HTTP API (the signed-in reader's language) and ``jasyl report show --language``."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import text

from registry.db import unit_of_work
from tests.test_report_names import registry_with_everything  # noqa: F401 (a fixture)
from tests.web_client import sign_in
from web.app import create_app
from web.cli import main

TERMS = {
    # sanitary pruning, pieces, solitary, not assessed: the catalogues' words
    "kk": ("санитарлық бұтау", "дана", "жеке"),
    "ru": ("санитарная обрезка", "шт.", "солитер"),
    "en": ("sanitary pruning", "pcs", "solitary"),
}
NAMES = text(
    """
    SELECT (SELECT name_{lang} FROM regions WHERE iso_code = 'KZ-71'),
           (SELECT name_{lang} FROM species WHERE latin = 'Ulmus pumila')
    """
)


def catalogue_names(clean, language: str) -> tuple[str, str]:
    with unit_of_work(clean) as session:
        return tuple(session.execute(text(NAMES.text.format(lang=language))).one())


def check_csv(data: str, language: str, region: str, elm: str) -> None:
    rows = list(csv.DictReader(io.StringIO(data)))
    assert {(r["region"], r["region_name"]) for r in rows} == {("KZ-71", region)}
    planted = next(
        r
        for r in rows
        if r["section"] == "planting"
        and r["measure"] == "planted"
        and r["item"] == "ulmus_pumila / solitary / pieces"
    )
    pruning, pieces, solitary = TERMS[language]
    assert planted["item_name"] == f"{elm} / {solitary} / {pieces}"
    assert planted["value"] == "30.0"
    care = next(r for r in rows if r["section"] == "care" and r["measure"] == "done_volume")
    assert care["item"] == "pruning_sanitary / pieces"
    assert care["item_name"] == f"{pruning} / {pieces}"


def check_xlsx(data: bytes, language: str, region: str, elm: str) -> None:
    book = load_workbook(io.BytesIO(data))
    assert [c.value for c in book["region"][2]] == ["KZ-71", region, 2024]
    planting = [[c.value for c in row] for row in book["planting"].iter_rows()]
    pruning, pieces, solitary = TERMS[language]
    assert planting[0][:7] == [
        "species", "latin", "name", "planting_form", "form_name", "unit", "unit_name"
    ]  # fmt: skip
    assert next(row for row in planting if row[0] == "ulmus_pumila")[:7] == [
        "ulmus_pumila", "Ulmus pumila", elm, "solitary", solitary, "pieces", pieces
    ]  # fmt: skip
    care = [[c.value for c in row] for row in book["care"].iter_rows()]
    assert care[1][:4] == ["pruning_sanitary", pruning, "pieces", pieces]


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_reports_exports_over_http_name_things_in_the_readers_language(
    registry_with_everything,  # noqa: F811
    clean,
    language,
) -> None:
    region, elm = catalogue_names(clean, language)
    client = create_app({"TESTING": True}).test_client()
    assert sign_in(client, f"{language}@gov.kz").status_code == 302
    answer = client.get("/api/v1/reports/KZ-71/2024?format=csv")
    assert answer.status_code == 200
    check_csv(answer.get_data(as_text=True), language, region, elm)
    check_xlsx(client.get("/api/v1/reports/KZ-71/2024?format=xlsx").data, language, region, elm)


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_jasyl_report_show_writes_names_in_the_language_asked(
    registry_with_everything,  # noqa: F811
    clean,
    language,
    tmp_path,
) -> None:
    region, elm = catalogue_names(clean, language)
    show = ["report", "show", "--region", "KZ-71", "--year", "2024", "--language", language]
    runner = CliRunner()
    printed = runner.invoke(main, [*show, "--format", "csv"], catch_exceptions=False)
    assert printed.exit_code == 0, printed.output
    check_csv(printed.output, language, region, elm)
    target = tmp_path / f"report-{language}.xlsx"
    written = runner.invoke(main, [*show, "--format", "xlsx", "--output", str(target)])
    assert written.exit_code == 0, written.output
    check_xlsx(target.read_bytes(), language, region, elm)


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_figures_tables_of_jasyl_report_name_their_codes(
    registry_with_everything,  # noqa: F811
    clean,
    language,
    tmp_path,
) -> None:
    """``jasyl report national|planting|care`` put a name column beside each code column."""
    region, elm = catalogue_names(clean, language)
    pruning, pieces, solitary = TERMS[language]
    runner = CliRunner()
    national = runner.invoke(
        main,
        ["report", "national", "--year", "2024", "--by", "region,species,form"]
        + ["--format", "csv", "--language", language],
    )
    assert national.exit_code == 0, national.output
    rows = list(csv.DictReader(io.StringIO(national.output)))
    assert list(rows[0])[:6] == [
        "region", "region_name", "species", "species_name", "form", "form_name"
    ]  # fmt: skip
    astana_elm = next(r for r in rows if (r["region"], r["species"]) == ("KZ-71", "ulmus_pumila"))
    assert (astana_elm["region_name"], astana_elm["species_name"]) == (region, elm)
    assert (astana_elm["form"], astana_elm["form_name"]) == ("solitary", solitary)
    target = tmp_path / "care.xlsx"
    care = runner.invoke(
        main,
        ["report", "care", "--year", "2024", "--region", "KZ-71", "--format", "xlsx"]
        + ["--output", str(target), "--language", language],
    )
    assert care.exit_code == 0, care.output
    sheet = [[c.value for c in row] for row in load_workbook(target)["figures"].iter_rows()]
    assert sheet[0][:4] == ["kind", "kind_name", "unit", "unit_name"]
    assert sheet[1][:4] == ["pruning_sanitary", pruning, "pieces", pieces]
    planting = runner.invoke(
        main,
        ["report", "planting", "--year", "2024", "--region", "KZ-71", "--format", "csv"]
        + ["--language", language],
    )
    elm_row = next(
        r for r in csv.DictReader(io.StringIO(planting.output)) if r["latin"] == "Ulmus pumila"
    )
    assert (elm_row["species_name"], elm_row["unit_name"]) == (elm, pieces)


def test_a_name_column_reads_its_code_or_stays_empty() -> None:
    """No code, no name (never the word None); a code the terms do not know is shown as itself;
    a species without a Kazakh name is named in Russian."""
    from registry.reports.exports import Reader, cell

    reader = Reader("kk", {"unit": {"pieces": "дана"}})
    assert cell({"unit": None}, "unit_name", reader) is None
    assert cell({"unit": "pieces"}, "unit_name", reader) == "дана"
    assert cell({"unit": "bushels"}, "unit_name", reader) == "bushels"
    assert cell({"name_kk": "", "name_ru": "вяз приземистый"}, "name", reader) == "вяз приземистый"
