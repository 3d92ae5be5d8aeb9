"""The yearly report of a region, its workflow, and the ministry's national aggregates.

A report is generated from the registry, never typed: planting by species and form (planned vs
planted, replanting apart), survival of the recent cohorts, care works planned vs done, felling
and compensation, and the inventory by condition. Workflow: the akimat (a forester of the
region) builds a draft and submits it; the ministry approves it or returns it with a comment.
From submission on, the edition's ``content`` is a snapshot nothing rewrites; a correction is a
new edition.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from psycopg.rows import dict_row
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from registry.access import (
    Actor,
    require_ministry,
    require_national_read,
    require_region_read,
    require_region_write,
)
from registry.accounts.models import User
from registry.audit.services import record_changes, record_creation
from registry.care.services import care_rows
from registry.errors import InvalidValue, NotFound
from registry.felling.services import obligation_rows
from registry.inventory.models import GreenSpace, PlantStatus
from registry.nursery.provenance import survival_by_seed_origin
from registry.planting import rules
from registry.planting.models import PlanStatus, PlantingEvent, PlantingPlan, PlantingPlanLine
from registry.planting.services import tally_rows
from registry.regions.models import Region
from registry.regions.services import resolve_region
from registry.reports.models import CareTally, InventoryTally, RegionReport, ReportStatus
from registry.species.models import Species

SURVIVAL_COHORTS = 4  # the report year and the three before: 1st- and 3rd-season checks fall in it
Progress = Callable[[str], None]


def _species_names(session: Session) -> dict[int, dict[str, str]]:
    return {
        s.id: {
            "species": s.code,
            "latin": s.latin,
            "name_ru": s.name_ru,
            "name_kk": s.name_kk,
            "name_en": s.name_en,
        }
        for s in session.scalars(select(Species))
    }


def planned_rows(
    session: Session,
    region_id: int | None,
    year: int | None,
    by_region: bool = False,
    by_year: bool = False,
) -> list[dict[str, Any]]:
    """Quantities of approved plans' lines per species, form and unit (and region, year)."""
    line, plan = PlantingPlanLine, PlantingPlan
    keys = [line.species_id, line.planting_form, line.unit]
    if by_region:
        keys.insert(0, plan.region_id)
    if by_year:
        keys.insert(0, plan.year)
    query = (
        select(*keys, func.sum(line.quantity).label("planned"))
        .join(plan, plan.id == line.plan_id)
        .where(plan.status == PlanStatus.APPROVED)
        .group_by(*keys)
    )
    if region_id is not None:
        query = query.where(plan.region_id == region_id)
    if year is not None:
        query = query.where(plan.year == year)
    return [dict(row) for row in session.execute(query).mappings()]


def planting_section(session: Session, region_id: int, year: int, names: dict) -> list[dict]:
    rows: dict[tuple, dict[str, Any]] = {}
    for item in tally_rows(session, ("species", "form", "unit"), region_id, year):
        rows[(item["species"], item["form"], item["unit"])] = {
            "planned": 0.0,
            "planted": item["planted"],
            "replanted": item["replanted"],
            "compensatory": item["compensatory"],
            "events": item["events"],
        }
    for item in planned_rows(session, region_id, year):
        key = (item["species_id"], item["planting_form"].value, item["unit"].value)
        rows.setdefault(
            key,
            {"planned": 0.0, "planted": 0.0, "replanted": 0.0, "compensatory": 0.0, "events": 0},
        )["planned"] = float(item["planned"])
    return [
        {
            **names[species],
            "planting_form": form,
            "unit": unit,
            **values,
            "done_pct": rules.rate(values["planted"], values["planned"]),
        }
        for (species, form, unit), values in sorted(
            rows.items(), key=lambda kv: (names[kv[0][0]]["latin"], kv[0][1], kv[0][2])
        )
    ]


def survival_section(session: Session, region_id: int, year: int, names: dict) -> list[dict]:
    rows = []
    for cohort in range(year - SURVIVAL_COHORTS + 1, year + 1):
        for item in tally_rows(session, ("year", "species", "unit"), region_id, cohort):
            if item["planted"] or item["checked_1"] or item["checked_3"]:
                rows.append(
                    {
                        "planting_year": cohort,
                        **names[item["species"]],
                        "unit": item["unit"],
                        **{
                            k: item[k]
                            for k in (
                                "planted",
                                "replanted",
                                "checked_1",
                                "alive_1",
                                "rate_1",
                                "checked_3",
                                "alive_3",
                                "rate_3",
                            )
                        },
                    }
                )
    return rows


def felling_section(session: Session, region_id: int, year: int, today: date) -> dict[str, Any]:
    rows = obligation_rows(session, region_id, None, today)
    of_year = [r for r in rows if r["felled_on"].year == year]
    return {
        "permits": len(of_year),
        "trees_felled": sum(r["trees"] for r in of_year),
        "owed": sum(r["owed"] for r in of_year),
        "by_case": {
            case: sum(r["trees"] for r in of_year if r["case"] == case)
            for case in sorted({r["case"] for r in of_year})
        },
        "obligations": [
            {
                k: (v.isoformat() if isinstance(v, date) else v)
                for k, v in r.items()
                if k not in ("region_id",)
            }
            for r in rows
            if r["felled_on"].year == year or r["status"] != "fulfilled"
        ],
        "overdue": sum(1 for r in rows if r["status"] == "overdue"),
        "outstanding": sum(r["outstanding"] for r in rows),
    }


def green_space_section(session: Session, region_id: int, year: int) -> list[dict[str, Any]]:
    """Where the year's planting went: the drill-down from a region to its green spaces."""
    e = PlantingEvent
    query = (
        select(GreenSpace.id, GreenSpace.name, e.unit, func.count(), func.sum(e.quantity))
        .join(e, e.green_space_id == GreenSpace.id)
        .where(e.region_id == region_id, e.year == year)
        .group_by(GreenSpace.id, GreenSpace.name, e.unit)
        .order_by(func.sum(e.quantity).desc(), GreenSpace.id)
    )
    return [
        {
            "green_space_id": gid,
            "name": name,
            "unit": unit.value,
            "events": n,
            "quantity": float(quantity),
        }
        for gid, name, unit, n, quantity in session.execute(query)
    ]


NOT_ASSESSED = "not_assessed"  # the key of unassessed plants among a report's condition grades


def inventory_section(session: Session, region_id: int) -> dict[str, Any]:
    """Plants by condition (alive) and by status, from ``inventory_tallies`` (kept current by
    the database with every write to ``plants``): a few hundred rows, not the whole region."""
    t = InventoryTally
    by_condition = session.execute(
        select(t.condition, func.sum(t.quantity))
        .where(t.region_id == region_id, t.status == PlantStatus.ALIVE)
        .group_by(t.condition)
        .having(func.sum(t.plants) > 0)
    ).all()
    by_status = session.execute(
        select(t.status, func.sum(t.quantity))
        .where(t.region_id == region_id)
        .group_by(t.status)
        .having(func.sum(t.plants) > 0)
    ).all()
    graded = sorted((c, n) for c, n in by_condition if c is not None)
    unassessed = [n for c, n in by_condition if c is None]
    return {
        # Grades "1"–"6", then the plants whose condition no one assessed: apart, never as I.
        "alive_by_condition": {str(c): int(n) for c, n in graded}
        | ({NOT_ASSESSED: int(unassessed[0])} if unassessed else {}),
        "by_status": {s.value: int(n) for s, n in sorted(by_status, key=lambda r: r[0].value)},
        "alive": int(sum(n for _, n in by_condition)),
    }


def build_content(
    session: Session, region: Region, year: int, progress: Progress | None = None
) -> dict[str, Any]:
    """The whole report of ``region`` for ``year`` as plain JSON, from the registry."""
    step = progress or (lambda _: None)
    names = _species_names(session)
    today = date.today()
    step("planting")
    planting = planting_section(session, region.id, year, names)
    step("survival")
    survival = survival_section(session, region.id, year, names)
    step("seed origins")
    seed_origins = survival_by_seed_origin(session, region.id)
    step("care")
    care = care_rows(session, region.id, year)
    step("felling")
    felling = felling_section(session, region.id, year, today)
    step("inventory")
    inventory = inventory_section(session, region.id)
    green_spaces = green_space_section(session, region.id, year)
    totals = {
        key: sum(r[key] for r in planting if r["unit"] == "pieces")
        for key in ("planned", "planted", "replanted", "compensatory")
    }
    return {
        "region": {
            "iso": region.iso_code,
            "kato": region.kato,
            "name_en": region.name_en,
            "name_ru": region.name_ru,
            "name_kk": region.name_kk,
        },
        "year": year,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "planting": planting,
        "planting_totals_pieces": totals,
        "survival": survival,
        "seed_origins": seed_origins,  # all the region's plantings traced to a nursery batch
        "care": care,
        "felling": felling,
        "inventory": inventory,
        "green_spaces": green_spaces,
    }


def readable_region(session: Session, actor: Actor, region: str | int) -> Region:
    """The region, once ``actor`` may read its figures."""
    found = resolve_region(session, region)
    require_region_read(session, actor, found.id, "report")
    return found


# -- workflow -------------------------------------------------------------------------------------
def _editions(
    session: Session, region_id: int, year: int, lock: bool = False
) -> list[RegionReport]:
    query = (
        select(RegionReport)
        .where(RegionReport.region_id == region_id, RegionReport.year == year)
        .order_by(RegionReport.edition.desc())
    )
    if lock:
        query = query.with_for_update()
    return list(session.scalars(query))


def _latest(session: Session, region_id: int, year: int, lock: bool = True) -> RegionReport:
    editions = _editions(session, region_id, year, lock)
    if not editions:
        raise NotFound(f"no report for region {region_id} and {year}; build one first")
    return editions[0]


def _change_status(
    session: Session, actor: Actor, report: RegionReport, new: ReportStatus, **fields: Any
) -> RegionReport:
    old = report.status
    report.status = new
    for field, value in fields.items():
        setattr(report, field, value)
    session.flush()
    record_changes(
        session,
        actor,
        "region_report",
        report.id,
        report.region_id,
        {
            "status": (old.value, new.value),
            **({"comment": ("", fields["review_comment"])} if fields.get("review_comment") else {}),
        },
    )
    return report


def build_report(
    session: Session, actor: Actor, region: str | int, year: Any, progress: Progress | None = None
) -> RegionReport:
    """Build (or rebuild) the draft; after a submission, a new edition."""
    found = resolve_region(session, region)
    require_region_write(session, actor, found.id, "build", "report")
    chosen_year = rules.check_year(year)
    editions = _editions(session, found.id, chosen_year, lock=True)
    latest = editions[0] if editions else None
    if latest is not None and latest.status is ReportStatus.SUBMITTED:
        raise InvalidValue(
            "status",
            f"edition {latest.edition} awaits the ministry's review; it must be approved or "
            "returned before a new edition",
            latest.status.value,
        )
    content = build_content(session, found, chosen_year, progress)
    if latest is not None and latest.status is ReportStatus.DRAFT:
        latest.content, latest.built_at, latest.built_by = content, func.now(), actor.user_id
        session.flush()
        return latest
    report = RegionReport(
        region_id=found.id,
        year=chosen_year,
        edition=(latest.edition + 1) if latest else 1,
        status=ReportStatus.DRAFT,
        content=content,
        built_by=actor.user_id,
        review_comment="",
    )
    session.add(report)
    session.flush()
    record_creation(
        session,
        actor,
        "region_report",
        report.id,
        found.id,
        {"year": chosen_year, "edition": report.edition},
    )
    return report


def submit_report(
    session: Session, actor: Actor, region: str | int, year: Any, progress: Progress | None = None
) -> RegionReport:
    """The akimat submits its draft; the content is regenerated now and locked from here on."""
    found = resolve_region(session, region)
    require_region_write(session, actor, found.id, "submit", "report")
    report = _latest(session, found.id, rules.check_year(year))
    if report.status is not ReportStatus.DRAFT:
        raise InvalidValue(
            "status",
            f"only a draft can be submitted; edition {report.edition} is "
            f"{report.status.value} (build a new edition first)",
            report.status.value,
        )
    report.content = build_content(session, found, report.year, progress)
    return _change_status(
        session,
        actor,
        report,
        ReportStatus.SUBMITTED,
        submitted_at=func.now(),
        submitted_by=actor.user_id,
    )


def _review(
    session: Session, actor: Actor, region: str | int, year: Any, action: str
) -> RegionReport:
    found = resolve_region(session, region)
    require_ministry(session, actor, action, "report", region_id=found.id)
    report = _latest(session, found.id, rules.check_year(year))
    if report.status is not ReportStatus.SUBMITTED:
        raise InvalidValue(
            "status",
            f"only a submitted report can be reviewed; edition {report.edition} is "
            f"{report.status.value}",
            report.status.value,
        )
    return report


def approve_report(session: Session, actor: Actor, region: str | int, year: Any) -> RegionReport:
    report = _review(session, actor, region, year, "approve")
    return _change_status(
        session,
        actor,
        report,
        ReportStatus.APPROVED,
        reviewed_at=func.now(),
        reviewed_by=actor.user_id,
    )


def return_report(
    session: Session, actor: Actor, region: str | int, year: Any, comment: str
) -> RegionReport:
    """Back to the akimat with the ministry's reason; the akimat builds a new edition."""
    report = _review(session, actor, region, year, "return")
    if not (comment or "").strip():
        raise InvalidValue("comment", "say why the report is returned")
    return _change_status(
        session,
        actor,
        report,
        ReportStatus.RETURNED,
        reviewed_at=func.now(),
        reviewed_by=actor.user_id,
        review_comment=comment.strip(),
    )


def get_report(
    session: Session, actor: Actor, region: str | int, year: Any, edition: int | None = None
) -> RegionReport:
    found = resolve_region(session, region)
    require_region_read(session, actor, found.id, "report")
    editions = _editions(session, found.id, rules.check_year(year))
    for report in editions:
        if edition is None or report.edition == edition:
            return report
    which = f"edition {edition} of " if edition else ""
    raise NotFound(f"no {which}report for {found.iso_code} and {year}")


def describe(report: RegionReport) -> dict[str, Any]:
    """The report's envelope and content as JSON."""

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if isinstance(value, datetime) else None

    return {
        "id": report.id,
        "year": report.year,
        "edition": report.edition,
        "status": report.status.value,
        "built_at": when(report.built_at),
        "submitted_at": when(report.submitted_at),
        "reviewed_at": when(report.reviewed_at),
        "review_comment": report.review_comment,
        "content": report.content,
    }


def report_people(session: Session, report: RegionReport) -> dict[str, dict[str, Any]]:
    """Who built, submitted and reviewed an edition, and when: the signatures of its PDF."""
    steps = {
        "built": (report.built_by, report.built_at),
        "submitted": (report.submitted_by, report.submitted_at),
        "reviewed": (report.reviewed_by, report.reviewed_at),
    }
    ids = {user for user, _ in steps.values() if user is not None}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    people = {}
    for step, (user_id, at) in steps.items():
        if at is None:
            continue
        user = users.get(user_id)
        name = (user.full_name or user.email) if user else None
        people[step] = {"name": name, "at": at.isoformat(timespec="minutes")}
    return people


# -- national -------------------------------------------------------------------------------------
NATIONAL_KEYS = {
    # group name: (tally column, plan column, label column once joined)
    "region": ("t.region_id", "p.region_id", "r.iso_code"),
    "year": ("t.year", "p.year", "year"),
    "species": ("t.species_id", "l.species_id", "s.code"),
    "form": ("t.planting_form::text", "l.planting_form::text", "form"),
    "unit": ("t.unit::text", "l.unit::text", "unit"),
}
FIGURES = ("planted", "replanted", "compensatory", "checked_1", "alive_1", "checked_3", "alive_3")
VALUES = (*FIGURES, "planned")
# Survival in per cent, one decimal, as ``planting.rules.rate`` computes it.
RATES = ", ".join(
    f"round(100.0 * alive_{n} / nullif(checked_{n}, 0), 1)::float8 AS rate_{n}" for n in (1, 3)
)
# Quantities have one decimal: summed as whole tenths (exact, and far cheaper than numeric sums
# of thousands of groups), then returned as float8.
TENTHS = "sum(({column} * 10)::bigint)"


def national_sql(group_by: tuple[str, ...]) -> str:
    """One statement: tallies and approved plan lines summed by the groups, fully joined.

    A full join keeps groups that were planned but not planted (and planted without a plan).
    Only names from ``NATIONAL_KEYS`` (checked by the caller) are put into the text; the year is
    a bound parameter (psycopg's ``%(year)s``: the statement runs on the driver's cursor).
    """
    tally_keys = [f"{NATIONAL_KEYS[g][0]} AS {g}" for g in group_by]
    plan_keys = [f"{NATIONAL_KEYS[g][1]} AS {g}" for g in group_by]
    sums = ", ".join(f"{TENTHS.format(column='t.' + f)} AS {f}" for f in FIGURES)
    year_filter = " AND (CAST(%(year)s AS integer) IS NULL OR {alias}.year = %(year)s)"
    join = f"FULL JOIN plan USING ({', '.join(group_by)})" if group_by else "CROSS JOIN plan"
    labels = [f"{NATIONAL_KEYS[g][2]} AS {g}" for g in group_by]
    order = ", ".join(f"x.{g}" for g in group_by) or "true"
    return f"""
        WITH tally AS (
            SELECT {", ".join([*tally_keys, "sum(t.events) AS events", sums])}
            FROM planting_tallies t WHERE true{year_filter.format(alias="t")}
            {"GROUP BY " + ", ".join(str(i + 1) for i in range(len(group_by))) if group_by else ""}
        ), plan AS (
            SELECT {", ".join([*plan_keys, TENTHS.format(column="l.quantity") + " AS planned"])}
            FROM planting_plan_lines l JOIN planting_plans p ON p.id = l.plan_id
            WHERE p.status = 'approved'{year_filter.format(alias="p")}
            {"GROUP BY " + ", ".join(str(i + 1) for i in range(len(group_by))) if group_by else ""}
        ), joined AS (SELECT * FROM tally {join})
        SELECT * FROM (
            SELECT {", ".join([*labels, "coalesce(events, 0)::int AS events"])},
                   {", ".join(f"coalesce({f}, 0)::float8 / 10 AS {f}" for f in VALUES)},
                   {RATES}
            FROM joined
            {"LEFT JOIN regions r ON r.id = joined.region" if "region" in group_by else ""}
            {"LEFT JOIN species s ON s.id = joined.species" if "species" in group_by else ""}
        ) x ORDER BY {order}
    """  # noqa: S608 (identifiers from NATIONAL_KEYS only)


def national_planting(
    session: Session,
    actor: Actor,
    year: int | None = None,
    group_by: tuple[str, ...] = ("region", "year", "species"),
) -> list[dict[str, Any]]:
    """Planned vs planted, replanting and survival over the country, from the tallies."""
    require_national_read(session, actor, "planting figures")
    unknown = set(group_by) - set(NATIONAL_KEYS)
    if unknown or len(set(group_by)) != len(group_by):
        raise InvalidValue(
            "group_by", "may name region, year, species, form, unit once each", sorted(unknown)
        )
    # Thousands of rows of plain ints and float8s in the binary protocol, straight into dicts:
    # several times cheaper than building JSON in the database or numerics through the ORM.
    session.flush()
    driver = session.connection().connection.driver_connection
    with driver.cursor(binary=True, row_factory=dict_row) as cursor:
        cursor.execute(national_sql(tuple(group_by)), {"year": year})
        return cursor.fetchall()


def list_reports(session: Session, actor: Actor, year: int | None = None) -> list[dict[str, Any]]:
    """Each region's latest edition and its status: the ministry's inbox."""
    require_national_read(session, actor, "reports")
    query = select(RegionReport, Region.iso_code).join(Region, Region.id == RegionReport.region_id)
    if year is not None:
        query = query.where(RegionReport.year == year)
    latest: dict[tuple[int, int], dict[str, Any]] = {}
    for report, iso in session.execute(query.order_by(RegionReport.edition)):
        latest[(report.region_id, report.year)] = {
            "region": iso,
            "year": report.year,
            "edition": report.edition,
            "status": report.status.value,
        }
    return sorted(latest.values(), key=lambda r: (r["year"], r["region"]))


def national_dashboard(session: Session, actor: Actor, year: int) -> dict[str, Any]:
    """The ministry's dashboard: every region's figures for ``year``, the national trend, species.

    Planting and survival come from ``planting_tallies``, care from ``care_tallies`` (both kept
    current by triggers in the writing transaction); obligations from the permits. All 20
    regions appear, zero-filled, so the map has no holes.
    """
    require_national_read(session, actor, "dashboard")
    by_region = {r["region"]: r for r in national_planting(session, actor, year, ("region",))}
    care = dict(
        session.execute(
            select(Region.iso_code, func.sum(CareTally.done_cost))
            .join(CareTally, CareTally.region_id == Region.id)
            .where(CareTally.year == year)
            .group_by(Region.iso_code)
        ).all()
    )
    overdue: dict[str, int] = {}
    for row in obligation_rows(session, None, None, date.today()):
        if row["status"] == "overdue":
            overdue[row["region"]] = overdue.get(row["region"], 0) + 1
    regions = []
    names = select(Region.iso_code, Region.name_en, Region.name_ru, Region.name_kk)
    for region in session.execute(names.order_by(Region.id)):
        figures = by_region.get(region.iso_code, {})
        regions.append(
            {
                "region": region.iso_code,
                "name_en": region.name_en,
                "name_ru": region.name_ru,
                "name_kk": region.name_kk,
                **{
                    k: figures.get(k, 0.0)
                    for k in ("planned", "planted", "replanted", "compensatory")
                },
                "rate_1": figures.get("rate_1"),
                "rate_3": figures.get("rate_3"),
                "care_cost": float(care.get(region.iso_code, 0)),
                "overdue_obligations": overdue.get(region.iso_code, 0),
            }
        )
    trend = national_planting(session, actor, None, ("year",))
    species = sorted(
        national_planting(session, actor, year, ("species",)),
        key=lambda r: -r["planted"],
    )[:10]
    totals = {
        k: sum(r[k] for r in regions)
        for k in ("planned", "planted", "replanted", "care_cost", "overdue_obligations")
    }
    return {"year": year, "regions": regions, "trend": trend, "species": species, "totals": totals}


# -- a region's view on the dashboard ---------------------------------------------------------
GREEN_SPACE_FIGURES = text(
    """
    WITH planting AS (
        SELECT e.green_space_id AS id, count(*) AS events,
               sum(e.quantity) FILTER (WHERE e.replaces_event_id IS NULL) AS planted,
               sum(e.quantity) FILTER (WHERE e.replaces_event_id IS NOT NULL) AS replanted,
               sum(e.quantity) FILTER (WHERE c.alive IS NOT NULL) AS checked_1,
               sum(c.alive) AS alive_1
        FROM planting_events e
        LEFT JOIN survival_checks c ON c.event_id = e.id AND c.season = 1
        WHERE e.region_id = :region AND e.year = :year AND e.green_space_id IS NOT NULL
          AND e.unit = 'pieces'
        GROUP BY 1
    ), care AS (
        SELECT coalesce(w.green_space_id, p.green_space_id) AS id, count(*) AS care_works,
               count(w.done_volume) AS care_done, sum(w.done_cost) AS care_cost
        FROM care_works w LEFT JOIN plants p ON p.id = w.plant_id
        WHERE w.region_id = :region AND w.year = :year
        GROUP BY 1
    )
    SELECT g.id, g.name, g.kind, round(g.area_m2::numeric, 0)::float8 AS area_m2,
           coalesce(planting.events, 0) AS events,
           coalesce(planting.planted, 0)::float8 AS planted,
           coalesce(planting.replanted, 0)::float8 AS replanted,
           round(100 * planting.alive_1 / nullif(planting.checked_1, 0), 1)::float8 AS rate_1,
           coalesce(care.care_works, 0) AS care_works,
           coalesce(care.care_done, 0) AS care_done,
           coalesce(care.care_cost, 0)::float8 AS care_cost
    FROM green_spaces g
    LEFT JOIN planting ON planting.id = g.id
    LEFT JOIN care ON care.id = g.id
    WHERE g.region_id = :region
    ORDER BY coalesce(planting.planted, 0) + coalesce(care.care_works, 0) DESC, g.name, g.id
    LIMIT :limit
    """
)


def region_trend(session: Session, region_id: int) -> list[dict[str, Any]]:
    """Plan vs actual and survival per year (trees, in pieces) for one region, from tallies."""
    planned: dict[int, float] = {}
    for item in planned_rows(session, region_id, None, by_year=True):
        if item["unit"].value == "pieces":
            planned[item["year"]] = planned.get(item["year"], 0.0) + float(item["planned"])
    actual = {
        row["year"]: row
        for row in tally_rows(session, ("year", "unit"), region_id)
        if row["unit"] == "pieces"
    }
    trend = []
    for year in sorted(set(planned) | set(actual)):
        row = actual.get(year, {})
        trend.append(
            {
                "year": year,
                "planned": planned.get(year, 0.0),
                "planted": row.get("planted", 0.0),
                "replanted": row.get("replanted", 0.0),
                "done_pct": rules.rate(row.get("planted", 0.0), planned.get(year, 0.0)),
                "rate_1": row.get("rate_1"),
                "rate_3": row.get("rate_3"),
            }
        )
    return trend


def region_dashboard(
    session: Session, actor: Actor, region: str | int, year: int, limit: int = 200
) -> dict[str, Any]:
    """One region on the ministry's dashboard: its figures for ``year``, its trend per year, the
    survival of its plantings per seed provenance, and its green spaces with what was planted,
    survived and cared for in each (the drill down)."""
    found = readable_region(session, actor, region)
    trend = region_trend(session, found.id)
    this_year = next(
        (t for t in trend if t["year"] == year),
        {"planned": 0.0, "planted": 0.0, "replanted": 0.0, "rate_1": None, "rate_3": None},
    )
    care = care_rows(session, found.id, year)
    spaces = session.execute(
        GREEN_SPACE_FIGURES, {"region": found.id, "year": year, "limit": limit}
    ).mappings()
    return {
        "region": {
            "iso": found.iso_code,
            "name_en": found.name_en,
            "name_ru": found.name_ru,
            "name_kk": found.name_kk,
        },
        "year": year,
        "figures": {
            **{k: this_year[k] for k in ("planned", "planted", "replanted", "rate_1", "rate_3")},
            "care_works": sum(r["works"] for r in care),
            "care_done": sum(r["done_works"] for r in care),
            "care_planned_cost": sum(r["planned_cost"] for r in care),
            "care_cost": sum(r["done_cost"] for r in care),
        },
        "care": care,
        "inventory": inventory_section(session, found.id),
        "trend": trend,
        "seed_origins": survival_by_seed_origin(session, found.id),
        "green_spaces": [dict(row) for row in spaces],
    }
