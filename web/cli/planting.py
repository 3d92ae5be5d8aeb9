"""``jasyl planting``, ``jasyl care``, ``jasyl felling``: plans, work done, survival, permits.

Write commands act as the system operator unless ``--as EMAIL`` names a user, whose role and
region then decide (through ``registry.access``) what they may do, exactly as on the web.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click
from shapely import wkt as shapely_wkt
from shapely.errors import ShapelyError
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from registry.benefits.projection import plan_projection
from registry.care import services as care
from registry.care.models import CareKind, CareUnit
from registry.db import unit_of_work
from registry.felling import services as felling
from registry.felling.models import CompensationCase, FellingReason, Protection
from registry.planting import services as planting
from registry.planting.models import Performer, PlantingUnit
from registry.planting.queries import named_plan_lines
from web.cli.nursery import AS_USER, FORMAT, acting, emit

DAY = click.DateTime(formats=["%Y-%m-%d"])
REGION = click.option("--region", required=True, help="KZ-75, 75, Almaty or Алматы.")


def _day(value: Any) -> date | None:
    return value.date() if value is not None else None


def _points(values: tuple[str, ...]) -> list[BaseGeometry]:
    shapes = []
    for value in values:
        try:
            lon, lat = (float(part) for part in value.split(","))
        except ValueError:
            raise click.BadParameter(f"{value!r} is not LON,LAT", param_hint="--point") from None
        shapes.append(Point(lon, lat))
    return shapes


def _shape(value: str | None) -> BaseGeometry | None:
    if not value:
        return None
    try:
        return shapely_wkt.loads(value)
    except ShapelyError:
        raise click.BadParameter(
            "is not WKT (e.g. LINESTRING(71.43 51.12, 71.44 51.12))", param_hint="--wkt"
        ) from None


# -- planting -------------------------------------------------------------------------------------
@click.group("planting")
def planting_group() -> None:
    """Planting plans, planting events and survival checks."""


@planting_group.group("plan")
def plan() -> None:
    """Planting plans: create, add lines, approve, show."""


@plan.command("create")
@REGION
@click.option("--year", required=True, type=int, help="Planting year.")
@click.option("--season", required=True, type=click.Choice(["spring", "autumn"]))
@click.option("--title", default="", help="Title of the plan.")
@click.option("--district", default="", help="District (аудан) of the akimat, if any.")
@click.option("--funding", default="", help="Funding source of the whole plan.")
@AS_USER
def plan_create(region, year, season, title, district, funding, as_user) -> None:
    """Create a draft planting plan."""
    with unit_of_work() as session:
        found = planting.create_plan(
            session, acting(session, as_user), region, year, season, title, district, funding
        )
        click.echo(f"Created draft planting plan {found.id} ({year} {season}).")


@plan.command("line")
@click.argument("plan_id", type=int)
@click.option("--species", required=True, help="Latin, Russian, Kazakh or English name, or code.")
@click.option("--quantity", required=True, help="In the line's unit.")
@click.option(
    "--unit",
    type=click.Choice([u.value for u in PlantingUnit]),
    default="pieces",
    show_default=True,
)
@click.option("--form", "planting_form", help="solitary, row, group, hedge or massif.")
@click.option("--green-space", "green_space_id", type=int, help="Target green space id.")
@click.option("--wkt", "area", help="Target area drawn as WKT (EPSG:4326).")
@click.option("--supplier", default="", help="Nursery expected to supply the stock.")
@click.option("--funding", default="", help="Funding source of this line.")
@AS_USER
def plan_line(
    plan_id,
    species,
    quantity,
    unit,
    planting_form,
    green_space_id,
    area,
    supplier,
    funding,
    as_user,
) -> None:
    """Add a species × quantity line to a draft plan."""
    with unit_of_work() as session:
        line = planting.add_plan_line(
            session,
            acting(session, as_user),
            plan_id,
            species,
            quantity,
            unit,
            planting_form,
            green_space_id,
            _shape(area),
            funding,
            supplier,
        )
        click.echo(f"Added line {line.id} to plan {plan_id}.")


@plan.command("approve")
@click.argument("plan_id", type=int)
@click.option("--version", "expected", type=int, help="The version you read (optimistic locking).")
@AS_USER
def plan_approve(plan_id, expected, as_user) -> None:
    """Approve a draft plan: it no longer changes, and events may be booked on its lines."""
    with unit_of_work() as session:
        found = planting.approve_plan(session, acting(session, as_user), plan_id, expected)
        click.echo(f"Plan {found.id} approved (version {found.version}).")


@plan.command("show")
@click.argument("plan_id", type=int)
@FORMAT
@AS_USER
def plan_show(plan_id, fmt, as_user) -> None:
    """Show a plan's lines."""
    with unit_of_work() as session:
        found = planting.get_plan(session, acting(session, as_user), plan_id)
        if fmt == "table":
            click.echo(
                f"Plan {found.id}: {found.year} {found.season.value}, {found.status.value}, "
                f"version {found.version}"
            )
        rows = [
            {
                "line": line.id,
                "species": latin,
                "species_id": line.species_id,
                "form": line.planting_form.value,
                "quantity": float(line.quantity),
                "unit": line.unit.value,
                "green_space": space,
                "green_space_id": line.green_space_id,
                "supplier": line.supplier,
            }
            for line, latin, space in named_plan_lines(session, found.id)
        ]
        columns = ["line", "species", "form", "quantity", "unit", "green_space", "green_space_id"]
        emit(rows, fmt, [*columns, "supplier"])
        if fmt == "table":
            for line in projection_lines(
                plan_projection(session, acting(session, as_user), plan_id)
            ):
                click.echo(line)


def projection_lines(projection: dict) -> list[str]:
    """A plan's projected benefits in words: one line per horizon, then what was left out."""
    lines = ["Projected benefits (estimates; the registry's own 3rd-season survival):"]
    for h in projection["horizons"]:
        lines.append(
            f"  after {h['years']} years: {h['trees']:g} trees, {h['co2_stored_t']:g} t CO2 "
            f"stored, {h['co2_sequestered_t_per_year']:g} t CO2 per year"
        )
    lines.append(
        f"  lines without a method: {projection['lines_without_method']}; "
        f"without a measured survival rate: {projection['lines_without_survival_rate']}"
    )
    return lines


@planting_group.command("record")
@click.option("--species", required=True, help="Species planted.")
@click.option("--on", "planted_on", required=True, type=DAY, help="Planting date, YYYY-MM-DD.")
@click.option("--point", "points", multiple=True, help="LON,LAT of one planted plant (repeat).")
@click.option("--wkt", "shape", help="A row, hedge or group as one WKT line or polygon.")
@click.option("--green-space", "green_space_id", type=int, help="Planted on this green space.")
@click.option("--quantity", help="How many (points: defaults to their number).")
@click.option(
    "--unit",
    type=click.Choice([u.value for u in PlantingUnit]),
    default="pieces",
    show_default=True,
)
@click.option("--form", "planting_form", help="solitary, row, group, hedge or massif.")
@click.option("--plan-line", "plan_line_id", type=int, help="The plan line this fulfils.")
@click.option(
    "--by",
    "performer_kind",
    type=click.Choice([p.value for p in Performer]),
    default="akimat",
    show_default=True,
)
@click.option("--performer", default="", help="Contractor or volunteer group.")
@click.option("--replaces", "replaces_event_id", type=int, help="Event whose dead it replaces.")
@click.option("--permit", "felling_permit_id", type=int, help="Felling permit it compensates.")
@AS_USER
def record(
    species,
    planted_on,
    points,
    shape,
    green_space_id,
    quantity,
    unit,
    planting_form,
    plan_line_id,
    performer_kind,
    performer,
    replaces_event_id,
    felling_permit_id,
    as_user,
) -> None:
    """Record a planting event; its plants enter the inventory."""
    shapes = _points(points) + ([_shape(shape)] if shape else [])
    with unit_of_work() as session:
        event = planting.record_planting(
            session,
            acting(session, as_user),
            species,
            _day(planted_on),
            quantity,
            unit,
            shapes,
            green_space_id,
            plan_line_id,
            planting_form,
            performer_kind,
            performer,
            replaces_event_id,
            felling_permit_id,
        )
        made = len(planting.plants_of(session, event.id))
        kind = "replacement " if replaces_event_id else ""
        click.echo(
            f"Recorded {kind}planting event {event.id}: {event.quantity:f} {unit}, "
            f"{made} plant record(s)."
        )


@planting_group.command("check")
@click.argument("event_id", type=int)
@click.option("--season", required=True, type=click.Choice(["1", "3"]), help="Growing season.")
@click.option("--on", "checked_on", required=True, type=DAY, help="Date of the re-count.")
@click.option("--alive", required=True, help="Living plants counted.")
@click.option("--dead", required=True, help="Dead plants counted.")
@click.option("--replaced", default="0", show_default=True, help="Dead ones already replaced.")
@click.option("--inspector", default="", help="Who counted.")
@AS_USER
def check(event_id, season, checked_on, alive, dead, replaced, inspector, as_user) -> None:
    """Record a survival check of a planting event after its 1st or 3rd season."""
    with unit_of_work() as session:
        actor = acting(session, as_user)
        planting.record_survival_check(
            session, actor, event_id, season, _day(checked_on), alive, dead, replaced, inspector
        )
        rate = planting.event_survival(session, actor, event_id)["seasons"][int(season)]["rate"]
        click.echo(f"Survival of event {event_id} after season {season}: {rate} %.")


@planting_group.command("survival")
@REGION
@click.option("--year", type=int, help="Planting year.")
@click.option(
    "--by",
    "group_by",
    default="year,species",
    show_default=True,
    help="Comma-separated: year, species, form, unit.",
)
@FORMAT
@AS_USER
def survival(region, year, group_by, fmt, as_user) -> None:
    """Planted, replanted and survival after the 1st and 3rd season, per group."""
    groups = tuple(g.strip() for g in group_by.split(",") if g.strip())
    unknown = set(groups) - {"year", "species", "form", "unit"}
    if unknown:
        raise click.BadParameter(f"unknown group {sorted(unknown)[0]!r}", param_hint="--by")
    with unit_of_work() as session:
        rows = planting.survival_rates(session, acting(session, as_user), region, year, groups)
        emit(rows, fmt, [*groups, *planting.SURVIVAL_FIGURES])


# -- care -----------------------------------------------------------------------------------------
@click.group("care")
def care_group() -> None:
    """Care plans and care works: planned vs done."""


@care_group.command("plan")
@click.option("--region", help="KZ-75, 75, Almaty or Алматы (to create).")
@click.option("--year", type=int, help="Year of the plan (to create).")
@click.option("--title", default="")
@click.option("--approve", "approve_id", type=int, help="Approve this care plan instead.")
@AS_USER
def care_plan(region, year, title, approve_id, as_user) -> None:
    """Create a draft care plan (--region, --year), or approve one (--approve ID)."""
    with unit_of_work() as session:
        actor = acting(session, as_user)
        if approve_id:
            found = care.approve_care_plan(session, actor, approve_id)
            click.echo(f"Care plan {found.id} approved.")
            return
        if not region or year is None:
            raise click.UsageError("--region and --year are needed to create a care plan")
        found = care.create_care_plan(session, actor, region, year, title)
        click.echo(f"Created draft care plan {found.id} for {year}.")


@care_group.command("add")
@click.option("--kind", required=True, type=click.Choice([k.value for k in CareKind]))
@click.option("--unit", required=True, type=click.Choice([u.value for u in CareUnit]))
@click.option("--plan", "plan_id", type=int, help="Care plan it belongs to.")
@click.option("--year", type=int, help="Year (default: the plan's or the date's).")
@click.option("--planned", "planned_volume", help="Planned volume, in --unit.")
@click.option("--planned-on", type=DAY)
@click.option("--planned-cost", help="Planned cost, KZT.")
@click.option("--done", "done_volume", help="Done volume, in --unit.")
@click.option("--done-on", type=DAY)
@click.option("--done-cost", help="Actual cost, KZT.")
@click.option("--plant", "plant_id", type=int, help="Plant the work is on.")
@click.option("--green-space", "green_space_id", type=int, help="Green space the work is on.")
@click.option("--wkt", "area", help="Area of the work as WKT (EPSG:4326).")
@click.option("--performer", default="")
@AS_USER
def care_add(
    kind,
    unit,
    plan_id,
    year,
    planned_volume,
    planned_on,
    planned_cost,
    done_volume,
    done_on,
    done_cost,
    plant_id,
    green_space_id,
    area,
    performer,
    as_user,
) -> None:
    """Add a planned or done care work on a plant, a green space or an area."""
    with unit_of_work() as session:
        work = care.add_care_work(
            session,
            acting(session, as_user),
            kind,
            unit,
            plan_id,
            year,
            planned_volume,
            _day(planned_on),
            planned_cost,
            done_volume,
            _day(done_on),
            done_cost,
            plant_id,
            green_space_id,
            _shape(area),
            performer,
        )
        click.echo(f"Added care work {work.id} ({kind}, version {work.version}).")


@care_group.command("done")
@click.argument("work_id", type=int)
@click.option("--version", "expected", required=True, type=int, help="The version you read.")
@click.option("--volume", required=True, help="Done volume, in the work's unit.")
@click.option("--on", "done_on", required=True, type=DAY)
@click.option("--cost", help="Actual cost, KZT.")
@AS_USER
def care_done(work_id, expected, volume, done_on, cost, as_user) -> None:
    """Record the done side of a planned care work."""
    with unit_of_work() as session:
        work = care.record_care_done(
            session, acting(session, as_user), work_id, expected, volume, _day(done_on), cost
        )
        click.echo(f"Care work {work.id} done: {work.done_volume:f} {work.unit.value}.")


@care_group.command("summary")
@REGION
@click.option("--year", type=int)
@FORMAT
@AS_USER
def care_summary(region, year, fmt, as_user) -> None:
    """Planned vs done volume and cost per kind of work."""
    with unit_of_work() as session:
        rows = care.care_summary(session, acting(session, as_user), region, year)
        emit(
            rows,
            fmt,
            ["kind", "unit", "works", "planned_volume", "done_volume", "planned_cost", "done_cost"],
        )


# -- felling --------------------------------------------------------------------------------------
@click.group("felling")
def felling_group() -> None:
    """Felling permits, compensation ratios and compensatory-planting obligations."""


@felling_group.command("record")
@click.option("--number", required=True, help="Permit (or act of illegal felling) number.")
@click.option(
    "--plant",
    "plant_ids",
    required=True,
    multiple=True,
    type=int,
    help="Inventory plant id felled (repeat).",
)
@click.option("--reason", required=True, type=click.Choice([r.value for r in FellingReason]))
@click.option("--on", "felled_on", required=True, type=DAY, help="Felling date.")
@click.option("--illegal", is_flag=True, help="Felled without a permit.")
@click.option(
    "--protection",
    type=click.Choice([p.value for p in Protection]),
    default="none",
    show_default=True,
)
@click.option("--due", "due_on", type=DAY, help="Compensatory planting due (default: a year).")
@click.option("--holder", default="", help="Permit holder.")
@AS_USER
def felling_record(
    number, plant_ids, reason, felled_on, illegal, protection, due_on, holder, as_user
) -> None:
    """Record a felling; the plants are marked removed and the obligation fixed."""
    with unit_of_work() as session:
        permit = felling.record_felling(
            session,
            acting(session, as_user),
            number,
            list(plant_ids),
            reason,
            _day(felled_on),
            not illegal,
            protection,
            _day(due_on),
            holder,
        )
        click.echo(
            f"Recorded felling {permit.id} ({permit.case.value}): {permit.trees} tree(s) × "
            f"{permit.ratio} = {permit.owed} to plant by {permit.due_on:%Y-%m-%d}."
        )


@felling_group.command("ratios")
@REGION
@click.option(
    "--case",
    type=click.Choice([c.value for c in CompensationCase]),
    help="Set this case's ratio (with --ratio).",
)
@click.option("--ratio", type=int, help="Saplings per felled tree.")
@AS_USER
def felling_ratios(region, case, ratio, as_user) -> None:
    """Show a region's compensation ratios, or set one (ministry)."""
    with unit_of_work() as session:
        if case or ratio is not None:
            if not (case and ratio is not None):
                raise click.UsageError("--case and --ratio go together")
            felling.set_ratio(session, acting(session, as_user), region, case, ratio)
        for name, value in felling.ratios(session, region).items():
            click.echo(f"{name:18} {value['ratio']:>4}×  ({value['source']})")


@felling_group.command("obligations")
@click.option("--region", help="One region (default: the whole country, for the ministry).")
@click.option("--year", type=int, help="Year of felling.")
@click.option("--status", type=click.Choice(["open", "overdue", "fulfilled"]))
@FORMAT
@AS_USER
def felling_obligations(region, year, status, fmt, as_user) -> None:
    """Compensatory-planting obligations: owed, planted, surviving, status."""
    with unit_of_work() as session:
        rows = felling.obligations(session, acting(session, as_user), region, year, status)
        emit(
            rows,
            fmt,
            [
                "region",
                "number",
                "case",
                "felled_on",
                "due_on",
                "owed",
                "planted",
                "replanted",
                "surviving",
                "outstanding",
                "status",
            ],
        )


commands = [planting_group, care_group, felling_group]
