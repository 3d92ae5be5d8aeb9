"""Looking species up by any name a forester might write."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.access import Actor, require_species_add, require_species_alias_write
from registry.audit.services import record_changes, record_creation
from registry.errors import DuplicateRecord, InvalidValue, NotFound
from registry.regions.models import NATURAL_ZONES
from registry.species.models import LEAF_TYPES, LIFE_FORMS, Species
from registry.species.names import code_of, looks_like_code, species_key
from registry.text import fold


def species_names(species: Species) -> set[str]:
    names = {species.latin, species.name_ru, species.name_kk, species.name_en, species.code}
    return {fold(n) for n in names | set(species.aliases) if n}


@dataclass(frozen=True)
class SpeciesMatch:
    species: Species
    score: float
    exact: bool


@dataclass(frozen=True)
class Proposal:
    """A written name the catalogue does not hold as written, and the species it might mean.

    ``reason`` says why each is only a candidate: ``near`` (a similar spelling), ``genus`` (the
    genus is known, the species is not), ``code`` (a survey code such as PINI) or ``unknown``
    (nothing close). Candidates are for a person to confirm; the importer never applies one.
    """

    written: str
    reason: str
    candidates: tuple[SpeciesMatch, ...]

    def listed(self) -> str:
        if not self.candidates:
            return "no species of the catalogue is close"
        return "; ".join(f"{m.species.latin} ({m.species.code})" for m in self.candidates)


class SpeciesIndex:
    """An in-memory index of the catalogue: names as written (folded) and as reduced keys.

    ``match`` accepts only a name the catalogue holds, after reductions that cannot change the
    taxon (``registry.species.names.species_key``); ``propose`` lists candidates for any other
    name. Build it once per import (the catalogue is small); lookups then cost microseconds.
    """

    def __init__(self, species: list[Species], extra_aliases: dict[str, str] | None = None):
        self.by_code = {s.code: s for s in species}
        self.by_name: dict[str, Species] = {}
        for item in species:
            for name in species_names(item):
                self.by_name.setdefault(name, item)
        for alias, code in (extra_aliases or {}).items():
            self.by_name[fold(alias)] = self.by_code[code]
        self.by_key: dict[str, Species] = {}
        for name, item in self.by_name.items():
            self.by_key.setdefault(species_key(name), item)
        self.by_short_code: dict[str, list[Species]] = {}
        for item in species:
            for short in code_of(item.latin):
                if short:
                    self.by_short_code.setdefault(short, []).append(item)
        # "Acer …", "клён …", "үйеңкі …": the species of a genus, its genus-level taxon first
        self.genera: dict[str, list[Species]] = {}
        for item in sorted(species, key=lambda s: s.rank != "genus"):
            self.genera.setdefault(fold(item.genus), []).append(item)
        for item in species:
            if item.rank == "genus":
                for name in (item.name_ru, item.name_kk):
                    self.genera[fold(name)] = self.genera[fold(item.genus)]
        self.names = list(self.by_name)

    @classmethod
    def load(cls, session: Session, extra_aliases: dict[str, str] | None = None) -> SpeciesIndex:
        return cls(list(session.scalars(select(Species))), extra_aliases)

    def candidates(
        self, name: str, limit: int = 3, cutoff: float = 60, among: list[Species] | None = None
    ) -> list[SpeciesMatch]:
        """Catalogue species whose names are spelled like ``name``, best first (whole names,
        not parts: "Carpinus" is not near "Pinus"); ``among`` narrows the search."""
        allowed = {s.id for s in among} if among is not None else None
        names = [n for n in self.names if allowed is None or self.by_name[n].id in allowed]
        found = process.extract(
            species_key(name), names, scorer=fuzz.ratio, limit=limit * 4, score_cutoff=cutoff
        )
        seen: dict[int, SpeciesMatch] = {}
        for candidate, score, _ in found:
            item = self.by_name[candidate]
            if item.id not in seen:
                seen[item.id] = SpeciesMatch(item, round(score, 1), False)
        return list(seen.values())[:limit]

    def match(self, name: str) -> SpeciesMatch | None:
        """The species ``name`` names exactly (by any catalogue name or alias, after the
        reductions of ``species_key``), or ``None``: then ``propose`` says what it might be."""
        found = self.by_name.get(fold(name)) or self.by_key.get(species_key(name))
        return SpeciesMatch(found, 100.0, True) if found else None

    def propose(self, name: str, limit: int = 3) -> Proposal:
        """Candidates for a name ``match`` does not know, and why each is only a candidate:
        a survey code's species (PINI → Pinus nigra), the species of a known genus with its
        genus-level taxon (Acer rubrum → Acer …, Acer sp.), or near spellings."""
        if looks_like_code(name) and name.strip() in self.by_short_code:
            found = self.by_short_code[name.strip()]
            return Proposal(name.strip(), "code", tuple(SpeciesMatch(s, 0.0, False) for s in found))
        words = species_key(name).split()
        genus = self.genera.get(words[0], []) if words else []
        if genus:
            near = self.candidates(name, limit, cutoff=0, among=genus)
            taxon = [SpeciesMatch(s, 0.0, False) for s in genus if s.rank == "genus"]
            best = near[0].score if near else 0
            near = [m for m in near if m.species.rank != "genus"]
            reason = "near" if best >= 85 else "genus"
            return Proposal(name.strip(), reason, tuple(near + taxon))
        near = self.candidates(name, limit)
        return Proposal(name.strip(), "near" if near else "unknown", tuple(near))

    def require(self, name: str) -> Species:
        found = self.match(name)
        if found:
            return found.species
        near = ", ".join(
            f"{m.species.name_ru} ({m.species.latin})" for m in self.propose(name).candidates
        )
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


# -- adding to the catalogue ----------------------------------------------------------------------
MAX_HEIGHT_M = Decimal(60)  # the catalogue's own bounds (tests/test_species.py)
MAX_TRUNK_DIAMETER_CM = Decimal(400)
LATIN = re.compile(
    r"^(?:× )?[A-Z][a-z]+(?: sp\.| (?:× )?[a-z][a-z-]+(?: (?:subsp|var|f)\. [a-z-]+)?)$"
)


@dataclass(frozen=True)
class NewSpecies:
    """What a person says about a species the catalogue lacks; nothing is filled in for them."""

    latin: str
    name_ru: str
    name_kk: str
    name_en: str
    life_form: str
    leaf_type: str
    max_height_m: Decimal
    max_trunk_diameter_cm: Decimal
    zones: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


def add_species(session: Session, actor: Actor, new: NewSpecies) -> Species:
    """Add a species to the catalogue (ministry and administrators), audited.

    A survey's species the catalogue lacks is added here rather than forced onto a neighbour.
    Its Latin name is written as botanists do ("Carpinus betulus", "Platanus × acerifolia",
    "Carpinus sp." for the genus); no name may already name another species, or matching
    would become ambiguous. Zones left out mean "not said", not "everywhere".
    """
    require_species_add(session, actor)
    latin, names = _latin(new.latin), _names(new)
    _check_choices(new)
    height = _limit("max_height_m", new.max_height_m, MAX_HEIGHT_M)
    trunk = _limit("max_trunk_diameter_cm", new.max_trunk_diameter_cm, MAX_TRUNK_DIAMETER_CM)
    aliases = [" ".join(a.split()) for a in new.aliases if a.strip()]
    index = SpeciesIndex.load(session)
    _check_unclaimed(index, [("latin", latin), *names.items(), *(("alias", a) for a in aliases)])
    species = Species(
        code=_code_of(latin),
        latin=latin,
        rank="genus" if latin.endswith(" sp.") else "species",
        genus=latin.removeprefix("× ").split()[0],
        life_form=new.life_form,
        leaf_type=new.leaf_type,
        max_height_m=height,
        max_trunk_diameter_cm=trunk,
        zones=list(dict.fromkeys(new.zones)),
        aliases=aliases,
        **names,
    )
    if species.code in index.by_code:
        raise DuplicateRecord(f"code: {species.code!r} is taken", field="code", code=species.code)
    session.add(species)
    session.flush()
    columns = ("code", "latin", *names, "rank", "genus", "life_form", "leaf_type", "zones")
    snapshot = {c: getattr(species, c) for c in columns}
    snapshot |= {"max_height_m": height, "max_trunk_diameter_cm": trunk, "aliases": aliases}
    record_creation(session, actor, "species", species.id, None, snapshot)
    return species


def _names(new: NewSpecies) -> dict[str, str]:
    """The kk, ru and en names with single spaces; each is required."""
    names = {"name_ru": new.name_ru, "name_kk": new.name_kk, "name_en": new.name_en}
    names = {field: " ".join(value.split()) for field, value in names.items()}
    for field, value in names.items():
        if not value:
            raise InvalidValue(
                field, "is required: the catalogue names every species in kk, ru, en"
            )
    return names


def _check_unclaimed(index: SpeciesIndex, names: list[tuple[str, str]]) -> None:
    """Refuse a name that already names a species: matching would become ambiguous."""
    for field, value in names:
        owner = index.match(value)
        if owner is not None:
            found = owner.species
            raise DuplicateRecord(
                f"{field}: {value!r} already names {found.name_ru} ({found.latin}, {found.code})",
                field=field,
                code=found.code,
            )


def _latin(written: str) -> str:
    """The Latin name with one hybrid sign (×) and single spaces, or an error saying the form."""
    words = [("×" if w.lower() in ("x", "×") else w) for w in written.replace("×", " × ").split()]
    latin = " ".join(words)
    if not LATIN.match(latin):
        raise InvalidValue(
            "latin",
            'must be a Latin name: "Genus epithet" (Carpinus betulus), a hybrid '
            '(Platanus × acerifolia) or "Genus sp." for a genus',
            written,
        )
    return latin


def _code_of(latin: str) -> str:
    """``carpinus_betulus``, ``platanus_x_acerifolia``, ``carpinus_sp``: as the catalogue's."""
    return re.sub(r"[^a-z]+", "_", latin.lower().replace("×", "x")).strip("_")


def _check_choices(new: NewSpecies) -> None:
    if new.life_form not in LIFE_FORMS:
        raise InvalidValue("life_form", f"must be one of {', '.join(LIFE_FORMS)}", new.life_form)
    if new.leaf_type not in LEAF_TYPES:
        raise InvalidValue("leaf_type", f"must be one of {', '.join(LEAF_TYPES)}", new.leaf_type)
    unknown = [z for z in new.zones if z not in NATURAL_ZONES]
    if unknown:
        raise InvalidValue("zones", f"must be among {', '.join(NATURAL_ZONES)}", unknown[0])


def _limit(field: str, value: Decimal, most: Decimal) -> Decimal:
    if not 0 < value <= most:
        raise InvalidValue(field, f"must be above 0 and at most {most}", str(value))
    return value
