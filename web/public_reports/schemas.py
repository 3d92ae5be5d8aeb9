"""The declared shapes of residents' reports and the foresters' queue in ``/api/v1``, and their
operations (merged into ``web.api.operations``, so the OpenAPI document names them).

Types and lengths are here; the rules (a place inside Kazakhstan, a published tree, a step the
report may take) stay in ``registry.public_reports``.
"""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from registry.care.models import CareKind, CareUnit
from registry.public_reports import rules
from web.api.contract import BodyModel, Operation, QueryModel, unplaceheld
from web.api.schemas import BIGINT, NOTES_CHARS, Grade, Id, listing, text

Kind = Literal[rules.KINDS]  # type: ignore[valid-type]
Status = Literal[rules.STATUSES]  # type: ignore[valid-type]
# Kazakhstan's bounding box: a point outside it is refused by the schema, one inside it but
# outside every region by the service; both name the field.
Lon = Annotated[float, Field(ge=46.0, le=88.0, description="Longitude, EPSG:4326")]
Lat = Annotated[float, Field(ge=40.0, le=56.0, description="Latitude, EPSG:4326")]
HONEYPOT = "website"


class ReportInput(BodyModel):
    kind: Kind
    description: text(rules.DESCRIPTION_CHARS) = None
    lon: Lon
    lat: Lat
    plant_id: Id = Field(None, description="A published plant; its place and region win")
    contact: text(rules.CONTACT_CHARS) = Field(None, description="Never shown to the public")
    website: text(200) = Field(None, description="Leave empty: a field only robots fill in")


class ReportReceipt(BaseModel):
    number: str
    status_url: str
    status: str
    joined: bool = Field(description="true: the same problem was reported; follow that number")


class ReportStatus(BaseModel):
    number: str
    status: Status
    published: bool
    received_on: str
    kind: Kind | None = None
    lon: float | None = None
    lat: float | None = None
    reason: str | None = None
    plant_id: int | None = None


class QueueFilters(QueryModel):
    region: text(64, 1) = Field(None, description="Region id, ISO code or name")
    kind: Kind = None
    status: Status = None


class QueuedReport(BaseModel):
    id: int
    number: str
    kind: str
    status: str
    published: bool
    region_id: int
    plant_id: int | None = None
    lon: float
    lat: float
    description: str
    contact: str | None = None
    reason: str | None = None
    received_at: str
    joined: int = Field(description="Later reports of the same problem joined to this one")
    photos: list[str] = []
    inspection_id: int | None = None
    care_work_id: int | None = None


class AcceptInput(BodyModel):
    action: Literal["inspection", "care", "felling"]
    condition: Grade = Field(None, description="inspection: the grade seen, 1-6")
    hazardous: bool = None
    inspected_on: date = None
    kind: Literal[tuple(k.value for k in CareKind)] = Field(None, description="care: the work")
    unit: Literal[tuple(u.value for u in CareUnit)] = None
    planned_volume: Annotated[float, Field(gt=0, le=1e9)] = None
    planned_on: date = None
    notes: text(NOTES_CHARS) = None


class RejectInput(BodyModel):
    reason: text(rules.REASON_CHARS, 1)


class StepInput(BodyModel):
    status: Literal["planned", "done"]


class MergeInput(BodyModel):
    into: text(20, 1) = Field(description="The first report's number")


class PublishInput(BodyModel):
    published: bool = True


PUBLIC_ERRORS = (400, 404, 413, 422, 429, 503)
STAFF_WRITES = (400, 401, 403, 404, 409, 413, 422, 503)
QueuedId = Annotated[int, Field(ge=1, le=BIGINT)]


def upload_body() -> dict[str, Any]:
    """JSON, or multipart with the same fields and up to three photos."""
    fields = unplaceheld(ReportInput.model_json_schema())
    photos = {"type": "array", "items": {"type": "string", "format": "binary"}, "maxItems": 3}
    multipart = {**fields, "properties": {**fields["properties"], "photos": photos}}
    return {"application/json": {"schema": fields}, "multipart/form-data": {"schema": multipart}}


def staff(summary: str, body: Any = None, answer: Any = QueuedReport) -> Operation:
    return Operation(summary, body=body, answer=answer, errors=STAFF_WRITES)


OPERATIONS = {
    "public_reports_api.submit": Operation(
        "Report a tree or a place (anyone; JSON, or multipart with up to 3 photos)",
        upload=upload_body(),
        ok=201,
        answer=ReportReceipt,
        errors=PUBLIC_ERRORS,
    ),
    "public_reports_api.status": Operation(
        "A report's public status (its kind and place once a forester published it)",
        answer=ReportStatus,
        errors=(400, 404, 422, 503),
    ),
    "public_reports_api.queue": Operation(
        "The foresters' queue of residents' reports (the reader's regions)",
        query=QueueFilters,
        answer=listing(QueuedReport, paged=False),
        errors=(400, 401, 403, 404, 422, 503),
    ),
    "public_reports_api.queued": Operation(
        "One report in the queue, with its contact and photos",
        answer=QueuedReport,
        errors=(400, 401, 403, 404, 422, 503),
    ),
    "public_reports_api.accept": staff(
        "Accept into an inspection, a care work or a felling work", AcceptInput
    ),
    "public_reports_api.reject": staff("Reject with a reason", RejectInput),
    "public_reports_api.step": staff("Work planned, or done", StepInput),
    "public_reports_api.merge": staff("Join to the first report of the same problem", MergeInput),
    "public_reports_api.publish": staff("Publish (or withdraw) the report", PublishInput),
}
