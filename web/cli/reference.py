"""``jasyl species`` and ``jasyl regions``: the reference catalogues."""

from __future__ import annotations

import json

import click

from registry.db import unit_of_work
from registry.regions.services import list_regions
from registry.species.services import list_species


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
