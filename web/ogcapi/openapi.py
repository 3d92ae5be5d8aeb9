"""The declared query parameters of ``/ogc`` and its OpenAPI 3.0 description, made from them.

Each collection's ``/items`` takes the standard parameters (``ItemsQuery``) and one
``PROPERTY=VALUE`` filter per public property; ``items_query`` builds that model once per
collection, the views judge every request with it (a 400 naming the parameter) and ``document``
describes the same model, so the two cannot drift. ``registry.opendata.rules`` still reads the
values into a ``FeatureQuery`` and judges what only it can (the CQL2 text, datetime intervals).
"""

from __future__ import annotations

import functools
import math
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, create_model

from gis import crs as crs_
from registry.opendata.collections import COLLECTIONS, Collection
from registry.opendata.cql import LANGUAGES
from registry.opendata.rules import DEFAULT_LIMIT, TRUE_WORDS
from web.api.contract import QueryModel, Whole, openapi30

BIGINT = 2**63 - 1
NUMBER = r"-?[0-9]{1,20}(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,3})?"


def _named(names: Any, description: str) -> Any:
    """A name the registry reads itself (``parse_crs`` also takes ``EPSG:4326``; CQL2 has its
    own messages): documented as the canonical names, checked here only as short text."""
    listed = {"type": "string", "enum": list(names), "description": description}
    return Annotated[str, Field(max_length=200), WithJsonSchema(listed)]


Crs = _named(crs_.SUPPORTED, "A CRS URI")
FilterLanguage = _named(LANGUAGES, "The encoding of `filter` (cql2-text by default)")


def _finite(raw: str) -> str:
    if not all(math.isfinite(float(part)) for part in raw.split(",")):
        raise ValueError("numbers must be finite")
    return raw


BBox = Annotated[
    str,
    Field(pattern=rf"^{NUMBER}(,{NUMBER}){{3}}(,{NUMBER},{NUMBER})?$"),
    AfterValidator(_finite),
    WithJsonSchema({"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}}),
]


class ItemsQuery(QueryModel):
    """The standard parameters of ``/items`` (OGC API – Features Parts 1–3)."""

    limit: Whole(1, 2**31 - 1, f"Features per page (default {DEFAULT_LIMIT}; clamped)") = None
    bbox: BBox = Field(None, description="minx,miny,maxx,maxy in bbox-crs (CRS84 by default)")
    bbox_crs: Crs = Field(None, alias="bbox-crs")
    crs: Crs = Field(None, description="CRS of the response")
    datetime: Annotated[str, Field(min_length=1, max_length=100)] = Field(
        None, description="An RFC 3339 instant or interval a/b ('..' = open)"
    )
    after: Whole(-BIGINT, BIGINT, "Keyset cursor given in the `next` link") = None
    f: Literal["json", "geojson", "html"] = Field(None, description="Response format")
    lang: Annotated[str, Field(max_length=10)] = Field(None, description="kk, ru or en (HTML)")
    filter: Annotated[str, Field(min_length=1, max_length=20_000)] = Field(
        None,
        description="A CQL2 filter on the collection's queryables (see "
        "/collections/{id}/queryables): comparisons, LIKE, IN, BETWEEN, IS NULL, AND/OR/NOT, "
        "S_INTERSECTS and the other spatial functions on `geometry`.",
    )
    filter_lang: FilterLanguage = Field(None, alias="filter-lang")
    filter_crs: Crs = Field(None, alias="filter-crs")


class ItemQuery(QueryModel):
    crs: Crs = Field(None, description="CRS of the response")
    f: Literal["json", "geojson", "html"] = Field(None, description="Response format")
    lang: Annotated[str, Field(max_length=10)] = Field(None, description="kk, ru or en (HTML)")


def _values(pattern: str, kind: str) -> Any:
    """One value, or (numbers) a comma-separated list of them, of a property's type."""
    listed = rf"^{pattern}(,{pattern})*$"
    return Annotated[str, Field(pattern=listed, max_length=2_000), WithJsonSchema({"type": kind})]


PROPERTY_TYPES: dict[str, Any] = {
    "integer": _values("-?[0-9]{1,18}", "integer"),
    "number": Annotated[
        str,
        Field(pattern=rf"^{NUMBER}(,{NUMBER})*$", max_length=2_000),
        AfterValidator(_finite),
        WithJsonSchema({"type": "number"}),
    ],
    "boolean": Literal[tuple(TRUE_WORDS)],
    # a NUL is no text PostgreSQL can compare: a 400 here, not the database's refusal
    "string": Annotated[str, Field(max_length=200, pattern=r"^[^\x00]*$")],
}


def items_query(collection: Collection) -> type[ItemsQuery]:
    """``ItemsQuery`` plus a ``PROPERTY=VALUE`` filter for each public property."""
    return _items_query(collection.id)


@functools.cache
def _items_query(collection_id: str) -> type[ItemsQuery]:
    collection = COLLECTIONS[collection_id]
    filters = {
        re.sub(r"\W", "_", p.name): (
            PROPERTY_TYPES[p.type],
            Field(None, alias=p.name, description=f"Only features whose {p.name} is this"),
        )
        for p in collection.properties
        if not p.internal and p.type in PROPERTY_TYPES and p.name not in ItemsQuery.model_fields
    }
    name = "".join(part.title() for part in collection.id.split("_")) + "Items"
    return create_model(name, __base__=ItemsQuery, **filters)


def parameters(model: type[QueryModel]) -> list[dict[str, Any]]:
    schema = openapi30(model.model_json_schema())
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": prop.pop("description", name),
            "schema": {k: v for k, v in prop.items() if k not in ("title", "default")},
            "style": "form",
            "explode": False,
        }
        for name, prop in schema["properties"].items()
    ]


def _response(description: str, media: str = "application/json") -> dict[str, Any]:
    content = {media: {"schema": {"type": "object"}}, "text/html": {"schema": {"type": "string"}}}
    return {"description": description, "content": content}


ERRORS = {
    "400": _response("A parameter cannot be read; `field` names it"),
    "404": _response("No such collection or feature"),
    "503": _response("The database is unavailable for a moment"),
}


def _get(summary: str, operation: str, media: str = "application/json", **extra: Any) -> dict:
    return {
        "get": {
            "summary": summary,
            "operationId": operation,
            "responses": {"200": _response(summary, media), **ERRORS},
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
            parameters=parameters(items_query(collection)),
        )
        feature_id = {
            "name": "featureId",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": BIGINT},
        }
        paths[f"{base}/items/{{featureId}}"] = _get(
            f"{collection.title}: one feature",
            f"get_{collection.id}_item",
            "application/geo+json",
            parameters=[feature_id, *parameters(ItemQuery)],
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
