"""The benefit equations, pure: no database, no I/O.

The database function ``jasyl_plant_benefit`` (migration 0026) computes the same figures per
plant, and the tallies' triggers set-based (0028); ``tests/test_benefits.py`` checks the rules and
the function agree over every catalogue method, ``tests/test_benefit_tallies_set.py`` the
function and the tallies. Pipeline
(``../shared/guides/benefits.md``): AGB = f(D[, H]) → forest equations × 0.8 → total = AGB / 0.78
(UTD) or AGB × 1.26 (i-Tree) → C = 0.5 × total, at most 7,500 kg → CO₂ = C × 44/12.
Sequestered per year = CO₂(D + ΔD) − CO₂(D), ΔD by growth class × condition factor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CO2_PER_C = 44 / 12
# Planting forms whose plants are trees standing apart, each measured: a hedge or a massif has
# no per-tree diameter, so no equation applies to it.
FORMS_WITH_METHOD = ("solitary", "row", "group")
STATUSES_WITH_METHOD = ("alive", "dead")  # a dead standing tree still holds its carbon
# The map's classes of CO₂ stored per plant record (kg): under 100, 100–500 … 5,000 and more.
CO2_CLASS_BREAKS_KG = (100, 500, 1000, 2500, 5000)


@dataclass(frozen=True)
class Equation:
    code: str
    form: str
    a: float
    b: float
    c: float | None
    d: float | None
    dbh_min_cm: float | None
    dbh_max_cm: float | None
    urban: bool
    roots: str
    source: str


@dataclass(frozen=True)
class SpeciesMethod:
    with_height: Equation | None
    diameter_only: Equation
    density_kg_m3: float | None
    growth_class: str
    leaf_area_a: float | None
    leaf_area_b: float | None
    fallback: str
    source: str


@dataclass(frozen=True)
class Rain:
    annual_mm: float
    events_per_year: float | None


@dataclass(frozen=True)
class TreeInputs:
    status: str
    planting_form: str
    quantity: int
    dbh_cm: float | None
    height_m: float | None
    crown_diameter_m: float | None
    condition: int | None


@dataclass(frozen=True)
class TreeBenefit:
    """One plant record's figures (× its quantity). ``kind``: ``computed``, ``no_method`` or
    ``no_dbh``; a figure that could not be computed is None with the reason beside it."""

    kind: str
    equation: Equation | None = None
    dbh_used_cm: float | None = None
    outside_range: bool = False
    co2_stored_kg: float | None = None
    co2_sequestered_kg: float | None = None
    sequestration_note: str = ""
    rain_m3: float | None = None
    rain_note: str = ""
    leaf_area_method: str = ""  # "equation" (the species', of DBH), "crown" (Nowak 1996) or ""


def clamp(equation: Equation, dbh_cm: float) -> tuple[float, bool]:
    """DBH held inside the equation's fitted range, and whether it had to be."""
    low = equation.dbh_min_cm if equation.dbh_min_cm is not None else dbh_cm
    high = equation.dbh_max_cm if equation.dbh_max_cm is not None else dbh_cm
    used = min(max(dbh_cm, low), high)
    return used, used != dbh_cm


def above_ground_biomass(
    equation: Equation, dbh_cm: float, height_m: float | None, density: float | None
) -> float:
    """Dry above-ground biomass (kg) by the equation's form."""
    a, b, c, d = equation.a, equation.b, equation.c or 0.0, equation.d or 0.0
    if equation.form == "volume":
        height_term = height_m**c if c else 1.0
        return a * dbh_cm**b * height_term * (density or 0.0)
    if equation.form == "ln":
        return math.exp(a + b * math.log(dbh_cm))
    if equation.form == "log10":
        return 10 ** (a + b * math.log10(dbh_cm))
    if equation.form == "difference":
        return a * dbh_cm**b - c * dbh_cm**d
    raise ValueError(f"unknown equation form {equation.form!r}")


def carbon_kg(equation: Equation, agb_kg: float, k: dict[str, float]) -> float:
    """Carbon in the whole tree (roots included) from its above-ground biomass."""
    if not equation.urban:
        agb_kg *= k["forest_to_urban"]
    if equation.roots == "utd":
        total = agb_kg / k["utd_aboveground_share"]
    else:
        total = agb_kg * k["itree_root_factor"]
    return min(k["carbon_fraction"] * max(total, 0.0), k["carbon_cap_kg"])


def choose_equation(method: SpeciesMethod, height_m: float | None) -> Equation:
    """The equation with height when the tree's height was measured and one exists."""
    if height_m is not None and method.with_height is not None:
        return method.with_height
    return method.diameter_only


def co2_kg(
    method: SpeciesMethod, equation: Equation, dbh: float, height: float | None, k: dict
) -> float:
    agb = above_ground_biomass(equation, dbh, height, method.density_kg_m3)
    return carbon_kg(equation, agb, k) * CO2_PER_C


def growth_cm(method: SpeciesMethod, condition: int, k: dict[str, float]) -> float:
    """Yearly DBH growth: the growth class's rate × the condition grade's factor."""
    return k[f"growth_{method.growth_class}_cm"] * k[f"condition_{condition}"]


NO_LEAF_AREA = "no leaf-area equation for the species and no crown width and height"
NO_RAIN_EVENTS = "no rain-event count for the region"


def crown_leaf_area(crown_m: float, height_m: float, k: dict[str, float]) -> float:
    """Leaf area (m²) from the crown (Nowak 1996): ln LA = −4.3309 + 0.2942·Hc + 0.7312·W +
    5.7217·Sh − 0.0148·C, C = π·W·(Hc + W)/2. The registry measures no crown base, so the crown
    height Hc is assumed to be ``crown_height_share`` of the tree's height (reference data,
    flagged on the card); Sh is the shading factor ``crown_shading_factor`` (0.8)."""
    w, hc = crown_m, height_m * k["crown_height_share"]
    c = math.pi * w * (hc + w) / 2
    sh = k["crown_shading_factor"]
    return math.exp(-4.3309 + 0.2942 * hc + 0.7312 * w + 5.7217 * sh - 0.0148 * c)


def leaf_area(
    method: SpeciesMethod, dbh: float, crown_m: float | None, height_m: float | None, k: dict
) -> tuple[float | None, str]:
    """The tree's leaf area (m²) and how it was found: the species' equation of DBH, else the
    crown method when crown width and height were measured; (None, "") when neither applies."""
    if method.leaf_area_a is not None and method.leaf_area_b is not None:
        return max(method.leaf_area_a + method.leaf_area_b * dbh, 0.0), "equation"
    if crown_m is not None and height_m is not None:
        return crown_leaf_area(crown_m, height_m, k), "crown"
    return None, ""


def rain_m3(
    method: SpeciesMethod,
    dbh: float,
    crown_m: float | None,
    height_m: float | None,
    rain: Rain | None,
    k: dict,
) -> tuple[float | None, str, str]:
    """Rain one tree's leaves hold per year (m³): leaf area × storage × events, no more than
    the rain that falls on its crown; the leaf-area method used; None with the reason when a
    piece is missing."""
    area, how = leaf_area(method, dbh, crown_m, height_m, k)
    if area is None:
        return None, NO_LEAF_AREA, ""
    if rain is None or rain.events_per_year is None:
        return None, NO_RAIN_EVENTS, how
    held = area * k["leaf_storage_mm"] / 1000 * rain.events_per_year
    if crown_m is not None:
        held = min(held, rain.annual_mm / 1000 * math.pi * (crown_m / 2) ** 2)
    return held, "", how


def tree_benefit(
    method: SpeciesMethod | None, tree: TreeInputs, k: dict[str, float], rain: Rain | None
) -> TreeBenefit:
    """A plant record's benefits; everything not measured stays empty and says why."""
    if (
        method is None
        or tree.status not in STATUSES_WITH_METHOD
        or tree.planting_form not in FORMS_WITH_METHOD
    ):
        return TreeBenefit(kind="no_method")
    if tree.dbh_cm is None:
        return TreeBenefit(kind="no_dbh")
    equation = choose_equation(method, tree.height_m)
    dbh, outside = clamp(equation, tree.dbh_cm)
    stored = co2_kg(method, equation, dbh, tree.height_m, k)
    sequestered, note = None, ""
    if tree.status == "dead" or tree.condition in (5, 6):
        sequestered = 0.0
    elif tree.condition is None:
        note = "condition not assessed"
    else:
        grown = dbh + growth_cm(method, tree.condition, k)
        sequestered = co2_kg(method, equation, grown, tree.height_m, k) - stored
    held, rain_note, leaf_method = rain_m3(
        method, dbh, tree.crown_diameter_m, tree.height_m, rain, k
    )
    return TreeBenefit(
        kind="computed",
        equation=equation,
        dbh_used_cm=dbh,
        outside_range=outside,
        co2_stored_kg=_times(stored, tree.quantity),
        co2_sequestered_kg=_times(sequestered, tree.quantity),
        sequestration_note=note,
        rain_m3=_times(held, tree.quantity),
        rain_note=rain_note,
        leaf_area_method=leaf_method,
    )


def _times(figure: float | None, quantity: int) -> float | None:
    """A per-tree figure × the record's trees, rounded as the tallies add it (0.001)."""
    return None if figure is None else round(figure * quantity, 3)


def value_kzt(
    co2_kg_per_year: float | None,
    rain_m3_per_year: float | None,
    co2_price: float | None,
    water_price: float | None,
) -> float | None:
    """₸ per year: sequestered t CO₂ × the carbon price + intercepted m³ × the water price.
    A part whose figure or price is missing adds nothing; both missing → None."""
    parts = []
    if co2_kg_per_year is not None and co2_price is not None:
        parts.append(co2_kg_per_year / 1000 * co2_price)
    if rain_m3_per_year is not None and water_price is not None:
        parts.append(rain_m3_per_year * water_price)
    return round(sum(parts), 2) if parts else None
