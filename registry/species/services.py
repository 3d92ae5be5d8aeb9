"""Looking species up by any name a forester might write."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.access import Actor, require_species_alias_write
from registry.audit.services import record_changes
from registry.errors import InvalidValue, NotFound
from registry.species.models import Species
from registry.text import fold


def species_names(species: Species) -> set[str]:
    names = {species.latin, species.name_ru, species.name_kk, species.name_en, species.code}
    return {fold(n) for n in names | set(species.aliases) if n}


@dataclass(frozen=True)
class SpeciesMatch:
    species: Species
    score: float
    exact: bool


class SpeciesIndex:
    """An in-memory index of the catalogue: exact folded names first, then fuzzy candidates.

    Build it once per import (the catalogue is small); lookups then cost microseconds.
    """

    def __init__(self, species: list[Species], extra_aliases: dict[str, str] | None = None):
        self.by_code = {s.code: s for s in species}
        self.by_name: dict[str, Species] = {}
        for item in species:
            for name in species_names(item):
                self.by_name.setdefault(name, item)
        for alias, code in (extra_aliases or {}).items():
            self.by_name[fold(alias)] = self.by_code[code]
        self.names = list(self.by_name)

    @classmethod
    def load(cls, session: Session, extra_aliases: dict[str, str] | None = None) -> SpeciesIndex:
        return cls(list(session.scalars(select(Species))), extra_aliases)

    def candidates(self, name: str, limit: int = 3, cutoff: float = 60) -> list[SpeciesMatch]:
        key = fold(name)
        found = process.extract(
            key, self.names, scorer=fuzz.WRatio, limit=limit * 3, score_cutoff=cutoff
        )
        seen: dict[int, SpeciesMatch] = {}
        for candidate, score, _ in found:
            item = self.by_name[candidate]
            if item.id not in seen:
                seen[item.id] = SpeciesMatch(item, score, False)
        return list(seen.values())[:limit]

    def match(self, name: str, min_score: float = 90) -> SpeciesMatch | None:
        """The species ``name`` means, or ``None`` when it is unknown or ambiguous."""
        key = fold(name)
        if key in self.by_name:
            return SpeciesMatch(self.by_name[key], 100.0, True)
        best = self.candidates(name, limit=2)
        if not best or best[0].score < min_score:
            return None
        if len(best) > 1 and best[1].score >= best[0].score - 2:
            return None
        return best[0]

    def require(self, name: str) -> Species:
        found = self.match(name)
        if found:
            return found.species
        near = ", ".join(f"{m.species.name_ru} ({m.species.latin})" for m in self.candidates(name))
        raise NotFound(
            f"unknown species {name!r}" + (f"; did you mean: {near}" if near else ""),
            reference=name,
        )


def list_species(session: Session, search: str | None = None) -> list[Species]:
    species = list(session.scalars(select(Species).order_by(Species.latin)))
    if not search:
        return species
    wanted = fold(search)
    return [s for s in species if any(wanted in name for name in species_names(s))]


def get_species(session: Session, reference: int | str) -> Species:
    """By id, code or any name (exact after folding)."""
    if isinstance(reference, int) or str(reference).isdigit():
        found = session.get(Species, int(reference))
        if found:
            return found
    return SpeciesIndex.load(session).require(str(reference))


def keep_aliases(
    session: Session, actor: Actor, aliases: Mapping[str, str]
) -> list[tuple[str, Species]]:
    """Keep a mapping file's ``[species]`` aliases (alias → any catalogue name) in the catalogue.

    Later surveys then match these spellings without the mapping file. An alias that already
    names the same species is skipped; one that names another species is refused (matching
    would become ambiguous), and so is a name the catalogue does not know. Returns the aliases
    added, each audited on its species.
    """
    require_species_alias_write(session, actor, None)
    index = SpeciesIndex.load(session)
    kept: list[tuple[str, Species]] = []
    for alias, name in aliases.items():
        species = index.require(name)
        spelling = " ".join(alias.split())
        owner = index.by_name.get(fold(spelling))
        if owner is not None and owner.id != species.id:
            raise InvalidValue(
                "alias",
                f"already names {owner.name_ru} ({owner.latin}), not {species.latin}",
                alias,
            )
        if owner is not None or not spelling:
            continue
        before = list(species.aliases)
        species.aliases = [*before, spelling]
        index.by_name[fold(spelling)] = species
        record_changes(
            session,
            actor,
            "species",
            species.id,
            None,
            {"aliases": (before, species.aliases)},
            action="keep_alias",
        )
        kept.append((spelling, species))
    session.flush()
    return kept
