"""The rules of planting records as pure functions: quantities, units, seasons, survival counts.

Each raises ``InvalidValue`` naming the field, the value and the reason, so the CLI, the JSON API
and the web forms say the same thing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from registry.errors import InvalidValue
from registry.inventory.models import PlantingForm
from registry.inventory.rules import to_decimal
from registry.planting.models import SURVIVAL_SEASONS, Performer, PlantingUnit, Season

FIRST_PLAN_YEAR = 2000
LAST_PLAN_YEAR = 2100

# A unit fixes what can be planted in it: hedges in running metres, lawns and flowerbeds in m².
UNIT_FORMS = {
    PlantingUnit.PIECES: set(PlantingForm),
    PlantingUnit.RUNNING_M: {PlantingForm.HEDGE, PlantingForm.ROW},
    PlantingUnit.M2: {PlantingForm.MASSIF, PlantingForm.GROUP},
}
DEFAULT_UNIT_FORM = {
    PlantingUnit.PIECES: PlantingForm.SOLITARY,
    PlantingUnit.RUNNING_M: PlantingForm.HEDGE,
    PlantingUnit.M2: PlantingForm.MASSIF,
}


def choice(enum_type: type, field: str, value: Any) -> Any:
    """``value`` as a member of ``enum_type``, or an error listing the valid values."""
    try:
        return enum_type(value)
    except ValueError:
        valid = ", ".join(m.value for m in enum_type)
        raise InvalidValue(field, f"must be one of {valid}", value) from None


def check_unit(value: Any) -> PlantingUnit:
    return choice(PlantingUnit, "unit", value or PlantingUnit.PIECES)


def check_season(value: Any) -> Season:
    return choice(Season, "season", value)


def check_performer(value: Any) -> Performer:
    return choice(Performer, "performer_kind", value or Performer.AKIMAT)


def check_year(value: Any, field: str = "year") -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise InvalidValue(field, "is not a year", value) from None
    if not FIRST_PLAN_YEAR <= year <= LAST_PLAN_YEAR:
        raise InvalidValue(field, f"must lie between {FIRST_PLAN_YEAR} and {LAST_PLAN_YEAR}", value)
    return year


def check_quantity(value: Any, unit: PlantingUnit, field: str = "quantity") -> Decimal:
    """Positive, in the unit of the line; pieces are whole."""
    number = to_decimal(field, value)
    if number is None:
        raise InvalidValue(field, f"is required (in {unit.value})")
    if number <= 0:
        raise InvalidValue(field, f"must be greater than zero (in {unit.value})", value)
    if unit is PlantingUnit.PIECES and number != number.to_integral_value():
        raise InvalidValue(field, "pieces must be a whole number", value)
    if number >= Decimal("1e11"):
        raise InvalidValue(field, "is implausibly large", value)
    return number.quantize(Decimal("0.1"))


def check_form(value: Any, unit: PlantingUnit) -> PlantingForm:
    if value in (None, ""):
        return DEFAULT_UNIT_FORM[unit]
    form = choice(PlantingForm, "planting_form", value)
    if form not in UNIT_FORMS[unit]:
        allowed = ", ".join(sorted(f.value for f in UNIT_FORMS[unit]))
        raise InvalidValue("planting_form", f"in {unit.value} must be one of {allowed}", value)
    return form


def check_planted_on(value: date, today: date | None = None) -> date:
    if not isinstance(value, date):
        raise InvalidValue("planted_on", "is not a date", value)
    if value > (today or date.today()):
        raise InvalidValue("planted_on", "cannot be in the future", value.isoformat())
    return value


def check_survival(
    season: Any,
    checked_on: date,
    planted_on: date,
    planted: Decimal,
    unit: PlantingUnit,
    alive: Any,
    dead: Any,
    replaced: Any,
    today: date | None = None,
) -> tuple[int, Decimal, Decimal, Decimal]:
    """A re-count: after planting, never more living (or living + dead) than were planted."""
    try:
        season_no = int(season)
    except (TypeError, ValueError):
        season_no = None
    if season_no not in SURVIVAL_SEASONS:
        raise InvalidValue("season", "must be 1 or 3 (growing seasons after planting)", season)
    if checked_on < planted_on:
        raise InvalidValue(
            "checked_on",
            f"is before the planting date {planted_on.isoformat()}",
            checked_on.isoformat(),
        )
    if checked_on > (today or date.today()):
        raise InvalidValue("checked_on", "cannot be in the future", checked_on.isoformat())
    counts = []
    for field, value in (("alive", alive), ("dead", dead), ("replaced", replaced or 0)):
        number = to_decimal(field, value)
        if number is None or number < 0:
            raise InvalidValue(field, "must be zero or more", value)
        if unit is PlantingUnit.PIECES and number != number.to_integral_value():
            raise InvalidValue(field, "pieces must be a whole number", value)
        counts.append(number)
    alive_n, dead_n, replaced_n = counts
    if alive_n > planted:
        raise InvalidValue(
            "alive", f"cannot exceed the {shown(planted)} {unit.value} planted", str(alive_n)
        )
    if alive_n + dead_n > planted:
        raise InvalidValue(
            "dead",
            f"alive + dead cannot exceed the {shown(planted)} {unit.value} planted",
            str(dead_n),
        )
    if replaced_n > dead_n:
        raise InvalidValue("replaced", "cannot exceed the number found dead", str(replaced_n))
    return season_no, alive_n, dead_n, replaced_n


def shown(number: Decimal) -> str:
    """A quantity as a forester writes it: 10, 120.5."""
    return f"{Decimal(number).normalize():f}"


def rate(alive: Decimal | float | None, checked: Decimal | float | None) -> float | None:
    """Survival (приживаемость) in per cent, one decimal; ``None`` when nothing was checked."""
    if not checked:
        return None
    return round(float(alive or 0) * 100 / float(checked), 1)
