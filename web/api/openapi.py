"""The OpenAPI 3.0 document of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written out by hand beside the views (a test checks that every API route is documented and the
fuzz pass drives the API from this document), so clients and the fuzzer see the same contract.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from registry.care.models import CareKind, CareUnit
from registry.felling.models import CompensationCase, FellingReason, Protection
from registry.planting.models import Performer, PlantingUnit, Season

JSON = "application/json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def query(name: str, description: str, schema: dict | None = None, required=False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def answer(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {JSON: {"schema": schema}}}


ERRORS = {
    "401": answer(ref("Error"), "Sign in first (the public may not write)"),
    "403": answer(ref("Error"), "Not allowed for this role or region (audited)"),
    "404": answer(ref("Error"), "No such record (or not published)"),
    "409": answer(ref("Error"), "Changed by someone else since you read it (stale version)"),
    "422": answer(ref("Error"), "A value breaks a rule; `field` names it"),
}
PAGE = [
    query("limit", "Page size (1–1000, default 100)", {"type": "integer", "minimum": 1}),
    query("after", "Keyset: the last id of the previous page", {"type": "integer"}),
]
PLANT_FILTERS = [
    query("species", "Species ids, comma-separated"),
    query("condition", "Condition grades 1–6, comma-separated"),
    query("status", "alive, dead, removed, stump, vacant; comma-separated"),
    query("region", "Region ids (KATO prefix as number), comma-separated"),
    query("year_from", "Planted in or after", {"type": "integer"}),
    query("year_to", "Planted in or before", {"type": "integer"}),
    query("green_space", "Green space id", {"type": "integer"}),
    query("bbox", "west,south,east,north in degrees"),
]
CSRF = {"name": "X-CSRFToken", "in": "header", "required": True, "schema": {"type": "string"}}


def listing(item: str, parameters: list[dict], summary: str) -> dict:
    schema = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": ref(item)},
            "next": {"type": "string", "nullable": True},
        },
    }
    return {"summary": summary, "parameters": parameters, "responses": {"200": answer(schema)}}


def write(summary: str, body: str, ok: str, item: str, extra: list | None = None) -> dict:
    return {
        "summary": summary,
        "parameters": [CSRF, *(extra or [])],
        "requestBody": {"required": True, "content": {JSON: {"schema": ref(body)}}},
        "responses": {ok: answer(ref(item)), **ERRORS},
    }


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            "field": {"type": "string"},
            "changed_by": {"type": "string"},
            "changed_at": {"type": "string"},
            "current": {"type": "object"},
        },
    },
    "Geometry": {"type": "object", "description": "GeoJSON geometry in EPSG:4326"},
    "Plant": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "region_id": {"type": "integer"},
            "version": {"type": "integer"},
            "inventory_number": {"type": "string"},
            "species_id": {"type": "integer", "nullable": True},  # a stump may have none
            "planting_form": {"type": "string"},
            "quantity": {"type": "integer"},
            "planting_year": {"type": "integer", "nullable": True},
            "height_m": {"type": "number", "nullable": True},
            "trunk_diameter_cm": {"type": "number", "nullable": True},
            "crown_diameter_m": {"type": "number", "nullable": True},
            # null: not assessed
            "condition": {"type": "integer", "minimum": 1, "maximum": 6, "nullable": True},
            "hazardous": {"type": "boolean"},
            "status": {"type": "string"},
            "address": {"type": "string"},
            "notes": {"type": "string", "description": "Signed-in staff only"},
            "published": {"type": "boolean"},
            "geometry": ref("Geometry"),
        },
    },
    "PlantInput": {
        "type": "object",
        "description": "Create: species_id (or species by name) and lon/lat (or geometry). "
        "Update: version plus the fields to change.",
        "properties": {
            "version": {"type": "integer"},
            "species_id": {"type": "integer"},
            "species": {"type": "string"},
            "lon": {"type": "number"},
            "lat": {"type": "number"},
            "geometry": ref("Geometry"),
            "condition": {"type": "integer"},
            "height_m": {"type": "number"},
            "trunk_diameter_cm": {"type": "number"},
            "crown_diameter_m": {"type": "number"},
            "planting_year": {"type": "integer"},
            "status": {"type": "string"},
            "address": {"type": "string"},
            "notes": {"type": "string"},
        },
    },
    "Removal": {
        "type": "object",
        "required": ["version"],
        "properties": {
            "version": {"type": "integer"},
            "status": {"type": "string", "enum": ["dead", "removed", "stump", "vacant"]},
            "reason": {"type": "string"},
        },
    },
    "Inspection": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "plant_id": {"type": "integer"},
            "inspected_on": {"type": "string", "format": "date"},
            "condition": {"type": "integer"},
            "hazardous": {"type": "boolean"},
            "height_m": {"type": "number", "nullable": True},
            "trunk_diameter_cm": {"type": "number", "nullable": True},
            "inspector": {"type": "string", "description": "Signed-in staff only"},
            "notes": {"type": "string", "description": "Signed-in staff only"},
        },
    },
    "InspectionInput": {
        "type": "object",
        "required": ["condition"],
        "properties": {
            "inspected_on": {"type": "string", "format": "date"},
            "condition": {"type": "integer"},
            "inspector": {"type": "string"},
            "hazardous": {"type": "boolean"},
            "height_m": {"type": "number"},
            "trunk_diameter_cm": {"type": "number"},
            "notes": {"type": "string"},
        },
    },
    "GreenSpace": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "region_id": {"type": "integer"},
            "version": {"type": "integer"},
            "name": {"type": "string"},
            "category": {"type": "string", "enum": ["public", "limited", "special"]},
            "kind": {"type": "string"},
            "balance_holder": {"type": "string"},
            "area_m2": {"type": "number"},
            "published": {"type": "boolean"},
            "notes": {"type": "string", "description": "Signed-in staff only"},
            "geometry": ref("Geometry"),
        },
    },
    "GreenSpaceInput": {
        "type": "object",
        "properties": {
            "version": {"type": "integer"},
            "name": {"type": "string"},
            "category": {"type": "string"},
            "kind": {"type": "string"},
            "balance_holder": {"type": "string"},
            "notes": {"type": "string"},
            "published": {"type": "boolean"},
            "geometry": ref("Geometry"),
        },
    },
    "HistoryEntry": {
        "type": "object",
        "properties": {
            "at": {"type": "string"},
            "actor": {"type": "string"},
            "action": {"type": "string"},
            "field": {"type": "string", "nullable": True},
            "old": {},
            "new": {},
        },
    },
    "Photo": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "plant_id": {"type": "integer"},
            "content_type": {"type": "string", "enum": ["image/jpeg", "image/png"]},
            "file_name": {"type": "string"},
            "size_bytes": {"type": "integer"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
            "url": {"type": "string", "description": "The image (not JSON)"},
            "thumbnail_url": {"type": "string", "description": "A JPEG at most 320 px a side"},
        },
    },
    "Region": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "iso_code": {"type": "string"},
            "kato": {"type": "string"},
            "name": {"type": "string"},
        },
    },
    "Species": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "code": {"type": "string"},
            "latin": {"type": "string"},
            "name": {"type": "string"},
        },
    },
    "SearchHit": {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": ["plant", "green_space"]},
            "id": {"type": "integer"},
            "label": {"type": "string"},
            "lon": {"type": "number"},
            "lat": {"type": "number"},
        },
    },
}


# -- planting, care, felling, nurseries, reports (their own blueprints, one document) ------------
def choice_of(kind: type[Enum]) -> dict[str, Any]:
    return {"type": "string", "enum": [member.value for member in kind]}


def obj(description: str = "", **properties: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if description:
        schema["description"] = description
    return schema


def read(summary: str, parameters: list[dict], schema: dict | None = None) -> dict:
    """A signed-in read: 401 for the public, 403 for a role that may not see it."""
    return {
        "summary": summary,
        "parameters": parameters,
        "responses": {
            "200": answer(schema or {"type": "object"}),
            "401": ERRORS["401"],
            "403": ERRORS["403"],
            "404": ERRORS["404"],
            "422": ERRORS["422"],
        },
    }


def action(summary: str, parameters: list[dict], body: dict | None, ok: str = "200") -> dict:
    """A state-changing request with a JSON body (``body`` None: no body needed)."""
    operation = {
        "summary": summary,
        "parameters": [CSRF, *parameters],
        "responses": {ok: answer({"type": "object"}), **ERRORS},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    return operation


INTEGER, NUMBER, TEXT = {"type": "integer"}, {"type": "number"}, {"type": "string"}
DAY = {"type": "string", "format": "date"}
VERSION = {"type": "integer", "description": "The version you read (optimistic locking)"}
REGION = query("region", "Region: ISO code (KZ-75), KATO prefix or name")
YEAR = query("year", "Year", INTEGER)
AREA_SCHEMAS: dict[str, Any] = {
    "PlanInput": obj(
        "A draft planting plan of a region for one year and season",
        region=TEXT,
        year=INTEGER,
        season=choice_of(Season),
        title=TEXT,
        district=TEXT,
        funding_source=TEXT,
    ),
    "PlanLineInput": obj(
        "Species × quantity; where: a green space or a drawn area (geometry)",
        species=TEXT,
        quantity=NUMBER,
        unit=choice_of(PlantingUnit),
        planting_form=TEXT,
        green_space_id=INTEGER,
        geometry=ref("Geometry"),
        funding_source=TEXT,
        supplier=TEXT,
        notes=TEXT,
    ),
    "Approval": obj("Approve what you read", version=VERSION),
    "PlantingInput": obj(
        "What was planted: points ([[lon, lat], …]) and/or a geometry, or a green space",
        species=TEXT,
        planted_on=DAY,
        quantity=NUMBER,
        unit=choice_of(PlantingUnit),
        points={"type": "array", "items": {"type": "array", "items": NUMBER}},
        geometry=ref("Geometry"),
        green_space_id=INTEGER,
        plan_line_id=INTEGER,
        planting_form=TEXT,
        performer_kind=choice_of(Performer),
        performer=TEXT,
        replaces_event_id=INTEGER,
        felling_permit_id=INTEGER,
        notes=TEXT,
    ),
    "SurvivalCheckInput": obj(
        "A re-count after the 1st or 3rd growing season",
        season={"type": "integer", "enum": [1, 3]},
        checked_on=DAY,
        alive=INTEGER,
        dead=INTEGER,
        replaced=INTEGER,
        inspector=TEXT,
        notes=TEXT,
    ),
    "CarePlanInput": obj("A region's care plan for a year", region=TEXT, year=INTEGER, title=TEXT),
    "CareWorkInput": obj(
        "A care work, planned and/or done, on a plant, a green space or a drawn area",
        kind=choice_of(CareKind),
        unit=choice_of(CareUnit),
        plan_id=INTEGER,
        year=INTEGER,
        planned_volume=NUMBER,
        planned_on=DAY,
        planned_cost=NUMBER,
        done_volume=NUMBER,
        done_on=DAY,
        done_cost=NUMBER,
        plant_id=INTEGER,
        green_space_id=INTEGER,
        geometry=ref("Geometry"),
        performer=TEXT,
        notes=TEXT,
    ),
    "CareDoneInput": obj(
        "Record the work done", version=VERSION, done_volume=NUMBER, done_on=DAY, done_cost=NUMBER
    ),
    "FellingInput": obj(
        "A felling permit (or an illegal felling) of plants in the registry",
        number=TEXT,
        plant_ids={"type": "array", "items": INTEGER},
        reason=choice_of(FellingReason),
        felled_on=DAY,
        legal={"type": "boolean"},
        protection=choice_of(Protection),
        due_on=DAY,
        holder=TEXT,
        notes=TEXT,
    ),
    "RatioInput": obj(
        "A region's compensation ratio for a case",
        region=TEXT,
        case=choice_of(CompensationCase),
        ratio=NUMBER,
    ),
    "DispatchInput": obj(
        "A shipment from a nursery to a region's akimat",
        region=TEXT,
        lines={
            "type": "array",
            "items": obj(batch_id=INTEGER, quantity=INTEGER),
        },
        on=DAY,
        consignee=TEXT,
        override_reason=TEXT,
    ),
    "ReceiptInput": obj(
        "Counts received per batch id (differences are losses in transit)",
        received={"type": "object", "additionalProperties": INTEGER},
        on=DAY,
    ),
    "MovementInput": obj(
        "A ledger movement of a batch",
        kind={
            "type": "string",
            "enum": ["germination", "stocktake", "loss", "transplant", "reversal"],
        },
        on=DAY,
        reason=TEXT,
        counted=INTEGER,
        quantity=INTEGER,
        cause=TEXT,
        to_section=TEXT,
        movement_id=INTEGER,
    ),
    "SourceInput": obj("The shipment line a planting came from", shipment_line_id=INTEGER),
    "ReturnInput": obj("Why the report goes back to the region", comment=TEXT),
}


def area_paths() -> dict[str, Any]:
    """Planting, care, felling, nursery and report routes (signed-in staff only)."""
    plan, event = [path_id("plan_id")], [path_id("event_id")]
    work, batch = [path_id("work_id")], [path_id("batch_id")]
    code = [{"name": "code", "in": "path", "required": True, "schema": TEXT}]
    report = [
        {"name": "region", "in": "path", "required": True, "schema": TEXT},
        {"name": "year", "in": "path", "required": True, "schema": INTEGER},
    ]
    by = query("by", "Group by, comma-separated")
    nursery = query("nursery", "Nursery code")
    return {
        "/planting/plans": {
            "post": action("Draft a planting plan", [], ref("PlanInput"), "201"),
        },
        "/planting/plans/{plan_id}": {"get": read("A planting plan and its lines", plan)},
        "/planting/plans/{plan_id}/lines": {
            "post": action("Add a line to a draft plan", plan, ref("PlanLineInput"), "201"),
        },
        "/planting/plans/{plan_id}/approve": {
            "post": action("Approve a plan", plan, ref("Approval")),
        },
        "/planting/events": {
            "post": action(
                "Record a planting (creates its plants)", [], ref("PlantingInput"), "201"
            ),
        },
        "/planting/events/{event_id}/checks": {
            "post": action("Record a survival check", event, ref("SurvivalCheckInput"), "201"),
        },
        "/planting/events/{event_id}/survival": {"get": read("An event's survival", event)},
        "/planting/planned": {
            "get": read(
                "Planned plantings in a map view (plan lines' areas or target green spaces), "
                "GeoJSON; at most 2000",
                [
                    query("bbox", "west,south,east,north in degrees", None, True),
                    query("year", "Planned for this year or later (default: this year)", INTEGER),
                ],
                {"type": "object", "description": "GeoJSON FeatureCollection"},
            )
        },
        "/planting/survival": {
            "get": read("Survival rates", [REGION, YEAR, by], {"type": "array", "items": {}}),
        },
        "/care/plans": {"post": action("Draft a care plan", [], ref("CarePlanInput"), "201")},
        "/care/plans/{plan_id}/approve": {
            "post": action("Approve a care plan", plan, ref("Approval")),
        },
        "/care/works": {
            "post": action("Plan or record a care work", [], ref("CareWorkInput"), "201")
        },
        "/care/works/{work_id}/done": {
            "post": action("Record a care work as done", work, ref("CareDoneInput")),
        },
        "/care/summary": {"get": read("Planned against done volume and cost", [REGION, YEAR])},
        "/felling/permits": {
            "post": action("Record a felling permit", [], ref("FellingInput"), "201"),
        },
        "/felling/ratios": {
            "get": read("A region's compensation ratios", [REGION]),
            "put": action("Set a region's ratio for a case", [], ref("RatioInput")),
        },
        "/felling/obligations": {
            "get": read(
                "Compensation obligations and their fulfilment",
                [REGION, YEAR, query("status", "open, fulfilled or overdue")],
                {"type": "array", "items": {}},
            )
        },
        "/nurseries/stock": {
            "get": read(
                "Stock by species, stage and grade",
                [nursery, query("species", "Species")],
                {"type": "array", "items": {}},
            )
        },
        "/nurseries/report": {"get": read("National nursery summary", [YEAR])},
        "/nurseries/{code}/ledger": {
            "get": read(
                "A nursery's stock ledger",
                [
                    *code,
                    query("batch", "Batch id", INTEGER),
                    query("kind", "Movement kind"),
                    query("since", "From (YYYY-MM-DD)"),
                    query("until", "Until (YYYY-MM-DD)"),
                ],
                {"type": "array", "items": {}},
            )
        },
        "/nurseries/{code}/dispatch": {
            "post": action("Dispatch seedlings", code, ref("DispatchInput"), "201"),
        },
        "/nurseries/shipments/{shipment_id}/receive": {
            "post": action("Receive a shipment", [path_id("shipment_id")], ref("ReceiptInput")),
        },
        "/nurseries/batches/{batch_id}/movements": {
            "post": action("Record a batch movement", batch, ref("MovementInput"), "201"),
        },
        "/nurseries/provenance/plants/{plant_id}": {
            "get": read("Where a planted tree came from", [path_id("plant_id")]),
        },
        "/nurseries/survival": {
            "get": read("Survival per seed provenance", [nursery], {"type": "array", "items": {}}),
        },
        "/nurseries/planting-events/{event_id}/source": {
            "post": action("Link a planting to its shipment line", event, ref("SourceInput")),
        },
        "/reports": {"get": read("Yearly reports", [YEAR], {"type": "array", "items": {}})},
        "/reports/national": {"get": read("National planting figures", [YEAR, by])},
        "/reports/dashboard": {"get": read("The ministry's dashboard figures", [YEAR])},
        "/reports/dashboard/{region}": {
            "get": read("One region's dashboard: figures, trend, green spaces", [report[0], YEAR]),
        },
        "/reports/{region}/{year}": {
            "get": read(
                "A region's yearly report (json; csv or xlsx with format=)",
                [*report, query("edition", "Edition", INTEGER), query("format", "json, csv, xlsx")],
            )
        },
        "/reports/{region}/{year}/build": {
            "post": action("Build (or rebuild) the draft report", report, None, "201"),
        },
        "/reports/{region}/{year}/submit": {
            "post": action("Submit the report (locks a snapshot)", report, None),
        },
        "/reports/{region}/{year}/approve": {
            "post": action("Approve a submitted report", report, None),
        },
        "/reports/{region}/{year}/return": {
            "post": action("Return a report to the region", report, ref("ReturnInput")),
        },
    }


def document() -> dict[str, Any]:
    plant, space = [path_id("plant_id")], [path_id("space_id")]
    lang = query("lang", "Language of names: kk, ru or en")
    history = listing("HistoryEntry", plant, "Audit trail (signed-in staff)")
    history["responses"].update({"401": ERRORS["401"]})
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Jasyl registry API",
            "version": "1",
            "description": "Plants, green spaces, inspections, photos, regions and species of "
            "the national green-space registry, and its planting, care, felling, nursery and "
            "report work. Inventory reads are public (without internal fields); planting, care, "
            "felling, nursery and report routes need a signed-in session; writes need its CSRF "
            "token in X-CSRFToken and the right region.",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/plants": {
                "get": listing("Plant", [*PLANT_FILTERS, *PAGE], "Plants, filtered, by id"),
                "post": write("Add a plant", "PlantInput", "201", "Plant"),
            },
            "/plants/{plant_id}": {
                "get": {
                    "summary": "One plant",
                    "parameters": plant,
                    "responses": {"200": answer(ref("Plant")), "404": ERRORS["404"]},
                },
                "patch": write("Change a plant", "PlantInput", "200", "Plant", plant),
                "delete": write("Mark a plant removed or dead", "Removal", "200", "Plant", plant),
            },
            "/plants/{plant_id}/inspections": {
                "get": listing("Inspection", plant, "Inspections, newest first"),
                "post": write(
                    "Record an inspection", "InspectionInput", "201", "Inspection", plant
                ),
            },
            "/plants/{plant_id}/history": {"get": history},
            "/plants/{plant_id}/photos": {
                "get": listing("Photo", plant, "The plant's photos, newest first"),
                "post": {
                    "summary": "Add a photo (JPEG or PNG by content, up to 10 MB): the forester "
                    "of the plant's region",
                    "parameters": [CSRF, *plant],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["photo"],
                                    "properties": {"photo": {"type": "string", "format": "binary"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": answer(ref("Photo")),
                        "413": answer(ref("Error"), "Larger than 10 MB or 50 megapixels"),
                        **ERRORS,
                    },
                },
            },
            "/plants/at": {
                "get": {
                    "summary": "What is at a clicked point (nearest plant within a few pixels)",
                    "parameters": [
                        query("lon", "Longitude", {"type": "number"}, True),
                        query("lat", "Latitude", {"type": "number"}, True),
                        query("z", "Map zoom", {"type": "number"}),
                        query(
                            "kind",
                            "green_space: skip plants, answer the green space there",
                            {"type": "string", "enum": ["green_space"]},
                        ),
                    ],
                    "responses": {"200": answer({"type": "object"}), "422": ERRORS["422"]},
                }
            },
            "/search": {
                "get": listing(
                    "SearchHit",
                    [query("q", "Inventory number, address or name", None, True)],
                    "Find plants and green spaces",
                )
            },
            "/green_spaces": {
                "get": listing(
                    "GreenSpace",
                    [query("region", "Region ids"), query("name", "Part of the name"), *PAGE],
                    "Green spaces",
                ),
                "post": write("Add a green space", "GreenSpaceInput", "201", "GreenSpace"),
            },
            "/green_spaces/{space_id}": {
                "get": {
                    "summary": "One green space",
                    "parameters": space,
                    "responses": {"200": answer(ref("GreenSpace")), "404": ERRORS["404"]},
                },
                "patch": write(
                    "Change a green space", "GreenSpaceInput", "200", "GreenSpace", space
                ),
            },
            "/green_spaces/{space_id}/history": {
                "get": listing("HistoryEntry", space, "Audit trail (signed-in staff)")
            },
            "/regions": {"get": listing("Region", [lang], "The 20 regions")},
            "/regions/{reference}": {
                "get": {
                    "summary": "A region's numbers: plants by condition, status, species",
                    "parameters": [
                        {
                            "name": "reference",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        lang,
                    ],
                    "responses": {"200": answer({"type": "object"}), "404": ERRORS["404"]},
                }
            },
            "/species": {
                "get": listing("Species", [query("search", "Part of any name"), lang], "Species")
            },
            **area_paths(),
        },
        "components": {"schemas": {**SCHEMAS, **AREA_SCHEMAS}},
    }
