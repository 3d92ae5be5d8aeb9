"""Which compensation case a felling is, and the national default ratios (domain brief §1.4).

The ratios are a rule keyed by case; a region may set its own (``compensation_ratios``), since
city practice differs (Almaty 10 per 1 for permitted and sanitary felling).
"""

from __future__ import annotations

from datetime import date, timedelta

from registry.errors import InvalidValue
from registry.felling.models import CompensationCase, FellingReason, Protection

DEFAULT_RATIOS = {
    CompensationCase.PERMITTED: 10,
    CompensationCase.ADJACENT: 10,  # died on an adjacent territory, Typical Rules p. 29-1
    CompensationCase.ILLEGAL: 20,
    CompensationCase.ILLEGAL_RED_BOOK: 30,
    CompensationCase.ILLEGAL_RARE: 100,  # rare/endangered-list species, from 5 Dec 2025
}
DEFAULT_TERM = timedelta(days=365)  # one planting year when the guarantee letter names no date
MAX_RATIO = 1000


def compensation_case(
    reason: FellingReason, legal: bool, protection: Protection
) -> CompensationCase:
    if not legal:
        return {
            Protection.NONE: CompensationCase.ILLEGAL,
            Protection.RED_BOOK: CompensationCase.ILLEGAL_RED_BOOK,
            Protection.RARE: CompensationCase.ILLEGAL_RARE,
        }[protection]
    if reason is FellingReason.ADJACENT_DEATH:
        return CompensationCase.ADJACENT
    return CompensationCase.PERMITTED


def check_ratio(value: object) -> int:
    try:
        ratio = int(str(value))
    except ValueError:
        raise InvalidValue("ratio", "is not a whole number", value) from None
    if not 1 <= ratio <= MAX_RATIO:
        raise InvalidValue("ratio", f"must lie between 1 and {MAX_RATIO}", value)
    return ratio


def check_due(felled_on: date, due_on: date | None) -> date:
    if due_on is None:
        return felled_on + DEFAULT_TERM
    if due_on < felled_on:
        raise InvalidValue("due_on", "cannot precede the felling", due_on.isoformat())
    return due_on
