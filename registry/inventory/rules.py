"""The rules a plant record must satisfy, as pure functions (no database), reused by importers.

Each rule raises ``InvalidValue`` naming the field, the value and the reason in a forester's
words, so the same message reaches the CLI, the web form and the import report.
"""

from __future__ import annotations

import math
import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from shapely.geometry.base import BaseGeometry

from registry.errors import InvalidValue
from registry.inventory.models import PlantingForm, PlantStatus
from registry.species.models import Species
from registry.text import bounded_text

MAX_CROWN_DIAMETER_M = Decimal(40)
# For a record without a species (a stump, a dead tree no one named): the tallest and thickest
# trees on Earth, so only a slip of the unit or the decimal point is refused.
MAX_HEIGHT_M = Decimal(120)
MAX_TRUNK_DIAMETER_CM = Decimal(1200)
MAX_AGE_YEARS = 800
OLDEST_PLANTING_YEAR = 1800

# A point may stand for any form: a point survey marks each tree of a row (рядовая, аллея) as a
# point, and a hedge, group or massif by one point, with its length or area in a column.
FORM_GEOMETRIES = {
    PlantingForm.SOLITARY: {"Point"},
    PlantingForm.ROW: {"LineString", "MultiLineString", "Point"},
    PlantingForm.HEDGE: {"LineString", "MultiLineString", "Point"},
    PlantingForm.GROUP: {"Polygon", "MultiPolygon", "Point"},
    PlantingForm.MASSIF: {"Polygon", "MultiPolygon", "Point"},
}
DEFAULT_FORM = {
    "Point": PlantingForm.SOLITARY,
    "LineString": PlantingForm.ROW,
    "MultiLineString": PlantingForm.ROW,
    "Polygon": PlantingForm.GROUP,
    "MultiPolygon": PlantingForm.GROUP,
}
# The longest text each field keeps, in characters: a number on a tag, an address line, a
# forester's notes. Longer input is refused naming the field, never cut or stored whole.
TEXT_LIMITS = {
    "inventory_number": 64,
    "address": 500,
    "notes": 4_000,
    "reason": 4_000,
    "inspector": 200,
    "name": 300,
    "kind": 64,
    "balance_holder": 300,
}
ROMAN_GRADES = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6}


# A cell of only these says "no value" in surveys and spreadsheets: "-", "—", "–", ".".
BLANK_MARKS = " \t\r\n\xa0-–—."


def is_empty(value: Any) -> bool:
    """An empty cell: None, NaN (a null read by pandas), pandas' NA and NaT, or blank text.
    Empty means "not measured": such a field is stored as NULL, never refused, never 0."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip(BLANK_MARKS)
    # pandas' own nulls exist only once pandas is loaded: the web app and most commands never
    # load it (half a second of every command's start-up)
    pandas = sys.modules.get("pandas")
    return pandas is not None and (value is pandas.NA or value is pandas.NaT)


def to_decimal(field: str, value: Any) -> Decimal | None:
    if is_empty(value):
        return None
    try:
        number = Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        raise InvalidValue(field, "is not a number", value) from None
    if not number.is_finite():
        raise InvalidValue(field, "is not a number", value)
    return number


def check_measure(
    field: str, value: Any, limit: Decimal, species: Species | None
) -> Decimal | None:
    number = to_decimal(field, value)
    if number is None:
        return None
    if number <= 0:
        raise InvalidValue(field, "must be greater than zero", value)
    if number > limit:
        whose = f" for {species.name_ru} ({species.latin})" if species else ""
        raise InvalidValue(field, f"exceeds the plausible maximum of {limit}{whose}", value)
    return number


def check_condition(value: Any) -> int:
    """Grades I–VI of the sanitary scale, as 1–6 or Roman numerals."""
    text = str(value).strip().upper()
    grade = ROMAN_GRADES.get(text)
    if grade is None and text.isdigit():
        grade = int(text)
    if grade not in ROMAN_GRADES.values():
        raise InvalidValue("condition", "must be a grade from I to VI (1–6)", value)
    return grade


def check_condition_if_assessed(value: Any) -> int | None:
    """A grade, or None when the condition was not assessed (an empty field): never grade I."""
    return None if is_empty(value) else check_condition(value)


def check_species_for_status(
    species: Species | None, status: PlantStatus, field: str = "species"
) -> None:
    """Only a living plant needs a species: a vacant planting site has none, and a stump or a
    dead or removed tree is recorded even when no one could tell what it was."""
    if species is None and status == PlantStatus.ALIVE:
        raise InvalidValue(
            field,
            "is empty; a living plant needs a species (only a stump, a vacant site or a dead or "
            "removed tree may have none)",
        )


def check_planting_year(value: Any, today: date | None = None) -> int | None:
    if is_empty(value):
        return None
    this_year = (today or date.today()).year
    year = _whole(value)
    if year is None:
        raise InvalidValue("planting_year", "is not a year", value)
    if not OLDEST_PLANTING_YEAR <= year <= this_year:
        raise InvalidValue(
            "planting_year", f"must lie between {OLDEST_PLANTING_YEAR} and {this_year}", value
        )
    return year


def check_age(value: Any) -> int | None:
    if is_empty(value):
        return None
    age = _whole(value)
    if age is None:
        raise InvalidValue("age_years", "is not a whole number of years", value)
    if not 0 <= age <= MAX_AGE_YEARS:
        raise InvalidValue("age_years", f"must lie between 0 and {MAX_AGE_YEARS}", value)
    return age


def _whole(value: Any) -> int | None:
    """A whole number, also written as text with a zero fraction ("2001.0": a CSV column of
    years with an empty cell, as pandas and spreadsheets write it); None if it is not one."""
    try:
        number = Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number)


def check_form(form: Any, geometry: BaseGeometry) -> PlantingForm:
    if geometry is None or geometry.is_empty:
        raise InvalidValue("geom", "a location is required")
    if not geometry.is_valid:
        raise InvalidValue("geom", "the geometry is not valid (self-intersecting or broken)")
    kind = geometry.geom_type
    if form in (None, ""):
        if kind not in DEFAULT_FORM:
            raise InvalidValue("geom", f"{kind} cannot be a plant's location")
        return DEFAULT_FORM[kind]
    try:
        chosen = PlantingForm(form)
    except ValueError:
        valid = ", ".join(f.value for f in PlantingForm)
        raise InvalidValue("planting_form", f"must be one of {valid}", form) from None
    if kind not in FORM_GEOMETRIES[chosen]:
        allowed = " or ".join(sorted(FORM_GEOMETRIES[chosen]))
        raise InvalidValue("geom", f"a {chosen.value} planting must be a {allowed}", kind)
    return chosen


def check_status(value: Any) -> PlantStatus:
    try:
        return PlantStatus(value)
    except ValueError:
        valid = ", ".join(s.value for s in PlantStatus)
        raise InvalidValue("status", f"must be one of {valid}", value) from None


def check_quantity(value: Any) -> int:
    try:
        quantity = int(value)
    except (TypeError, ValueError):
        raise InvalidValue("quantity", "is not a whole number", value) from None
    if quantity < 1:
        raise InvalidValue("quantity", "must be at least 1", value)
    return quantity


def height_limit(species: Species | None) -> Decimal:
    return Decimal(species.max_height_m) if species else MAX_HEIGHT_M


def trunk_limit(species: Species | None) -> Decimal:
    return Decimal(species.max_trunk_diameter_cm) if species else MAX_TRUNK_DIAMETER_CM


def check_measurements(values: dict[str, Any], species: Species | None) -> dict[str, Any]:
    """Height, trunk and crown diameter within the species' plausibility limits."""
    return {
        "height_m": check_measure(
            "height_m", values.get("height_m"), height_limit(species), species
        ),
        "trunk_diameter_cm": check_measure(
            "trunk_diameter_cm", values.get("trunk_diameter_cm"), trunk_limit(species), species
        ),
        "crown_diameter_m": check_measure(
            "crown_diameter_m", values.get("crown_diameter_m"), MAX_CROWN_DIAMETER_M, None
        ),
    }


def check_text(field: str, value: Any) -> str:
    """A text field within its limit (``TEXT_LIMITS``), stripped; empty stays empty."""
    return bounded_text(field, value, TEXT_LIMITS[field])


TRUE_WORDS = frozenset({"true", "1", "on", "yes"})
FALSE_WORDS = frozenset({"false", "0", "off", "no", ""})


def check_flag(field: str, value: Any, default: bool) -> bool:
    """A yes/no field: a boolean, or its word (``"false"`` is false, as a form or a CSV means
    it; ``bool("false")`` stored hazardous and published as true). Absent is ``default``."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InvalidValue(field, "must be true or false", value)
