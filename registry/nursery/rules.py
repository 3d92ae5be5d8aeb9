"""Pure checks of nursery input (no database): counts, dates, stages, grades and zoning.

Each raises ``InvalidValue`` naming the field, why, and the value, so the CLI, the forms and the
JSON API report the same sentence.
"""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from registry.errors import InvalidValue
from registry.inventory.rules import to_decimal
from registry.nursery.models import STAGE_ORDER, Stage

E = TypeVar("E", bound=enum.Enum)
GRADES = {1: "I", 2: "II", 3: "non-standard"}


def check_choice(field: str, value: Any, kind: type[E]) -> E:
    """A member of ``kind`` by value, else an error listing the valid values."""
    if isinstance(value, kind):
        return value
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        valid = ", ".join(str(m.value) for m in kind)
        raise InvalidValue(field, f"must be one of {valid}", value) from None


def check_count(field: str, value: Any, allow_zero: bool = False) -> int:
    """A whole number of plants (pieces)."""
    text = str(value).strip().replace(" ", "").replace("\u00a0", "")
    if not text.lstrip("-").isdigit():
        raise InvalidValue(field, "must be a whole number of pieces", value)
    number = int(text)
    if number < 0 or (number == 0 and not allow_zero):
        raise InvalidValue(
            field, "must be greater than zero" if not allow_zero else "cannot be negative", value
        )
    return number


def check_weight(field: str, value: Any) -> Decimal:
    number = to_decimal(field, value)
    if number is None or number <= 0:
        raise InvalidValue(field, "must be a weight in kilograms greater than zero", value)
    return number.quantize(Decimal("0.001"))


def check_date(
    field: str,
    value: Any,
    not_before: date | None = None,
    what: str = "",
    today: date | None = None,
) -> date:
    """A calendar date, not in the future and not before ``not_before`` (e.g. the sowing)."""
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            raise InvalidValue(field, "must be a date YYYY-MM-DD", value) from None
    if day > (today or date.today()):
        raise InvalidValue(field, "cannot be in the future", day.isoformat())
    if not_before is not None and day < not_before:
        raise InvalidValue(
            field,
            f"cannot precede {what or 'the start'} on {not_before.isoformat()}",
            day.isoformat(),
        )
    return day


def check_grade(value: Any) -> int | None:
    """Grade 1 or 2 by the GOSTs (I/II accepted), 3 for non-standard stock; empty means none."""
    if value is None or value == "":
        return None
    text = str(value).strip().upper()
    grade = {"I": 1, "II": 2, "III": 3}.get(text) or (int(text) if text.isdigit() else None)
    if grade not in GRADES:
        raise InvalidValue("grade", "must be 1 (I), 2 (II) or 3 (non-standard)", value)
    return grade


def check_stage_change(current: Stage, wanted: Stage) -> Stage:
    """Stock only grows on: a stage can be kept or advanced, never set back."""
    if STAGE_ORDER[wanted] < STAGE_ORDER[current]:
        raise InvalidValue(
            "stage", f"cannot go back from {current.value} to {wanted.value}", wanted.value
        )
    return wanted


def check_percent(field: str, value: Any) -> Decimal:
    number = to_decimal(field, value)
    if number is None or not 0 <= number <= 100:
        raise InvalidValue(field, "must be a percentage from 0 to 100", value)
    return number


def zones_suit(species_zones: list[str], region_zones: list[str]) -> bool:
    """A species suits a region when it is adapted to at least one of the region's zones."""
    return bool(set(species_zones) & set(region_zones))
