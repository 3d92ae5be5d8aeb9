"""Add and read plant photos. Access: a photo is written by whoever may write the plant's region
(``registry.access``), and seen by whoever may see the plant (the public: published plants only).

The image files are written when the record is flushed and removed again if the unit of work
rolls back, so a refused or failed upload leaves neither a row nor a file behind.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from registry.access import Actor, require_region_write
from registry.audit.services import record_creation
from registry.errors import NotFound
from registry.inventory.models import Plant
from registry.inventory.services import get_plant
from registry.photos import rules
from registry.photos.models import PlantPhoto
from registry.storage import write_atomically


def add_photo(
    session: Session, actor: Actor, plant_id: int, data: bytes, file_name: str, uploads: Path
) -> PlantPhoto:
    """Keep ``data`` as a photo of the plant under ``uploads``; access first, then the bytes."""
    plant = session.get(Plant, plant_id)
    if plant is None:
        raise NotFound(f"plant {plant_id} does not exist", id=plant_id)
    require_region_write(session, actor, plant.region_id, "add a photo to", "plant", plant.id)
    facts = rules.check_photo(data, rules.safe_label(file_name))
    photo = PlantPhoto(
        plant_id=plant.id,
        token=secrets.token_hex(16),
        extension=facts.extension,
        content_type=facts.content_type,
        original_name=rules.safe_label(file_name),
        size_bytes=len(data),
        width=facts.width,
        height=facts.height,
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=actor.user_id,
    )
    session.add(photo)
    session.flush()
    written = [uploads / photo.relative_path, uploads / photo.relative_thumbnail]
    _remove_on_rollback(session, written)
    write_atomically(written[0], data)
    write_atomically(written[1], rules.thumbnail_of(data))
    record_creation(
        session,
        actor,
        "plant_photo",
        photo.id,
        plant.region_id,
        {"plant_id": plant.id, "file": photo.original_name, "bytes": len(data)},
    )
    return photo


def photos_of(session: Session, actor: Actor, plant_id: int) -> list[PlantPhoto]:
    """The plant's photos, newest first, if ``actor`` may see the plant."""
    plant = get_plant(session, actor, plant_id)
    query = select(PlantPhoto).where(PlantPhoto.plant_id == plant.id)
    return list(session.scalars(query.order_by(PlantPhoto.id.desc())))


def get_photo(session: Session, actor: Actor, photo_id: int) -> PlantPhoto:
    """One photo, if ``actor`` may see its plant (else ``NotFound``, as for the plant)."""
    photo = session.get(PlantPhoto, photo_id)
    if photo is None:
        raise NotFound(f"photo {photo_id} does not exist", id=photo_id)
    try:
        get_plant(session, actor, photo.plant_id)
    except NotFound:
        raise NotFound(f"photo {photo_id} does not exist", id=photo_id) from None
    return photo


def _remove_on_rollback(session: Session, paths: list[Path]) -> None:
    def remove(_session: Session) -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    event.listen(session, "after_rollback", remove, once=True)
