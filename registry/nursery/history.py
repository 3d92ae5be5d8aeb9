"""A nursery's stock per stage at each month's end: what the ledger and the audit trail can tell.

The ledger (``batch_movements``) dates every change of a batch's count: sowing, receipt,
germination counts, transplanting out and in, stocktakes, losses, dispatch and reversals, so a
batch's count at any date is the sum of its movements up to that date. Stage changes are not
movements: ``set_stage`` takes no date, and the only record of one is its audit entry, stamped
when it was recorded. A batch's stage at a month's end is therefore the stage it had according
to the stage changes *recorded* by then (its first change's old stage before that, its current
stage if it never changed); a page that charts this says so. Two changes are dated by the ledger
itself: a germination count turns sown seed into seedlings on its date, and a transplanted batch
starts as transplanted saplings on the day of its transplant-in movement.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from registry.access import Actor, require_nursery_read
from registry.audit.models import AuditEntry
from registry.nursery.models import Batch, BatchMovement, MovementKind, Nursery, Stage

MONTHS = 24

COUNTS_AT_MONTH_ENDS = text(
    """
    SELECT ends.on_date, mv.batch_id, sum(mv.quantity)::bigint AS quantity
    FROM unnest(CAST(:ends AS date[])) AS ends(on_date)
    JOIN batch_movements mv ON mv.on_date <= ends.on_date
    JOIN batches b ON b.id = mv.batch_id
    WHERE b.nursery_id = :nursery
    GROUP BY 1, 2
    HAVING sum(mv.quantity) <> 0
    """
)


def month_ends(today: date, months: int = MONTHS) -> list[date]:
    """The last day of each of the ``months`` months up to today's (today for this month)."""
    ends = []
    year, month = today.year, today.month
    for _ in range(months):
        following = date(year + month // 12, month % 12 + 1, 1)
        ends.append(min(following - timedelta(days=1), today))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return ends[::-1]


Timeline = tuple[list[date], list[Stage]]  # the days each stage began, and the stages


def stage_timelines(session: Session, nursery_id: int) -> dict[int, Timeline]:
    """Each batch's stages in order: the audited stage changes (on the day recorded) and the
    first germination count (a dated movement that turns sown seed into seedlings)."""
    current = dict(
        session.execute(select(Batch.id, Batch.stage).where(Batch.nursery_id == nursery_id)).all()
    )
    audited: dict[int, list[tuple[date, Stage, Stage]]] = {}
    for batch_id, at, old, new in session.execute(
        select(AuditEntry.entity_id, AuditEntry.at, AuditEntry.old_value, AuditEntry.new_value)
        .join(Batch, Batch.id == AuditEntry.entity_id)
        .where(
            AuditEntry.entity == "batch",
            AuditEntry.field == "stage",
            Batch.nursery_id == nursery_id,
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    ):
        audited.setdefault(batch_id, []).append((at.date(), Stage(old), Stage(new)))
    germinated = dict(
        session.execute(
            select(BatchMovement.batch_id, func.min(BatchMovement.on_date))
            .join(Batch, Batch.id == BatchMovement.batch_id)
            .where(Batch.nursery_id == nursery_id, BatchMovement.kind == MovementKind.GERMINATION)
            .group_by(BatchMovement.batch_id)
        ).all()
    )
    timelines = {}
    for batch_id, stage in current.items():
        changes = audited.get(batch_id, [])
        first = changes[0][1] if changes else stage
        steps = [(day, new) for day, _, new in changes]
        if batch_id in germinated and first is Stage.SEEDLINGS:
            first = Stage.SOWN
            steps = sorted([(germinated[batch_id], Stage.SEEDLINGS), *steps], key=lambda s: s[0])
        timelines[batch_id] = ([date.min, *(d for d, _ in steps)], [first, *(s for _, s in steps)])
    return timelines


def stock_by_stage_over_time(
    session: Session, actor: Actor, nursery: Nursery, today: date | None = None
) -> list[dict[str, Any]]:
    """Plants on hand per stage at the end of each of the last 24 months (this month: today),
    one row per month end: ``{"on": "2026-03-31", "sown": 7600, "seedlings": 0, ...}``."""
    require_nursery_read(session, actor)
    today = today or date.today()
    ends = month_ends(today)
    rows = {end: dict.fromkeys(Stage, 0) for end in ends}
    timelines = stage_timelines(session, nursery.id)
    params = {"ends": ends, "nursery": nursery.id}
    for on_date, batch_id, quantity in session.execute(COUNTS_AT_MONTH_ENDS, params):
        days, stages = timelines[batch_id]
        rows[on_date][stages[bisect_right(days, on_date) - 1]] += int(quantity)
    return [
        {"on": end.isoformat(), **{stage.value: n for stage, n in rows[end].items()}}
        for end in ends
    ]
