"""``jasyl raster ndvi``: NDVI of a satellite image, per green space, stored with its date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from registry.access import Actor
from registry.db import unit_of_work
from registry.opendata import services


@click.group("raster")
def raster() -> None:
    """Raster imagery: NDVI per green space."""


@raster.command("ndvi")
@click.argument("image", type=click.Path(path_type=Path))
@click.option("--red", required=True, type=int, help="Band number (1-based) of red.")
@click.option("--nir", required=True, type=int, help="Band number (1-based) of near infrared.")
@click.option("--date", "when", type=click.DateTime(["%Y-%m-%d"]),
              help="Acquisition date (default: the image's TIFF date tag).")  # fmt: skip
@click.option("--threshold", default=services.DEFAULT_THRESHOLD, show_default=True, type=float,
              help="NDVI above which a pixel counts as vegetated.")  # fmt: skip
def ndvi(image: Path, red: int, nir: int, when: date | None, threshold: float) -> None:
    """Compute NDVI from IMAGE (a GeoTIFF in any CRS) for every green space it covers."""
    with unit_of_work() as session:
        record = services.record_ndvi(
            session,
            Actor.system("jasyl raster ndvi"),
            image,
            red,
            nir,
            when.date() if when else None,
            threshold,
        )
    click.echo(
        f"NDVI image {record.image_id} of {record.acquired_on:%Y-%m-%d} "
        f"({record.footprint_km2:.2f} km²): {record.green_spaces} green space(s) measured; "
        f"map overlay at /raster/ndvi/{record.image_id}.png"
    )


commands = [raster]
