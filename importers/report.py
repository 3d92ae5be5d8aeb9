"""What an import found and did: which column became which field, counts, and one line per
problem (file, row, field, value, why)."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importers.detection import ColumnUse

REPORT_COLUMNS = ("file", "row", "field", "value", "code", "message")


@dataclass(frozen=True)
class Problem:
    """One problem of one record; ``severity`` "error" rejects the row, "warning" does not."""

    file: str
    row: int | None
    field: str
    value: Any
    code: str
    message: str
    severity: str = "error"

    def line(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        shown = "" if self.value in (None, "") else f" (got {self.value!r})"
        return f"{self.file}, {where}, {self.field}: {self.message}{shown}"


@dataclass
class ImportReport:
    """The outcome of one import.

    ``status``: ``done`` (written), ``rejected`` (row errors, nothing written), ``dry_run``
    (checked, nothing written) or ``unchanged`` (this file was already imported).
    """

    file_name: str
    region: str
    status: str = "running"
    batch_id: int | None = None
    rows_read: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    conflicts: int = 0
    encoding: str | None = None
    crs: str | None = None
    problems: list[Problem] = field(default_factory=list)
    # Every column of the file: the field it fills or would fill, how decided, unit, why
    # (``importers.detection``); what a mapping template is written from.
    columns: list[ColumnUse] = field(default_factory=list)
    records: str | None = None  # "plants" or "green_spaces": what the rows became
    kept_aliases: list[str] = field(default_factory=list)
    # species names only a person may confirm (registry.species.services.Proposal)
    proposals: list[Any] = field(default_factory=list)
    # the distinct cells of the word columns (condition, status, planting form) and their rows
    words: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per phase

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return self.status in {"done", "dry_run", "unchanged"} and (
            self.status != "dry_run" or not self.errors
        )

    def summary(self) -> dict[str, Any]:
        return {
            "file": self.file_name,
            "region": self.region,
            "status": self.status,
            "batch_id": self.batch_id,
            "rows_read": self.rows_read,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "conflicts": self.conflicts,
            "warnings": len(self.warnings),
            "errors": len(self.errors),
            "encoding": self.encoding,
            "crs": self.crs,
            "records": self.records,
        }

    def as_dict(self, limit: int = 1000) -> dict[str, Any]:
        problems = [asdict(p) for p in self.problems[:limit]]
        rows = Counter(
            str(p.value).strip() for p in self.problems if p.code == "needs_confirmation"
        )
        seconds = {phase: round(spent, 2) for phase, spent in self.seconds.items()}
        return {
            **self.summary(),
            "kept_aliases": self.kept_aliases,
            "proposals": [proposal_dict(p, rows) for p in self.proposals],
            "columns": [asdict(use) for use in self.columns],
            "words": self.words,
            "seconds": seconds,
            "problems": problems,
        }

    def write_csv(self, path: Path) -> None:
        """The column table then the per-row problems as CSV (UTF-8 with BOM, so spreadsheet
        programs read Cyrillic): a column's line has no row, its field, the column's name as
        the value and ``column_<status>`` as the code."""
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(REPORT_COLUMNS)
            for use in self.columns:
                field_name = use.field or ""
                unit = f" [{use.unit}]" if use.unit else ""
                code = f"column_{use.status}"
                writer.writerow(
                    [self.file_name, "", field_name, use.column, code, use.reason + unit]
                )
            for p in self.problems:
                value = "" if p.value is None else p.value
                writer.writerow([p.file, p.row or "", p.field, value, p.code, p.message])


def proposal_dict(proposal: Any, rows: Counter) -> dict[str, Any]:
    """A species proposal as JSON: the name, why, its candidates and how many rows wrote it."""
    return {
        "written": proposal.written,
        "reason": proposal.reason,
        "candidates": [
            {"code": m.species.code, "latin": m.species.latin, "ru": m.species.name_ru}
            for m in proposal.candidates
        ],
        "rows": rows[proposal.written],
    }
