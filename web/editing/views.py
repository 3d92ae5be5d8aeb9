"""Browser forms: add a plant, edit it, record an inspection, mark it removed, edit green spaces.

Every form posts back to itself; the services validate, decide access and detect conflicts.
``InvalidValue`` puts its reason next to the field it names; ``StaleVersion`` shows who changed
the record and when, with their values beside yours, and nothing is overwritten.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from shapely.errors import ShapelyError
from shapely.geometry import Point, shape

from importers.services import ImportOptions, import_file
from importers.template import template_text
from registry.errors import AccessDenied, InvalidValue, JasylError, StaleVersion
from registry.inventory import queries
from registry.inventory.models import PlantStatus
from registry.inventory.services import (
    create_green_space,
    create_plant,
    get_plant,
    record_inspection,
    remove_plant,
    update_green_space,
    update_plant,
)
from registry.regions.services import list_regions
from registry.species.services import list_species
from web.actors import current_actor
from web.bounds import body_limit
from web.db import request_session
from web.forms import checkbox, version_of, whole_number
from web.i18n import language

bp = Blueprint("editing", __name__)

PLANT_FORM_FIELDS = (
    "inventory_number",
    "species_id",
    "planting_form",
    "quantity",
    "planting_year",
    "height_m",
    "trunk_diameter_cm",
    "crown_diameter_m",
    "condition",
    "status",
    "address",
    "notes",
)
CHECKBOXES = ("hazardous", "published")
GEOMETRY_FIELDS = {"geom": "lon", "geometry": "lon"}


def form_errors(exc: InvalidValue) -> dict[str, str]:
    """The error under the field it concerns (a location error goes next to the coordinates)."""
    return {GEOMETRY_FIELDS.get(exc.field, exc.field): exc.message}


def location_from(form: dict[str, str]) -> Point:
    values = []
    for name, limit in (("lon", 180), ("lat", 90)):
        raw = (form.get(name) or "").replace(",", ".").strip()
        try:
            value = float(raw)
        except ValueError:
            raise InvalidValue(name, "is not a number", raw) from None
        if not -limit <= value <= limit:
            raise InvalidValue(name, f"must lie between -{limit} and {limit}", raw)
        values.append(value)
    return Point(*values)


def plant_changes(form: dict[str, str]) -> dict[str, Any]:
    """Form strings → service fields; empty optional numbers become "not measured"."""
    changes: dict[str, Any] = {}
    for name in PLANT_FORM_FIELDS:
        if name in form:
            value = form[name].strip()
            changes[name] = value if value != "" else None
    for name in CHECKBOXES:
        changes[name] = checkbox(form, name)
    if changes.get("species_id") is not None:
        changes["species_id"] = whole_number("species_id", changes["species_id"])
    if changes.get("planting_form") is None:
        changes.pop("planting_form", None)
    for name in ("quantity", "condition", "status"):
        if changes.get(name) is None:
            changes.pop(name, None)
    for name in ("address", "notes"):
        changes[name] = changes.get(name) or ""
    return changes


def conflict_rows(exc: StaleVersion, mine: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Fields where the saved record differs from what this user tried to save."""
    current = exc.details.get("current", {})
    rows = []
    for name, value in mine.items():
        theirs = current.get(name)
        theirs = getattr(theirs, "value", theirs)
        if name != "geom" and not same_value(theirs, value):
            rows.append((name, theirs, value))
    return rows


def same_value(a: Any, b: Any) -> bool:
    """Equal as a forester reads them: 12 and "12.0" are the same height, None and "" too."""
    shown_a, shown_b = ("" if a is None else str(a)), ("" if b is None else str(b))
    if shown_a == shown_b:
        return True
    try:
        return Decimal(shown_a) == Decimal(shown_b)
    except InvalidOperation:
        return False


def plant_form_context(session, plant: dict[str, Any] | None, form: dict[str, Any]) -> dict:
    return {
        "plant": plant,
        "form": form,
        "species": sorted(list_species(session), key=lambda s: s.name(language())),
        "statuses": [s.value for s in PlantStatus],
        "lang": language(),
    }


def plant_as_form(view: dict[str, Any]) -> dict[str, Any]:
    form = {k: ("" if view.get(k) is None else view.get(k)) for k in PLANT_FORM_FIELDS}
    form.update({k: view.get(k, k == "published") for k in CHECKBOXES})
    form["version"] = view["version"]
    if view["geometry"]["type"] == "Point":
        form["lon"], form["lat"] = view["geometry"]["coordinates"][:2]
    return form


@bp.route("/plants/new", methods=["GET", "POST"])
@login_required
def new_plant():
    actor = current_actor()
    # No condition until someone assesses it: a new plant is not pre-graded I ("healthy").
    form: dict[str, Any] = {"condition": "", "quantity": "1", "published": True}
    form.update(request.values.to_dict())
    errors: dict[str, str] = {}
    with request_session() as session:
        if request.method == "POST":
            try:
                data = plant_changes(form)
                data["geom"] = location_from(form)
                created = create_plant(session, actor, data)
                return redirect(url_for("map.index", plant=created.id, z=18))
            except InvalidValue as exc:
                session.rollback()
                errors = form_errors(exc)
        context = plant_form_context(session, None, form)
    status = 422 if errors else 200
    return render_template("editing/plant.html", errors=errors, conflict=None, **context), status


@bp.route("/plants/<int:plant_id>/edit", methods=["GET", "POST"])
@login_required
def edit_plant(plant_id: int):
    actor = current_actor()
    errors: dict[str, str] = {}
    conflict = None
    with request_session() as session:
        view = queries.plant_view(get_plant(session, actor, plant_id), actor)
        form = plant_as_form(view)
        if request.method == "POST":
            form = {**request.form.to_dict(), "version": request.form.get("version", "")}
            try:
                changes = plant_changes(form)
                if view["geometry"]["type"] == "Point" and form.get("lon"):
                    changes["geom"] = location_from(form)
                version = version_of(form)
                update_plant(session, actor, plant_id, version, changes)
                return redirect(url_for("map.index", plant=plant_id, z=18))
            except InvalidValue as exc:
                session.rollback()
                errors = form_errors(exc)
            except StaleVersion as exc:
                session.rollback()
                conflict = {
                    "by": exc.details["changed_by"],
                    "at": exc.details["changed_at"][:19].replace("T", " "),
                    "rows": conflict_rows(exc, plant_changes(form)),
                }
                form["version"] = exc.details["current_version"]
        context = plant_form_context(session, view, form)
    status = 409 if conflict else (422 if errors else 200)
    return render_template(
        "editing/plant.html", errors=errors, conflict=conflict, **context
    ), status


@bp.route("/plants/<int:plant_id>/inspect", methods=["GET", "POST"])
@login_required
def inspect_plant(plant_id: int):
    actor = current_actor()
    form = {"inspected_on": date.today().isoformat(), **request.form.to_dict()}
    errors: dict[str, str] = {}
    with request_session() as session:
        view = queries.plant_view(get_plant(session, actor, plant_id), actor)
        form.setdefault("condition", str(view["condition"]))
        if request.method == "POST":
            try:
                try:
                    inspected_on = date.fromisoformat(form["inspected_on"])
                except ValueError:
                    raise InvalidValue(
                        "inspected_on", "is not a date (YYYY-MM-DD)", form["inspected_on"]
                    ) from None
                record_inspection(
                    session,
                    actor,
                    plant_id,
                    inspected_on,
                    form.get("condition"),
                    inspector=form.get("inspector", ""),
                    hazardous=checkbox(form, "hazardous"),
                    height_m=form.get("height_m") or None,
                    trunk_diameter_cm=form.get("trunk_diameter_cm") or None,
                    notes=form.get("notes", ""),
                )
                return redirect(url_for("map.index", plant=plant_id, z=18))
            except InvalidValue as exc:
                session.rollback()
                errors = form_errors(exc)
    return render_template("editing/inspection.html", plant=view, form=form, errors=errors), (
        422 if errors else 200
    )


@bp.route("/plants/<int:plant_id>/remove", methods=["GET", "POST"], endpoint="remove_plant")
@login_required
def remove_plant_page(plant_id: int):
    actor = current_actor()
    errors: dict[str, str] = {}
    conflict = None
    with request_session() as session:
        view = queries.plant_view(get_plant(session, actor, plant_id), actor)
        form = {"status": "removed", "version": view["version"], **request.form.to_dict()}
        if request.method == "POST":
            try:
                version = version_of(form)
                remove_plant(
                    session, actor, plant_id, version, form["status"], form.get("reason", "")
                )
                return redirect(url_for("map.index", plant=plant_id, z=18))
            except InvalidValue as exc:
                session.rollback()
                errors = form_errors(exc)
            except StaleVersion as exc:
                session.rollback()
                conflict = {
                    "by": exc.details["changed_by"],
                    "at": exc.details["changed_at"][:19].replace("T", " "),
                    "rows": conflict_rows(exc, {"status": form["status"]}),
                }
                form["version"] = exc.details["current_version"]
    status = 409 if conflict else (422 if errors else 200)
    return render_template(
        "editing/remove.html",
        plant=view,
        form=form,
        errors=errors,
        conflict=conflict,
        statuses=[s.value for s in PlantStatus if s is not PlantStatus.ALIVE],
    ), status


# -- green spaces ---------------------------------------------------------------------------------
def green_space_changes(form: dict[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {
        name: form.get(name, "").strip()
        for name in ("name", "category", "kind", "balance_holder", "notes")
    }
    changes["published"] = checkbox(form, "published")
    raw = (form.get("geometry") or "").strip()
    if raw:
        try:
            changes["geom"] = shape(json.loads(raw))
        except (ValueError, TypeError, KeyError, AttributeError, ShapelyError):
            raise InvalidValue(
                "geometry", "draw the outline on the map (no valid polygon)"
            ) from None
    return changes


@bp.route("/green_spaces/new", methods=["GET", "POST"])
@login_required
def new_green_space():
    return _green_space_form(None)


@bp.route("/green_spaces/<int:space_id>/edit", methods=["GET", "POST"])
@login_required
def edit_green_space(space_id: int):
    return _green_space_form(space_id)


def _green_space_form(space_id: int | None):
    actor = current_actor()
    errors: dict[str, str] = {}
    conflict = None
    with request_session() as session:
        view = None
        form: dict[str, Any] = {"category": "public", "kind": "park", "published": True}
        if space_id is not None:
            view = queries.green_space_view(
                queries.get_green_space(session, actor, space_id), actor
            )
            form = {**view, "geometry": json.dumps(view["geometry"])}
        if request.method == "POST":
            form = request.form.to_dict()
            try:
                changes = green_space_changes(form)
                if space_id is None:
                    if "geom" not in changes:
                        raise InvalidValue("geometry", "draw the outline on the map")
                    saved = create_green_space(session, actor, changes)
                else:
                    version = version_of(form)
                    saved = update_green_space(session, actor, space_id, version, changes)
                return redirect(url_for("map.index", green_space=saved.id))
            except InvalidValue as exc:
                session.rollback()
                errors = {"geometry" if exc.field == "geom" else exc.field: exc.message}
            except StaleVersion as exc:
                session.rollback()
                mine = green_space_changes(form)
                mine.pop("geom", None)
                conflict = {
                    "by": exc.details["changed_by"],
                    "at": exc.details["changed_at"][:19].replace("T", " "),
                    "rows": conflict_rows(exc, mine),
                }
                form["version"] = exc.details["current_version"]
    status = 409 if conflict else (422 if errors else 200)
    return render_template(
        "editing/green_space.html", space=view, form=form, errors=errors, conflict=conflict
    ), status


# -- survey files ---------------------------------------------------------------------------------
@bp.route("/imports/upload", methods=["GET", "POST"])
@login_required
@body_limit("max_survey_bytes")
def upload():
    """A contractor's survey file through the importer; its report (row, field, why) is shown."""
    actor = current_actor()
    form = {"region": "", "encoding": "", "crs": "", **request.form.to_dict()}
    errors: dict[str, str] = {}
    report = proposed = None
    columns: list[dict] = []  # what detection saw of a file refused as a whole
    with request_session() as session:
        # Plain pairs: a failed import rolls the session back, which detaches ORM rows.
        regions = [(r.iso_code, r.name(language()), r.id) for r in list_regions(session)]
        if not form["region"] and actor.region_id:
            form["region"] = next((iso for iso, _, rid in regions if rid == actor.region_id), "")
        if request.method == "POST":
            upload_file = request.files.get("survey")
            if upload_file is None or not upload_file.filename:
                errors["survey"] = _("Choose a survey file.")
            else:
                try:
                    report, proposed = run_import(session, actor, upload_file, form)
                except AccessDenied:
                    raise
                except JasylError as exc:  # the file as a whole: encoding, CRS, columns
                    session.rollback()
                    errors[getattr(exc, "field", None) or "survey"] = exc.message
                    columns = exc.details.get("columns", [])
    status = 422 if errors or (report is not None and not report.ok) else 200
    return render_template(
        "editing/upload.html",
        form=form,
        errors=errors,
        report=report,
        proposed=proposed,
        columns=columns,
        regions=regions,
        lang=language(),
    ), status


def run_import(session, actor, upload_file, form: dict[str, str]):
    """Keep the upload under its own name (reports cite it; Cyrillic names stay) and run it.

    Returns the report and, after a dry run or a refused import, the mapping template to
    download (``importers.template``: columns, units, the file's words, species to confirm),
    the uploaded mapping's lines kept as they were.
    """
    name = Path(upload_file.filename.replace("\\", "/")).name.lstrip(".") or "survey"
    with tempfile.TemporaryDirectory(prefix="jasyl-upload-") as folder:
        path = Path(folder) / name
        upload_file.save(path)
        mapping = saved_mapping(request.files.get("mapping"), Path(folder))
        options = ImportOptions(
            mapping=mapping,
            crs=form.get("crs") or None,
            encoding=form.get("encoding") or None,
            dry_run="dry_run" in form,
            allow_partial="allow_partial" in form,
        )
        report = import_file(session, actor, path, region=form["region"], options=options)
        shown = report.status in ("dry_run", "rejected") and report.columns
        return report, template_text(report, mapping) if shown else None


def saved_mapping(upload, folder: Path) -> Path | None:
    """The uploaded mapping file, if one was chosen, saved under its kind's suffix."""
    if upload is None or not upload.filename:
        return None
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise InvalidValue("mapping", _("A mapping file is .toml or .yaml."), upload.filename)
    path = folder / f"mapping{suffix}"
    upload.save(path)
    return path
