"""NDVI of satellite images per green space: who may record it, where, and what is kept.

An image is known by the SHA-256 of its file(s): the same image recorded again replaces the
figures it gave before, instead of a second row per green space. Each green space's figures keep
the share of its area the image covered with valid pixels; under ``FULL_COVER`` the figures
describe only a part of it, so the caller reports them apart instead of mixing them silently
with whole ones. An image must lie (partly) in Kazakhstan, and a forester's in their own region;
only the green spaces of the regions ``registry.access`` grants get figures.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from gis import ndvi
from registry.access import Actor, ndvi_regions, require_ndvi_write, sees_internal_fields
from registry.audit.services import record_creation
from registry.config import load_limits
from registry.errors import InvalidValue, NotFound
from registry.inventory.models import GreenSpace
from registry.opendata.models import GreenSpaceNdvi, NdviImage

DEFAULT_THRESHOLD = 0.3
FULL_COVER = 0.9  # below this covered share a green space's figures are reported as partial


@dataclass(frozen=True)
class MeasuredSpace:
    """One green space's figures on one image, as stored."""

    green_space_id: int
    name: str
    region_id: int
    mean: float
    minimum: float
    maximum: float
    vegetated_share: float
    covered_share: float
    pixels: float  # coverage-weighted count of valid pixels

    @property
    def partly_covered(self) -> bool:
        return self.covered_share < FULL_COVER


@dataclass(frozen=True)
class NdviRecord:
    image_id: int
    acquired_on: date
    footprint_km2: float
    replaced: bool  # the same image was recorded before; its figures were replaced
    measured: list[MeasuredSpace] = field(default_factory=list)

    @property
    def green_spaces(self) -> int:
        return len(self.measured)

    @property
    def partly_covered(self) -> list[MeasuredSpace]:
        return [space for space in self.measured if space.partly_covered]


def content_hash(red: ndvi.Band, nir: ndvi.Band) -> str:
    """SHA-256 of the image's bytes: one file's, or red's then NIR's when they are two."""
    digest = hashlib.sha256()
    paths = dict.fromkeys(Path(band.path).resolve() for band in (red, nir))
    for path in paths:
        with path.open("rb") as source:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def regions_under(session: Session, footprint: BaseGeometry) -> set[int]:
    """The regions of Kazakhstan an image's footprint (EPSG:4326) touches."""
    found = session.scalars(
        text("SELECT id FROM regions WHERE ST_Intersects(boundary, ST_GeomFromEWKB(:footprint))"),
        {"footprint": shapely.to_wkb(shapely.set_srid(footprint, 4326), include_srid=True)},
    )
    return set(found)


def record_ndvi(
    session: Session,
    actor: Actor,
    red: ndvi.Band,
    nir: ndvi.Band,
    acquired_on: date | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    scale: float = 1.0,
    offset: float = 0.0,
) -> NdviRecord:
    """Compute NDVI from an image and store each allowed green space's figures for its date."""
    require_ndvi_write(session, actor)
    if not -1 <= threshold <= 1:
        raise InvalidValue("--threshold", "must lie between -1 and 1 (an NDVI value)", threshold)
    image = ndvi.read_bands(red, nir, scale, offset, load_limits().raster_max_pixels)
    when = acquired_on or image.acquired_on
    if when is None:
        raise InvalidValue(
            "--date", "the image carries no acquisition date; give --date YYYY-MM-DD"
        )
    footprint = image.footprint_wgs84()
    regions = regions_under(session, footprint)
    if not regions:
        west, south, east, north = footprint.bounds
        raise InvalidValue(
            "image", f"lies outside Kazakhstan (it covers {west:.2f}…{east:.2f}° E, "
            f"{south:.2f}…{north:.2f}° N, no region of the registry)", str(red.path),
        )  # fmt: skip
    require_ndvi_write(session, actor, regions)
    record, replaced = _image_row(session, actor, image, footprint, red, nir, when, threshold)
    allowed = ndvi_regions(actor)
    measured = _measure(session, image, footprint, threshold, allowed)
    _replace_figures(session, record, measured, allowed)
    record_creation(session, actor, "ndvi_image", record.id, None, {
        "file_name": record.file_name, "acquired_on": when, "green_spaces": len(measured),
        "replaced": replaced,
    })  # fmt: skip
    area = session.scalar(select(func.ST_Area(func.geography(NdviImage.footprint)))
                          .where(NdviImage.id == record.id))  # fmt: skip
    return NdviRecord(record.id, when, float(area) / 1e6, replaced, measured)


def _image_row(
    session: Session,
    actor: Actor,
    image: ndvi.NdviImage,
    footprint: BaseGeometry,
    red: ndvi.Band,
    nir: ndvi.Band,
    when: date,
    threshold: float,
) -> tuple[NdviImage, bool]:
    """The image's row: the one recorded before with the same content hash, updated, or new."""
    digest = content_hash(red, nir)
    record = session.scalar(
        select(NdviImage).where(NdviImage.file_sha256 == digest).with_for_update()
    )
    replaced = record is not None
    if record is None:
        record = NdviImage(file_sha256=digest)
        session.add(record)
    names = dict.fromkeys(Path(band.path).name for band in (red, nir))
    png, (west, south, east, north) = ndvi.overlay_png(image)
    record.acquired_on, record.file_name = when, " + ".join(names)
    record.source_crs = image.crs.to_string()
    record.red_band, record.nir_band = red.number, nir.number
    record.threshold, record.pixel_size = threshold, image.pixel_size
    record.footprint = from_shape(footprint, srid=4326)
    record.overlay_png = png
    record.overlay_west, record.overlay_south = west, south
    record.overlay_east, record.overlay_north = east, north
    record.user_id = actor.user_id
    session.flush()
    return record, replaced


def _measure(
    session: Session,
    image: ndvi.NdviImage,
    footprint: BaseGeometry,
    threshold: float,
    allowed: frozenset[int] | None,
) -> list[MeasuredSpace]:
    """The figures of every green space under the image in the ``allowed`` regions."""
    spaces = session.execute(
        text(
            "SELECT id, name, region_id, ST_AsBinary(geom) AS wkb FROM green_spaces "
            "WHERE geom && ST_GeomFromEWKB(:footprint) "
            "AND ST_Intersects(geom, ST_GeomFromEWKB(:footprint)) "
            "AND (CAST(:every AS boolean) OR region_id = ANY(:regions)) ORDER BY id"
        ),
        {
            "footprint": shapely.to_wkb(shapely.set_srid(footprint, 4326), include_srid=True),
            "every": allowed is None,
            "regions": sorted(allowed or ()),
        },
    ).all()
    polygons = shapely.from_wkb([bytes(space.wkb) for space in spaces])
    figures = ndvi.zonal_figures(image, polygons, threshold)
    return [
        MeasuredSpace(
            space.id,
            space.name,
            space.region_id,
            found.mean,
            found.minimum,
            found.maximum,
            found.vegetated_share,
            found.covered_share,
            found.pixels,
        )  # fmt: skip
        for space, found in zip(spaces, figures, strict=True)
        if found is not None
    ]


def _replace_figures(
    session: Session,
    record: NdviImage,
    measured: list[MeasuredSpace],
    allowed: frozenset[int] | None,
) -> None:
    """This image's earlier figures in the ``allowed`` regions give way to ``measured``."""
    earlier = delete(GreenSpaceNdvi).where(GreenSpaceNdvi.image_id == record.id)
    if allowed is not None:
        in_scope = select(GreenSpace.id).where(GreenSpace.region_id.in_(allowed))
        earlier = earlier.where(GreenSpaceNdvi.green_space_id.in_(in_scope))
    session.execute(earlier)
    session.add_all(
        GreenSpaceNdvi(
            image_id=record.id,
            green_space_id=space.green_space_id,
            acquired_on=record.acquired_on,
            ndvi_mean=space.mean,
            ndvi_min=space.minimum,
            ndvi_max=space.maximum,
            vegetated_share=space.vegetated_share,
            covered_share=space.covered_share,
            pixels=space.pixels,
        )
        for space in measured
    )


def ndvi_images(session: Session) -> list[NdviImage]:
    """Every NDVI image, newest first (the overlay layers of the map)."""
    return list(session.scalars(select(NdviImage).order_by(NdviImage.acquired_on.desc())))


def ndvi_image(session: Session, image_id: int) -> NdviImage:
    found = session.get(NdviImage, image_id)
    if found is None:
        raise NotFound(f"NDVI image {image_id} does not exist", id=image_id)
    return found


def ndvi_history(session: Session, actor: Actor, green_space_id: int) -> list[GreenSpaceNdvi]:
    """A green space's NDVI over time, oldest first; unpublished spaces only for staff."""
    space = session.get(GreenSpace, green_space_id)
    if space is None or not (space.published or sees_internal_fields(actor)):
        raise NotFound(f"green space {green_space_id} does not exist", id=green_space_id)
    return list(
        session.scalars(
            select(GreenSpaceNdvi)
            .where(GreenSpaceNdvi.green_space_id == green_space_id)
            .order_by(GreenSpaceNdvi.acquired_on, GreenSpaceNdvi.id)
        )
    )
