"""``jasyl benefits rain set``: a region's rain events and precipitation, from a named source."""

from __future__ import annotations

import click

from registry.benefits.rain import set_rain
from registry.db import unit_of_work
from web.cli.nursery import AS_USER, acting


@click.group("benefits")
def benefits() -> None:
    """Reference data of the tree benefits that people supply."""


@benefits.group("rain")
def rain() -> None:
    """A region's rain: what rain interception needs."""


@rain.command("set")
@click.option("--region", required=True, help="KZ-71, 71, Astana or Астана.")
@click.option("--annual-mm", required=True, type=float, help="Yearly precipitation, mm.")
@click.option("--events", required=True, type=int, help="Rain events a year (a count).")
@click.option("--source", required=True, help="Where the figures come from (station, years).")
@AS_USER
def rain_set(region, annual_mm, events, source, as_user) -> None:
    """Set the region's rain (ministry or admin; audited); its benefit totals are recounted."""
    with unit_of_work() as session:
        stored = set_rain(session, acting(session, as_user), region, annual_mm, events, source)
    click.echo(
        f"{stored['region']}: {stored['annual_mm']:g} mm a year in "
        f"{stored['rain_events_per_year']:g} rain events ({stored['source']}); "
        "the region's benefit totals were recounted."
    )


commands = [benefits]
