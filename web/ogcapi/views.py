"""``/ogc``: OGC API – Features Part 1 (core, GeoJSON, HTML, OpenAPI 3.0) and Part 2 (CRS).

Views parse the request, call one ``registry.opendata`` service with the current actor, and
render JSON or HTML. The GeoJSON of a page is built by PostGIS; Python only joins the pieces.
QGIS needs the landing page's ``service-desc`` and ``data`` links and follows ``next`` links.
"""

from __future__ import annotations

import itertools
import json
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

from flask import (
    Blueprint,
    Response,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from sqlalchemy.orm import Session

from gis import crs as crs_
from registry.access import Actor, sees_internal_fields
from registry.errors import InvalidValue, JasylError
from registry.opendata import services
from registry.opendata.collections import COLLECTIONS, Collection, get_collection
from registry.opendata.cql import GEOMETRY
from registry.opendata.rules import FeatureQuery, parse_crs, parse_map_filters, parse_query
from web.actors import current_actor
from web.api.contract import read_query
from web.bounds import free_slot, take_export_slot
from web.db import read_connection
from web.ogcapi import public_downloads
from web.ogcapi.openapi import ItemQuery, document, items_query

bp = Blueprint("ogcapi", __name__, url_prefix="/ogc")


@contextmanager
def read_session() -> Iterator[Session]:
    """A read-only session on ``read_connection`` (the replica when there is one)."""
    with read_connection() as connection, Session(bind=connection) as session:
        yield session


JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    # Part 3: queryables, PROPERTY=VALUE parameters, and CQL2 filters (registry.opendata.cql)
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    # the draft's names for the spatial classes, which QGIS and GDAL clients still look for
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-operators",
]
SCHEMA = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
SCHEMA_TYPES = {
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "string": {"type": "string"},
    "date-time": {"type": "string", "format": "date-time"},
}
WORDS = {
    "en": {"title": "Jasyl open data", "collections": "Collections", "features": "Features",
           "next": "Next page", "conformance": "Conformance", "api": "API definition"},
    "ru": {"title": "Открытые данные Jasyl", "collections": "Коллекции", "features": "Объекты",
           "next": "Следующая страница", "conformance": "Соответствие", "api": "Описание API"},
    "kk": {"title": "Jasyl ашық деректері", "collections": "Жинақтар", "features": "Нысандар",
           "next": "Келесі бет", "conformance": "Сәйкестік", "api": "API сипаттамасы"},
}  # fmt: skip


@bp.errorhandler(JasylError)
def ogc_error(exc: JasylError) -> tuple[Response, int]:
    """Errors in the OGC exception shape; a bad parameter is a 400, as the standard asks."""
    status = 400 if isinstance(exc, InvalidValue) else exc.http_status
    body = {"code": exc.code, "description": exc.message, **exc.as_dict()}
    return Response(json.dumps(body, default=str), mimetype=JSON), status


def _wants_html() -> bool:
    wanted = request.args.get("f")
    if wanted:
        if wanted not in ("json", "geojson", "html"):
            raise InvalidValue("f", "must be json, geojson or html", wanted)
        return wanted == "html"
    best = request.accept_mimetypes.best_match([JSON, GEOJSON, HTML], default=JSON)
    return best == HTML and request.accept_mimetypes[HTML] > request.accept_mimetypes[JSON]


def _lang() -> str:
    return request.args.get("lang") or request.accept_languages.best_match(WORDS) or "en"


def _link(href: str, rel: str, type_: str, title: str = "") -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def _answer(payload: dict[str, Any], template: str, media: str = JSON, **context: Any) -> Response:
    if _wants_html():
        words = WORDS.get(_lang(), WORDS["en"])
        html = render_template(f"ogcapi/{template}", data=payload, words=words, **context)
        return Response(html, mimetype=HTML)
    return Response(json.dumps(payload, ensure_ascii=False, default=str), mimetype=media)


@bp.get("/")
def landing() -> Response:
    payload = {
        "title": "Jasyl – green spaces of Kazakhstan",
        "description": "Open data of the national green-space registry (OGC API – Features).",
        "links": [
            _link(_url("ogcapi.landing"), "self", JSON),
            _link(_url("ogcapi.landing", f="html"), "alternate", HTML),
            _link(_url("ogcapi.api"), "service-desc", OPENAPI, "The API definition"),
            _link(_url("ogcapi.api", f="html"), "service-doc", HTML, "The API documentation"),
            _link(_url("ogcapi.conformance"), "conformance", JSON),
            _link(
                _url("ogcapi.conformance"),
                "http://www.opengis.net/def/rel/ogc/1.0/conformance",
                JSON,
            ),
            _link(_url("ogcapi.collections"), "data", JSON, "Collections"),
            _link(_url("ogcapi.collections"), "http://www.opengis.net/def/rel/ogc/1.0/data", JSON),
        ],
    }
    return _answer(payload, "landing.html")


@bp.get("/conformance")
def conformance() -> Response:
    return _answer({"conformsTo": CONFORMANCE}, "conformance.html")


@bp.get("/api")
def api() -> Response:
    doc = document(_url("ogcapi.landing").rstrip("/"))
    if request.args.get("f") == "html":
        return Response(
            render_template("ogcapi/api.html", data=doc, words=WORDS.get(_lang(), WORDS["en"])),
            mimetype=HTML,
        )
    return Response(json.dumps(doc, ensure_ascii=False), mimetype=OPENAPI)


def _describe(session: Any, collection_id: str) -> dict[str, Any]:
    collection = get_collection(collection_id)
    items = _url("ogcapi.items", collection_id=collection.id)
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "keywords": list(collection.keywords),
        "license": "CC-BY-4.0",
        "itemType": "feature",
        "extent": services.extent(session, current_actor(), collection),
        "crs": list(crs_.SUPPORTED),
        "storageCrs": crs_.CRS84,
        "links": [
            _link(_url("ogcapi.collection", collection_id=collection.id), "self", JSON),
            _link(
                _url("ogcapi.collection", collection_id=collection.id, f="html"), "alternate", HTML
            ),
            _link(items, "items", GEOJSON, collection.title),
            _link(
                _url("ogcapi.queryables", collection_id=collection.id),
                QUERYABLES_REL,
                SCHEMA,
                "Properties a filter may name",
            ),
            _link(_url("ogcapi.items", collection_id=collection.id, f="html"), "items", HTML),
            _link("https://creativecommons.org/licenses/by/4.0/", "license", HTML, "CC BY 4.0"),
        ],
    }


@bp.get("/collections")
def collections() -> Response:
    with read_session() as session:
        described = [_describe(session, cid) for cid in COLLECTIONS]
    payload = {
        "links": [
            _link(_url("ogcapi.collections"), "self", JSON),
            _link(_url("ogcapi.collections", f="html"), "alternate", HTML),
        ],
        "collections": described,
        "crs": list(crs_.SUPPORTED),
    }
    return _answer(payload, "collections.html")


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    with read_session() as session:
        payload = _describe(session, collection_id)
    return _answer(payload, "collection.html")


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str) -> Response:
    """What ``filter`` (CQL2) and ``PROPERTY=VALUE`` may name: the reader's visible properties."""
    collection = get_collection(collection_id)
    internal = sees_internal_fields(current_actor())
    properties: dict[str, Any] = {GEOMETRY: {"title": "Geometry", "format": "geometry-any"}}
    for prop in collection.visible(internal):
        properties[prop.name] = {"title": prop.title or prop.name, **SCHEMA_TYPES[prop.type]}
    payload = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _url("ogcapi.queryables", collection_id=collection.id),
        "type": "object",
        "title": collection.title,
        "properties": properties,
        "additionalProperties": False,
    }
    return Response(json.dumps(payload, ensure_ascii=False), mimetype=SCHEMA)


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response:
    collection = get_collection(collection_id)
    read_query(items_query(collection))  # types and lengths first: a 400 naming the parameter
    actor = current_actor()
    args = request.args.to_dict()
    query = parse_query(collection, args, sees_internal_fields(actor))
    with read_session() as session:
        page = services.feature_page(session, actor, collection, query)
        matched = services.number_matched(session, actor, collection, query)
    links = [
        _link(_url("ogcapi.items", collection_id=collection.id, **args), "self", GEOJSON),
        _link(
            _url("ogcapi.items", collection_id=collection.id, **{**args, "f": "html"}),
            "alternate",
            HTML,
        ),
        _link(_url("ogcapi.collection", collection_id=collection.id), "collection", JSON),
    ]
    if page.next_after is not None:
        following = {**args, "after": str(page.next_after), "limit": str(query.limit)}
        links.append(
            _link(_url("ogcapi.items", collection_id=collection.id, **following), "next", GEOJSON)
        )
    head = {
        "type": "FeatureCollection",
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "numberReturned": page.number_returned,
        "links": links,
    }
    if matched is not None:
        head["numberMatched"] = matched
    headers = {"Content-Crs": f"<{query.crs.uri}>"}
    if _wants_html():
        features = [json.loads(f) for f in page.features]
        html = render_template(
            "ogcapi/items.html",
            data=head,
            collection=collection,
            features=features,
            words=WORDS.get(_lang(), WORDS["en"]),
        )
        return Response(html, mimetype=HTML, headers=headers)
    body = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": ['
    body += ",".join(page.features) + "]}"
    return Response(body, mimetype=GEOJSON, headers=headers)


@bp.get("/collections/<collection_id>/items/<int:fid>")
def item(collection_id: str, fid: int) -> Response:
    collection = get_collection(collection_id)
    read_query(ItemQuery)
    crs = parse_crs(request.args.get("crs"), "crs")
    with read_session() as session:
        found = services.feature(session, current_actor(), collection, fid, crs)
    headers = {"Content-Crs": f"<{crs.uri}>"}
    if _wants_html():
        html = render_template(
            "ogcapi/item.html",
            collection=collection,
            feature=json.loads(found),
            words=WORDS.get(_lang(), WORDS["en"]),
        )
        return Response(html, mimetype=HTML, headers=headers)
    links = [
        _link(_url("ogcapi.item", collection_id=collection.id, fid=fid), "self", GEOJSON),
        _link(
            _url("ogcapi.item", collection_id=collection.id, fid=fid, f="html"), "alternate", HTML
        ),
        _link(_url("ogcapi.collection", collection_id=collection.id), "collection", JSON),
    ]
    body = found[:-1] + ', "links": ' + json.dumps(links) + "}"
    return Response(body, mimetype=GEOJSON, headers=headers)


DOWNLOAD_TYPES = {
    "gpkg": "application/geopackage+sqlite3",
    "shp": "application/zip",
    "geojson": GEOJSON,
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.get("/collections/<collection_id>/download")
def download(collection_id: str) -> Response:
    """The map's download button: the layer as a file, filtered like ``/items`` (no paging).

    GeoJSON and CSV stream as they are read (one keyset batch in memory); GeoPackage,
    shapefile and XLSX are containers only whole at the end, so they are written to a temporary
    file batch by batch and then sent from disk. Either way memory holds one batch. The public's
    whole layer in those three is a file made per published version (``public_downloads``).
    """
    collection = get_collection(collection_id)
    actor = current_actor()
    args = request.args.to_dict()
    fmt = args.pop("format", "gpkg")
    if fmt not in DOWNLOAD_TYPES:
        raise InvalidValue("format", f"must be one of {', '.join(DOWNLOAD_TYPES)}", fmt)
    args.pop("limit", None)
    query = parse_map_filters(collection, args, sees_internal_fields(actor))
    if public_downloads.served_from_file(actor, collection, query, fmt):
        return public_downloads.download(collection, fmt, DOWNLOAD_TYPES[fmt])
    if not actor.signed_in and fmt not in services.STREAMED_FORMATS:
        with read_session() as session:  # XLSX over its limit: refused before any work
            total = services.count_rows(session, actor, collection, query)
        services.check_sheet_rows(fmt, total, collection.id)
        return public_downloads.filtered(collection, fmt, args, DOWNLOAD_TYPES[fmt])
    slot = None if actor.signed_in else take_export_slot()  # the public's: a few at once
    try:
        if fmt in services.STREAMED_FORMATS:
            return _streamed(actor, collection, query, fmt, slot)
        body, name = _written(actor, collection, query, fmt)
    finally:
        if fmt not in services.STREAMED_FORMATS:
            free_slot(slot)
    return send_file(body, mimetype=DOWNLOAD_TYPES[fmt], as_attachment=True, download_name=name)


def _written(
    actor: Actor, collection: Collection, query: FeatureQuery, fmt: str
) -> tuple[BinaryIO, str]:
    """A GeoPackage, shapefile (zipped) or XLSX written to a temporary folder, returned open
    with the folder already removed: the open file keeps its bytes until the response closes
    it, and nothing is left in the temporary folder whether or not the server ever calls the
    response's ``close`` (they were left behind)."""
    with tempfile.TemporaryDirectory(prefix="jasyl-export-") as name:
        folder = Path(name)
        target = folder / f"{collection.id}.{fmt}"
        with read_session() as session:
            services.export_layer(session, actor, collection, query, fmt, target)
        if fmt == "shp":
            target = folder / f"{collection.id}-shp.zip"
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
                for part in sorted(folder.iterdir()):
                    if part != target:
                        archive.write(part, part.name)
        return open(target, "rb"), target.name  # noqa: SIM115 (closed by the response)


def _streamed(
    actor: Actor,
    collection: Collection,
    query: FeatureQuery,
    fmt: str,
    slot: IO[bytes] | None = None,
) -> Response:
    """A GeoJSON or CSV download sent chunk by chunk as the batches are read; a public
    download's ``slot`` is freed when the last chunk is sent or the client goes away."""

    def chunks() -> Iterator[bytes]:
        try:
            with read_session() as session:
                yield from services.stream_layer(session, actor, collection, query, fmt)
        finally:
            free_slot(slot)

    stream = chunks()
    # the head and the first batch are read now, so a filter the database refuses is still an
    # error answer (400/404) rather than a broken file after a 200
    try:
        first = [next(stream), next(stream, b"")]
    except BaseException:
        stream.close()
        raise
    name = f"{collection.id}.{fmt}"
    response = Response(
        stream_with_context(itertools.chain(first, stream)),
        mimetype=DOWNLOAD_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    response.call_on_close(lambda: free_slot(slot))
    return response
