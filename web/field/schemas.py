"""The declared shapes of ``/api/v1/field``: one change as a phone sends it, the work area.

A change is ``{uuid, kind, payload, base_version, recorded_at, gps_accuracy_m, gps_fixes}``; its
``kind`` chooses the payload's shape, which is the online API's own (``PlantInput``,
``InspectionInput``, ``Removal``) plus the plant it is about: ``plant_id``, or ``plant_uuid``
for a plant the same phone added offline before it had an id.
"""

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, RootModel

from web.api.contract import BodyModel, QueryModel
from web.api.schemas import (
    NAME_CHARS,
    REASON_CHARS,
    BBox,
    Id,
    InspectionInput,
    PlantInput,
    Version,
    text,
    whole,
)

Accuracy = Annotated[float, Field(ge=0, le=100_000, description="Metres (the phone's estimate)")]
UUID_TEXT = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
UUIDS = rf"^{UUID_TEXT}(,{UUID_TEXT}){{0,99}}$"


class Recorded(BodyModel):
    uuid: UUID = Field(description="Made on the phone (crypto.randomUUID); unique on the server")
    recorded_at: AwareDatetime = Field(None, description="When the forester recorded it")
    gps_accuracy_m: Accuracy | None = None
    gps_fixes: whole(1, 1_000) | None = Field(None, description="GPS fixes averaged")


class PlantEdit(PlantInput):
    plant_id: Id = None
    plant_uuid: UUID = Field(None, description="The add_plant change of a plant added offline")


class InspectionOf(InspectionInput):
    plant_id: Id = None
    plant_uuid: UUID = None


class RemovalOf(BodyModel):
    plant_id: Id = None
    plant_uuid: UUID = None
    status: Literal["dead", "removed", "stump", "vacant"] = None
    reason: text(REASON_CHARS) = None


class AddPlant(Recorded):
    kind: Literal["add_plant"]
    payload: PlantInput


class EditPlant(Recorded):
    kind: Literal["edit_plant"]
    payload: PlantEdit
    base_version: Version


class Inspect(Recorded):
    kind: Literal["inspect"]
    payload: InspectionOf


class Remove(Recorded):
    kind: Literal["remove"]
    payload: RemovalOf
    base_version: Version


class FieldChangeInput(
    RootModel[Annotated[AddPlant | EditPlant | Inspect | Remove, Field(discriminator="kind")]]
):
    """One change recorded on a phone; its ``kind`` decides the payload."""


class ReceivedQuery(QueryModel):
    uuids: Annotated[str, Field(pattern=UUIDS, description="Change UUIDs, comma-separated")]


class AreaQuery(QueryModel):
    green_space: whole(1, 2**31 - 1) = Field(None, description="A green space's id")
    region: whole(1, 32_767) = Field(None, description="A region's id")
    bbox: BBox = None
    count_only: bool = Field(False, description="Only say how much the area holds")


# -- answers ---------------------------------------------------------------------------------------
class FieldChangeAnswer(BaseModel):
    uuid: str
    kind: str
    plant_id: int | None = None
    result: dict[str, Any]


class Received(BaseModel):
    received: list[str]


class TileRangeAnswer(BaseModel):
    z: int
    x0: int
    x1: int
    y0: int
    y1: int


class AreaTiles(BaseModel):
    basemap: str = Field(description="The basemap's id (JASYL_BASEMAPS)")
    bulk: bool = Field(description="Fetched by area (self-hosted); false: only tiles viewed")
    count: int = Field(description="Tiles z13–z18 the archive holds over the area")
    bytes: int
    measured: bool = Field(None, description="Bytes read from the archive, not estimated")
    ranges: list[TileRangeAnswer] = Field(None, description="Tiles to fetch, per zoom (XYZ)")


class AreaSize(BaseModel):
    plants: int
    green_spaces: int
    max_plants: int
    approximate_bytes: int = Field(description="The plants' and green spaces' JSON, about")
    tiles: AreaTiles | None = None
    total_bytes: int
    budget_bytes: int = Field(description="JASYL_FIELD_BUDGET_MB in bytes")
    allowed: bool
    refusal: str | None = Field(None, description="Why the area may not be downloaded")


class FieldArea(BaseModel):
    size: AreaSize
    plants: list[dict[str, Any]] = None
    green_spaces: list[dict[str, Any]] = None


NAME = text(NAME_CHARS)  # re-exported for the page's forms
