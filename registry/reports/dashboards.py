"""The ministry's national aggregates and a region's view on the dashboard.

Read from the tallies the writing transactions keep (planting, care, inventory), so a national
figure is a sum over a few thousand rows, never a scan of the plants.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg.rows import dict_row
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from registry.access import (
    Actor,
    require_national_read,
)
from registry.care.services import care_rows
from registry.errors import InvalidValue
from registry.felling.services import obligation_rows
from registry.nursery.provenance import survival_by_seed_origin
from registry.planting import rules
from registry.planting.services import tally_rows
from registry.regions.models import Region
from registry.reports.content import inventory_section, planned_rows, readable_region
from registry.reports.models import CareTally, RegionReport

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
