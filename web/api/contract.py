"""Declared request schemas, checked before a view runs, and the OpenAPI document made from them.

Why: the document was written by hand beside views that parsed their own input, and the two
drifted apart (issue #18: ~130 server errors on bad input, ``"false"`` stored as true, 1 MB text
served to the public). Now each ``/api/v1`` endpoint has one ``Operation`` (in
``web.api.operations``) naming pydantic models for its query and JSON body; ``init_app`` wraps
the view so those models judge the request (after the blueprints' sign-in checks, so the public
still hears 401 first), and ``document`` builds the OpenAPI description from the same models.

Types, shapes and lengths are the schema's; the domain limits stay in ``registry/*/rules.py``.
A refusal is an ``InvalidValue`` naming the field, so ``web.errors`` answers 422 (``/ogc`` 400).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from flask import Flask, g, request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Rule

from registry.errors import InvalidValue

JSON = "application/json"
REF = "#/components/schemas/{model}"
SHOWN_VALUE_CHARS = 80  # a refused value is echoed only when short (never a 1 MB text)
WHOLE = re.compile(r"-?[0-9]{1,19}")


class QueryModel(BaseModel):
    """Query parameters: text from the URL, converted leniently but never NaN or Infinity."""

    model_config = ConfigDict(allow_inf_nan=False, extra="ignore", populate_by_name=True)


class BodyModel(BaseModel):
    """A JSON body: strict types (``"false"`` is not a boolean, ``1.5`` not an id), finite
    numbers, and no field the operation does not know."""

    model_config = ConfigDict(allow_inf_nan=False, extra="forbid", strict=True)


def _ascii_whole(value: Any) -> Any:
    """Query integers in ASCII digits only: ``²`` and ``١٢`` pass ``str.isdigit`` but are no
    number anyone meant (Python's ``int`` reads ``١٢`` as 12 and fails on ``²``)."""
    if isinstance(value, str) and not WHOLE.fullmatch(value):
        raise ValueError("must be a whole number in the digits 0-9")
    return value


def Whole(low: int, high: int, description: str | None = None) -> Any:  # noqa: N802 (a type)
    """A whole-number query parameter between ``low`` and ``high`` (ASCII digits only)."""
    limits = Field(ge=low, le=high, description=description)
    return Annotated[int, limits, BeforeValidator(_ascii_whole)]


@dataclass(frozen=True)
class Operation:
    """What one endpoint accepts and answers, for the check and for the document."""

    summary: str
    query: type[QueryModel] | None = None
    body: type[BodyModel] | None = None
    body_required: bool = True
    answer: type[BaseModel] | dict[str, Any] | None = None
    ok: int = 200
    media: str = JSON
    also: tuple[str, ...] = ()  # other media types of the answer (a CSV, an XLSX)
    upload: dict[str, Any] | None = None  # a multipart body, read by the view itself
    errors: tuple[int, ...] = field(default=(400, 401, 403, 404, 409, 413, 422, 503))


# -- checking a request ------------------------------------------------------------------------
def refusal(exc: ValidationError) -> InvalidValue:
    """The first problem as an ``InvalidValue`` naming the field (``lines.0.quantity``)."""
    first = exc.errors(include_url=False)[0]
    name = ".".join(str(part) for part in first["loc"]) or "body"
    value = first.get("input")
    shown = value if len(repr(value)) <= SHOWN_VALUE_CHARS else None
    if first["type"] in ("missing", "model_type", "model_attributes_type", "json_invalid"):
        shown = None
    return InvalidValue(name, first["msg"].lower(), shown)


def read_query(model: type[QueryModel]) -> QueryModel:
    """The query string against ``model`` (the first value of a repeated parameter)."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise refusal(exc) from None


def read_body(model: type[BodyModel], required: bool = True) -> BodyModel | None:
    """The JSON body against ``model``, parsed from the bytes (so ``NaN`` never becomes a float)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise InvalidValue("body", "must be a JSON object")
        return None
    if not request.is_json:
        raise InvalidValue("body", "must be a JSON object sent as application/json")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise refusal(exc) from None


def checked(view: Callable[..., Any], operation: Operation) -> Callable[..., Any]:
    """``view`` behind its declared schemas; the parsed models wait in ``g.query``/``g.body``."""

    @functools.wraps(view)
    def judged(*args: Any, **kwargs: Any) -> Any:
        g.query = read_query(operation.query) if operation.query else None
        g.body = read_body(operation.body, operation.body_required) if operation.body else None
        return view(*args, **kwargs)

    return judged


def init_app(app: Flask, operations: dict[str, Operation], prefix: str) -> None:
    """Put every declared endpoint behind its schemas (after its blueprint's own checks)."""
    for endpoint, operation in operations.items():
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = checked(app.view_functions[endpoint], operation)

    @app.before_request
    def readable_fields() -> None:
        """A multipart field whose name cannot be read is parsed as the name ``None``, which the
        CSRF check (registered after this) then fails on with a 500, before the sign-in check:
        such a body cannot be read, a 400 for anyone."""
        multipart = request.mimetype == "multipart/form-data"
        if (
            multipart
            and request.path.startswith(prefix)
            and None in {**request.form, **request.files}
        ):
            raise BadRequest("a multipart field has no readable name")


# -- the document --------------------------------------------------------------------------------
class Components:
    """JSON Schemas of the models, collected once under ``#/components/schemas``."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, model: type[BaseModel], mode: str = "validation") -> dict[str, Any]:
        schema = self.add(model.model_json_schema(mode=mode, ref_template=REF))
        self.schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def add(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` without its ``$defs`` (kept here) and its ``default: null`` placeholders."""
        self.schemas.update({k: unplaceheld(v) for k, v in schema.pop("$defs", {}).items()})
        return unplaceheld(schema)

    def schema(self, answer: type[BaseModel] | dict[str, Any] | None) -> dict[str, Any]:
        if answer is None:
            return {"type": "object"}
        if isinstance(answer, dict):
            return answer
        return self.ref(answer, "serialization")


def unplaceheld(schema: Any) -> Any:
    """Drop ``"default": null``: our ``= None`` only means "may be left out", not a value."""
    if isinstance(schema, list):
        return [unplaceheld(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: unplaceheld(value)
        for key, value in schema.items()
        if not (key == "default" and value is None)
    }


def query_parameters(model: type[QueryModel], components: Components) -> list[dict[str, Any]]:
    schema = components.add(model.model_json_schema(ref_template=REF))
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": prop.pop("description", prop.get("title", name)),
            "schema": prop,
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def path_parameters(rule: Rule) -> list[dict[str, Any]]:
    """Flask's ``<int:…>`` is a whole number of ASCII digits; other path parts are short text."""
    whole = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": whole if isinstance(rule._converters[name], IntegerConverter) else TEXT,
        }
        for name in sorted(rule.arguments)
    ]


TEXT = {"type": "string", "minLength": 1, "maxLength": 200}
CSRF = {
    "name": "X-CSRFToken",
    "in": "header",
    "required": False,
    "description": "The session's CSRF token; required with a signed-in session's cookie",
    "schema": {"type": "string"},
}
ERROR_TEXT = {
    400: "The request cannot be read",
    401: "Sign in first",
    403: "Not allowed for this role or region (audited)",
    404: "No such record (or not published)",
    409: "Changed by someone else since you read it (stale version), or a duplicate",
    413: "Too large",
    422: "A value breaks a rule or the schema; `field` names it",
    429: "Too many from this address or area; Retry-After says how many seconds to wait",
    503: "The database is unavailable for a moment",
}


def operation_document(
    rule: Rule, method: str, operation: Operation, components: Components, error: dict[str, Any]
) -> dict[str, Any]:
    writes = method in ("post", "put", "patch", "delete")
    parameters = path_parameters(rule)
    if operation.query:
        parameters += query_parameters(operation.query, components)
    if writes:
        parameters.append(CSRF)
    answers = {
        str(operation.ok): {
            "description": operation.summary,
            "content": {operation.media: {"schema": components.schema(operation.answer)}},
        }
    }
    for media in operation.also:
        answers[str(operation.ok)]["content"][media] = {"schema": {"type": "string"}}
    for status in operation.errors:
        answers[str(status)] = {
            "description": ERROR_TEXT[status],
            "content": {JSON: {"schema": error}},
        }
    doc: dict[str, Any] = {
        "summary": operation.summary,
        "operationId": rule.endpoint.replace(".", "_") + ("" if method == "get" else f"_{method}"),
        "parameters": parameters,
        "responses": answers,
    }
    if operation.body:
        media = {JSON: {"schema": components.ref(operation.body)}}
        doc["requestBody"] = {"required": operation.body_required, "content": media}
    elif operation.upload:
        doc["requestBody"] = {"required": True, "content": operation.upload}
    return doc


def document(
    rules: Iterable[Rule],
    operations: dict[str, Operation],
    prefix: str,
    info: dict[str, Any],
    error_model: type[BaseModel],
) -> dict[str, Any]:
    """An OpenAPI 3.1 document of every rule under ``prefix`` that has a declared operation."""
    components = Components()
    error = components.ref(error_model, "serialization")
    paths: dict[str, Any] = {}
    for rule in sorted(rules, key=lambda r: r.rule):
        operation = operations.get(rule.endpoint)
        if operation is None or not rule.rule.startswith(prefix):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len(prefix) :])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = operation_document(
                rule, method.lower(), operation, components, error
            )
    return {
        "openapi": "3.1.0",
        "info": info,
        "servers": [{"url": prefix}],
        "paths": paths,
        "components": {"schemas": components.schemas},
    }


def openapi30(schema: Any) -> Any:
    """A pydantic (JSON Schema 2020-12) schema in OpenAPI 3.0 terms: ``X | None`` becomes
    ``nullable``, ``const`` an enum (the OGC document must stay 3.0 for its conformance class)."""
    if isinstance(schema, list):
        return [openapi30(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: openapi30(value) for key, value in schema.items()}
    options = converted.get("anyOf")
    if options and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        converted.pop("anyOf")
        converted.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
        converted["nullable"] = True
    if "const" in converted:
        converted["enum"] = [converted.pop("const")]
    return converted
