"""A complete mapping template from one import: what a person reads, corrects and runs with.

``jasyl import FILE --dry-run --write-mapping MAP.toml`` (and the upload page's dry run) writes
every decision the import made about the file, so that nothing it took for granted is hidden:

* ``[columns]``: each column the import reads, as an active line (``height = "ВЫС_М"``); each
  column it only *proposes* (dates or codes under a number's or species' name) as a commented
  line with the reason; ignored columns as ``##`` notes saying why.
* ``[units]``: the unit read from a column name (``trunk_diameter = "in"``) as an active line;
  where the name says none, the registry's own unit as a commented line, for the person to
  confirm or correct.
* ``[values.condition]``, ``[values.status]``, ``[values.planting_form]``: the file's distinct
  words with their meaning; a word the importer understands is an active line
  (``"усыхающее" = 4``), one it does not is a commented ``"?"`` line, refused until the person
  writes its meaning (a ``"?"`` left in place confirms nothing: ``vocabulary.unconfirmed``).
* ``[species]``: the species names to confirm (``importers.proposals``).

Active lines describe what the import already does, so running with the template changes no
decision; commented lines change nothing until the ``# `` is removed. A template written into
an existing TOML mapping keeps every line the person wrote and only adds keys it lacks;
``##`` notes and earlier commented proposals are rewritten on each run, so runs do not pile up.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from importers.fields import TARGET_UNITS, Mapping, MappingError, load_mapping
from importers.proposals import confirmed_lines, proposal_line
from importers.report import ImportReport
from importers.rows import condition_cell, status_cell
from importers.vocabulary import WORD_FIELDS, form_of, translated
from registry.errors import InvalidValue
from registry.inventory.models import PlantingForm, PlantStatus

NOTE = "## "  # a line the template writes and rewrites; the person's own comments are kept
HEADER = """\
## Mapping template written by: jasyl import {file} --write-mapping ({day}).
## Lines without "#" are what the import read or understood: correct any that is wrong.
## A line starting with "# " is a proposal, not used: remove the "# " to confirm it (after
## correcting it if need be). A value "?" confirms nothing. Lines starting with "## " are notes,
## rewritten on each run. Then run: jasyl import {file} --mapping THIS_FILE
"""
SPECIES_NOTE = """\
## Species names not in the catalogue as written: the import stops until each is confirmed.
## Remove the "# " to confirm one; if the species after "=" is not the one meant, write the
## right code or catalogue name (jasyl species list --search ...). A species the catalogue lacks
## can be added: jasyl species add --help."""
MEANINGS = {
    "condition": 'a grade 1–6 (or "аварийное" for a hazardous IV), or a status: '
    + ", ".join(s.value for s in PlantStatus if s != PlantStatus.ALIVE),
    "status": "one of " + ", ".join(s.value for s in PlantStatus),
    "planting_form": "one of " + ", ".join(f.value for f in PlantingForm),
}


@dataclass
class Line:
    """One ``key = value`` line of a section, active or commented, with a note after it."""

    key: str
    value: Any
    active: bool
    note: str = ""

    def text(self) -> str:
        line = f"{_key(self.key)} = {_value(self.value)}"
        line = line if self.active else f"# {line}"
        return f"{line}  # {self.note}" if self.note else line


@dataclass
class Section:
    """A TOML table (``""``: the top level, before any table) and its lines and notes."""

    name: str
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)  # key → line written as it is (species)

    def block(self, keep: set[str]) -> list[str]:
        """The section's lines, leaving out keys the person's file already sets."""
        return [
            *(NOTE + n for n in self.notes),
            *(line.text() for line in self.lines if line.key not in keep),
            *(text for key, text in self.raw.items() if key not in keep),
        ]

    def stale(self, keep: set[str]) -> tuple[str, ...]:
        """How earlier commented proposals of the keys written now start (to replace them)."""
        keys = [line.key for line in self.lines] + list(self.raw)
        quoted = {json.dumps(k, ensure_ascii=False) for k in keys if k not in keep}
        return tuple(f"# {k} = " for k in quoted | {_key(k) for k in keys if k not in keep})


# -- what the template says ---------------------------------------------------------------------
def sections(report: ImportReport, mapping: Mapping) -> list[Section]:
    """The template's sections, from the report's column table, words and proposals."""
    found = [_top(mapping), _columns(report, mapping), _units(report, mapping)]
    found.append(Section("defaults", [Line(k, v, True) for k, v in mapping.defaults.items()]))
    found += [_values(report, mapping, name) for name in WORD_FIELDS if name in report.words]
    found.append(_species(report, mapping))
    return [s for s in found if s.lines or s.notes or s.raw]


def _top(mapping: Mapping) -> Section:
    top = Section("")
    for key in ("crs", "encoding", "layer", "records"):
        if getattr(mapping, key):
            top.lines.append(Line(key, getattr(mapping, key), True))
    return top


def _columns(report: ImportReport, mapping: Mapping) -> Section:
    """Field = column: the mapping's as written, then what was recognised, proposed, ignored."""
    section = Section("columns")
    for name, source in mapping.columns.items():
        section.lines.append(Line(name, source, True, "" if source else "ignored by the mapping"))
    for name, parts in mapping.combined.items():
        section.lines.append(Line(name, list(parts), True, "joined by the mapping"))
    for use in report.columns:
        if use.status == "recognised":
            section.lines.append(Line(use.field, use.column, True, f"recognised {use.reason}"))
        elif use.status == "proposed":
            name = "lat_lon" if use.field == "coordinates" else use.field
            why = use.reason.split("; if so")[0]
            if use.field == "coordinates":
                why += '; or lon_lat = "…" if longitude comes first'
            section.lines.append(Line(name, use.column, False, f"proposed: {why}"))
        elif use.status == "ignored":
            column = json.dumps(use.column, ensure_ascii=False)
            section.notes.append(f"{column} is ignored: {use.reason}")
    return section


def _units(report: ImportReport, mapping: Mapping) -> Section:
    """The unit of each measured column: the name's or mapping's, else the registry's own,
    commented (an assumption the person confirms or corrects)."""
    section = Section("units")
    for name, unit in mapping.units.items():
        section.lines.append(Line(name, unit, True))
    for use in report.columns:
        if use.field not in TARGET_UNITS or use.status == "ignored" or use.field in mapping.units:
            continue
        if use.unit and use.status != "proposed":
            section.lines.append(Line(use.field, use.unit, True, f"from {use.column!r}"))
        elif use.unit:
            section.lines.append(Line(use.field, use.unit, False, f"from {use.column!r}"))
        else:
            own = TARGET_UNITS[use.field]
            why = f"{use.column!r} names no unit: the registry's own ({own}) is assumed"
            section.lines.append(Line(use.field, own, False, why))
    return section


def _values(report: ImportReport, mapping: Mapping, name: str) -> Section:
    """A word column's distinct cells and what the import makes of each."""
    section = Section(f"values.{name}")
    counted = sorted(report.words[name].items(), key=lambda item: -item[1])
    meant = meanings(name, [cell for cell, _ in counted], mapping.values.get(name, {}))
    for (cell, rows), value in zip(counted, meant, strict=True):
        if value is REFUSED:
            section.lines.append(Line(cell, "?", False, f"{rows} row(s); write {MEANINGS[name]}"))
        else:
            section.lines.append(Line(cell, value, True, f"{rows} row(s)"))
    return section


REFUSED = object()  # a cell the import refuses: only a person can say what it means


def meanings(name: str, cells: list[str], table: dict[str, Any]) -> list[Any]:
    """What the import makes of each of a word column's cells, written as a mapping value that
    means the same (a grade, "аварийное", a status or form; "" for a cell read as empty);
    ``REFUSED`` for a cell the import refuses. The mapping's table is applied once for all."""
    values = translated(name, np.array(cells, dtype=object), table)
    return [_meaning(name, value) for value in values]


def _meaning(name: str, value: Any) -> Any:
    try:
        if name == "condition":
            graded = condition_cell(value)
            if graded is None or isinstance(graded, PlantStatus):
                return graded.value if graded else ""
            return "аварийное" if graded[1] else graded[0]
        if name == "status":
            said = status_cell(value)
            return said.value if said else ""
        return form_of(value) or ""
    except InvalidValue:
        return REFUSED


def _species(report: ImportReport, mapping: Mapping) -> Section:
    section = Section("species")
    for written, meant in confirmed_lines(mapping).items():
        section.lines.append(Line(written, meant, True))
    if report.proposals:
        rows: dict[str, int] = {}
        for p in report.problems:
            if p.code == "needs_confirmation":
                rows[str(p.value).strip()] = rows.get(str(p.value).strip(), 0) + 1
        section.notes = SPECIES_NOTE.splitlines()
        section.notes = [n.removeprefix(NOTE) for n in section.notes]
        for proposal in report.proposals:
            section.raw[proposal.written] = proposal_line(proposal, rows.get(proposal.written, 0))
    return section


# -- written into the person's file -------------------------------------------------------------
def template_text(report: ImportReport, mapping: Path | None, base: Path | None = None) -> str:
    """The template for ``report``: ``base`` (the person's TOML mapping, if any, else the
    ``--mapping`` file if it is TOML) with what it lacks added (see the module docstring)."""
    return _template(report, mapping, base)[0]


def _template(
    report: ImportReport, mapping: Path | None, base: Path | None
) -> tuple[str, list[Section]]:
    loaded = load_mapping(mapping) if mapping is not None and mapping.exists() else Mapping()
    start = base if base is not None and base.exists() else mapping
    usable = start is not None and start.suffix.lower() == ".toml" and start.exists()
    text = start.read_text(encoding="utf-8") if usable else ""
    name = start.name if usable else "the mapping"
    found = sections(report, loaded)
    return merged(text, found, report.file_name, name), found


def check_base(target: Path) -> None:
    """Refuse, before anything is imported, a ``--write-mapping`` file that exists but is not
    a TOML mapping the template could be added to (its text is the person's: never replaced)."""
    if not target.exists():
        return
    try:
        text = target.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise MappingError(f"{target.name}: the mapping file is not UTF-8 text") from None
    merged(text, [], target.name, target.name)


def merged(base: str, found: list[Section], file_name: str, name: str) -> str:
    """``base`` with the sections' lines it lacks; raises ``MappingError`` if ``base`` is not
    TOML or the result would not be (a table written inline, which lines cannot be added to)."""
    parsed = _parsed(base, name)
    lines = [line for line in base.splitlines() if not line.startswith(NOTE.strip())]
    header = HEADER.format(file=file_name, day=date.today().isoformat()).splitlines()
    for section in found:
        keep = set(_table(parsed, section.name))
        lines = _into(lines, section, keep)
    while lines and not lines[0].strip():
        lines.pop(0)
    text = "\n".join([*header, "", *lines]) + "\n"
    _parsed(text, name, merged=True)
    return text


def _into(lines: list[str], section: Section, keep: set[str]) -> list[str]:
    """``lines`` with ``section``'s block at the end of its table (a new table at the end of
    the file if none), earlier commented proposals for the same keys removed."""
    block = section.block(keep)
    if not block:
        return lines
    start, end = _span(lines, section.name)
    if start is None:
        return [*lines, "", f"[{section.name}]", *block]
    at = start + 1 if section.name else start  # after the header; the top level has none
    body = [line for line in lines[at:end] if not line.startswith(section.stale(keep))]
    while body and not body[-1].strip():
        body.pop()  # the person's lines first, then what they lack, then the next table
    gap = [""] if end < len(lines) else []
    return [*lines[:at], *body, *block, *gap, *lines[end:]]


def _span(lines: list[str], name: str) -> tuple[int | None, int]:
    """Where a table's lines are: from its header (or the top, for ``""``) to the next one."""
    headers = [i for i, line in enumerate(lines) if _HEADER.match(line)]
    if not name:
        return 0, headers[0] if headers else len(lines)
    own = [i for i in headers if _HEADER.match(lines[i])[1].strip() == name]
    if not own:
        return None, len(lines)
    end = next((i for i in headers if i > own[0]), len(lines))
    return own[0], end


_HEADER = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")


def _parsed(text: str, name: str, merged: bool = False) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if merged:
            why = "its tables are not written as [section] headers, so lines cannot be added"
            raise MappingError(f"{name}: the template cannot be added: {why} ({exc})") from None
        raise MappingError(f"{name}: the mapping file cannot be read ({exc})") from None


def _table(parsed: dict[str, Any], name: str) -> dict[str, Any]:
    table: Any = parsed
    for part in name.split(".") if name else []:
        table = table.get(part, {}) if isinstance(table, dict) else {}
    return table if isinstance(table, dict) else {}


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def write_template(target: Path, report: ImportReport, mapping: Path | None) -> dict[str, int]:
    """Write the template into ``target`` (TOML); returns what it holds to confirm, per kind.

    The text starts from ``target`` if it exists, else from the ``--mapping`` file used, so the
    written file is the whole mapping to run the next import with.
    """
    if target.suffix.lower() != ".toml":
        raise MappingError(f"{target.name}: --write-mapping writes TOML; name a .toml file")
    text, found = _template(report, mapping, target)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"{target}: cannot write the mapping ({exc.strerror})") from None
    words = [line for s in found if s.name.startswith("values.") for line in s.lines]
    return {
        "columns": sum(1 for u in report.columns if u.status in ("mapped", "recognised")),
        "proposed_columns": sum(1 for u in report.columns if u.status == "proposed"),
        "words": len(words),
        "unknown_words": sum(1 for line in words if not line.active),
        "species": len(report.proposals),
    }
