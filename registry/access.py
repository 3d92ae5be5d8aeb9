"""Who may do what: the one place where access is decided.

Every service that writes calls ``require_region_write`` (or ``require_role``) before it changes
anything, so the web app, the JSON API, the importers and the CLI obey the same rule. A refusal is
written to the audit log in its own transaction (so the caller's rollback cannot erase it) and
raised as ``AccessDenied``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.orm import Session

from registry.accounts.models import Role
from registry.audit.models import AuditEntry
from registry.errors import AccessDenied

READ_ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Actor:
    """The person (or process) on whose behalf a service runs."""

    label: str
    role: Role | None
    user_id: int | None = None
    region_id: int | None = None
    nursery_id: int | None = None
    is_system: bool = False

    @classmethod
    def public(cls) -> Actor:
        return cls(label="public", role=None)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        """The CLI and migrations: trusted operators of the machine itself."""
        return cls(label=label, role=Role.ADMIN, is_system=True)

    @property
    def signed_in(self) -> bool:
        return self.role is not None


def sees_internal_fields(actor: Actor) -> bool:
    """Inspector names, notes and unpublished records are for signed-in staff only."""
    return actor.signed_in


def may_write_region(actor: Actor, region_id: int) -> bool:
    if actor.role is Role.ADMIN:
        return True
    return actor.role is Role.FORESTER and actor.region_id == region_id


def require_region_write(
    session: Session,
    actor: Actor,
    region_id: int,
    action: str,
    entity: str,
    entity_id: int | None = None,
) -> None:
    """Refuse (and audit the refusal) unless ``actor`` may write in ``region_id``."""
    if may_write_region(actor, region_id):
        return
    deny(
        session,
        actor,
        action,
        entity,
        entity_id,
        region_id,
        f"{actor.label} ({actor.role or 'public'}) may not {action} {entity} in region {region_id}",
    )


def require_role(
    session: Session,
    actor: Actor,
    roles: set[Role],
    action: str,
    entity: str,
    entity_id: int | None = None,
    region_id: int | None = None,
) -> None:
    if actor.role is Role.ADMIN or actor.role in roles:
        return
    deny(
        session,
        actor,
        action,
        entity,
        entity_id,
        region_id,
        f"{actor.label} ({actor.role or 'public'}) may not {action} {entity}",
    )


def deny(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    region_id: int | None,
    message: str,
) -> None:
    engine = session.get_bind().engine
    with engine.begin() as own_transaction:
        own_transaction.execute(
            insert(AuditEntry).values(
                user_id=actor.user_id,
                actor=actor.label,
                action="denied",
                entity=entity,
                entity_id=entity_id,
                region_id=region_id,
                field=None,
                old_value=None,
                new_value={"attempted": action},
            )
        )
    raise AccessDenied(message, action=action, entity=entity, entity_id=entity_id)
