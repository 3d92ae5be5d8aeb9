"""The declared shapes of ``/api/v1``'s inventory: plants, green spaces, inspections, lookups.

Types, lengths and the column's measuring resolution live here; domain limits (a species'
plausible height, the planting year not in the future, the region a writer may touch) stay in
``registry.inventory.rules`` and the services, which still judge every value that passes.
"""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, create_model
from sqlalchemy import Numeric

from registry.inventory.models import (
    CONDITION_GRADES,
    GreenSpaceCategory,
    Inspection,
    Plant,
    PlantingForm,
    PlantStatus,
)
from registry.inventory.queries import MAX_PAGE
from registry.inventory.rules import MAX_AGE_YEARS, OLDEST_PLANTING_YEAR, TEXT_LIMITS
from web.api.contract import BodyModel, QueryModel, Whole

# -- limits per field ----------------------------------------------------------------------------
# The inventory's own text limits are declared once, in the rules the services apply.
INVENTORY_NUMBER_CHARS = TEXT_LIMITS["inventory_number"]
ADDRESS_CHARS = TEXT_LIMITS["address"]
NOTES_CHARS = TEXT_LIMITS["notes"]
REASON_CHARS = TEXT_LIMITS["reason"]
# A person, a title, a species name: fields the inventory's rules do not bound themselves.
NAME_CHARS = 200
SEARCH_CHARS = 200
INT4 = 2**31 - 1
BIGINT = 2**63 - 1


def text(chars: int, min_chars: int = 0) -> Any:
    return Annotated[str, Field(min_length=min_chars, max_length=chars)]


def whole(low: int = 0, high: int = INT4) -> Any:
    return Annotated[int, Field(ge=low, le=high)]


def measure(column: Any) -> Any:
    """A measurement no finer than its column keeps and no larger than it holds: ``height_m``
    is ``Numeric(5, 1)``, so 0.1 … 9999.9 m (0.04 m would be stored as 0.0, which no rule then
    accepts, and the plant could no longer be saved)."""
    kind: Numeric = column.type
    step = Decimal(1).scaleb(-kind.scale)
    top = Decimal(10) ** (kind.precision - kind.scale) - step
    return Annotated[
        float,
        Field(ge=float(step), le=float(top), description=f"Measured to {step}; from {step}"),
    ]


Id = whole(1, BIGINT)
Version = Annotated[int, Field(ge=1, le=INT4, description="The version you read")]
Grade = whole(min(CONDITION_GRADES), max(CONDITION_GRADES))
Longitude = Annotated[float, Field(ge=-180, le=180)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Coordinate = Annotated[float, Field(ge=-1e7, le=1e7)]
Position = Annotated[list[Coordinate], Field(min_length=2, max_length=3)]
Line = Annotated[list[Position], Field(min_length=2, max_length=100_000)]
Ring = Annotated[list[Position], Field(min_length=4, max_length=100_000)]
Rings = Annotated[list[Ring], Field(min_length=1, max_length=10_000)]


class PointGeometry(BodyModel):
    type: Literal["Point"]
    coordinates: Position


class LineGeometry(BodyModel):
    type: Literal["LineString"]
    coordinates: Line


class MultiLineGeometry(BodyModel):
    type: Literal["MultiLineString"]
    coordinates: Annotated[list[Line], Field(min_length=1, max_length=10_000)]


class PolygonGeometry(BodyModel):
    type: Literal["Polygon"]
    coordinates: Rings


class MultiPolygonGeometry(BodyModel):
    type: Literal["MultiPolygon"]
    coordinates: Annotated[list[Rings], Field(min_length=1, max_length=10_000)]


Geometry = Annotated[
    PointGeometry | LineGeometry | MultiLineGeometry | PolygonGeometry | MultiPolygonGeometry,
    Field(discriminator="type", description="GeoJSON geometry in EPSG:4326"),
]


# -- plants ----------------------------------------------------------------------------------------
class PlantInput(BodyModel):
    """A new plant: ``species_id`` (or ``species`` by name or code) and ``lon``/``lat`` (or a
    GeoJSON ``geometry``)."""

    inventory_number: text(INVENTORY_NUMBER_CHARS) | None = None
    species_id: Id = None
    species: text(NAME_CHARS, 1) = None
    lon: Longitude = None
    lat: Latitude = None
    geometry: Geometry = None
    green_space_id: Id | None = None
    planting_form: PlantingForm | None = None
    quantity: whole(1) = None
    planting_year: whole(OLDEST_PLANTING_YEAR, 9999) | None = None
    age_years: whole(0, MAX_AGE_YEARS) | None = None
    height_m: measure(Plant.__table__.c.height_m) | None = None
    trunk_diameter_cm: measure(Plant.__table__.c.trunk_diameter_cm) | None = None
    crown_diameter_m: measure(Plant.__table__.c.crown_diameter_m) | None = None
    condition: Grade = None
    hazardous: bool = None
    status: PlantStatus = None
    address: text(ADDRESS_CHARS) | None = None
    notes: text(NOTES_CHARS) | None = None
    published: bool = None


class PlantChange(PlantInput):
    """A change: the ``version`` you read and the fields to change."""

    version: Version


class Removal(BodyModel):
    """Plants are never erased: removal marks them removed, dead, a stump or vacant."""

    version: Version
    status: Literal["dead", "removed", "stump", "vacant"] = None
    reason: text(REASON_CHARS) = None


class RemovalQuery(QueryModel):
    version: Whole(1, INT4) = None
    status: Literal["dead", "removed", "stump", "vacant"] = None
    reason: text(REASON_CHARS) = None


class InspectionInput(BodyModel):
    condition: Grade
    inspected_on: date = None
    inspector: text(TEXT_LIMITS["inspector"]) = None
    hazardous: bool = None
    height_m: measure(Inspection.__table__.c.height_m) | None = None
    trunk_diameter_cm: measure(Inspection.__table__.c.trunk_diameter_cm) | None = None
    notes: text(NOTES_CHARS) = None


# -- green spaces ----------------------------------------------------------------------------------
class GreenSpaceInput(BodyModel):
    name: text(TEXT_LIMITS["name"], 1) = None
    category: GreenSpaceCategory = None
    kind: text(TEXT_LIMITS["kind"]) = None
    balance_holder: text(TEXT_LIMITS["balance_holder"]) = None
    notes: text(NOTES_CHARS) = None
    published: bool = None
    geometry: Annotated[PolygonGeometry | MultiPolygonGeometry, Field(discriminator="type")] = None


class GreenSpaceChange(GreenSpaceInput):
    version: Version


# -- query parameters -----------------------------------------------------------------------------
IdList = Annotated[
    str, Field(pattern=r"^\s*[0-9]{1,10}(\s*,\s*[0-9]{1,10})*\s*,?\s*$", max_length=2_000)
]
STATUS = "(" + "|".join(s.value for s in PlantStatus) + ")"
Number = r"-?[0-9]{1,3}(\.[0-9]{1,17})?([eE][-+]?[0-9]{1,2})?"  # as a browser prints floats
BBox = Annotated[
    str,
    Field(
        pattern=rf"^{Number},{Number},{Number},{Number}$",
        description="west,south,east,north in degrees",
    ),
]


class Page(QueryModel):
    limit: Whole(1, MAX_PAGE, "Page size (default 100)") = None
    after: Whole(0, BIGINT, description="Keyset: the last id of the previous page") = 0


class PlantFilters(Page):
    species: IdList = Field(None, description="Species ids, comma-separated")
    condition: Annotated[str, Field(pattern=r"^[1-6](,[1-6])*$")] = Field(
        None, description="Condition grades 1–6, comma-separated"
    )
    status: Annotated[
        str,
        Field(pattern=r"^(alive|dead|removed|stump|vacant)(,(alive|dead|removed|stump|vacant))*$"),
    ] = Field(None, description="alive, dead, removed, stump, vacant; comma-separated")
    region: IdList = Field(None, description="Region ids, comma-separated")
    year_from: Whole(0, 9999, description="Planted in or after") = None
    year_to: Whole(0, 9999, description="Planted in or before") = None
    green_space: Whole(0, INT4, description="Green space id") = None
    bbox: BBox = None


class GreenSpaceFilters(Page):
    region: IdList = Field(None, description="Region ids, comma-separated")
    name: text(NAME_CHARS) = Field(None, description="Part of the name")


class PointQuery(QueryModel):
    lon: Longitude
    lat: Latitude
    z: Annotated[float, Field(ge=0, le=30, description="Map zoom")] = 16
    kind: Literal["green_space"] = Field(
        None, description="green_space: skip plants, answer the green space there"
    )


class SearchQuery(QueryModel):
    q: text(SEARCH_CHARS, 2) = Field(description="Inventory number, address or name")


class Language(QueryModel):
    lang: Literal["kk", "ru", "en"] = Field(None, description="Language of names")


class SpeciesQuery(Language):
    search: text(NAME_CHARS) = Field(None, description="Part of any name")


# -- answers ---------------------------------------------------------------------------------------
Text = str | None
Measure = float | None


class Error(BaseModel):
    error: str
    message: str
    field: str = None
    reason: str = None
    value: Any = None
    changed_by: Any = None
    changed_at: Any = None
    current: dict[str, Any] = None


class BenefitPrice(BaseModel):
    kzt: float
    unit: str
    basis: str
    valid_from: str
    source: str


class BenefitMethod(BaseModel):
    equation: str = Field(description="The equation's code, as `jasyl species show` prints it")
    form: str = Field(description="volume (V·density), ln, log10 or difference")
    source: str
    fitted_dbh_cm: list[float | None]
    dbh_used_cm: float = Field(description="The DBH clamped to the fitted range")
    outside_fitted_range: bool
    fallback: str = Field(description="Empty: the species' own equation")
    wood_density_kg_m3: float | None = None
    growth_class: str
    species_source: str
    leaf_area_method: str | None = Field(
        None, description="equation (the species', of DBH), crown (Nowak 1996) or null"
    )
    crown_height_assumed_m: float | None = Field(
        None, description="Crown method: no crown base is measured, Hc = share × height"
    )
    crown_height_share: float | None = None
    inputs: dict[str, Any]


class PlantBenefits(BaseModel):
    """Estimates, trees only; a figure that could not be computed is null with its reason."""

    kind: str = Field(description="computed, no_method (shrub, hedge, stump…) or no_dbh")
    estimate: bool = True
    co2_stored_kg: float | None = None
    co2_sequestered_kg_per_year: float | None = None
    sequestration_note: str = ""
    rain_intercepted_m3_per_year: float | None = None
    rain_note: str = ""
    value_kzt_per_year: float | None = None
    co2_price: BenefitPrice | None = None
    stormwater_price: BenefitPrice | None = None
    method: BenefitMethod | None = None


class PlantAnswer(BaseModel):
    id: int
    region_id: int = None
    version: int = None
    updated_at: Text = None
    inventory_number: Text = None
    species_id: int | None = Field(None, description="null: a stump or vacant site")
    planting_form: str = None
    green_space_id: int | None = None
    quantity: int = None
    planting_year: int | None = None
    age_years: int | None = None
    height_m: Measure = None
    trunk_diameter_cm: Measure = None
    crown_diameter_m: Measure = None
    condition: int | None = Field(None, description="1-6; null: not assessed")
    hazardous: bool = None
    status: str = None
    address: Text = None
    notes: Text = Field(None, description="Signed-in staff only")
    published: bool = None
    gps_accuracy_m: float | None = Field(
        None,
        description="Metres, of a position recorded in field mode (staff only); null: not measured",
    )
    gps_fixes: int | None = Field(None, description="GPS fixes averaged for it (staff only)")
    geometry: dict[str, Any] = None
    benefits: PlantBenefits | None = Field(
        None, description="One plant's read only (GET /plants/{id}): CO₂, rain, value in ₸"
    )


class GreenSpaceAnswer(BaseModel):
    id: int
    region_id: int = None
    version: int = None
    name: str = None
    category: str = None
    kind: Text = None
    balance_holder: Text = None
    area_m2: float = None
    published: bool = None
    updated_at: Text = None
    notes: Text = Field(None, description="Signed-in staff only")
    geometry: dict[str, Any] = None


class InspectionAnswer(BaseModel):
    id: int
    plant_id: int = None
    inspected_on: str = None
    condition: int = None
    hazardous: bool = None
    height_m: Measure = None
    trunk_diameter_cm: Measure = None
    inspector: Text = Field(None, description="Signed-in staff only")
    notes: Text = Field(None, description="Signed-in staff only")


class HistoryEntry(BaseModel):
    at: str
    actor: Text = None
    action: str = None
    field: Text = None
    old: Any = None
    new: Any = None


class PhotoAnswer(BaseModel):
    id: int
    plant_id: int = None
    content_type: str = None
    file_name: Text = None
    size_bytes: int = None
    width: int | None = None
    height: int | None = None
    created_at: Text = None
    url: str = Field(None, description="The image (not JSON)")
    thumbnail_url: str = Field(None, description="A JPEG at most 320 px a side")


class RegionAnswer(BaseModel):
    id: int
    iso_code: Text = None
    kato: Text = None
    name: Text = None
    name_kk: Text = None
    name_ru: Text = None
    name_en: Text = None


class SpeciesAnswer(BaseModel):
    id: int
    code: Text = None
    latin: Text = None
    name: Text = None
    name_kk: Text = None
    name_ru: Text = None
    name_en: Text = None
    life_form: Text = None


class SearchHit(BaseModel):
    kind: Literal["plant", "green_space"]
    id: int
    label: Text = None
    lon: float = None
    lat: float = None


class AtPoint(BaseModel):
    kind: Literal["plant", "green_space"] | None
    id: int = None
    html: Text = None


def listing(item: type[BaseModel], paged: bool = True) -> type[BaseModel]:
    """``{"items": [...], "next": link}`` of ``item`` (``next`` only on keyset-paged lists)."""
    fields: dict[str, Any] = {"items": (list[item], ...)}
    if paged:
        fields["next"] = (str | None, None)
    suffix = "Page" if paged else "List"
    return create_model(f"{item.__name__.removesuffix('Answer')}{suffix}", **fields)
