"""The OpenAPI 3.0 description of ``/ogc``, generated from the collection registry."""

from __future__ import annotations

from typing import Any

from gis import crs as crs_
from registry.opendata.collections import COLLECTIONS
from registry.opendata.cql import LANGUAGES
from registry.opendata.rules import DEFAULT_LIMIT, MAX_LIMIT

JSON_TYPES = {"integer": "integer", "number": "number", "boolean": "boolean"}


def _parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        "style": "form",
        "explode": False,
    }


COMMON_PARAMETERS = [
    _parameter(
        "limit",
        "Features per page.",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    ),
    _parameter(
        "bbox",
        "minx,miny,maxx,maxy in bbox-crs (CRS84 by default).",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
    ),
    _parameter("bbox-crs", "CRS of bbox.", {"type": "string", "enum": list(crs_.SUPPORTED)}),
    _parameter("crs", "CRS of the response.", {"type": "string", "enum": list(crs_.SUPPORTED)}),
    _parameter(
        "datetime", "An RFC 3339 instant or interval a/b ('..' = open).", {"type": "string"}
    ),
    _parameter("after", "Keyset cursor given in the `next` link.", {"type": "integer"}),
    _parameter("f", "Response format.", {"type": "string", "enum": ["json", "html"]}),
    _parameter(
        "filter",
        "A CQL2 filter on the collection's queryables (see /collections/{id}/queryables): "
        "comparisons, LIKE, IN, BETWEEN, IS NULL, AND/OR/NOT, S_INTERSECTS and the other "
        "spatial functions on `geometry`.",
        {"type": "string"},
    ),
    _parameter(
        "filter-lang",
        "The encoding of `filter`.",
        {"type": "string", "enum": list(LANGUAGES), "default": "cql2-text"},
    ),
    _parameter(
        "filter-crs",
        "CRS of the coordinates in `filter` (CRS84 by default).",
        {"type": "string", "enum": list(crs_.SUPPORTED)},
    ),
]


def _response(description: str, media: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": {"type": "object"}}}}


def _get(summary: str, operation: str, media: str = "application/json", **extra: Any) -> dict:
    return {
        "get": {
            "summary": summary,
            "operationId": operation,
            "responses": {"200": _response(summary, media), "400": _response("Bad request")},
            **extra,
        }
    }


def document(server_url: str) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/": _get("Landing page", "getLandingPage"),
        "/conformance": _get("Conformance classes", "getConformance"),
        "/api": _get("This document", "getApi", "application/vnd.oai.openapi+json;version=3.0"),
        "/collections": _get("Collections", "getCollections"),
    }
    for collection in COLLECTIONS.values():
        base = f"/collections/{collection.id}"
        filters = [
            _parameter(p.name, f"Only features whose {p.name} equals this value.", {"type": kind})
            for p in collection.properties
            if not p.internal and p.type != "date-time"
            for kind in [JSON_TYPES.get(p.type, "string")]
        ]
        paths[base] = _get(collection.title, f"describe_{collection.id}")
        paths[f"{base}/queryables"] = _get(
            f"{collection.title}: queryables",
            f"get_{collection.id}_queryables",
            "application/schema+json",
        )
        paths[f"{base}/items"] = _get(
            f"{collection.title}: features",
            f"get_{collection.id}_items",
            "application/geo+json",
            parameters=COMMON_PARAMETERS + filters,
        )
        paths[f"{base}/items/{{featureId}}"] = _get(
            f"{collection.title}: one feature",
            f"get_{collection.id}_item",
            "application/geo+json",
            parameters=[
                {
                    "name": "featureId",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                },
                COMMON_PARAMETERS[3],
            ],
        )
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Jasyl OGC API – Features",
            "version": "1.0.0",
            "description": "Kazakhstan's green-space registry: plants, green spaces, regions.",
            "license": {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
        },
        "servers": [{"url": server_url}],
        "paths": paths,
    }
