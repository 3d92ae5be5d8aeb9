"""Import every model module so ``Base.metadata`` knows the whole schema (Alembic, tests)."""

from registry.accounts.models import Role, User
from registry.audit.models import AuditEntry
from registry.benefits.models import (
    BenefitConstant,
    BenefitEquation,
    BenefitPrice,
    BenefitTally,
    RegionPrecipitation,
    SpeciesBenefitMethod,
)
from registry.care.models import CarePlan, CareWork
from registry.db import Base
from registry.felling.models import CompensationRatio, FellingPermit, FellingPermitPlant
from registry.field.models import FieldChange, FieldPhoto
from registry.imports.models import ImportBatch
from registry.inventory.models import (
    GreenSpace,
    Inspection,
    Plant,
    PlantDot,
    PlantDotCell,
    PlantGridCell,
    PlantGridState,
    TileVersion,
)
from registry.nursery.models import (
    Batch,
    BatchMovement,
    Nursery,
    NurserySection,
    SeedLot,
    SeedLotMovement,
    Shipment,
    ShipmentLine,
)
from registry.opendata.models import GreenSpaceNdvi, NdviImage
from registry.photos.models import PlantPhoto
from registry.planting.models import (
    PlantingEvent,
    PlantingEventPlant,
    PlantingPlan,
    PlantingPlanLine,
    PlantingTally,
    SurvivalCheck,
)
from registry.public_reports.models import PublicReport, PublicReportPhoto
from registry.regions.models import Region, RegionPart
from registry.reports.models import CareTally, InventoryTally, RegionReport
from registry.species.models import Species

__all__ = [
    "GreenSpaceNdvi",
    "NdviImage",
    "AuditEntry",
    "Base",
    "BenefitConstant",
    "BenefitEquation",
    "BenefitPrice",
    "BenefitTally",
    "RegionPrecipitation",
    "SpeciesBenefitMethod",
    "Batch",
    "BatchMovement",
    "CarePlan",
    "CareTally",
    "CareWork",
    "CompensationRatio",
    "FellingPermit",
    "FellingPermitPlant",
    "FieldChange",
    "FieldPhoto",
    "GreenSpace",
    "ImportBatch",
    "Inspection",
    "InventoryTally",
    "Nursery",
    "NurserySection",
    "Plant",
    "PlantDot",
    "PlantDotCell",
    "PlantGridCell",
    "PlantGridState",
    "PlantingEvent",
    "PlantingEventPlant",
    "PlantingPlan",
    "PlantingPlanLine",
    "PlantingTally",
    "PlantPhoto",
    "PublicReport",
    "PublicReportPhoto",
    "Region",
    "RegionPart",
    "RegionReport",
    "Role",
    "SeedLot",
    "SeedLotMovement",
    "Shipment",
    "ShipmentLine",
    "Species",
    "SurvivalCheck",
    "TileVersion",
    "User",
]
