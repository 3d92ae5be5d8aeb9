"""A report's content as CSV and XLSX, the way an analyst expects it.

CSV is one long table (section, row fields, values) that any tool pivots. XLSX has one sheet per
section with a header row, the rows, and a totals row written as ``=SUM(...)`` formulas, so the
figures stay checkable in the workbook.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

SECTIONS = {
    "planting": (
        ["latin", "name_ru", "planting_form", "unit"],
        ["planned", "planted", "replanted", "compensatory"],
    ),
    "survival": (
        ["planting_year", "latin", "name_ru", "unit"],
        ["planted", "checked_1", "alive_1", "checked_3", "alive_3"],
    ),
    "care": (
        ["kind", "unit"],
        ["works", "planned_volume", "done_volume", "planned_cost", "done_cost"],
    ),
    "obligations": (
        ["number", "case", "felled_on", "due_on", "status"],
        ["trees", "ratio", "owed", "planted", "surviving", "outstanding"],
    ),
}


def section_rows(content: dict[str, Any], section: str) -> list[dict[str, Any]]:
    if section == "obligations":
        return content["felling"]["obligations"]
    return content[section]


def to_csv(content: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["region", "year", "section", "item", "measure", "value"])
    head = [content["region"]["iso"], content["year"]]
    for section, (labels, measures) in SECTIONS.items():
        for row in section_rows(content, section):
            item = " / ".join(str(row.get(k, "")) for k in labels)
            for measure in measures:
                writer.writerow([*head, section, item, measure, row.get(measure)])
    for grade, count in content["inventory"]["alive_by_condition"].items():
        writer.writerow([*head, "inventory", f"condition {grade}", "alive", count])
    return out.getvalue()


def to_xlsx(content: dict[str, Any]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for section, (labels, measures) in SECTIONS.items():
        sheet = book.create_sheet(section)
        sheet.append([*labels, *measures])
        for cell in sheet[1]:
            cell.font = bold
        rows = section_rows(content, section)
        for row in rows:
            sheet.append([row.get(k) for k in (*labels, *measures)])
        last = len(rows) + 1
        totals: list[Any] = ["total", *[""] * (len(labels) - 1)]
        for offset in range(len(measures)):
            column = get_column_letter(len(labels) + offset + 1)
            totals.append(f"=SUM({column}2:{column}{last})" if rows else 0)
        sheet.append(totals)
        for cell in sheet[sheet.max_row]:
            cell.font = bold
    inventory = book.create_sheet("inventory")
    inventory.append(["condition", "alive"])
    for grade, count in content["inventory"]["alive_by_condition"].items():
        # a grade I-VI as its number; unassessed plants under their own key (not_assessed)
        inventory.append([int(grade) if grade.isdigit() else grade, count])
    inventory.append(["total", f"=SUM(B2:B{inventory.max_row})"])
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
