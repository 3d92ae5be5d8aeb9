"""``jasyl export``: a layer to GeoPackage, shapefile, GeoJSON, CSV or XLSX, with a progress bar."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from gis.export import FORMATS
from registry.access import Actor, sees_internal_fields
from registry.db import unit_of_work
from registry.errors import InvalidValue
from registry.opendata import services
from registry.opendata.collections import COLLECTIONS, get_collection
from registry.opendata.rules import parse_query


def filters_of(region: str | None, filters: tuple[str, ...]) -> dict[str, str]:
    """``--filter condition=2 --filter species='Ulmus pumila'`` → the OGC API parameters."""
    args: dict[str, str] = {}
    for item in filters:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InvalidValue("--filter", "must look like NAME=VALUE", item)
        args[name.strip()] = value.strip()
    if region:
        args["region"] = region
    return args


@click.command("export")
@click.option(
    "--layer", required=True, type=click.Choice(list(COLLECTIONS)), help="What to export."
)
@click.option("--format", "fmt", required=True, type=click.Choice(FORMATS), help="File format.")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--region", help="Only this region (ISO code, KATO prefix or name).")
@click.option("--filter", "filters", multiple=True, help="NAME=VALUE on a layer property.")
@click.option("--datetime", "when", help="Changed at or within (RFC 3339 instant or a/b).")
@click.option("--cql", help="A CQL2 text filter on the layer's properties, as /ogc's filter=.")
@click.option("--public", is_flag=True, help="Only what the public may see (open data).")
def export(
    layer: str,
    fmt: str,
    output: Path,
    region: str | None,
    filters: tuple[str, ...],
    when: str | None,
    cql: str | None,
    public: bool,
) -> None:
    """Export a layer. Shapefiles come with a .cpg and a .fields.csv of shortened names."""
    actor = Actor.public() if public else Actor.system("jasyl export")
    collection = get_collection(layer)
    args = filters_of(region, filters)
    if when:
        args["datetime"] = when
    if cql:
        args["filter"] = cql
    query = parse_query(collection, args, sees_internal_fields(actor))
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())  # fmt: skip
    with (
        Progress(*columns, console=console, disable=not console.is_terminal) as progress,
        unit_of_work() as session,
    ):
        task = progress.add_task(f"{layer} → {output.name}", total=None)
        result = services.export_layer(
            session,
            actor,
            collection,
            query,
            fmt,
            output,
            on_start=lambda total: progress.update(task, total=total),
            advance=lambda n: progress.advance(task, n),
        )
    shown = ", ".join(str(f) for f in result.files)
    click.echo(f"Exported {result.rows:,} {layer} to {shown}")


commands = [export]
