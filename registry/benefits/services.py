"""Benefits of one plant (with how they were computed) and totals per region, green space and
country, from ``benefit_tallies`` (kept by the database, revision 0026) × the price in effect.

Money is never stored: a total's value is its stored physical quantity × the price the dated
price table holds for the report year, read at query time, so a new price moves every total.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from registry.access import Actor, require_national_read, require_region_read
from registry.benefits import rules
from registry.benefits.models import (
    BenefitConstant,
    BenefitEquation,
    BenefitPrice,
    RegionPrecipitation,
    SpeciesBenefitMethod,
)
from registry.errors import InvalidValue
from registry.inventory.models import Plant
from registry.regions.models import Region
from registry.regions.services import resolve_region

PRICE_BASES = ("kz_ets", "scc")
DEFAULT_BASIS = "kz_ets"
Progress = Callable[[str], None]


def constants(session: Session) -> dict[str, float]:
    return {c.name: c.value for c in session.scalars(select(BenefitConstant))}


def _equation(row: BenefitEquation | None) -> rules.Equation | None:
    if row is None:
        return None
    return rules.Equation(
        row.code, row.form, row.a, row.b, row.c, row.d, row.dbh_min_cm, row.dbh_max_cm,
        row.urban, row.roots, row.source,
    )  # fmt: skip


def species_method(session: Session, species_id: int | None) -> rules.SpeciesMethod | None:
    """The species' method, or None: a species without one (a shrub) gets no figures."""
    row = session.get(SpeciesBenefitMethod, species_id) if species_id is not None else None
    if row is None:
        return None
    return rules.SpeciesMethod(
        with_height=_equation(session.get(BenefitEquation, row.equation_dh))
        if row.equation_dh
        else None,
        diameter_only=_equation(session.get(BenefitEquation, row.equation_d)),
        density_kg_m3=row.density_kg_m3,
        growth_class=row.growth_class,
        leaf_area_a=row.leaf_area_a,
        leaf_area_b=row.leaf_area_b,
        fallback=row.fallback,
        source=row.source,
    )


def region_rain(session: Session, region_id: int) -> rules.Rain | None:
    row = session.get(RegionPrecipitation, region_id)
    return rules.Rain(row.annual_mm, row.rain_events_per_year) if row else None


def price(
    session: Session, region_id: int | None, item: str, basis: str | None, on: date
) -> BenefitPrice | None:
    """The price in effect on ``on``: the region's own before the national one, latest first."""
    return in_effect(prices(session, on), region_id, item, basis)


def prices(session: Session, on: date) -> list[BenefitPrice]:
    """Every price valid by ``on``, newest first: one query for a whole report."""
    query = select(BenefitPrice).where(BenefitPrice.valid_from <= on)
    return list(session.scalars(query.order_by(BenefitPrice.valid_from.desc())))


def in_effect(
    rows: list[BenefitPrice], region_id: int | None, item: str, basis: str | None
) -> BenefitPrice | None:
    """Of ``prices``' rows, the one in effect for the region (its own first, then national)."""
    fitting = [
        r
        for r in rows
        if r.item == item
        and (basis is None or r.basis == basis)
        and r.region_id in (region_id, None)
    ]
    own = [r for r in fitting if r.region_id is not None]
    return (own or fitting or [None])[0]


def check_basis(basis: str) -> str:
    if basis not in PRICE_BASES:
        raise InvalidValue("price_basis", f"must be one of {', '.join(PRICE_BASES)}", basis)
    return basis


def _price_json(row: BenefitPrice | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "kzt": float(row.kzt),
        "unit": row.unit,
        "basis": row.basis,
        "valid_from": row.valid_from.isoformat(),
        "source": row.source,
    }


def plant_benefits(
    session: Session, plant: Plant, on: date | None = None, basis: str = DEFAULT_BASIS
) -> dict[str, Any]:
    """One plant's figures, their value and how they were computed (the plant card, the API).

    The caller has already decided the actor may see the plant."""
    on = on or date.today()
    method = species_method(session, plant.species_id)
    tree = rules.TreeInputs(
        status=str(plant.status.value if hasattr(plant.status, "value") else plant.status),
        planting_form=str(getattr(plant.planting_form, "value", plant.planting_form)),
        quantity=plant.quantity,
        dbh_cm=_float(plant.trunk_diameter_cm),
        height_m=_float(plant.height_m),
        crown_diameter_m=_float(plant.crown_diameter_m),
        condition=plant.condition,
    )
    k = constants(session)
    result = rules.tree_benefit(method, tree, k, region_rain(session, plant.region_id))
    co2_price = price(session, plant.region_id, "co2", check_basis(basis), on)
    water_price = price(session, plant.region_id, "stormwater", None, on)
    return {
        "kind": result.kind,
        "estimate": True,
        "co2_stored_kg": result.co2_stored_kg,
        "co2_sequestered_kg_per_year": result.co2_sequestered_kg,
        "sequestration_note": result.sequestration_note,
        "rain_intercepted_m3_per_year": result.rain_m3,
        "rain_note": result.rain_note,
        "value_kzt_per_year": rules.value_kzt(
            result.co2_sequestered_kg,
            result.rain_m3,
            float(co2_price.kzt) if co2_price else None,
            float(water_price.kzt) if water_price else None,
        ),
        "co2_price": _price_json(co2_price),
        "stormwater_price": _price_json(water_price),
        "method": _how(method, result, tree, k),
    }


def _how(
    method: rules.SpeciesMethod | None,
    result: rules.TreeBenefit,
    tree: rules.TreeInputs,
    k: dict[str, float],
) -> dict[str, Any] | None:
    """Equation, source and inputs behind the figures, for "how computed"."""
    if method is None or result.equation is None:
        return None
    equation = result.equation
    return {
        "equation": equation.code,
        "form": equation.form,
        "source": equation.source,
        "fitted_dbh_cm": [equation.dbh_min_cm, equation.dbh_max_cm],
        "dbh_used_cm": result.dbh_used_cm,
        "outside_fitted_range": result.outside_range,
        "fallback": method.fallback,
        "wood_density_kg_m3": method.density_kg_m3,
        "growth_class": method.growth_class,
        "species_source": method.source,
        "leaf_area_method": result.leaf_area_method or None,
        "crown_height_assumed_m": round(tree.height_m * k["crown_height_share"], 2)
        if result.leaf_area_method == "crown" and tree.height_m is not None
        else None,
        "crown_height_share": k["crown_height_share"]
        if result.leaf_area_method == "crown"
        else None,
        "inputs": {
            "dbh_cm": tree.dbh_cm,
            "height_m": tree.height_m,
            "crown_diameter_m": tree.crown_diameter_m,
            "condition": tree.condition,
            "quantity": tree.quantity,
        },
    }


def _float(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


# -- totals -----------------------------------------------------------------------------------
TOTALS = """
    SELECT r.id AS region_id, r.iso_code AS region,
           sum(t.plants) AS plants, sum(t.trees) AS trees,
           sum(t.without_method) AS without_method, sum(t.without_dbh) AS without_dbh,
           sum(t.outside_range) AS outside_range, sum(t.not_assessed) AS not_assessed,
           sum(t.without_rain) AS without_rain, sum(t.co2_stored_kg) AS co2_stored_kg,
           sum(t.co2_sequestered_kg) AS co2_sequestered_kg, sum(t.rain_m3) AS rain_m3
    FROM benefit_tallies t JOIN regions r ON r.id = t.region_id
    WHERE {where}
    GROUP BY r.id, r.iso_code ORDER BY r.iso_code
"""


def _totals(session: Session, where: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        dict(row) for row in session.execute(text(TOTALS.format(where=where)), params).mappings()
    ]


def _with_value(row: dict[str, Any], valid: list[BenefitPrice], basis: str) -> dict[str, Any]:
    """A tally row in report units (t CO₂, m³), valued at the prices in ``valid``."""
    co2_price = in_effect(valid, row["region_id"], "co2", basis)
    water_price = in_effect(valid, row["region_id"], "stormwater", None)
    sequestered_kg = float(row["co2_sequestered_kg"] or 0)
    rain = float(row["rain_m3"] or 0)
    computed_rain = (row["trees"] or 0) > 0 and row["without_rain"] < _records_computed(row)
    return {
        "region": row["region"],
        "trees": int(row["trees"] or 0),
        "co2_stored_t": round(float(row["co2_stored_kg"] or 0) / 1000, 3),
        "co2_sequestered_t_per_year": round(sequestered_kg / 1000, 3),
        "rain_intercepted_m3_per_year": round(rain, 3) if computed_rain else None,
        "value_kzt_per_year": rules.value_kzt(
            sequestered_kg,
            rain if computed_rain else None,
            float(co2_price.kzt) if co2_price else None,
            float(water_price.kzt) if water_price else None,
        ),
        "price_basis": basis,
        "co2_price_kzt_per_t": float(co2_price.kzt) if co2_price else None,
        "co2_price_source": co2_price.source if co2_price else None,
        "stormwater_price_kzt_per_m3": float(water_price.kzt) if water_price else None,
        "plants_without_method": int(row["without_method"]),
        "plants_without_dbh": int(row["without_dbh"]),
        "plants_not_assessed": int(row["not_assessed"]),
        "plants_outside_fitted_range": int(row["outside_range"]),
        "plants_without_rain_figure": int(row["without_rain"]),
        "note": "estimates; trees only",
    }


def _records_computed(row: dict[str, Any]) -> int:
    """Plant records that got figures: all minus those without a method or a DBH."""
    return int(row["plants"]) - int(row["without_method"]) - int(row["without_dbh"])


def report(
    session: Session,
    actor: Actor,
    year: int,
    region: str | None = None,
    basis: str = DEFAULT_BASIS,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """One object per region: trees, CO₂ stored and sequestered, rain, value in the year's
    prices (in effect on 31 December of ``year``), and the plants without a figure, counted."""
    check_basis(basis)
    if region is None:
        require_national_read(session, actor, "benefits")
        rows = _totals(session, "true", {})
    else:
        found = resolve_region(session, region)
        require_region_read(session, actor, found.id, "benefits")
        rows = _totals(session, "t.region_id = :region", {"region": found.id})
    valid = prices(session, date(year, 12, 31))
    result = []
    for row in rows:
        if progress:
            progress(row["region"])
        result.append(_with_value(row, valid, basis))
    return result


def green_space_totals(
    session: Session, green_space_id: int, year: int, basis: str = DEFAULT_BASIS
) -> dict[str, Any] | None:
    """A green space's totals (the caller has decided the actor may see it)."""
    rows = _totals(session, "t.green_space_id = :gs", {"gs": green_space_id})
    return _with_value(rows[0], prices(session, date(year, 12, 31)), basis) if rows else None


def region_id_of(session: Session, iso_code: str) -> int:
    return session.scalars(select(Region.id).where(Region.iso_code == iso_code)).one()


def describe_method(session: Session, species_id: int) -> dict[str, Any] | None:
    """A species' method as the species page and ``jasyl species show`` print it; None: the
    species has no method (a shrub, saxaul), its plants are counted as such."""
    method = species_method(session, species_id)
    if method is None:
        return None

    def equation(found: rules.Equation | None) -> dict[str, Any] | None:
        if found is None:
            return None
        return {
            "code": found.code,
            "form": found.form,
            "coefficients": [x for x in (found.a, found.b, found.c, found.d) if x is not None],
            "fitted_dbh_cm": [found.dbh_min_cm, found.dbh_max_cm],
            "urban": found.urban,
            "source": found.source,
        }

    return {
        "equation_with_height": equation(method.with_height),
        "equation_diameter_only": equation(method.diameter_only),
        "wood_density_kg_m3": method.density_kg_m3,
        "growth_class": method.growth_class,
        "leaf_area": None
        if method.leaf_area_a is None
        else {"a": method.leaf_area_a, "b": method.leaf_area_b, "form": "LA = a + b·D (m²)"},
        "fallback": method.fallback,
        "source": method.source,
    }


GREEN_SPACE_TOTALS = text(
    """
    SELECT green_space_id, trees, co2_stored_kg, co2_sequestered_kg, without_method
    FROM benefit_tallies WHERE region_id = :region AND green_space_id IS NOT NULL
    """
)


def green_space_benefits(session: Session, actor: Actor, region_id: int) -> dict[int, dict]:
    """Each green space's trees and CO₂ (t) in one region, for the region page's drill down."""
    require_region_read(session, actor, region_id, "benefits")
    return {
        row.green_space_id: {
            "trees": int(row.trees),
            "co2_stored_t": round(float(row.co2_stored_kg) / 1000, 3),
            "co2_sequestered_t_per_year": round(float(row.co2_sequestered_kg) / 1000, 3),
            "plants_without_method": int(row.without_method),
        }
        for row in session.execute(GREEN_SPACE_TOTALS, {"region": region_id})
    }
