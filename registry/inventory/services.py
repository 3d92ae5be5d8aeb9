"""Creating, changing and removing plants and green spaces, and recording inspections.

Every function works inside the caller's unit of work, checks access through ``registry.access``,
validates through ``registry.inventory.rules``, writes the audit trail, and never commits.
Changes name the version they were based on: a newer version in the database means someone else
saved first, and the caller gets ``StaleVersion`` with who, when and the current values.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from registry.access import (
    Actor,
    require_outline_write,
    require_region_write,
    sees_internal_fields,
)
from registry.accounts.models import User
from registry.audit.services import record_changes, record_creation
from registry.errors import DuplicateRecord, InvalidValue, NotFound, StaleVersion
from registry.inventory import rules
from registry.inventory.models import (
    GreenSpace,
    GreenSpaceCategory,
    Inspection,
    Plant,
    PlantStatus,
)
from registry.regions.models import Region
from registry.species.models import Species

PLANT_FIELDS = (
    "inventory_number",
    "species_id",
    "planting_form",
    "geom",
    "green_space_id",
    "quantity",
    "planting_year",
    "age_years",
    "height_m",
    "trunk_diameter_cm",
    "crown_diameter_m",
    "condition",
    "hazardous",
    "status",
    "address",
    "notes",
    "published",
)
GREEN_SPACE_FIELDS = ("name", "category", "kind", "balance_holder", "geom", "notes", "published")
INTERNAL_FIELDS = frozenset({"notes", "inspector", "updated_by", "import_batch_id"})


# -- shared steps ---------------------------------------------------------------------------------
def locate(session: Session, geometry: BaseGeometry) -> Region:
    """The region containing ``geometry`` (EPSG:4326), or a clear error when outside Kazakhstan."""
    region_id = session.scalar(
        select(func.jasyl_region_at(func.ST_GeomFromEWKB(from_shape(geometry, srid=4326))))
    )
    if region_id is None:
        x, y = geometry.representative_point().coords[0]
        raise InvalidValue("geom", f"lies outside Kazakhstan's regions (lon {x:.5f}, lat {y:.5f})")
    return session.get(Region, region_id)


def get_locked(session: Session, model: type, record_id: Any, entity: str) -> Any:
    """The record, row-locked until the unit of work ends, so concurrent savers queue up."""
    record = session.scalar(select(model).where(model.id == record_id).with_for_update())
    if record is None:
        raise NotFound(f"{entity} {record_id} does not exist", id=record_id)
    return record


def _check_version(session: Session, record: Any, expected: int, entity: str) -> None:
    if record.version == expected:
        return
    who = session.get(User, record.updated_by) if record.updated_by else None
    by = who.email if who else "an import or system process"
    raise StaleVersion(
        f"{entity} {record.id} was changed by {by} at {record.updated_at:%Y-%m-%d %H:%M:%S %Z} "
        f"(now version {record.version}, you edited version {expected}); reload and try again",
        changed_by=by,
        changed_at=record.updated_at.isoformat(),
        current_version=record.version,
        current={f: _plain(getattr(record, f)) for f in _fields_of(record)},
    )


def _fields_of(record: Any) -> tuple[str, ...]:
    return PLANT_FIELDS if isinstance(record, Plant) else GREEN_SPACE_FIELDS


def _plain(value: Any) -> Any:
    if hasattr(value, "desc") and hasattr(value, "srid"):  # a WKBElement
        return to_shape(value).wkt
    return value


def stamp(record: Any, actor: Actor) -> None:
    """A saved change: next version, who made it, when."""
    record.version += 1
    record.updated_by = actor.user_id
    record.updated_at = func.now()


def _diff(record: Any, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    changes = {}
    for field, new in values.items():
        old = getattr(record, field)
        if field == "geom":
            old_shape = to_shape(old) if old is not None else None
            if old_shape is None or not old_shape.equals_exact(new, 1e-9):
                changes[field] = (old_shape.wkt if old_shape else None, new.wkt)
        elif old != new:
            changes[field] = (old, new)
    return changes


def _apply(record: Any, changes: dict[str, tuple[Any, Any]], values: dict[str, Any]) -> None:
    for field in changes:
        value = values[field]
        setattr(record, field, from_shape(value, srid=4326) if field == "geom" else value)


# -- plants ---------------------------------------------------------------------------------------
def _plant_values(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    """Validate a complete set of plant fields; returns them normalised."""
    unknown = set(data) - set(PLANT_FIELDS)
    if unknown:
        raise InvalidValue(sorted(unknown)[0], "is not a plant field")
    species = session.get(Species, data.get("species_id")) if data.get("species_id") else None
    if species is None and data.get("species_id"):
        raise InvalidValue(
            "species_id", "must name a species from the catalogue", data.get("species_id")
        )
    status = rules.check_status(data.get("status", PlantStatus.ALIVE))
    rules.check_species_for_status(species, status, "species_id")
    geometry = data.get("geom")
    space_id = data.get("green_space_id") or None
    if space_id is not None and session.get(GreenSpace, space_id) is None:
        raise InvalidValue("green_space_id", "no such green space", space_id)
    values = {
        **data,
        "species_id": species.id if species else None,
        "green_space_id": space_id,
        "planting_form": rules.check_form(data.get("planting_form"), geometry),
        "quantity": rules.check_quantity(data.get("quantity", 1)),
        "planting_year": rules.check_planting_year(data.get("planting_year")),
        "age_years": rules.check_age(data.get("age_years")),
        "condition": rules.check_condition_if_assessed(data.get("condition")),
        "hazardous": rules.check_flag("hazardous", data.get("hazardous"), False),
        "status": status,
        "address": rules.check_text("address", data.get("address")),
        "notes": rules.check_text("notes", data.get("notes")),
        "published": rules.check_flag("published", data.get("published"), True),
        **rules.check_measurements(data, species),
    }
    number = rules.check_text("inventory_number", data.get("inventory_number"))
    values["inventory_number"] = number or None
    return values


def _check_unique_number(session: Session, region_id: int, number: str, own_id: int | None) -> None:
    clash = session.scalar(
        select(Plant.id).where(Plant.region_id == region_id, Plant.inventory_number == number)
    )
    if clash is not None and clash != own_id:
        raise DuplicateRecord(
            f"inventory_number: {number!r} is already used by plant {clash} in this region",
            field="inventory_number",
            value=number,
            existing_id=clash,
        )


def _require_green_space_write(session: Session, actor: Actor, space_id: int | None) -> None:
    """A plant joins a green space only in a region its writer may write: an Almaty forester
    attaching plants to an Astana park would change that park's counts and reports."""
    if space_id is None:
        return
    space = session.get(GreenSpace, space_id)
    require_region_write(
        session, actor, space.region_id, "attach plants to", "green space", space_id
    )


def registry_number(kato: str, plant_id: int) -> str:
    """The inventory number of a plant that came without one: its region's KATO code and its id
    (the importer's SQL does the same: ``importers.staging.REGISTRY_NUMBER``)."""
    return f"{kato}-{plant_id:08d}"


def create_plant(
    session: Session,
    actor: Actor,
    data: dict[str, Any],
    gps_accuracy_m: float | None = None,
    gps_fixes: int | None = None,
) -> Plant:
    """Add a plant; its region comes from its location, its number is given or assigned. A
    plant placed by a phone's GPS keeps the fix's accuracy and the fixes averaged (field mode)."""
    values = _plant_values(session, data)
    region = locate(session, values["geom"])
    require_region_write(session, actor, region.id, "create", "plant")
    _require_green_space_write(session, actor, values["green_space_id"])
    plant_id = session.scalar(text("SELECT nextval(pg_get_serial_sequence('plants', 'id'))"))
    number = values["inventory_number"] or registry_number(region.kato, plant_id)
    _check_unique_number(session, region.id, number, None)
    plant = Plant(
        id=plant_id,
        region_id=region.id,
        updated_by=actor.user_id,
        version=1,
        gps_accuracy_m=gps_accuracy_m,
        gps_fixes=gps_fixes,
        **{**values, "inventory_number": number, "geom": from_shape(values["geom"], 4326)},
    )
    session.add(plant)
    session.flush()
    snapshot = {f: values[f] for f in PLANT_FIELDS if f != "geom"}
    record_creation(
        session,
        actor,
        "plant",
        plant.id,
        region.id,
        {**snapshot, "inventory_number": number, "geom": values["geom"].wkt},
    )
    return plant


def update_plant(
    session: Session, actor: Actor, plant_id: int, expected_version: int, changes: dict[str, Any]
) -> Plant:
    """Change some fields of a plant that the caller read at ``expected_version``."""
    plant = get_locked(session, Plant, plant_id, "plant")
    require_region_write(session, actor, plant.region_id, "edit", "plant", plant_id)
    _check_version(session, plant, expected_version, "plant")
    current = {f: getattr(plant, f) for f in PLANT_FIELDS}
    current["geom"] = to_shape(plant.geom)
    values = _plant_values(session, {**current, **changes})
    diff = _diff(plant, {f: values[f] for f in changes})
    if "geom" in diff:
        region = locate(session, values["geom"])
        require_region_write(session, actor, region.id, "move", "plant", plant_id)
        plant.region_id = region.id
    if "green_space_id" in diff:
        _require_green_space_write(session, actor, values["green_space_id"])
    if "inventory_number" in diff:
        if not values["inventory_number"]:
            raise InvalidValue("inventory_number", "cannot be emptied")
        _check_unique_number(session, plant.region_id, values["inventory_number"], plant.id)
    if diff:
        _apply(plant, diff, values)
        stamp(plant, actor)
        session.flush()
        record_changes(session, actor, "plant", plant.id, plant.region_id, diff)
    return plant


def remove_plant(
    session: Session,
    actor: Actor,
    plant_id: int,
    expected_version: int,
    status: PlantStatus = PlantStatus.REMOVED,
    reason: str = "",
) -> Plant:
    """Mark a plant removed, dead, a stump or a vacant site: history is kept, never deleted."""
    if rules.check_status(status) is PlantStatus.ALIVE:
        raise InvalidValue("status", "removing a plant needs a status other than alive", status)
    changes: dict[str, Any] = {"status": status}
    reason = rules.check_text("reason", reason)
    if reason:
        plant = session.get(Plant, plant_id)
        if plant is not None:
            changes["notes"] = (plant.notes + "\n" + reason).strip()
    return update_plant(session, actor, plant_id, expected_version, changes)


def record_inspection(
    session: Session,
    actor: Actor,
    plant_id: int,
    inspected_on: date,
    condition: Any,
    inspector: str = "",
    hazardous: bool = False,
    height_m: Any = None,
    trunk_diameter_cm: Any = None,
    notes: str = "",
) -> Inspection:
    """Record an observation; the newest inspection sets the plant's current condition."""
    plant = get_locked(session, Plant, plant_id, "plant")
    require_region_write(session, actor, plant.region_id, "inspect", "plant", plant_id)
    if inspected_on > date.today():
        raise InvalidValue("inspected_on", "cannot be in the future", inspected_on.isoformat())
    species = session.get(Species, plant.species_id)
    measures = rules.check_measurements(
        {"height_m": height_m, "trunk_diameter_cm": trunk_diameter_cm}, species
    )
    inspection = Inspection(
        plant_id=plant.id,
        inspected_on=inspected_on,
        inspector=rules.check_text("inspector", inspector) or actor.label,
        user_id=actor.user_id,
        condition=rules.check_condition(condition),
        hazardous=rules.check_flag("hazardous", hazardous, False),
        height_m=measures["height_m"],
        trunk_diameter_cm=measures["trunk_diameter_cm"],
        notes=rules.check_text("notes", notes),
    )
    session.add(inspection)
    latest = session.scalar(
        select(func.max(Inspection.inspected_on)).where(Inspection.plant_id == plant.id)
    )
    if latest is None or inspected_on >= latest:
        updates = {"condition": inspection.condition, "hazardous": inspection.hazardous}
        updates.update({k: v for k, v in measures.items() if v is not None})
        update_plant(
            session,
            actor,
            plant.id,
            plant.version,
            {k: v for k, v in updates.items() if k in PLANT_FIELDS},
        )
    session.flush()
    return inspection


def get_plant(session: Session, actor: Actor, plant_id: int) -> Plant:
    """A plant as ``actor`` may see it: the public sees published plants only."""
    plant = session.get(Plant, plant_id)
    if plant is None or (not plant.published and not sees_internal_fields(actor)):
        raise NotFound(f"plant {plant_id} does not exist", id=plant_id)
    return plant


def inspections_of(session: Session, plant_id: int) -> list[Inspection]:
    query = select(Inspection).where(Inspection.plant_id == plant_id)
    return list(session.scalars(query.order_by(Inspection.inspected_on.desc(), Inspection.id)))


# -- green spaces ---------------------------------------------------------------------------------
def _green_space_values(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(GREEN_SPACE_FIELDS)
    if unknown:
        raise InvalidValue(sorted(unknown)[0], "is not a green space field")
    name = rules.check_text("name", data.get("name"))
    if not name:
        raise InvalidValue("name", "a green space needs a name")
    try:
        category = GreenSpaceCategory(data.get("category") or GreenSpaceCategory.PUBLIC)
    except ValueError:
        valid = ", ".join(c.value for c in GreenSpaceCategory)
        raise InvalidValue("category", f"must be one of {valid}", data.get("category")) from None
    geometry = data.get("geom")
    if (
        geometry is None
        or geometry.is_empty
        or geometry.geom_type not in {"Polygon", "MultiPolygon"}
    ):
        raise InvalidValue(
            "geom",
            "a green space must be a polygon",
            geometry.geom_type if geometry is not None else None,
        )
    if not geometry.is_valid:
        raise InvalidValue("geom", "the polygon is not valid (self-intersecting or broken)")
    if geometry.geom_type == "Polygon":
        geometry = MultiPolygon([geometry])
    return {
        "name": name,
        "category": category,
        "kind": rules.check_text("kind", data.get("kind")) or "park",
        "balance_holder": rules.check_text("balance_holder", data.get("balance_holder")),
        "geom": geometry,
        "notes": rules.check_text("notes", data.get("notes")),
        "published": rules.check_flag("published", data.get("published"), True),
    }


def green_space_values(data: dict[str, Any]) -> dict[str, Any]:
    """A green space's values as ``create_green_space`` would store them, or ``InvalidValue``.

    Lets an importer check a whole survey before it writes any of it.
    """
    return _green_space_values(data)


def create_green_space(session: Session, actor: Actor, data: dict[str, Any]) -> GreenSpace:
    values = _green_space_values(data)
    region = locate(session, values["geom"])
    require_region_write(session, actor, region.id, "create", "green space")
    require_outline_write(session, actor, values["geom"], "create", "green space")
    space = GreenSpace(
        region_id=region.id,
        updated_by=actor.user_id,
        version=1,
        **{**values, "geom": from_shape(values["geom"], 4326)},
    )
    session.add(space)
    session.flush()
    record_creation(
        session, actor, "green_space", space.id, region.id, {**values, "geom": values["geom"].wkt}
    )
    return space


def update_green_space(
    session: Session, actor: Actor, space_id: int, expected_version: int, changes: dict[str, Any]
) -> GreenSpace:
    space = get_locked(session, GreenSpace, space_id, "green space")
    require_region_write(session, actor, space.region_id, "edit", "green space", space_id)
    _check_version(session, space, expected_version, "green space")
    current = {f: getattr(space, f) for f in GREEN_SPACE_FIELDS}
    current["geom"] = to_shape(space.geom)
    values = _green_space_values({**current, **changes})
    diff = _diff(space, {f: values[f] for f in changes})
    if "geom" in diff:
        region = locate(session, values["geom"])
        require_region_write(session, actor, region.id, "move", "green space", space_id)
        require_outline_write(session, actor, values["geom"], "redraw", "green space", space_id)
        space.region_id = region.id
    if diff:
        _apply(space, diff, values)
        stamp(space, actor)
        session.flush()
        record_changes(session, actor, "green_space", space.id, space.region_id, diff)
    return space
