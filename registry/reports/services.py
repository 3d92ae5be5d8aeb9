"""The yearly report of a region: its workflow from draft to approval.

A report is generated from the registry, never typed: planting by species and form (planned vs
planted, replanting apart), survival of the recent cohorts, care works planned vs done, felling
and compensation, and the inventory by condition. Workflow: the akimat (a forester of the
region) builds a draft and submits it; the ministry approves it or returns it with a comment.
From submission on, the edition's ``content`` is a snapshot nothing rewrites; a correction is a
new edition. What a report says is built in ``content``; the national aggregates and the
dashboards are in ``dashboards``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.access import (
    Actor,
    require_ministry,
    require_region_read,
    require_region_write,
)
from registry.accounts.models import User
from registry.audit.services import record_changes, record_creation
from registry.errors import InvalidValue, NotFound
from registry.planting import rules
from registry.regions.services import resolve_region
from registry.reports.content import Progress, build_content
from registry.reports.models import RegionReport, ReportStatus


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
