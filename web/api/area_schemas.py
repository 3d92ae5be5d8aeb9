"""The declared shapes of ``/api/v1``'s planting, care, felling, nursery and report work.

The views of those blueprints read the body and query themselves; these models judge them first
(``web.api.contract``), so every value a view reads already has its declared type and length.
Quantities, counts and enums stay the services' to judge against the domain.
"""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from registry.care.models import CareKind, CareUnit
from registry.felling.models import CompensationCase, FellingReason, Protection
from registry.planting.models import SURVIVAL_SEASONS, Performer, PlantingUnit, Season
from web.api.contract import BodyModel, QueryModel, Whole
from web.api.schemas import (
    INVENTORY_NUMBER_CHARS,
    NAME_CHARS,
    NOTES_CHARS,
    REASON_CHARS,
    BBox,
    Geometry,
    Id,
    Position,
    Version,
    text,
    whole,
)

Region = text(NAME_CHARS, 1)
Year = whole(1, 9999)
Amount = Annotated[float, Field(ge=0, le=1e12)]  # a volume, a cost, a planted quantity
Count = whole(0)


class PlanInput(BodyModel):
    region: Region = None
    year: Year = None
    season: Season = None
    title: text(NAME_CHARS) = None
    district: text(NAME_CHARS) = None
    funding_source: text(NAME_CHARS) = None


class PlanLineInput(BodyModel):
    species: text(NAME_CHARS, 1) = None
    quantity: Amount = None
    unit: PlantingUnit | None = None
    planting_form: text(NAME_CHARS) | None = None
    green_space_id: Id | None = None
    geometry: Geometry = None
    funding_source: text(NAME_CHARS) = None
    supplier: text(NAME_CHARS) = None
    notes: text(NOTES_CHARS) = None


class Approval(BodyModel):
    version: Version


class PlantingInput(BodyModel):
    species: text(NAME_CHARS, 1) = None
    planted_on: date = None
    quantity: Amount = None
    unit: PlantingUnit | None = None
    points: Annotated[list[Position], Field(max_length=100_000)] = None
    geometry: Geometry = None
    green_space_id: Id | None = None
    plan_line_id: Id | None = None
    planting_form: text(NAME_CHARS) | None = None
    performer_kind: Performer | None = None
    performer: text(NAME_CHARS) = None
    replaces_event_id: Id | None = None
    felling_permit_id: Id | None = None
    notes: text(NOTES_CHARS) = None


class SurvivalCheckInput(BodyModel):
    season: Literal[SURVIVAL_SEASONS] = None
    checked_on: date = None
    alive: Count = None
    dead: Count = None
    replaced: Count = None
    inspector: text(NAME_CHARS) = None
    notes: text(NOTES_CHARS) = None


class CarePlanInput(BodyModel):
    region: Region = None
    year: Year = None
    title: text(NAME_CHARS) = None


class CareWorkInput(BodyModel):
    kind: CareKind = None
    unit: CareUnit = None
    plan_id: Id | None = None
    year: Year | None = None
    planned_volume: Amount | None = None
    planned_on: date | None = None
    planned_cost: Amount | None = None
    done_volume: Amount | None = None
    done_on: date | None = None
    done_cost: Amount | None = None
    plant_id: Id | None = None
    green_space_id: Id | None = None
    geometry: Geometry = None
    performer: text(NAME_CHARS) = None
    notes: text(NOTES_CHARS) = None


class CareDoneInput(BodyModel):
    version: Version
    done_volume: Amount | None = None
    done_on: date = None
    done_cost: Amount | None = None


class FellingInput(BodyModel):
    number: text(INVENTORY_NUMBER_CHARS, 1) = None
    plant_ids: Annotated[list[Id], Field(max_length=100_000)]
    reason: FellingReason = None
    felled_on: date = None
    legal: bool = None
    protection: Protection | None = None
    due_on: date | None = None
    holder: text(NAME_CHARS) = None
    notes: text(NOTES_CHARS) = None


class RatioInput(BodyModel):
    region: Region = None
    case: CompensationCase = None
    ratio: Annotated[float, Field(ge=0, le=1_000)] = None


class DispatchLine(BodyModel):
    batch_id: Id
    quantity: whole(1)


class DispatchInput(BodyModel):
    region: Region = None
    lines: Annotated[list[DispatchLine], Field(max_length=10_000)] = None
    on: date = None
    consignee: text(NAME_CHARS) = None
    override_reason: text(REASON_CHARS) = None


class ReceiptInput(BodyModel):
    received: dict[Annotated[str, Field(pattern=r"^[0-9]{1,18}$")], Count]
    on: date = None


class MovementInput(BodyModel):
    kind: Literal["germination", "stocktake", "loss", "transplant", "reversal"]
    on: date = None
    reason: text(REASON_CHARS) = None
    counted: Count = None
    quantity: whole(1) = None
    cause: text(NAME_CHARS) = None
    to_section: text(NAME_CHARS) = None
    movement_id: Id = None


class SourceInput(BodyModel):
    shipment_line_id: Id


class ReturnInput(BodyModel):
    comment: text(NOTES_CHARS) = None


# -- query parameters -----------------------------------------------------------------------------
QueryYear = Whole(1, 9999, description="Year")
QueryRegion = Annotated[
    str, Field(max_length=NAME_CHARS, description="Region: ISO code (KZ-75), KATO prefix or name")
]
Day = Annotated[date, Field(description="YYYY-MM-DD")]


class YearQuery(QueryModel):
    year: QueryYear = None


class RegionQuery(QueryModel):
    region: QueryRegion = None


class RegionYear(QueryModel):
    region: QueryRegion = None
    year: QueryYear = None


class PlannedQuery(QueryModel):
    bbox: BBox
    year: Whole(1, 9999, description="Planned for this year or later") = None


class SurvivalQuery(RegionYear):
    by: Annotated[
        str, Field(pattern=r"^(year|species|form|unit)?(,(year|species|form|unit))*$")
    ] = Field(None, description="Group by: year, species, form, unit; comma-separated")


class ObligationsQuery(RegionYear):
    status: Literal["open", "fulfilled", "overdue"] = None


class NationalQuery(YearQuery):
    by: Annotated[str, Field(max_length=100, pattern=r"^[a-z_,]*$")] = Field(
        None, description="Group by, comma-separated"
    )


class StockQuery(QueryModel):
    nursery: text(NAME_CHARS) = Field(None, description="Nursery code")
    species: text(NAME_CHARS) = None


class NurseryQuery(QueryModel):
    nursery: text(NAME_CHARS) = Field(None, description="Nursery code")


class LedgerQuery(QueryModel):
    batch: Whole(1, 2**63 - 1, description="Batch id") = None
    kind: text(NAME_CHARS) = Field(None, description="Movement kind")
    since: Day = None
    until: Day = None


class ReportQuery(QueryModel):
    edition: Whole(1, 2**31 - 1) = None
    format: Literal["json", "csv", "xlsx", "pdf"] = None


# -- answers ---------------------------------------------------------------------------------------
class PlanLineAnswer(BaseModel):
    id: int
    plan_id: int
    species_id: int
    planting_form: str
    quantity: float
    unit: str
    green_space_id: int | None = None
    funding_source: str = ""
    supplier: str = ""
    notes: str = ""


class ProjectionHorizon(BaseModel):
    years: int = Field(description="10, 20 or 30 years after planting")
    trees: float = Field(description="The plan's trees surviving at the measured rate")
    co2_stored_t: float
    co2_sequestered_t_per_year: float


class PlanProjection(BaseModel):
    """Estimates: growth class at full health, the region's measured 3rd-season survival."""

    plan: int
    horizons: list[ProjectionHorizon]
    lines_without_method: int = Field(description="Shrubs, hedges, not in pieces: no figure")
    lines_without_survival_rate: int = Field(description="No survival measured: no figure")
    estimate: bool


class PlanAnswer(BaseModel):
    id: int
    region_id: int
    district: str = ""
    year: int
    season: str
    title: str = ""
    funding_source: str = ""
    status: str
    version: int
    lines: list[PlanLineAnswer]
    projection: PlanProjection = Field(description="Projected benefits after 10, 20, 30 years")
