"""Reading the inventory as an actor may see it: filtered lists with keyset paging, what lies
at a clicked point, search by number or name, a region's numbers, and the public view of a record.

What the public may see is decided by ``registry.access.sees_internal_fields`` alone: unpublished
records are invisible and internal fields (notes, inspector names, audit history) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from registry.access import Actor, require_role, sees_internal_fields
from registry.audit.models import AuditEntry
from registry.audit.services import history, jsonable
from registry.errors import InvalidValue, NotFound
from registry.inventory.models import GreenSpace, Inspection, Plant, PlantStatus
from registry.inventory.services import (
    INTERNAL_FIELDS,
    PLANT_FIELDS,
    get_plant,
    inspections_of,
)
from registry.species.models import Species

MAX_PAGE = 1000
WORLD_METRES = 40_075_016.685578488
TILE_PIXELS = 256


@dataclass(frozen=True)
class PlantFilter:
    """The filters the map and the API share; each empty tuple or ``None`` means "any"."""

    species_ids: tuple[int, ...] = ()
    conditions: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    region_ids: tuple[int, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    green_space_id: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (
            self.species_ids
            or self.conditions
            or self.statuses
            or self.region_ids
            or self.year_from
            or self.year_to
            or self.green_space_id
            or self.bbox
        )

    def sql_params(self) -> dict[str, Any]:
        """Bind values for the tile SQL, where ``NULL`` means "no filter"."""
        return {
            "species": list(self.species_ids) or None,
            "conditions": list(self.conditions) or None,
            "statuses": list(self.statuses) or None,
            "regions": list(self.region_ids) or None,
            "year_from": self.year_from,
            "year_to": self.year_to,
        }


def parse_filter(args: dict[str, str]) -> PlantFilter:
    """Filters from query-string values (``species=3,7&condition=4,5&year_from=2010``)."""

    def ints(name: str, low: int = 1, high: int = 2**31 - 1) -> tuple[int, ...]:
        raw = (args.get(name) or "").strip()
        if not raw:
            return ()
        try:
            values = tuple(int(v) for v in raw.split(",") if v.strip())
        except ValueError:
            raise InvalidValue(name, "must be whole numbers separated by commas", raw) from None
        if any(not low <= v <= high for v in values):
            raise InvalidValue(name, f"values must lie between {low} and {high}", raw)
        return values

    def one(name: str) -> int | None:
        values = ints(name, 0)
        return values[0] if values else None

    statuses = tuple(s for s in (args.get("status") or "").split(",") if s)
    valid = {s.value for s in PlantStatus}
    if set(statuses) - valid:
        raise InvalidValue("status", f"must be among {', '.join(sorted(valid))}", args["status"])
    bbox = None
    if args.get("bbox"):
        try:
            west, south, east, north = (float(v) for v in args["bbox"].split(","))
        except ValueError:
            raise InvalidValue("bbox", "must be west,south,east,north", args["bbox"]) from None
        bbox = (west, south, east, north)
    return PlantFilter(
        species_ids=ints("species"),
        conditions=ints("condition", 1, 6),
        statuses=statuses,
        region_ids=ints("region", 1, 99),
        year_from=one("year_from"),
        year_to=one("year_to"),
        green_space_id=one("green_space"),
        bbox=bbox,
    )


def _visible(query: Select, model: type, actor: Actor) -> Select:
    return query if sees_internal_fields(actor) else query.where(model.published)


def _filtered(query: Select, wanted: PlantFilter) -> Select:
    conditions = []
    if wanted.species_ids:
        conditions.append(Plant.species_id.in_(wanted.species_ids))
    if wanted.conditions:
        conditions.append(Plant.condition.in_(wanted.conditions))
    if wanted.statuses:
        conditions.append(Plant.status.in_([PlantStatus(s) for s in wanted.statuses]))
    if wanted.region_ids:
        conditions.append(Plant.region_id.in_(wanted.region_ids))
    if wanted.year_from is not None:
        conditions.append(Plant.planting_year >= wanted.year_from)
    if wanted.year_to is not None:
        conditions.append(Plant.planting_year <= wanted.year_to)
    if wanted.green_space_id is not None:
        conditions.append(Plant.green_space_id == wanted.green_space_id)
    if wanted.bbox:
        box = func.ST_MakeEnvelope(*wanted.bbox, 4326)
        # Plants' one spatial index is on geom_3857 (revision 0019).
        conditions.append(Plant.geom_3857.op("&&")(func.jasyl_mercator_box(box)))
        conditions.append(Plant.geom.intersects(box))
    return query.where(and_(*conditions)) if conditions else query


def page_size(limit: Any, default: int = 100) -> int:
    if limit in (None, ""):
        return default
    try:
        size = int(limit)
    except (TypeError, ValueError):
        raise InvalidValue("limit", "is not a whole number", limit) from None
    if not 1 <= size <= MAX_PAGE:
        raise InvalidValue("limit", f"must lie between 1 and {MAX_PAGE}", limit)
    return size


def list_plants(
    session: Session, actor: Actor, wanted: PlantFilter, after_id: int = 0, limit: int = 100
) -> list[Plant]:
    """One page of plants in id order; the next page starts after the last id (keyset paging)."""
    query = select(Plant).where(Plant.id > after_id).order_by(Plant.id).limit(limit)
    return list(session.scalars(_filtered(_visible(query, Plant, actor), wanted)))


def list_green_spaces(
    session: Session,
    actor: Actor,
    region_ids: tuple[int, ...] = (),
    name: str = "",
    after_id: int = 0,
    limit: int = 100,
) -> list[GreenSpace]:
    query = select(GreenSpace).where(GreenSpace.id > after_id).order_by(GreenSpace.id).limit(limit)
    if region_ids:
        query = query.where(GreenSpace.region_id.in_(region_ids))
    if name.strip():
        query = query.where(GreenSpace.name.ilike(f"%{escape_like(name.strip())}%", escape="\\"))
    return list(session.scalars(_visible(query, GreenSpace, actor)))


def get_green_space(session: Session, actor: Actor, space_id: int) -> GreenSpace:
    space = session.get(GreenSpace, space_id)
    if space is None or (not space.published and not sees_internal_fields(actor)):
        raise NotFound(f"green space {space_id} does not exist", id=space_id)
    return space


def metres_per_pixel(zoom: float) -> float:
    """Web-Mercator metres one screen pixel spans at ``zoom``."""
    return WORLD_METRES / TILE_PIXELS / 2**zoom


def plant_at(
    session: Session, actor: Actor, lon: float, lat: float, zoom: float, pixels: int = 8
) -> Plant | None:
    """The plant nearest the clicked point within ``pixels`` at ``zoom`` (KNN on the GiST index)."""
    click = func.ST_Transform(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326), 3857)
    reach = metres_per_pixel(zoom) * pixels
    query = (
        select(Plant)
        .where(func.ST_DWithin(Plant.geom_3857, click, reach))
        .order_by(Plant.geom_3857.op("<->")(click))
        .limit(1)
    )
    return session.scalar(_visible(query, Plant, actor))


def green_space_at(session: Session, actor: Actor, lon: float, lat: float) -> GreenSpace | None:
    """The smallest green space containing the clicked point (a square inside a park wins)."""
    click = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    query = (
        select(GreenSpace)
        .where(func.ST_Intersects(GreenSpace.geom, click))
        .order_by(GreenSpace.area_m2)
        .limit(1)
    )
    return session.scalar(_visible(query, GreenSpace, actor))


def escape_like(text: str) -> str:
    """``text`` matched literally by ``LIKE … ESCAPE '\\'``: its ``%``, ``_`` and ``\\`` escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def plants_matching(literal: str) -> ColumnElement[bool]:
    """Plants whose number starts with ``literal`` (any case) or whose address holds it, in
    the forms their indexes answer: the B-tree of lowered numbers (revision 0034) and the
    trigrams of the addresses there are (0036)."""
    return or_(
        func.lower(Plant.inventory_number).like(func.lower(f"{literal}%"), escape="\\"),
        and_(Plant.address != "", Plant.address.ilike(f"%{literal}%", escape="\\")),
    )


def search(session: Session, actor: Actor, text: str, limit: int = 10) -> list[dict[str, Any]]:
    """Plants by inventory number (prefix), green spaces by name and plants by address."""
    wanted = text.strip()
    if len(wanted) < 2:
        raise InvalidValue("q", "type at least two characters", text)
    found: list[dict[str, Any]] = []
    literal = escape_like(wanted)  # "50%" and "A_1" are what was typed, not wildcards
    plants = select(Plant).where(plants_matching(literal))
    for plant in session.scalars(_visible(plants.order_by(Plant.id).limit(limit), Plant, actor)):
        point = to_shape(plant.geom).representative_point()
        found.append(
            {
                "kind": "plant",
                "id": plant.id,
                "label": " · ".join(x for x in (plant.inventory_number, plant.address) if x),
                "lon": point.x,
                "lat": point.y,
            }
        )
    named = GreenSpace.name.ilike(f"%{literal}%", escape="\\")
    spaces = select(GreenSpace).where(named).order_by(GreenSpace.id)
    for space in session.scalars(_visible(spaces.limit(limit), GreenSpace, actor)):
        shape = to_shape(space.geom)
        point = shape.representative_point()
        found.append(
            {
                "kind": "green_space",
                "id": space.id,
                "label": space.name,
                "lon": point.x,
                "lat": point.y,
                "bbox": list(shape.bounds),
            }
        )
    return found[:limit]


def region_numbers(session: Session, actor: Actor, region_id: int) -> dict[str, Any]:
    """A region's inventory in figures: plants by condition, status and species."""
    base = _visible(select(Plant).where(Plant.region_id == region_id), Plant, actor).subquery()
    total = session.scalar(select(func.coalesce(func.sum(base.c.quantity), 0)))
    records = session.scalar(select(func.count()).select_from(base))
    by_condition = dict(
        session.execute(
            select(base.c.condition, func.sum(base.c.quantity)).group_by(base.c.condition)
        ).all()
    )
    by_status = {
        status.value if isinstance(status, Enum) else status: n
        for status, n in session.execute(
            select(base.c.status, func.sum(base.c.quantity)).group_by(base.c.status)
        ).all()
    }
    species_rows = session.execute(
        select(Species, func.sum(base.c.quantity).label("n"))
        .join(base, base.c.species_id == Species.id)
        .group_by(Species.id)
        .order_by(func.sum(base.c.quantity).desc())
        .limit(15)
    ).all()
    return {
        "plants": int(total),
        "records": int(records),
        # None: not assessed (shown apart, never counted as a grade)
        "by_condition": {k if k is None else int(k): int(v) for k, v in by_condition.items()},
        "by_status": {k: int(v) for k, v in by_status.items()},
        "by_species": [(species, int(n)) for species, n in species_rows],
    }


# -- what a reader may see ------------------------------------------------------------------------
def plant_view(plant: Plant, actor: Actor) -> dict[str, Any]:
    """A plant's fields as ``actor`` may read them (internal fields only for signed-in staff)."""
    internal = sees_internal_fields(actor)
    view = {
        "id": plant.id,
        "region_id": plant.region_id,
        "version": plant.version,
        "updated_at": jsonable(plant.updated_at),
    }
    for name in PLANT_FIELDS:
        if name == "geom" or (name in INTERNAL_FIELDS and not internal):
            continue
        view[name] = jsonable(getattr(plant, name))
    if internal:
        view["gps_accuracy_m"] = jsonable(plant.gps_accuracy_m)
        view["gps_fixes"] = plant.gps_fixes
    view["geometry"] = mapping(to_shape(plant.geom))
    return view


def green_space_view(space: GreenSpace, actor: Actor, geometry: bool = True) -> dict[str, Any]:
    internal = sees_internal_fields(actor)
    view = {
        "id": space.id,
        "region_id": space.region_id,
        "version": space.version,
        "name": space.name,
        "category": jsonable(space.category),
        "kind": space.kind,
        "balance_holder": space.balance_holder,
        "area_m2": round(space.area_m2 or 0, 1),
        "published": space.published,
        "updated_at": jsonable(space.updated_at),
    }
    if internal:
        view["notes"] = space.notes
    if geometry:
        view["geometry"] = mapping(to_shape(space.geom))
    return view


def inspection_view(inspection: Inspection, actor: Actor) -> dict[str, Any]:
    view = {
        "id": inspection.id,
        "plant_id": inspection.plant_id,
        "inspected_on": jsonable(inspection.inspected_on),
        "condition": inspection.condition,
        "hazardous": inspection.hazardous,
        "height_m": jsonable(inspection.height_m),
        "trunk_diameter_cm": jsonable(inspection.trunk_diameter_cm),
    }
    if sees_internal_fields(actor):
        view["inspector"] = inspection.inspector
        view["notes"] = inspection.notes
    return view


def plant_inspections(session: Session, actor: Actor, plant_id: int) -> list[Inspection]:
    get_plant(session, actor, plant_id)  # unpublished plants stay invisible to the public
    return inspections_of(session, plant_id)


def record_history(session: Session, actor: Actor, entity: str, entity_id: int) -> list[AuditEntry]:
    """The audit trail of one record: who changed what, when. For signed-in staff only."""
    if not sees_internal_fields(actor):
        require_role(session, actor, set(), "read the history of", entity, entity_id)
    return [e for e in history(session, entity, entity_id) if e.action != "denied"]
