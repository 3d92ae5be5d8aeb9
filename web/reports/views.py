"""The ministry's dashboard, a printable report page, and ``/api/v1/reports`` (workflow, exports).

Pages: ``/reports/dashboard?year=`` (choropleth of the 20 regions, trend chart, table; a click
on a region drills down to ``/reports/dashboard/<region>?year=``: its figures, its trend per
year, its green spaces, each opening its card on the map) and ``/reports/<region>/<year>``
(printable). API: build, submit,
approve, return, show (json/csv/xlsx), national figures. Services decide access.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import folium
from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy import text

from registry.access import require_signed_in
from registry.benefits import services as benefit_services
from registry.errors import InvalidValue
from registry.reports import content as report_content
from registry.reports import dashboards, exports
from registry.reports import services as reports
from web.actors import current_actor
from web.api.views import body
from web.db import read_connection, request_session
from web.i18n import language
from web.labels import export_terms
from web.planting.views import whole
from web.reports import charts
from web.reports.pdf import report_pdf

bp = Blueprint("reports", __name__)


@bp.before_request
def signed_in_only() -> None:
    """Anonymous requests get 401 before any input is read (``web.errors`` turns the refusal
    into 401 for the public)."""
    with request_session() as session:
        require_signed_in(session, current_actor(), request.method.lower(), "reports")


REGION_SHAPES = text(
    """
    SELECT iso_code, ST_AsGeoJSON(ST_SimplifyPreserveTopology(boundary_simple, 0.02), 3)::json
    FROM regions ORDER BY id
    """
)
SCALE = ["#f7fcf5", "#c7e9c0", "#74c476", "#31a354", "#006d2c"]  # planted, light → dark green
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _year(value: str | None) -> int:
    if not value:
        return date.today().year
    if not value.isdigit():
        raise InvalidValue("year", "must be a year like 2026", value)
    return int(value)


def shade(value: float, top: float) -> str:
    if top <= 0 or value <= 0:
        return SCALE[0]
    return SCALE[min(len(SCALE) - 1, 1 + int(value * (len(SCALE) - 1) / (top + 1e-9)))]


def choropleth(regions: list[dict[str, Any]]) -> tuple[folium.Map, str]:
    """The 20 regions shaded by trees planted (a GeoJson layer; no CDN-loaded colour legend),
    and the JavaScript name of that layer, so the page can open a region on a click."""
    figures = {r["region"]: r for r in regions}
    top = max((r["planted"] for r in regions), default=0)
    lang = language()
    with read_connection() as connection:
        shapes = connection.execute(REGION_SHAPES).all()
    features = []
    for iso, geometry in shapes:
        row = figures[iso]
        name = {"kk": row["name_kk"], "ru": row["name_ru"]}.get(lang, row["name_en"])
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "iso": iso,
                    "name": name,
                    "planted": row["planted"],
                    "colour": shade(row["planted"], top),
                },
            }
        )
    m = folium.Map(location=(48.0, 67.0), zoom_start=4, tiles=None, control_scale=True)
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="regions",
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#455a64",
            "weight": 1,
            "fillOpacity": 0.85,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "planted"], aliases=[_("Region"), _("Planted")]
        ),
    ).add_to(m)
    return m, layer.get_name()


# -- pages ----------------------------------------------------------------------------------------
BENEFIT_SUMS = (
    "trees",
    "co2_stored_t",
    "co2_sequestered_t_per_year",
    "value_kzt_per_year",
    "plants_without_method",
    "plants_without_dbh",
)


def benefits_of(session, year: int, region: str | None = None) -> dict[str, Any]:
    """Tree benefits by region from the tallies the database keeps, valued at the year's prices:
    one region's with its green spaces', or every region's with their total. The services
    decide access."""
    actor = current_actor()
    rows = benefit_services.report(session, actor, year, region)
    if region is not None:
        region_id = report_content.readable_region(session, actor, region).id
        spaces = benefit_services.green_space_benefits(session, actor, region_id)
        return {"benefits": rows, "benefit_total": None, "space_benefits": spaces}
    total = None
    if rows:
        total = {k: round(sum(r[k] or 0 for r in rows), 3) for k in BENEFIT_SUMS}
        known = [r["rain_intercepted_m3_per_year"] for r in rows]
        known = [m3 for m3 in known if m3 is not None]
        total |= {"region": "total", "rain_intercepted_m3_per_year": sum(known) if known else None}
    charts_ = charts.co2_by_region(rows, int(total["plants_without_method"])) if rows else []
    return {"benefits": rows, "benefit_total": total, "benefit_charts": charts_}


def green_space_co2_charts(benefits: dict[str, Any], spaces: list[dict]) -> list:
    """A region page's charts: CO₂ of its green spaces (those with trees), by name."""
    figures = benefits.get("space_benefits") or {}
    rows = [{"name": g["name"], **figures[g["id"]]} for g in spaces if g["id"] in figures]
    region_rows = benefits["benefits"]
    without = region_rows[0]["plants_without_method"] if region_rows else 0
    return charts.co2_by_green_space(rows, without) if rows else []


@bp.get("/reports/dashboard")
def dashboard() -> str:
    year = _year(request.args.get("year"))
    with request_session() as session:
        data = dashboards.national_dashboard(session, current_actor(), year)
        benefits = benefits_of(session, year)
    chart, layer = choropleth(data["regions"])
    root = chart.get_root()
    root.render()
    return render_template(
        "reports/dashboard.html",
        data=data,
        year=year,
        layer=layer,
        charts={
            "by_year": charts.planting_by_year(data["trend"]),
            "survival": charts.survival_by_species(data["species"]),
        },
        map_header=root.header.render(),
        map_html=root.html.render(),
        map_script=root.script.render(),
        scale=SCALE,
        **benefits,
    )


@bp.get("/reports/dashboard/<region>")
def region_page(region: str) -> str:
    """The drill down from the country: one region's figures, trend and green spaces."""
    year = _year(request.args.get("year"))
    with request_session() as session:
        data = dashboards.region_dashboard(session, current_actor(), region, year)
        benefits = benefits_of(session, year, data["region"]["iso"])
    benefits["benefit_charts"] = green_space_co2_charts(benefits, data["green_spaces"])
    drawn = {
        "trend": charts.plan_and_survival_by_year(data["trend"]),
        "care": charts.care_done_and_planned(data["care"]),
        "seed_origins": charts.survival_by_seed_origin(data["seed_origins"]),
    }
    return render_template(
        "reports/region.html",
        data=data,
        year=year,
        charts=drawn,
        **benefits,
    )


@bp.get("/reports/<region>/<int:year>")
def report_page(region: str, year: int) -> str:
    with request_session() as session:
        found = reports.get_report(
            session, current_actor(), region, year, whole(dict(request.args), "edition")
        )
        return render_template("reports/report.html", report=reports.describe(found))


# -- API ------------------------------------------------------------------------------------------
def _answer(report) -> Response:
    return jsonify(reports.describe(report))


@bp.post("/api/v1/reports/<region>/<int:year>/build")
def api_build(region: str, year: int):
    with request_session() as session:
        return _answer(reports.build_report(session, current_actor(), region, year)), 201


@bp.post("/api/v1/reports/<region>/<int:year>/submit")
def api_submit(region: str, year: int):
    with request_session() as session:
        return _answer(reports.submit_report(session, current_actor(), region, year))


@bp.post("/api/v1/reports/<region>/<int:year>/approve")
def api_approve(region: str, year: int):
    with request_session() as session:
        return _answer(reports.approve_report(session, current_actor(), region, year))


@bp.post("/api/v1/reports/<region>/<int:year>/return")
def api_return(region: str, year: int):
    comment = str(body().get("comment", ""))
    with request_session() as session:
        return _answer(reports.return_report(session, current_actor(), region, year, comment))


@bp.get("/api/v1/reports/<region>/<int:year>")
def api_show(region: str, year: int):
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv", "xlsx", "pdf"):
        raise InvalidValue("format", "must be one of json, csv, xlsx, pdf", fmt)
    with request_session() as session:
        found = reports.get_report(
            session, current_actor(), region, year, whole(dict(request.args), "edition")
        )
        name = f"jasyl-{found.content['region']['iso']}-{year}-{found.edition}"
        reader = exports.Reader(language(), export_terms())
        if fmt == "csv":
            return Response(
                exports.to_csv(found.content, reader),
                mimetype="text/csv",
                headers={"Content-Disposition": f"attachment; filename={name}.csv"},
            )
        if fmt == "xlsx":
            return Response(
                exports.to_xlsx(found.content, reader),
                mimetype=XLSX,
                headers={"Content-Disposition": f"attachment; filename={name}.xlsx"},
            )
        if fmt == "pdf":
            return Response(
                report_pdf(session, found),
                mimetype="application/pdf",
                headers={"Content-Disposition": f"attachment; filename={name}-{language()}.pdf"},
            )
        return _answer(found)


@bp.get("/api/v1/reports")
def api_list():
    with request_session() as session:
        return jsonify(
            dashboards.list_reports(session, current_actor(), whole(dict(request.args), "year"))
        )


@bp.get("/api/v1/reports/national")
def api_national():
    groups = tuple(g for g in request.args.get("by", "region,year,species").split(",") if g)
    with request_session() as session:
        return jsonify(
            dashboards.national_planting(
                session, current_actor(), whole(dict(request.args), "year"), groups
            )
        )


@bp.get("/api/v1/reports/dashboard/<region>")
def api_region_dashboard(region: str):
    year = _year(request.args.get("year"))
    with request_session() as session:
        data = dashboards.region_dashboard(session, current_actor(), region, year)
        found = benefits_of(session, year, data["region"]["iso"])
        for space in data["green_spaces"]:
            space["benefits"] = found["space_benefits"].get(space["id"])
        benefits = found["benefits"]
        return jsonify({**data, "benefits": benefits[0] if benefits else None})


@bp.get("/api/v1/reports/dashboard")
def api_dashboard():
    year = _year(request.args.get("year"))
    with request_session() as session:
        data = dashboards.national_dashboard(session, current_actor(), year)
        return jsonify({**data, **benefits_of(session, year)})
