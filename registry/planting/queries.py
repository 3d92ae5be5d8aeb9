"""Read-only views of planting plans: the planned plantings inside a map view, and a plan's
lines with the names people read.

Plans are a region's business: the ministry and planners see every region's, a forester only
their own region's, the public and nursery staff none (``registry.access.readable_regions``).
Their number per view is bounded (a region plans tens to hundreds of lines a year, not millions
of plants), so the map asks for them as GeoJSON per view rather than as cached vector tiles,
which could not carry a per-region audience.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from registry.access import Actor, deny, readable_regions
from registry.errors import InvalidValue
from registry.inventory.models import GreenSpace
from registry.planting.models import PlantingPlanLine
from registry.species.models import Species

MAX_FEATURES = 2000
PLANNED_IN_VIEW = text(
    """
    SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f), '[]'))
    FROM (
        SELECT json_build_object(
            'type', 'Feature',
            'id', l.id,
            'geometry', ST_AsGeoJSON(ST_SimplifyPreserveTopology(
                coalesce(l.area, g.geom), :tolerance), 6)::json,
            'properties', json_build_object(
                'line_id', l.id, 'plan_id', p.id, 'region_id', p.region_id, 'year', p.year,
                'season', p.season::text, 'status', p.status::text, 'title', p.title,
                'species', CASE :lang WHEN 'kk' THEN s.name_kk WHEN 'en' THEN s.name_en
                                      ELSE s.name_ru END,
                'latin', s.latin, 'quantity', l.quantity::float, 'unit', l.unit::text,
                'green_space_id', l.green_space_id, 'green_space', g.name)) AS f
        FROM planting_plan_lines l
        JOIN planting_plans p ON p.id = l.plan_id
        JOIN species s ON s.id = l.species_id
        LEFT JOIN green_spaces g ON g.id = l.green_space_id
        WHERE coalesce(l.area, g.geom) && ST_MakeEnvelope(:west, :south, :east, :north, 4326)
          AND p.year >= :year_from
          AND (CAST(:regions AS int[]) IS NULL OR p.region_id = ANY (CAST(:regions AS int[])))
        ORDER BY p.year, l.id
        LIMIT :limit
    ) AS features
    """
)


def parse_bbox(raw: str | None) -> tuple[float, float, float, float]:
    """``west,south,east,north`` in degrees, or ``InvalidValue("bbox", …)``."""
    try:
        west, south, east, north = (float(part) for part in (raw or "").split(","))
    except ValueError:
        raise InvalidValue("bbox", "must be west,south,east,north in degrees", raw) from None
    inside = -180 <= west < east <= 180 and -90 <= south < north <= 90
    if not inside:
        raise InvalidValue("bbox", "must be west < east, south < north, within ±180/±90", raw)
    return west, south, east, north


def planned_in_view(
    session: Session,
    actor: Actor,
    bbox: tuple[float, float, float, float],
    year_from: int,
    lang: str = "ru",
) -> dict[str, Any]:
    """Plan lines (drawn areas, or their target green spaces) inside ``bbox`` planned for
    ``year_from`` or later, as a GeoJSON FeatureCollection, in the regions ``actor`` may read."""
    regions = readable_regions(actor)
    if regions is not None and not regions:
        deny(session, actor, "read", "planting plans", None, None, "sign in to see planting plans")
    west, south, east, north = bbox
    params = {
        "west": west,
        "south": south,
        "east": east,
        "north": north,
        "year_from": year_from,
        "regions": None if regions is None else sorted(regions),
        "lang": lang,
        "limit": MAX_FEATURES,
        "tolerance": (east - west) / 2000,  # about a pixel of a wide screen
    }
    return session.execute(PLANNED_IN_VIEW, params).scalar()


def named_plan_lines(
    session: Session, plan_id: int
) -> list[tuple[PlantingPlanLine, str, str | None]]:
    """A plan's lines, each with its species' Latin name and its green space's name (None when
    the line names no green space): a forester reads names, not ids (issue #22). The caller
    has already checked that the plan may be read (``services.get_plan``)."""
    query = (
        select(PlantingPlanLine, Species.latin, GreenSpace.name)
        .join(Species, Species.id == PlantingPlanLine.species_id)
        .outerjoin(GreenSpace, GreenSpace.id == PlantingPlanLine.green_space_id)
        .where(PlantingPlanLine.plan_id == plan_id)
        .order_by(PlantingPlanLine.id)
    )
    return [(line, latin, space) for line, latin, space in session.execute(query)]
