"""The OpenAPI 3.0 document of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written out by hand beside the views (a test checks that every API route is documented and the
fuzz pass drives the API from this document), so clients and the fuzzer see the same contract.
"""

from __future__ import annotations

from typing import Any

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
            "species_id": {"type": "integer"},
            "planting_form": {"type": "string"},
            "quantity": {"type": "integer"},
            "planting_year": {"type": "integer", "nullable": True},
            "height_m": {"type": "number", "nullable": True},
            "trunk_diameter_cm": {"type": "number", "nullable": True},
            "crown_diameter_m": {"type": "number", "nullable": True},
            "condition": {"type": "integer", "minimum": 1, "maximum": 6},
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
            "description": "Plants, green spaces, inspections, regions and species of the "
            "national green-space registry. Reads are public (without internal fields); writes "
            "need a signed-in session, its CSRF token in X-CSRFToken, and the right region.",
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
            "/plants/at": {
                "get": {
                    "summary": "What is at a clicked point (nearest plant within a few pixels)",
                    "parameters": [
                        query("lon", "Longitude", {"type": "number"}, True),
                        query("lat", "Latitude", {"type": "number"}, True),
                        query("z", "Map zoom", {"type": "number"}),
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
        },
        "components": {"schemas": SCHEMAS},
    }
