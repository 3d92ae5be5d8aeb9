"""A report's content as CSV and XLSX, the way an analyst expects it.

CSV is one long table (region, section, item, measure, value) that any tool pivots; XLSX has one
sheet per section with a header row, the rows, and a totals row written as ``=SUM(...)``
formulas, so the figures stay checkable in the workbook.

Both are read by people and by machines: every code (species, region, planting form, unit, kind
of care) keeps its own column, and its name in the reader's language stands beside it. The
registry knows no request, so the caller says the language and hands over the names of the
registry's terms (``web.labels.export_terms``: forms, units and kinds of care, translated);
species and region names travel in the report's content itself.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from registry.benefits.projection import FIGURES, HORIZONS
from registry.inventory.models import CONDITION_GRADES

LANGUAGES = ("ru", "kk", "en")  # the order of CONDITION_GRADES' names


@dataclass(frozen=True)
class Reader:
    """Who reads an export: their language and the names of the terms, per code column
    (``{"unit": {"pieces": "дана"}, ...}``); a code without a name is shown as itself."""

    language: str = "ru"
    terms: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


class Section(NamedTuple):
    """A section's sheet columns, the codes and names that make a CSV item, and its figures."""

    labels: list[str]
    codes: list[str]
    names: list[str]
    measures: list[str]


# A name column and the code column it names ("name" is the species' name in the reader's tongue).
NAME_OF = {
    "name": "species",
    "form_name": "planting_form",
    "unit_name": "unit",
    "kind_name": "kind",
}
SECTIONS = {
    "planting": Section(
        ["species", "latin", "name", "planting_form", "form_name", "unit", "unit_name"],
        ["species", "planting_form", "unit"],
        ["name", "form_name", "unit_name"],
        ["planned", "planted", "replanted", "compensatory"],
    ),
    "survival": Section(
        ["planting_year", "species", "latin", "name", "unit", "unit_name"],
        ["planting_year", "species", "unit"],
        ["planting_year", "name", "unit_name"],
        ["planted", "checked_1", "alive_1", "checked_3", "alive_3"],
    ),
    "seed_origins": Section(
        ["seed_zone", "collection_place", "supplier"],
        ["seed_zone", "collection_place", "supplier"],
        ["seed_zone", "collection_place", "supplier"],
        ["planted", "checked_1", "alive_1", "checked_3", "alive_3"],
    ),
    "care": Section(
        ["kind", "kind_name", "unit", "unit_name"],
        ["kind", "unit"],
        ["kind_name", "unit_name"],
        ["works", "planned_volume", "done_volume", "planned_cost", "done_cost"],
    ),
    "plan_projections": Section(
        ["plan", "title", "season"],
        ["plan"],
        ["title"],
        [
            *(f"{figure}_{years}y" for years in HORIZONS for figure in FIGURES),
            "lines_without_method",
            "lines_without_survival_rate",
        ],
    ),
    "obligations": Section(
        ["number", "case", "felled_on", "due_on", "status"],
        ["number", "case", "felled_on", "due_on", "status"],
        ["number", "case", "felled_on", "due_on", "status"],
        ["trees", "ratio", "owed", "planted", "surviving", "outstanding"],
    ),
}


def section_rows(content: dict[str, Any], section: str) -> list[dict[str, Any]]:
    if section == "obligations":
        return content["felling"]["obligations"]
    return content.get(section, [])  # an edition built before the section was added lacks it


def cell(row: Mapping[str, Any], column: str, reader: Reader) -> Any:
    """A row's value in ``column``: a name column reads its code out in the reader's language
    (a species by its catalogue names, Russian when that language's is missing)."""
    if column == "name":
        return row.get(f"name_{reader.language}") or row.get("name_ru") or row.get("latin")
    if column in NAME_OF:
        code = row.get(NAME_OF[column])
        if code is None:
            return None  # nothing to name: the cell stays empty, as its code's does
        return str(reader.terms.get(NAME_OF[column], {}).get(code, code))
    return row.get(column)


def region_name(content: dict[str, Any], reader: Reader) -> str:
    region = content["region"]
    return region.get(f"name_{reader.language}") or region.get("name_ru") or region["iso"]


def condition_name(grade: str, reader: Reader) -> str:
    """A condition grade (1–6) by its name; unassessed plants by the term ``not_assessed``."""
    if grade.isdigit():
        names = CONDITION_GRADES[int(grade)]
        return names[LANGUAGES.index(reader.language) if reader.language in LANGUAGES else 0]
    return str(reader.terms.get("condition", {}).get(grade, grade))


def to_csv(content: dict[str, Any], reader: Reader | None = None) -> str:
    reader = reader or Reader()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["region", "region_name", "year", "section", "item", "item_name", "measure", "value"]
    )
    region = [content["region"]["iso"], region_name(content, reader), content["year"]]
    for name, section in SECTIONS.items():
        for row in section_rows(content, name):
            item = " / ".join(str(cell(row, k, reader) or "") for k in section.codes)
            named = " / ".join(str(cell(row, k, reader) or "") for k in section.names)
            for measure in section.measures:
                writer.writerow([*region, name, item, named, measure, row.get(measure)])
    for grade, count in content["inventory"]["alive_by_condition"].items():
        named = condition_name(grade, reader)
        writer.writerow([*region, "inventory", f"condition {grade}", named, "alive", count])
    return out.getvalue()


def to_xlsx(content: dict[str, Any], reader: Reader | None = None) -> bytes:
    reader = reader or Reader()
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for name, section in SECTIONS.items():
        sheet = book.create_sheet(name)
        sheet.append([*section.labels, *section.measures])
        for heading in sheet[1]:
            heading.font = bold
        rows = section_rows(content, name)
        for row in rows:
            sheet.append([cell(row, k, reader) for k in (*section.labels, *section.measures)])
        last = len(rows) + 1
        totals: list[Any] = ["total", *[""] * (len(section.labels) - 1)]
        for offset in range(len(section.measures)):
            column = get_column_letter(len(section.labels) + offset + 1)
            totals.append(f"=SUM({column}2:{column}{last})" if rows else 0)
        sheet.append(totals)
        for total in sheet[sheet.max_row]:
            total.font = bold
    inventory = book.create_sheet("inventory")
    inventory.append(["condition", "condition_name", "alive"])
    for grade, count in content["inventory"]["alive_by_condition"].items():
        # a grade I-VI as its number; unassessed plants under their own key (not_assessed)
        key = int(grade) if grade.isdigit() else grade
        inventory.append([key, condition_name(grade, reader), count])
    inventory.append(["total", "", f"=SUM(C2:C{inventory.max_row})"])
    region = book.create_sheet("region", 0)
    region.append(["region", "region_name", "year"])
    region.append([content["region"]["iso"], region_name(content, reader), content["year"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rows_to_xlsx(rows: list[dict[str, Any]], labels: list[str], measures: list[str]) -> bytes:
    """Any table of figures as a one-sheet workbook with a ``=SUM`` totals row."""
    book = Workbook()
    sheet = book.active
    sheet.title = "figures"
    sheet.append([*labels, *measures])
    for row in rows:
        sheet.append([row.get(k) for k in (*labels, *measures)])
    last = len(rows) + 1
    totals: list[Any] = ["total", *[""] * (len(labels) - 1)]
    for offset in range(len(measures)):
        column = get_column_letter(len(labels) + offset + 1)
        totals.append(f"=SUM({column}2:{column}{last})" if rows else 0)
    sheet.append(totals)
    for cell in [*sheet[1], *sheet[sheet.max_row]]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
