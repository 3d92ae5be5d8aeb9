"""``jasyl species`` and ``jasyl regions``: the reference catalogues."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import click

from registry.access import Actor
from registry.benefits.services import describe_method
from registry.db import unit_of_work
from registry.regions.models import NATURAL_ZONES
from registry.regions.services import list_regions
from registry.species.models import LEAF_TYPES, LIFE_FORMS
from registry.species.services import (
    NewSpecies,
    add_species,
    get_species,
    keep_aliases,
    list_species,
)
from web.cli.nursery import AS_USER, acting


@click.group("species")
def species() -> None:
    """The species catalogue."""


@species.command("list")
@click.option("--search", help="Part of a Latin, Russian, Kazakh or English name or alias.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
def species_list(search: str | None, as_json: bool) -> None:
    """List species, optionally those matching --search."""
    with unit_of_work() as session:
        found = list_species(session, search)
        if as_json:
            click.echo(
                json.dumps(
                    [
                        {
                            "code": s.code,
                            "latin": s.latin,
                            "ru": s.name_ru,
                            "kk": s.name_kk,
                            "en": s.name_en,
                            "life_form": s.life_form,
                            "leaf_type": s.leaf_type,
                            "max_height_m": float(s.max_height_m),
                            "max_trunk_diameter_cm": float(s.max_trunk_diameter_cm),
                        }
                        for s in found
                    ],
                    ensure_ascii=False,
                )
            )
            return
        if not found:
            raise click.ClickException(f"no species matches {search!r}")
        for s in found:
            click.echo(f"{s.code:28} {s.latin:32} {s.name_ru:28} {s.name_kk}")


@species.command("add")
@click.option(
    "--latin", required=True, help='Latin name: "Carpinus betulus", "Platanus × acerifolia".'
)
@click.option("--ru", "name_ru", required=True, help="Russian name.")
@click.option("--kk", "name_kk", required=True, help="Kazakh name.")
@click.option("--en", "name_en", required=True, help="English name.")
@click.option("--life-form", type=click.Choice(LIFE_FORMS), required=True)
@click.option("--leaf-type", type=click.Choice(LEAF_TYPES), required=True)
@click.option(
    "--max-height", type=click.FLOAT, required=True, help="Plausible maximum height, m (≤ 60)."
)
@click.option(
    "--max-trunk-diameter",
    type=click.FLOAT,
    required=True,
    help="Plausible maximum trunk diameter, cm (≤ 400).",
)
@click.option(
    "--zone",
    "zones",
    multiple=True,
    type=click.Choice(NATURAL_ZONES),
    help="Natural zone (repeat).",
)
@click.option("--alias", "aliases", multiple=True, help="Another name surveys use (repeat).")
@AS_USER
def species_add(
    latin: str,
    name_ru: str,
    name_kk: str,
    name_en: str,
    life_form: str,
    leaf_type: str,
    max_height: float,
    max_trunk_diameter: float,
    zones: tuple[str, ...],
    aliases: tuple[str, ...],
    as_user: str | None,
) -> None:
    """Add a species the catalogue lacks (the ministry or an administrator; audited).

    A survey's species that is not in the catalogue is added here instead of being forced onto
    a neighbour; the next import then finds it by any of its names.
    """
    new = NewSpecies(
        latin,
        name_ru,
        name_kk,
        name_en,
        life_form,
        leaf_type,
        Decimal(str(max_height)),
        Decimal(str(max_trunk_diameter)),
        zones,
        aliases,
    )
    with unit_of_work() as session:
        added = add_species(session, acting(session, as_user), new)
        click.echo(f"added {added.code}: {added.latin} ({added.name_ru}, {added.name_kk})")


@species.group("alias")
def species_alias() -> None:
    """Other names the catalogue knows species by."""


@species_alias.command("keep")
@click.argument("mapping", type=click.Path(path_type=Path, dir_okay=False))
def species_alias_keep(mapping: Path) -> None:
    """Keep the [species] aliases of an import mapping file in the catalogue.

    Later surveys then match those spellings without the mapping file.
    """
    from importers.fields import load_mapping  # the mapping file's reader and its errors
    from importers.proposals import confirmed_lines

    aliases = confirmed_lines(load_mapping(mapping))
    if not aliases:
        raise click.ClickException(f"{mapping.name}: the mapping file has no [species] aliases")
    with unit_of_work() as session:
        kept = keep_aliases(session, Actor.system("jasyl species alias keep"), aliases)
    for alias, found in kept:
        click.echo(f"kept {alias!r} → {found.code} ({found.latin})")
    click.echo(f"{len(kept)} alias(es) kept, {len(aliases) - len(kept)} already known.")


@click.group("regions")
def regions() -> None:
    """The 20 regions."""


@regions.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
def regions_list(as_json: bool) -> None:
    """List regions with their ISO 3166-2 and KATO codes."""
    with unit_of_work() as session:
        found = list_regions(session)
        if as_json:
            click.echo(
                json.dumps(
                    [
                        {
                            "iso": r.iso_code,
                            "kato": r.kato,
                            "en": r.name_en,
                            "ru": r.name_ru,
                            "kk": r.name_kk,
                            "kind": r.kind,
                            "zones": r.zones,
                        }
                        for r in found
                    ],
                    ensure_ascii=False,
                )
            )
            return
        for r in found:
            click.echo(f"{r.iso_code:6} {r.kato:3} {r.name_en:26} {r.name_ru:32} {r.name_kk}")


commands = [species, regions]


@species.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def species_show(reference: str, as_json: bool) -> None:
    """A species and how its trees' benefits are computed: equation, fitted range, source."""
    with unit_of_work() as session:
        found = get_species(session, reference)
        method = describe_method(session, found.id)
    if as_json:
        card = {"code": found.code, "latin": found.latin, "life_form": found.life_form}
        click.echo(json.dumps({**card, "benefits": method}, ensure_ascii=False))
        return
    names = f"{found.name_ru} / {found.name_kk} / {found.name_en}"
    click.echo(f"{found.code}  {found.latin}  {names}")
    click.echo(f"life form: {found.life_form}, {found.leaf_type}")
    for line in method_lines(method):
        click.echo(line)


def method_lines(method: dict | None) -> list[str]:
    """The benefit method in words, one fact a line."""
    if method is None:
        return ["benefits: no method (counted among the plants without a method)"]
    lines = []
    for label in ("with_height", "diameter_only"):
        equation = method[f"equation_{label}"]
        if equation:
            low, high = equation["fitted_dbh_cm"]
            fitted = f"{low:g}–{high:g} cm" if low is not None else "not given: not clamped"
            lines.append(
                f"equation ({label.replace('_', ' ')}): {equation['code']} "
                f"[{equation['form']}], fitted DBH {fitted}"
            )
            lines.append(f"  source: {equation['source']}")
    density = method["wood_density_kg_m3"]
    lines.append(f"wood density: {f'{density:g} kg/m³' if density else '— (not used)'}")
    lines.append(f"growth class: {method['growth_class']}")
    leaf = method["leaf_area"]
    crown = "from the crown (Nowak 1996) where crown width and height are measured"
    area = f"{leaf['a']:g} + {leaf['b']:g}·D m²" if leaf else f"no equation: {crown}"
    lines.append(f"leaf area: {area}")
    if method["fallback"]:
        lines.append(f"fallback: {method['fallback']}")
    if method["source"]:
        lines.append(f"sources: {method['source']}")
    return lines
