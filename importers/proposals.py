"""Species names a person must confirm: written into a mapping file, read back once confirmed.

An import never takes a species it was not told (``SpeciesIndex.match``); every other name
stops the import as a proposal (``importers.rows``). ``jasyl import FILE --dry-run
--write-mapping MAP.toml`` (and the upload page's dry run) writes the proposals into the
mapping template's ``[species]`` section (``importers.template``) as **commented lines**::

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

from importers.fields import Mapping, MappingError
from registry.species.services import Proposal, SpeciesIndex

UNCONFIRMED = {"", "?"}  # a [species] value that confirms nothing


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
