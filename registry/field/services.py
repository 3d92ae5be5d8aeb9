"""Applying a phone's change exactly once (the work area it downloads: ``registry.field.areas``).

A phone records a change without signal under a UUID it made (``crypto.randomUUID``) and sends it
when it can, again and again until it hears an answer. The first arrival claims the UUID (an
``INSERT … ON CONFLICT DO NOTHING`` on the primary key, which makes a concurrent second arrival
wait for the first's transaction), applies the change through the same inventory services as the
online forms (access, validation, versions, audit) and stores the answer beside the claim. Every
later arrival of the UUID gets that stored answer and changes nothing. A refused change (a stale
version, a bad value, another region) rolls its claim back with it: nothing is kept, and the
phone may send a resolved change.
"""

from __future__ import annotations

import hashlib
import uuid as uuids
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from registry.access import Actor, require_signed_in
from registry.audit.services import jsonable
from registry.errors import InvalidValue, NotFound, StaleVersion
from registry.field.models import FieldChange, FieldPhoto
from registry.inventory import queries
from registry.inventory.models import Plant
from registry.inventory.services import (
    create_plant,
    record_inspection,
    remove_plant,
    update_plant,
)
from registry.photos.models import PlantPhoto
from registry.photos.services import add_photo

KINDS = ("add_plant", "edit_plant", "inspect", "remove")
APPLIED = 200  # every applied change, and its every replay (one status the phone can trust)


@dataclass(frozen=True)
class Change:
    """One change as the phone sent it, its payload already in the services' field names.

    ``sent`` is the payload as the phone wrote it (shown back beside the server's values in a
    conflict); ``content_sha256`` fingerprints the whole request, so a reused UUID with other
    content is told apart from a replay."""

    uuid: uuids.UUID
    kind: str
    payload: dict[str, Any]
    content_sha256: str
    sent: dict[str, Any] = field(default_factory=dict)
    base_version: int | None = None
    recorded_at: datetime | None = None
    gps_accuracy_m: float | None = None
    gps_fixes: int | None = None


@dataclass(frozen=True)
class Outcome:
    """The answer to a change: its HTTP status and body, and whether it was a replay."""

    status: int
    answer: dict[str, Any]
    replayed: bool = False


def apply_change(session: Session, actor: Actor, change: Change) -> Outcome:
    """Apply ``change`` once; a replay of its UUID gets the stored answer (in the caller's unit of
    work: the claim and the change commit or roll back together)."""
    require_signed_in(session, actor, "send", "field changes")
    claim = (
        insert(FieldChange)
        .values(
            uuid=change.uuid,
            kind=change.kind,
            content_sha256=change.content_sha256,
            user_id=actor.user_id,
            recorded_at=change.recorded_at,
            gps_accuracy_m=change.gps_accuracy_m,
            gps_fixes=change.gps_fixes,
            status=0,
            answer={},
        )
        .on_conflict_do_nothing(index_elements=["uuid"])
        .returning(FieldChange.uuid)
    )
    if session.scalar(claim) is None:
        return _replay(session, actor, change)
    answer, plant_id = APPLY[change.kind](session, actor, change)
    session.execute(
        update(FieldChange)
        .where(FieldChange.uuid == change.uuid)
        .values(status=APPLIED, answer=answer, plant_id=plant_id)
    )
    return Outcome(APPLIED, answer)


def _replay(session: Session, actor: Actor, change: Change) -> Outcome:
    stored = session.get(FieldChange, change.uuid)
    if stored.user_id != actor.user_id or stored.content_sha256 != change.content_sha256:
        raise InvalidValue("uuid", "was already used for a different change", str(change.uuid))
    return Outcome(stored.status, stored.answer, replayed=True)


def changes_received(session: Session, actor: Actor, wanted: list[uuids.UUID]) -> list[str]:
    """Which of ``wanted`` the server has applied for ``actor``: a phone that lost an answer
    learns what arrived without sending it again."""
    require_signed_in(session, actor, "read", "field changes")
    query = select(FieldChange.uuid).where(
        FieldChange.uuid.in_(wanted), FieldChange.user_id == actor.user_id
    )
    return sorted(str(u) for u in session.scalars(query))


# -- the four kinds -------------------------------------------------------------------------------
def _plant_of(session: Session, actor: Actor, payload: dict[str, Any]) -> int:
    """The plant a change is about: ``plant_id``, or ``plant_uuid``, the change that added it on
    the same phone (offline, before the server gave it an id)."""
    plant_id = payload.pop("plant_id", None)
    added = payload.pop("plant_uuid", None)
    if (plant_id is None) == (added is None):
        raise InvalidValue("payload.plant_id", "give either plant_id or plant_uuid")
    if plant_id is not None:
        return plant_id
    found = session.scalar(
        select(FieldChange.plant_id).where(
            FieldChange.uuid == added,
            FieldChange.kind == "add_plant",
            FieldChange.user_id == actor.user_id,
            FieldChange.status > 0,
        )
    )
    if found is None:
        raise InvalidValue(
            "payload.plant_uuid", "no plant was added under this change yet: send it first", added
        )
    return found


def _add(session: Session, actor: Actor, change: Change) -> tuple[dict, int]:
    plant = create_plant(
        session, actor, dict(change.payload), change.gps_accuracy_m, change.gps_fixes
    )
    return queries.plant_view(plant, actor), plant.id


def _with_phone_values(stale: StaleVersion, change: Change) -> StaleVersion:
    """The conflict with the phone's side beside the server's: the forester chooses per field."""
    details = dict(stale.details)
    details["current"] = {k: jsonable(v) for k, v in details.get("current", {}).items()}
    return StaleVersion(
        stale.message, **details, yours=change.sent, base_version=change.base_version
    )


def _edit(session: Session, actor: Actor, change: Change) -> tuple[dict, int]:
    payload = dict(change.payload)
    plant_id = _plant_of(session, actor, payload)
    try:
        plant = update_plant(session, actor, plant_id, change.base_version, payload)
    except StaleVersion as stale:
        raise _with_phone_values(stale, change) from None
    return queries.plant_view(plant, actor), plant.id


def _inspect(session: Session, actor: Actor, change: Change) -> tuple[dict, int]:
    payload = dict(change.payload)
    plant_id = _plant_of(session, actor, payload)
    inspected_on = payload.pop("inspected_on", None) or _day_of(change.recorded_at)
    inspection = record_inspection(
        session,
        actor,
        plant_id,
        inspected_on,
        payload.pop("condition"),
        inspector=payload.pop("inspector", None) or "",
        hazardous=bool(payload.pop("hazardous", False)),
        height_m=payload.pop("height_m", None),
        trunk_diameter_cm=payload.pop("trunk_diameter_cm", None),
        notes=payload.pop("notes", None) or "",
    )
    plant = session.get(Plant, plant_id)  # its version moved if the inspection changed it
    return {**queries.inspection_view(inspection, actor), "plant_version": plant.version}, plant_id


def _day_of(recorded_at: datetime | None) -> date:
    """An inspection without its own date happened the day the phone recorded it."""
    return recorded_at.date() if recorded_at else date.today()


def _remove(session: Session, actor: Actor, change: Change) -> tuple[dict, int]:
    payload = dict(change.payload)
    plant_id = _plant_of(session, actor, payload)
    status = payload.get("status") or "removed"
    try:
        plant = remove_plant(
            session, actor, plant_id, change.base_version, status, payload.get("reason") or ""
        )
    except StaleVersion as stale:
        raise _with_phone_values(stale, change) from None
    return queries.plant_view(plant, actor), plant.id


APPLY: dict[str, Callable[[Session, Actor, Change], tuple[dict, int]]] = {
    "add_plant": _add,
    "edit_plant": _edit,
    "inspect": _inspect,
    "remove": _remove,
}


# -- photos ---------------------------------------------------------------------------------------
PHOTO_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 27))")


def store_photo(
    session: Session,
    actor: Actor,
    change_uuid: uuids.UUID,
    photo_uuid: uuids.UUID,
    data: bytes,
    file_name: str,
    uploads: Path,
) -> tuple[PlantPhoto, bool]:
    """Keep a photo of the plant a sent change touched, once per photo UUID: a resumed upload
    sends it again and gets the photo stored the first time (``True``: a replay)."""
    require_signed_in(session, actor, "send", "field photos")
    session.execute(PHOTO_LOCK, {"key": str(photo_uuid)})  # concurrent re-sends queue here
    sha = hashlib.sha256(data).hexdigest()
    kept = session.get(FieldPhoto, photo_uuid)
    if kept is not None:
        if kept.change_uuid != change_uuid or kept.content_sha256 != sha:
            raise InvalidValue("photo_uuid", "was already used for another image", str(photo_uuid))
        return session.get(PlantPhoto, kept.photo_id), True
    change = session.get(FieldChange, change_uuid)
    if change is None or change.user_id != actor.user_id or change.plant_id is None:
        raise NotFound(
            f"change {change_uuid} has not reached the server: send the change before its photos",
            id=str(change_uuid),
        )
    photo = add_photo(session, actor, change.plant_id, data, file_name, uploads)
    session.add(
        FieldPhoto(uuid=photo_uuid, change_uuid=change_uuid, photo_id=photo.id, content_sha256=sha)
    )
    session.flush()
    return photo, False
