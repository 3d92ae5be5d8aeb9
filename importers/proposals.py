"""Species names a person must confirm: written into a mapping file, read back once confirmed.

An import never takes a species it was not told (``SpeciesIndex.match``); every other name
stops the import as a proposal (``importers.rows``). ``jasyl import FILE --dry-run
--write-mapping MAP.toml`` (and the upload page's dry run) writes the proposals into the
mapping's ``[species]`` section as **commented lines**::

    [species]
    # "Acer saccharum" = "acer_saccharinum"  # 3 rows; spelled like: Acer saccharinum …
    # "Carpinus betulus" = "?"  # 5 rows; no species of the catalogue is close …

**Confirmed** means: the line is uncommented (the ``# `` before it removed) and its value names
a catalogue species (code or any catalogue name), edited if the proposed one is wrong. A line
left commented, or whose value is ``"?"`` or empty, is not confirmed and the name stops the
next import again. A species the catalogue lacks is added with ``jasyl species add``, after
which the name matches without any line at all.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

from importers.fields import Mapping, MappingError
from importers.report import ImportReport
from registry.species.services import Proposal, SpeciesIndex

UNCONFIRMED = {"", "?"}  # a [species] value that confirms nothing
SECTION = re.compile(r"^\s*\[species\]\s*(#.*)?$")
INSTRUCTIONS = """\
# Proposed by jasyl import {file} --write-mapping ({day}): these species names are not in the
# catalogue as written, so the import stopped and nothing was written. To confirm one, remove
# the "# " before its line; if the species after "=" is not the one meant, write the right
# code or catalogue name (jasyl species list --search ...). A line left commented, or with "?",
# still stops the import. A species the catalogue lacks can be added: jasyl species add --help.
"""


def confirmed_lines(mapping: Mapping) -> dict[str, str]:
    """The ``[species]`` lines a person confirmed, as written (``"?"`` and empty ones left out)."""
    return {k: v for k, v in mapping.species.items() if v.strip() not in UNCONFIRMED}


def confirmed_aliases(index: SpeciesIndex, mapping: Mapping) -> dict[str, str]:
    """The mapping's confirmed ``[species]`` lines as written name → catalogue code.

    Unconfirmed lines (``"?"`` or empty) are left out, so their names stay proposals. A value
    that is not a catalogue name as written is an error naming the line: it was meant as a
    confirmation, and confirming a near spelling would be a guess again.
    """
    aliases: dict[str, str] = {}
    for written, meant in confirmed_lines(mapping).items():
        found = index.match(meant)
        if found is None:
            proposal = index.propose(meant)
            raise MappingError(
                f'mapping [species] "{written}" = "{meant}": "{meant}" is not a catalogue code '
                f"or name; candidates: {proposal.listed()}"
            )
        aliases[written] = found.species.code
    return aliases


def proposal_line(proposal: Proposal, rows: int) -> str:
    """One commented ``[species]`` line: the name, the species proposed, the candidates."""
    genus = [m for m in proposal.candidates if m.species.rank == "genus"]
    if proposal.reason in ("near", "code") and proposal.candidates:
        meant = proposal.candidates[0].species.code
    elif proposal.reason == "genus" and genus:
        meant = genus[0].species.code  # true of the tree, if coarse: the genus, not a neighbour
    else:
        meant = "?"
    why = {
        "near": "spelled like",
        "genus": "the catalogue's species of this genus",
        "code": "a survey code of",
        "unknown": "no species of the catalogue is close; add it (jasyl species add)",
    }[proposal.reason]
    listed = f": {proposal.listed()}" if proposal.candidates else ""
    key = json.dumps(proposal.written, ensure_ascii=False)
    return f'# {key} = "{meant}"  # {rows} row(s); {why}{listed}'


def proposals_text(report: ImportReport) -> str:
    """The proposals of an import as the commented lines of a ``[species]`` section."""
    rows = Counter(str(p.value).strip() for p in report.problems if p.code == "needs_confirmation")
    lines = [proposal_line(p, rows[p.written]) for p in report.proposals]
    header = INSTRUCTIONS.format(file=report.file_name, day=date.today().isoformat())
    return header + "\n".join(lines) + "\n"


def merged_mapping(base: str, report: ImportReport) -> str:
    """``base`` (a mapping's TOML text, maybe empty) with the proposals in its ``[species]``.

    Earlier proposal lines for the same names are replaced, so a second dry run does not
    repeat them; everything else in ``base`` is kept as the person wrote it.
    """
    written = {json.dumps(p.written, ensure_ascii=False) for p in report.proposals}
    kept = [
        line
        for line in base.splitlines()
        if not any(line.startswith(f"# {key} = ") for key in written)
    ]
    block = proposals_text(report).rstrip("\n").splitlines()
    at = next((i for i, line in enumerate(kept) if SECTION.match(line)), None)
    if at is None:
        if kept and kept[-1].strip():
            kept.append("")
        return "\n".join([*kept, "[species]", *block]) + "\n"
    return "\n".join([*kept[: at + 1], *block, *kept[at + 1 :]]) + "\n"


def proposed_mapping(report: ImportReport, base: Path | None) -> str | None:
    """The mapping to confirm: ``base`` (a TOML mapping, if any) with the report's proposals
    in its ``[species]``; ``None`` when there is nothing to confirm."""
    if not report.proposals:
        return None
    usable = base is not None and base.suffix.lower() == ".toml" and base.exists()
    return merged_mapping(base.read_text(encoding="utf-8") if usable else "", report)


def write_proposals(target: Path, report: ImportReport, mapping: Path | None) -> int:
    """Write the report's proposals into ``target`` (TOML); returns how many were written.

    The text starts from ``target`` if it exists, else from the ``--mapping`` file used, so the
    written file is the whole mapping to run the next import with. Nothing is written when
    there is nothing to confirm.
    """
    if target.suffix.lower() != ".toml":
        raise MappingError(f"{target.name}: --write-mapping writes TOML; name a .toml file")
    text = proposed_mapping(report, target if target.exists() else mapping)
    if text is None:
        return 0
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"{target}: cannot write the mapping ({exc.strerror})") from None
    return len(report.proposals)
