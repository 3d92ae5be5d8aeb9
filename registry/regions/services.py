"""Finding regions by any name or code people use for them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.errors import NotFound
from registry.regions.models import Region
from registry.text import fold


def list_regions(session: Session) -> list[Region]:
    return list(session.scalars(select(Region).order_by(Region.id)))


def region_keys(region: Region) -> set[str]:
    """Every spelling that names ``region``: ISO code, KATO prefix, kk/ru/en names, aliases."""
    names = {region.iso_code, region.kato, region.name_en, region.name_ru, region.name_kk}
    return {fold(n) for n in names | set(region.aliases)}


def resolve_region(session: Session, reference: str | int) -> Region:
    """``KZ-75``, ``75``, ``Almaty`` or ``Алматы`` → the region; else an error listing them all."""
    wanted = fold(str(reference))
    regions = list_regions(session)
    for region in regions:
        if wanted in region_keys(region):
            return region
    valid = ", ".join(f"{r.iso_code} ({r.name_en})" for r in regions)
    raise NotFound(
        f"unknown region {reference!r}; valid regions: {valid}", reference=str(reference)
    )


def region_at(session: Session, ewkt: str) -> int | None:
    """The region a geometry (EWKT, any SRID) lies in, as the database trigger decides it."""
    geometry = func.ST_Transform(func.ST_GeomFromEWKT(ewkt), 4326)
    return session.scalar(select(func.jasyl_region_at(geometry)))
