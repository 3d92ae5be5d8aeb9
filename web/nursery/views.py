"""``/nurseries``: the national dashboard, each nursery's map and stock, ledger, dispatch, receipt.

Pages for people under ``/nurseries`` and JSON for programs under ``/api/v1/nurseries``. Every
view passes ``current_actor()`` to the nursery services, which decide access; refusals and bad
input become JSON (API) or the form shown again with the message (pages), and change nothing.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import folium
from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping

from registry.access import require_nursery_read
from registry.errors import InvalidValue, JasylError
from registry.nursery import provenance, queries, services, shipping
from registry.nursery.history import stock_by_stage_over_time
from registry.nursery.models import Batch, Nursery
from registry.regions.services import list_regions
from registry.species.models import Species
from web.actors import current_actor
from web.db import request_session
from web.forms import numbered
from web.labels import local_name
from web.reports.charts import stock_by_stage, stock_over_time

bp = Blueprint("nursery", __name__, url_prefix="/nurseries")
# JSON lives with the rest of the API, so errors answer as JSON (``web.errors.wants_json``).
api = Blueprint("nursery_api", __name__, url_prefix="/api/v1/nurseries")


@bp.before_request
@api.before_request
def staff_only() -> None:
    """Nursery stock is for signed-in staff: refuse strangers before looking anything up, so an
    anonymous client learns nothing (not even which codes or ids exist); the services then apply
    the narrower rules (own nursery, own region, administrators)."""
    with request_session() as session:
        require_nursery_read(session, current_actor())


def _year() -> int:
    value = request.args.get("year", "")
    if not value:
        return date.today().year
    if not value.isdigit():
        raise InvalidValue("year", "must be a year like 2026", value)
    return int(value)


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidValue("body", "must be a JSON object")
    return data


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Report rows as JSON numbers (percentages come from SQL as Decimal)."""
    return [
        {k: (float(v) if isinstance(v, Decimal) else v) for k, v in row.items()} for row in rows
    ]


# -- pages ----------------------------------------------------------------------------------------
@bp.get("/")
def index() -> str:
    """The ministry's view: every nursery, national stock, and stock against approved plans."""
    actor = current_actor()
    year = _year()
    with request_session() as session:
        summary = queries.national_summary(session, actor, year)
        stock = queries.stock(session, actor)
        plans = queries.stock_against_plans(session, actor, year)
    national: dict[tuple, int] = {}
    for row in stock:
        key = (row["species"], local_name(row), row["stage"], row["grade"])
        national[key] = national.get(key, 0) + row["quantity"]
    return render_template(
        "nursery/index.html",
        year=year,
        summary=summary,
        national=sorted(national.items()),
        plans=plans,
    )


def _map(nursery: Nursery) -> dict[str, str]:
    point = to_shape(nursery.location)
    m = folium.Map(location=(point.y, point.x), zoom_start=14, tiles=None, control_scale=True)
    if nursery.site is not None:
        folium.GeoJson(
            json.dumps(mapping(to_shape(nursery.site))),
            style_function=lambda _f: {"color": "#1b5e20", "weight": 2, "fillOpacity": 0.2},
        ).add_to(m)
    folium.Marker((point.y, point.x), tooltip=nursery.name).add_to(m)
    root = m.get_root()
    root.render()
    return {
        "map_header": root.header.render(),
        "map_html": root.html.render(),
        "map_script": root.script.render(),
    }


@bp.get("/<code>")
def nursery_page(code: str) -> str:
    actor = current_actor()
    with request_session() as session:
        nursery = services.resolve_nursery(session, code)
        stock = queries.stock(session, actor, nursery.code)
        batches = queries.batches_of(session, actor, nursery)
        species = {
            s.id: s
            for s in session.query(Species).filter(
                Species.id.in_({b.species_id for b in batches} or {0})
            )
        }
        shipments = queries.shipments(session, actor, nursery)
        history = stock_by_stage_over_time(session, actor, nursery)
        return render_template(
            "nursery/nursery.html",
            history=history,
            history_chart=stock_over_time(history),
            nursery=nursery,
            stock=stock,
            batches=batches,
            species=species,
            shipments=shipments,
            stock_chart=stock_by_stage(stock),
            **_map(nursery),
        )


@bp.get("/<code>/ledger")
def ledger_page(code: str) -> str:
    actor = current_actor()
    args = request.args
    with request_session() as session:
        nursery = services.resolve_nursery(session, code)
        rows = queries.ledger(
            session,
            actor,
            nursery,
            args.get("batch", type=int),
            args.get("kind") or None,
            args.get("since") or None,
            args.get("until") or None,
        )
    return render_template("nursery/ledger.html", nursery=nursery, rows=rows, args=args)


@bp.route("/<code>/dispatch", methods=["GET", "POST"])
def dispatch_page(code: str):
    actor = current_actor()
    error = ""
    with request_session() as session:
        nursery = services.resolve_nursery(session, code)
        ready = [
            b
            for b in queries.batches_of(session, actor, nursery)
            if b.stage.value == "ready" and b.quantity > 0
        ]
        regions = list_regions(session)
    if request.method == "POST":
        form = request.form
        lines = [
            f"{b.id}:{form.get(f'qty_{b.id}')}"
            for b in ready
            if (form.get(f"qty_{b.id}") or "").strip() not in ("", "0")
        ]
        try:
            with request_session() as session:
                place = services.resolve_nursery(session, code)
                shipment = shipping.dispatch(
                    session,
                    actor,
                    place,
                    form.get("region", ""),
                    lines,
                    form.get("on", ""),
                    form.get("consignee", ""),
                    form.get("override_reason", ""),
                )
                shipment_id = shipment.id
            return redirect(url_for("nursery.shipment_page", shipment_id=shipment_id))
        except JasylError as exc:
            if exc.http_status == 403:
                raise
            error = exc.message
    return render_template(
        "nursery/dispatch.html",
        nursery=nursery,
        ready=ready,
        regions=regions,
        error=error,
        form=request.form,
        today=date.today().isoformat(),
    ), (422 if error else 200)


@bp.route("/shipments/<int:shipment_id>", methods=["GET", "POST"])
def shipment_page(shipment_id: int):
    actor = current_actor()
    error = ""
    if request.method == "POST":
        try:
            counts = numbered(request.form, "got_")
            with request_session() as session:
                shipping.receive(session, actor, shipment_id, counts, request.form.get("on", ""))
            return redirect(url_for("nursery.shipment_page", shipment_id=shipment_id))
        except JasylError as exc:
            if exc.http_status == 403:
                raise
            error = exc.message
    with request_session() as session:
        shipment = shipping.get_shipment(session, actor, shipment_id)
        lines = shipping.shipment_lines(session, shipment.id)
        batches = {
            b.id: b
            for b in session.query(Batch).filter(Batch.id.in_([line.batch_id for line in lines]))
        }
        species = {
            s.id: s
            for s in session.query(Species).filter(
                Species.id.in_({b.species_id for b in batches.values()})
            )
        }
        nursery = session.get(Nursery, shipment.nursery_id)
        return render_template(
            "nursery/shipment.html",
            shipment=shipment,
            lines=lines,
            batches=batches,
            species=species,
            nursery=nursery,
            error=error,
            form=request.form,
            today=date.today().isoformat(),
        ), (422 if error else 200)


# -- JSON -----------------------------------------------------------------------------------------
@api.get("/stock")
def api_stock() -> Response:
    with request_session() as session:
        rows = queries.stock(
            session,
            current_actor(),
            request.args.get("nursery") or None,
            request.args.get("species") or None,
        )
    return jsonify(_plain(rows))


@api.get("/report")
def api_report() -> Response:
    year = _year()
    with request_session() as session:
        summary = queries.national_summary(session, current_actor(), year)
        plans = queries.stock_against_plans(session, current_actor(), year)
    return jsonify({"year": year, "nurseries": _plain(summary), "plans": _plain(plans)})


@api.get("/<code>/stock-history")
def api_stock_history(code: str) -> Response:
    """Plants on hand per stage at each of the last 24 month ends (the nursery page's chart)."""
    with request_session() as session:
        nursery = services.resolve_nursery(session, code)
        return jsonify(stock_by_stage_over_time(session, current_actor(), nursery))


@api.get("/<code>/ledger")
def api_ledger(code: str) -> Response:
    args = request.args
    with request_session() as session:
        nursery = services.resolve_nursery(session, code)
        rows = queries.ledger(
            session,
            current_actor(),
            nursery,
            args.get("batch", type=int),
            args.get("kind") or None,
            args.get("since") or None,
            args.get("until") or None,
        )
    return jsonify(rows)


@api.post("/<code>/dispatch")
def api_dispatch(code: str):
    data = _body()
    lines = [
        (line.get("batch_id"), line.get("quantity"))
        for line in data.get("lines") or []
        if isinstance(line, dict)
    ]
    with request_session() as session:
        nursery = services.resolve_nursery(session, code)
        shipment = shipping.dispatch(
            session,
            current_actor(),
            nursery,
            data.get("region", ""),
            lines,
            data.get("on", ""),
            data.get("consignee", ""),
            data.get("override_reason", ""),
        )
        answer = {
            "id": shipment.id,
            "number": shipment.number,
            "zoning_override": shipment.zoning_override,
        }
    return jsonify(answer), 201


@api.post("/shipments/<int:shipment_id>/receive")
def api_receive(shipment_id: int):
    data = _body()
    received = data.get("received")
    if not isinstance(received, dict):
        raise InvalidValue("received", "must map batch ids to the counts received")
    with request_session() as session:
        shipment = shipping.receive(
            session,
            current_actor(),
            shipment_id,
            {int(k) if str(k).isdigit() else -1: v for k, v in received.items()},
            data.get("on", ""),
        )
        lines = shipping.shipment_lines(session, shipment.id)
        answer = {
            "id": shipment.id,
            "status": shipment.status.value,
            "lost_in_transit": {
                str(line.batch_id): line.quantity_shipped - line.quantity_received for line in lines
            },
        }
    return jsonify(answer)


@api.post("/batches/<int:batch_id>/movements")
def api_movement(batch_id: int):
    data = _body()
    kind, on, reason = data.get("kind"), data.get("on", ""), data.get("reason", "")
    actor = current_actor()
    with request_session() as session:
        if kind in ("germination", "stocktake"):
            services.count_batch(
                session,
                actor,
                batch_id,
                data.get("counted", ""),
                on,
                reason,
                germination=kind == "germination",
            )
        elif kind == "loss":
            services.record_loss(
                session,
                actor,
                batch_id,
                data.get("quantity", ""),
                data.get("cause", ""),
                on,
                reason,
            )
        elif kind == "transplant":
            services.transplant(
                session, actor, batch_id, data.get("quantity", ""), data.get("to_section", ""), on
            )
        elif kind == "reversal":
            services.reverse_movement(session, actor, data.get("movement_id", ""), reason, on)
        else:
            raise InvalidValue(
                "kind", "must be germination, stocktake, loss, transplant or reversal", kind
            )
        batch = services.get_batch(session, batch_id)
        answer = {
            "id": batch.id,
            "code": batch.code,
            "quantity": batch.quantity,
            "stage": batch.stage.value,
        }
    return jsonify(answer), 201


@api.get("/provenance/plants/<int:plant_id>")
def api_provenance(plant_id: int) -> Response:
    """A planted tree's provenance card (for the map's plant popup)."""
    with request_session() as session:
        card = provenance.provenance_of_plant(session, current_actor(), plant_id)
    return jsonify(card)


@bp.get("/provenance/plants/<int:plant_id>")
def provenance_page(plant_id: int) -> str:
    with request_session() as session:
        card = provenance.provenance_of_plant(session, current_actor(), plant_id)
    return render_template("nursery/provenance.html", card=card)


@api.get("/survival")
def api_survival() -> Response:
    with request_session() as session:
        rows = provenance.survival_by_provenance(
            session, current_actor(), request.args.get("nursery") or None
        )
    return jsonify(_plain(rows))


@api.post("/planting-events/<int:event_id>/source")
def api_link(event_id: int):
    data = _body()
    line = data.get("shipment_line_id")
    if isinstance(line, bool) or not isinstance(line, int):
        raise InvalidValue("shipment_line_id", "must be a shipment line id", line)
    with request_session() as session:
        event = provenance.link_planting(session, current_actor(), event_id, line)
        answer = {
            "id": event.id,
            "shipment_line_id": event.shipment_line_id,
            "batch_id": event.batch_id,
        }
    return jsonify(answer)
