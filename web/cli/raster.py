"""``jasyl raster ndvi``: NDVI of a satellite image, per green space, stored with its date.

Red and NIR come from one multiband file (``IMAGE --red 1 --nir 4``) or from one file each, as
Landsat and Sentinel deliver them (``--red B04.jp2 --nir B08.jp2``, ``FILE:BAND`` for another
band than the first). The command acts as the system operator unless ``--as EMAIL`` names a
user, whose role and region then decide (through ``registry.access``) what they may record.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path

import click

from gis.ndvi import Band
from registry.db import unit_of_work
from registry.errors import InvalidValue
from registry.opendata import ndvi as services
from web.cli.nursery import AS_USER, acting


@click.group("raster")
def raster() -> None:
    """Raster imagery: NDVI per green space."""


def _band(option: str, value: str, image: Path | None) -> Band:
    """``--red``/``--nir``: a band number of IMAGE, or FILE[:BAND] without IMAGE."""
    if image is not None:
        if not value.isdigit():
            raise InvalidValue(option, "with IMAGE give a band number; without it FILE[:BAND]",
                               value)  # fmt: skip
        return Band(image, int(value))
    return Band.parse(option, value)


@raster.command("ndvi")
@click.argument("image", required=False, type=click.Path(path_type=Path))
@click.option("--red", required=True, metavar="FILE[:BAND]|BAND",
              help="Red: FILE[:BAND] (band 1 if not given), or a band of IMAGE.")  # fmt: skip
@click.option("--nir", required=True, metavar="FILE[:BAND]|BAND",
              help="Near infrared: FILE[:BAND], or a band number of IMAGE.")  # fmt: skip
@click.option("--scale", default=1.0, show_default=True, type=float,
              help="Reflectance = DN × scale + offset (Landsat C2 L2: 0.0000275).")  # fmt: skip
@click.option("--offset", default=0.0, show_default=True, type=float,
              help="Added after --scale (Landsat C2 L2: -0.2; Sentinel-2 since 2022: -0.1 "
              "with --scale 0.0001).")  # fmt: skip
@click.option("--date", "when", type=click.DateTime(["%Y-%m-%d"]),
              help="Acquisition date (default: the image's TIFF date tag).")  # fmt: skip
@click.option("--threshold", default=services.DEFAULT_THRESHOLD, show_default=True, type=float,
              help="NDVI above which a pixel counts as vegetated.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the figures of every green space.")
@AS_USER
def ndvi(image: Path | None, red: str, nir: str, scale: float, offset: float,
         when: date | None, threshold: float, as_json: bool,
         as_user: str | None) -> None:  # fmt: skip
    """Compute NDVI (GeoTIFF or any raster GDAL reads, any CRS) for every green space it covers.

    The same image recorded again replaces its earlier figures. Green spaces the image covers
    under 90 % (off its edge, under nodata) are listed: their figures describe only that part.
    """
    with unit_of_work() as session:
        record = services.record_ndvi(
            session,
            acting(session, as_user),
            _band("--red", red, image),
            _band("--nir", nir, image),
            when.date() if when else None,
            threshold,
            scale,
            offset,
        )
    if as_json:
        click.echo(json.dumps(_as_json(record), ensure_ascii=False))
        return
    _print(record)


def _as_json(record: services.NdviRecord) -> dict:
    return {
        "image_id": record.image_id,
        "acquired_on": record.acquired_on.isoformat(),
        "footprint_km2": round(record.footprint_km2, 3),
        "replaced": record.replaced,
        "full_cover": services.FULL_COVER,
        "green_spaces": [
            {**asdict(space), "partly_covered": space.partly_covered} for space in record.measured
        ],
    }


def _print(record: services.NdviRecord) -> None:
    again = " (the same image as before: its figures replaced)" if record.replaced else ""
    click.echo(
        f"NDVI image {record.image_id} of {record.acquired_on:%Y-%m-%d} "
        f"({record.footprint_km2:.2f} km²){again}: {record.green_spaces} green space(s) "
        f"measured; map overlay at /raster/ndvi/{record.image_id}.png"
    )
    partial = record.partly_covered
    if partial:
        click.echo(
            f"{len(partial)} green space(s) covered under {services.FULL_COVER:.0%} "
            "(their figures describe only the covered part):"
        )
        for space in partial:
            click.echo(f"  {space.green_space_id} {space.name}: {space.covered_share:.0%} covered")


commands = [raster]
