"""Who may do what: the one place where access is decided.

Every service that writes calls ``require_region_write`` (or ``require_role``) before it changes
anything, so the web app, the JSON API, the importers and the CLI obey the same rule. A refusal is
written to the audit log in its own transaction (so the caller's rollback cannot erase it) and
raised as ``AccessDenied``.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass

from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from registry.accounts.models import Role
from registry.audit.models import AuditEntry
from registry.errors import AccessDenied
from registry.regions.models import Region, RegionPart

READ_ALL_ROLES = frozenset(Role)
# The web request being served ({"address": …, "path": …}), set by the web app so that an
# audited refusal says where it came from; unset in the CLI.
REQUEST_ORIGIN: ContextVar[dict[str, str] | None] = ContextVar("request_origin", default=None)
log = logging.getLogger(__name__)


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


def who(actor: Actor) -> str:
    """How a refusal names the actor: label and role, e.g. ``aigerim (forester)``."""
    return f"{actor.label} ({actor.role or 'public'})"


def sees_internal_fields(actor: Actor) -> bool:
    """Inspector names, notes and unpublished records are for signed-in staff only."""
    return actor.signed_in


def may_edit_inventory(actor: Actor) -> bool:
    """Whether the map offers adding plants and drawing green spaces (in the actor's region)."""
    return actor.role in (Role.FORESTER, Role.ADMIN)


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
    if not may_write_region(actor, region_id):
        message = f"{who(actor)} may not {action} {entity} in region {region_id}"
        deny(session, actor, action, entity, entity_id, region_id, message)


def require_outline_write(
    session: Session,
    actor: Actor,
    outline: BaseGeometry,
    action: str,
    entity: str,
    entity_id: int | None = None,
) -> None:
    """Refuse an outline that reaches into a region ``actor`` may not write.

    A green space is filed under the region of one point on its surface; without this, an Almaty
    forester could draw a park that spills into Astana and so write there. Every region whose
    pieces share area with the outline (not merely a border) must be the writer's.
    """
    drawn = from_shape(outline, srid=4326)
    reached = session.execute(
        select(Region.id, Region.iso_code)
        .join(RegionPart, RegionPart.region_id == Region.id)
        .where(
            func.ST_Intersects(RegionPart.geom, drawn),
            func.ST_Relate(RegionPart.geom, drawn, "2********"),
        )
        .distinct()
        .order_by(Region.id)
    )
    for region_id, iso_code in reached:
        if not may_write_region(actor, region_id):
            message = (
                f"{who(actor)} may not {action} {entity} reaching into {iso_code} "
                f"(region {region_id}): the outline must lie in your own region"
            )
            deny(session, actor, action, entity, entity_id, region_id, message)


def require_role(
    session: Session,
    actor: Actor,
    roles: set[Role],
    action: str,
    entity: str,
    entity_id: int | None = None,
    region_id: int | None = None,
) -> None:
    if actor.role is not Role.ADMIN and actor.role not in roles:
        message = f"{who(actor)} may not {action} {entity}"
        deny(session, actor, action, entity, entity_id, region_id, message)


def deny(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    region_id: int | None,
    message: str,
) -> None:
    """Raise ``AccessDenied``; a signed-in actor's refusal is audited first with the request's
    address and path. The public's are not: one row per anonymous request let any stranger
    grow the audit table ~250 rows a second; the access log keeps them."""
    if not actor.signed_in:
        log.info("refused the public: %s", message)
        raise AccessDenied(message, action=action, entity=entity, entity_id=entity_id)
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
                new_value={"attempted": action, **(REQUEST_ORIGIN.get() or {})},
            )
        )
    raise AccessDenied(message, action=action, entity=entity, entity_id=entity_id)


# -- NDVI from satellite images ------------------------------------------------------------------
def ndvi_regions(actor: Actor) -> frozenset[int] | None:
    """The regions whose green spaces ``actor`` may give NDVI figures: ``None`` means all (an
    admin, the CLI's operator), a forester their own region, anyone else none. Figures are a
    measurement of the inventory, so they follow the rule of ``may_write_region``."""
    if actor.role is Role.ADMIN:
        return None
    if actor.role is Role.FORESTER and actor.region_id is not None:
        return frozenset({actor.region_id})
    return frozenset()


def require_ndvi_write(
    session: Session, actor: Actor, image_regions: set[int] | None = None
) -> None:
    """Refuse (and audit) unless ``actor`` may record NDVI for a region the image covers
    (``None``: before the image is read, whether they may record NDVI at all)."""
    allowed = ndvi_regions(actor)
    if allowed is None or (allowed and (image_regions is None or allowed & image_regions)):
        return
    if not allowed:
        message = f"{who(actor)} may not record NDVI images"
    else:
        covered = ", ".join(str(r) for r in sorted(image_regions or ()))
        message = f"{who(actor)} may not record NDVI outside region {actor.region_id}; " \
            f"the image covers region(s) {covered}"  # fmt: skip
    deny(session, actor, "record", "NDVI image", None, actor.region_id, message)


# -- the species catalogue ------------------------------------------------------------------------
def may_keep_species_alias(actor: Actor) -> bool:
    """Those who import surveys (foresters, admins) may keep a survey's spelling of a species.

    An alias only adds a name by which an existing species is found; it never changes the
    species, and the audit trail says who added it.
    """
    return actor.role in (Role.FORESTER, Role.ADMIN)


def require_species_alias_write(session: Session, actor: Actor, species_id: int | None) -> None:
    if not may_keep_species_alias(actor):
        message = f"{who(actor)} may not add aliases to the species catalogue"
        deny(session, actor, "keep_alias", "species", species_id, None, message)


def may_add_species(actor: Actor) -> bool:
    """The ministry (and administrators) keep the national catalogue: a species added there is
    offered to every region and sets the size limits its plants are checked against."""
    return actor.role in (Role.MINISTRY, Role.ADMIN)


def require_species_add(session: Session, actor: Actor) -> None:
    if not may_add_species(actor):
        message = f"{who(actor)} may not add species to the catalogue"
        deny(session, actor, "add", "species", None, None, message)


# -- forest nurseries -----------------------------------------------------------------------------
def may_write_nursery(actor: Actor, nursery_id: int) -> bool:
    """Nursery staff keep their own nursery's ledger only; an admin may keep any."""
    if actor.role is Role.ADMIN:
        return True
    return actor.role is Role.NURSERY and actor.nursery_id == nursery_id


def require_nursery_write(
    session: Session,
    actor: Actor,
    nursery_id: int,
    action: str,
    entity: str,
    entity_id: int | None = None,
    region_id: int | None = None,
) -> None:
    """Refuse (and audit the refusal) unless ``actor`` may write ``nursery_id``'s ledger."""
    if not may_write_nursery(actor, nursery_id):
        message = f"{who(actor)} may not {action} {entity} of nursery {nursery_id}"
        deny(session, actor, action, entity, entity_id, region_id, message)


def may_read_nurseries(actor: Actor) -> bool:
    """Stock and ledgers are for signed-in staff: the ministry, planners, foresters, nurseries."""
    return actor.signed_in


def require_nursery_read(session: Session, actor: Actor) -> None:
    if may_read_nurseries(actor):
        return
    deny(session, actor, "read", "nursery stock", None, None, "sign in to see nursery stock")


def may_override_zoning(actor: Actor) -> bool:
    """Sending stock outside its natural zones is an admin's decision, never a nursery's own."""
    return actor.role is Role.ADMIN


def require_zoning_override(
    session: Session, actor: Actor, nursery_id: int, region_id: int
) -> None:
    if not may_override_zoning(actor):
        message = f"{who(actor)} may not override the zoning rule; ask an administrator"
        deny(session, actor, "override zoning", "shipment", None, region_id, message)


# -- planting, care, felling and the ministry's reports --------------------------------------------
NATIONAL_READERS = frozenset({Role.MINISTRY, Role.PLANNER, Role.ADMIN})


def may_read_region(actor: Actor, region_id: int) -> bool:
    """Plans, works, permits and reports: the ministry and planners read every region, a forester
    only their own; nursery staff and the public none."""
    if actor.role in NATIONAL_READERS:
        return True
    return actor.role is Role.FORESTER and actor.region_id == region_id


def readable_regions(actor: Actor) -> frozenset[int] | None:
    """The regions whose plans and works ``actor`` may read (the rule of ``may_read_region``),
    for listings: ``None`` means every region."""
    if actor.role in NATIONAL_READERS:
        return None
    if actor.role is Role.FORESTER and actor.region_id is not None:
        return frozenset({actor.region_id})
    return frozenset()


def require_region_read(
    session: Session,
    actor: Actor,
    region_id: int,
    entity: str,
    entity_id: int | None = None,
) -> None:
    if not may_read_region(actor, region_id):
        message = f"{who(actor)} may not read {entity} of region {region_id}"
        deny(session, actor, "read", entity, entity_id, region_id, message)


def require_some_region_read(session: Session, actor: Actor, entity: str) -> frozenset[int] | None:
    """The regions whose ``entity`` (residents' reports) ``actor`` may list (``None``: all);
    refused (and audited) for those who may read no region's: nursery staff, the public."""
    allowed = readable_regions(actor)
    if allowed == frozenset():
        deny(session, actor, "read", entity, None, None, f"{who(actor)} may not read {entity}")
    return allowed


def require_national_read(session: Session, actor: Actor, entity: str) -> None:
    """National aggregates and the list of overdue obligations: ministry, planners, admins."""
    if actor.role not in NATIONAL_READERS:
        message = f"{who(actor)} may not read national {entity}"
        deny(session, actor, "read", entity, None, None, message)


def require_ministry(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None = None,
    region_id: int | None = None,
) -> None:
    """Approving or returning a region's report, and setting compensation ratios."""
    require_role(session, actor, {Role.MINISTRY}, action, entity, entity_id, region_id)


def require_signed_in(session: Session, actor: Actor, action: str, entity: str) -> None:
    """Planting, care, felling and report pages and API are for signed-in staff only; the
    narrower rules (region, ministry) follow in each service."""
    if actor.signed_in:
        return
    deny(session, actor, action, entity, None, None, f"sign in to {action} {entity}")
