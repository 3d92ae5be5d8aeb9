"""Import every model module so ``Base.metadata`` knows the whole schema (Alembic, tests)."""

from registry.accounts.models import Role, User
from registry.audit.models import AuditEntry
from registry.db import Base
from registry.imports.models import ImportBatch
from registry.inventory.models import GreenSpace, Inspection, Plant
from registry.regions.models import Region, RegionPart
from registry.species.models import Species

__all__ = [
    "AuditEntry",
    "Base",
    "GreenSpace",
    "ImportBatch",
    "Inspection",
    "Plant",
    "Region",
    "RegionPart",
    "Role",
    "Species",
    "User",
]
