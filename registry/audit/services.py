"""Writing and reading the audit trail."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.access import Actor
from registry.audit.models import AuditEntry


def jsonable(value: Any) -> Any:
    """Audit values are JSON: numbers stay numbers, dates and enums become strings."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def record_creation(
    session: Session,
    actor: Actor,
    entity: str,
    entity_id: int,
    region_id: int,
    snapshot: Mapping[str, Any],
) -> None:
    session.add(
        AuditEntry(
            user_id=actor.user_id,
            actor=actor.label,
            action="create",
            entity=entity,
            entity_id=entity_id,
            region_id=region_id,
            field=None,
            old_value=None,
            new_value={k: jsonable(v) for k, v in snapshot.items()},
        )
    )


def record_changes(
    session: Session,
    actor: Actor,
    entity: str,
    entity_id: int,
    region_id: int,
    changes: Mapping[str, tuple[Any, Any]],
    action: str = "update",
) -> None:
    """One audit row per changed field, old → new."""
    for field, (old, new) in changes.items():
        session.add(
            AuditEntry(
                user_id=actor.user_id,
                actor=actor.label,
                action=action,
                entity=entity,
                entity_id=entity_id,
                region_id=region_id,
                field=field,
                old_value=jsonable(old),
                new_value=jsonable(new),
            )
        )


def history(session: Session, entity: str, entity_id: int) -> list[AuditEntry]:
    query = (
        select(AuditEntry)
        .where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return list(session.scalars(query))
