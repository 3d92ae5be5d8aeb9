"""``jasyl tiles refresh``: rebuild the precomputed plants behind the map's tiles: the grid of
low zooms and the dots of z13–14."""

from __future__ import annotations

import click

from gis.plant_grid import refresh_dirty, refresh_dots
from registry.db import current_engine, unit_of_work
from registry.regions.services import resolve_region


@click.group("tiles")
def tiles() -> None:
    """The map's vector tiles."""


@tiles.command("refresh")
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="Region (ISO code, KATO or name) to rebuild even if current; repeatable. "
    "Default: every region written since its last rebuild.",
)
def refresh(regions: tuple[str, ...]) -> None:
    """Rebuild the plant grid of changed regions and the plant dots of changed z14 cells (after a
    big import, say; the map otherwise rebuilds them lazily and is exact meanwhile)."""
    chosen = None
    if regions:
        with unit_of_work() as session:
            chosen = [resolve_region(session, r).id for r in regions]
    rebuilt = refresh_dirty(current_engine(), chosen)
    if rebuilt:
        click.echo(f"Rebuilt the plant grid of {len(rebuilt)} region(s): {rebuilt}")
    else:
        click.echo("The plant grid is current; nothing to rebuild.")
    cells = refresh_dots(current_engine())
    click.echo(f"Rebuilt the plant dots of {cells} map cell(s).")


commands = [tiles]
