"""Projected benefits of a planting plan's trees after 10, 20 and 30 years.

Each line's trees start at a planted sapling's stem diameter (``planting_stock_dbh_cm``,
ГОСТ 24909-81), grow by their species' growth class at full health, and survive at the rate the
registry itself measured for that species in the plan's region (after the 3rd season; no later
losses are modelled). A line without a measured survival rate, a species without a method or a
form without per-tree diameters (hedge, massif, not in pieces) gets no projection and is
counted: nothing is assumed.

Shown by ``jasyl planting show``, the plan's page, ``GET /api/v1/planting/plans/{id}`` and the
yearly report's section on the year's approved plans (``plans_projections``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.access import Actor
from registry.benefits import rules
from registry.benefits.services import constants, species_method
from registry.planting.models import PlanStatus, PlantingPlan
from registry.planting.services import get_plan, plan_lines, tally_rows

HORIZONS = (10, 20, 30)
FIGURES = ("trees", "co2_stored_t", "co2_sequestered_t_per_year")


def plan_projection(session: Session, actor: Actor, plan_id: int) -> dict[str, Any]:
    """The plan's surviving trees, CO₂ stored (t) and sequestered (t/yr) at each horizon."""
    plan = get_plan(session, actor, plan_id)  # access decided there
    return project(session, plan, survival_rates(session, plan.region_id))


def survival_rates(session: Session, region_id: int) -> dict[int, float]:
    """Each species' measured 3rd-season survival (%) in the region; unmeasured ones absent."""
    return {
        row["species"]: row["rate_3"]
        for row in tally_rows(session, ("species",), region_id)
        if row["rate_3"] is not None
    }


def project(session: Session, plan: PlantingPlan, survival: dict[int, float]) -> dict[str, Any]:
    """``plan``'s projection (no access check: the callers have made it for the plan)."""
    k = constants(session)
    totals = {n: {"years": n, "trees": 0.0, "co2_stored_t": 0.0, "co2_sequestered_t_per_year": 0.0}
              for n in HORIZONS}  # fmt: skip
    counted = {"lines_without_method": 0, "lines_without_survival_rate": 0}
    for line in plan_lines(session, plan.id):
        method = species_method(session, line.species_id)
        form = line.planting_form.value
        if method is None or line.unit.value != "pieces" or form not in rules.FORMS_WITH_METHOD:
            counted["lines_without_method"] += 1
            continue
        if line.species_id not in survival:
            counted["lines_without_survival_rate"] += 1
            continue
        surviving = float(line.quantity) * survival[line.species_id] / 100
        for n in HORIZONS:
            tree = _tree_after(method, n, k)
            totals[n]["trees"] += surviving
            totals[n]["co2_stored_t"] += tree.co2_stored_kg * surviving / 1000
            totals[n]["co2_sequestered_t_per_year"] += tree.co2_sequestered_kg * surviving / 1000
    horizons = [
        {key: round(value, 3) if isinstance(value, float) else value for key, value in t.items()}
        for t in totals.values()
    ]
    return {"plan": plan.id, "horizons": horizons, **counted, "estimate": True}


def plans_projections(session: Session, region_id: int, year: int) -> list[dict[str, Any]]:
    """The yearly report's rows: each approved plan of the region for ``year``, one row with
    its figures at every horizon (``trees_10y``, ``co2_stored_t_20y``…), so a workbook's
    ``=SUM`` of a column is the region's total at that horizon. The report's reader has
    already been checked for the region."""
    plans = session.scalars(
        select(PlantingPlan)
        .where(
            PlantingPlan.region_id == region_id,
            PlantingPlan.year == year,
            PlantingPlan.status == PlanStatus.APPROVED,
        )
        .order_by(PlantingPlan.id)
    ).all()
    survival = survival_rates(session, region_id) if plans else {}
    rows = []
    for plan in plans:
        found = project(session, plan, survival)
        row: dict[str, Any] = {"plan": plan.id, "title": plan.title, "season": plan.season.value}
        for horizon in found["horizons"]:
            row |= {f"{key}_{horizon['years']}y": horizon[key] for key in FIGURES}
        row["lines_without_method"] = found["lines_without_method"]
        row["lines_without_survival_rate"] = found["lines_without_survival_rate"]
        rows.append(row)
    return rows


def _tree_after(method: rules.SpeciesMethod, years: int, k: dict[str, float]) -> rules.TreeBenefit:
    """One healthy tree of the species ``years`` after planting (diameter only: no height)."""
    dbh = k["planting_stock_dbh_cm"] + years * rules.growth_cm(method, 1, k)
    inputs = rules.TreeInputs("alive", "solitary", 1, dbh, None, None, 1)
    return rules.tree_benefit(method, inputs, k, None)
