"""Every ``/api/v1`` endpoint's declared operation: its schemas, its answer, its summary.

One table for every blueprint that answers under ``/api/v1`` (inventory, photos, planting, care,
felling, nurseries, reports), keyed by Flask endpoint: ``web.api.contract.init_app`` puts each
view behind its schemas and ``/api/v1/openapi.json`` is generated from it. A route missing here
is missing from the document, which ``tests/test_api_contract.py`` refuses.
"""

from typing import Any

from flask import Flask

from web.api import area_schemas as area
from web.api import contract
from web.api import schemas as inv
from web.api.contract import Operation
from web.field.operations import FIELD
from web.public_reports.schemas import OPERATIONS as PUBLIC_REPORTS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OBJECT: dict[str, Any] = {"type": "object"}
ROWS: dict[str, Any] = {"type": "array", "items": {"type": "object"}}
READS = (400, 401, 403, 404, 422, 503)  # signed-in reads: 401 for the public, 403 for a role
PUBLIC_READS = (400, 404, 422, 503)
PHOTO_UPLOAD = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["photo"],
            "properties": {"photo": {"type": "string", "format": "binary"}},
        }
    }
}


def staff_read(summary: str, query: Any = None, answer: Any = OBJECT) -> Operation:
    return Operation(summary, query=query, answer=answer, errors=READS)


def public_read(summary: str, query: Any = None, answer: Any = None) -> Operation:
    return Operation(summary, query=query, answer=answer, errors=PUBLIC_READS)


def action(summary: str, body: Any = None, ok: int = 200, answer: Any = OBJECT) -> Operation:
    return Operation(summary, body=body, ok=ok, answer=answer)


INVENTORY = {
    "api.plants": public_read(
        "Plants, filtered, by id", inv.PlantFilters, inv.listing(inv.PlantAnswer)
    ),
    "api.add_plant": action("Add a plant", inv.PlantInput, 201, inv.PlantAnswer),
    "api.plant": public_read("One plant", answer=inv.PlantAnswer),
    "api.change_plant": action("Change a plant", inv.PlantChange, answer=inv.PlantAnswer),
    "api.delete_plant": Operation(
        "Mark a plant removed, dead, a stump or vacant (the body, or the query, names the version)",
        query=inv.RemovalQuery,
        body=inv.Removal,
        body_required=False,
        answer=inv.PlantAnswer,
    ),
    "api.inspections": public_read(
        "Inspections, newest first", answer=inv.listing(inv.InspectionAnswer, paged=False)
    ),
    "api.add_inspection": action(
        "Record an inspection", inv.InspectionInput, 201, inv.InspectionAnswer
    ),
    "api.plant_history": staff_read(
        "Audit trail (signed-in staff)", answer=inv.listing(inv.HistoryEntry, paged=False)
    ),
    "api.at": public_read(
        "What is at a clicked point (nearest plant within a few pixels)",
        inv.PointQuery,
        inv.AtPoint,
    ),
    "api.find": public_read(
        "Find plants and green spaces", inv.SearchQuery, inv.listing(inv.SearchHit, paged=False)
    ),
    "api.green_spaces": public_read(
        "Green spaces", inv.GreenSpaceFilters, inv.listing(inv.GreenSpaceAnswer)
    ),
    "api.add_green_space": action(
        "Add a green space", inv.GreenSpaceInput, 201, inv.GreenSpaceAnswer
    ),
    "api.green_space": public_read("One green space", answer=inv.GreenSpaceAnswer),
    "api.change_green_space": action(
        "Change a green space", inv.GreenSpaceChange, answer=inv.GreenSpaceAnswer
    ),
    "api.green_space_history": staff_read(
        "Audit trail (signed-in staff)", answer=inv.listing(inv.HistoryEntry, paged=False)
    ),
    "api.regions": public_read(
        "The 20 regions", inv.Language, inv.listing(inv.RegionAnswer, paged=False)
    ),
    "api.region": public_read(
        "A region's numbers: plants by condition, status, species", inv.Language, OBJECT
    ),
    "api.species": public_read(
        "Species", inv.SpeciesQuery, inv.listing(inv.SpeciesAnswer, paged=False)
    ),
    "api.openapi": public_read("This document", answer=OBJECT),
    "photos_api.photos": public_read(
        "The plant's photos, newest first", answer=inv.listing(inv.PhotoAnswer, paged=False)
    ),
    "photos_api.add_photo": Operation(
        "Add a photo (JPEG or PNG by content, up to 10 MB): the forester of the plant's region",
        upload=PHOTO_UPLOAD,
        ok=201,
        answer=inv.PhotoAnswer,
    ),
}

PLANTING = {
    "planting.create_plan": action("Draft a planting plan", area.PlanInput, 201),
    "planting.show_plan": staff_read(
        "A planting plan, its lines and its projected benefits", answer=area.PlanAnswer
    ),
    "planting.add_line": action("Add a line to a draft plan", area.PlanLineInput, 201),
    "planting.approve_plan": action("Approve a plan", area.Approval),
    "planting.record_event": action(
        "Record a planting (creates its plants)", area.PlantingInput, 201
    ),
    "planting.record_check": action("Record a survival check", area.SurvivalCheckInput, 201),
    "planting.event_survival": staff_read("An event's survival"),
    "planting.planned": staff_read(
        "Planned plantings in a map view (GeoJSON FeatureCollection; at most 2000)",
        area.PlannedQuery,
    ),
    "planting.survival": staff_read("Survival rates", area.SurvivalQuery, ROWS),
    "planting.create_care_plan": action("Draft a care plan", area.CarePlanInput, 201),
    "planting.approve_care_plan": action("Approve a care plan", area.Approval),
    "planting.add_care_work": action("Plan or record a care work", area.CareWorkInput, 201),
    "planting.care_done": action("Record a care work as done", area.CareDoneInput),
    "planting.care_summary": staff_read(
        "Planned against done volume and cost", area.RegionYear, ROWS
    ),
    "planting.record_felling": action("Record a felling permit", area.FellingInput, 201),
    "planting.ratios": staff_read("A region's compensation ratios", area.RegionQuery),
    "planting.set_ratio": action("Set a region's ratio for a case", area.RatioInput),
    "planting.obligations": staff_read(
        "Compensation obligations and their fulfilment", area.ObligationsQuery, ROWS
    ),
}

NURSERIES = {
    "nursery_api.api_stock": staff_read("Stock by species, stage and grade", area.StockQuery, ROWS),
    "nursery_api.api_report": staff_read("National nursery summary", area.YearQuery),
    "nursery_api.api_ledger": staff_read("A nursery's stock ledger", area.LedgerQuery, ROWS),
    "nursery_api.api_stock_history": staff_read(
        "A nursery's stock per stage at each of the last 24 month ends", None, ROWS
    ),
    "nursery_api.api_dispatch": action("Dispatch seedlings", area.DispatchInput, 201),
    "nursery_api.api_receive": action("Receive a shipment", area.ReceiptInput),
    "nursery_api.api_movement": action("Record a batch movement", area.MovementInput, 201),
    "nursery_api.api_provenance": staff_read("Where a planted tree came from"),
    "nursery_api.api_survival": staff_read("Survival per seed provenance", area.NurseryQuery, ROWS),
    "nursery_api.api_link": action("Link a planting to its shipment line", area.SourceInput),
}

REPORTS = {
    "reports.api_list": staff_read("Yearly reports", area.YearQuery, ROWS),
    "reports.api_national": staff_read("National planting figures", area.NationalQuery, ROWS),
    "reports.api_dashboard": staff_read("The ministry's dashboard figures", area.YearQuery),
    "reports.api_region_dashboard": staff_read(
        "One region's dashboard: figures, trend, survival by seed provenance, green spaces",
        area.YearQuery,
    ),
    "reports.api_show": Operation(
        "A region's yearly report (json; csv, xlsx or pdf with format=; the pdf in the "
        "reader's language)",
        query=area.ReportQuery,
        answer=OBJECT,
        also=("text/csv", XLSX, "application/pdf"),
        errors=READS,
    ),
    "reports.api_build": action("Build (or rebuild) the draft report", ok=201),
    "reports.api_submit": action("Submit the report (locks a snapshot)"),
    "reports.api_approve": action("Approve a submitted report"),
    "reports.api_return": action("Return a report to the region", area.ReturnInput),
}

OPERATIONS: dict[str, Operation] = {
    **INVENTORY,
    **PLANTING,
    **NURSERIES,
    **REPORTS,
    **PUBLIC_REPORTS,
    **FIELD,
}
INFO = {
    "title": "Jasyl registry API",
    "version": "1",
    "description": "Plants, green spaces, inspections, photos, regions and species of the "
    "national green-space registry, and its planting, care, felling, nursery and report work. "
    "Inventory reads are public (without internal fields); planting, care, felling, nursery and "
    "report routes need a signed-in session; writes need its CSRF token in X-CSRFToken and the "
    "right region. Generated from the schemas that validate each request.",
}


def init_app(app: Flask) -> None:
    contract.init_app(app, OPERATIONS, "/api/v1/")


def document(rules: Any) -> dict[str, Any]:
    """The OpenAPI document of ``/api/v1`` (served at ``/api/v1/openapi.json``)."""
    return contract.document(rules, OPERATIONS, "/api/v1", INFO, inv.Error)
