"""``jasyl public-reports list``: residents' reports in a region's queue, for a forester's
morning or the ministry's follow-up; ``--overdue`` keeps those nobody answered within
``JASYL_REPORT_ANSWER_DAYS``. Read as the system operator unless ``--as EMAIL`` names a user,
whose role then decides (``registry.access``), exactly as on the web.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from geoalchemy2.shape import to_shape

from registry.config import load_settings
from registry.db import unit_of_work
from registry.public_reports import rules, services
from registry.regions.services import resolve_region
from web.cli.nursery import AS_USER, FORMAT, acting, emit

COLUMNS = ["number", "kind", "status", "region", "received", "lon", "lat", "joined", "published"]


@click.group("public-reports")
def public_reports() -> None:
    """Residents' reports of trees and places."""


@public_reports.command("list")
@click.option("--region", help="Region ISO code, KATO or name (default: all you may read).")
@click.option("--kind", type=click.Choice(rules.KINDS), help="Only this kind.")
@click.option("--status", type=click.Choice(rules.STATUSES), help="Only this status.")
@click.option("--overdue", is_flag=True, help="Only those unanswered past the answer days.")
@AS_USER
@FORMAT
def list_reports(region, kind, status, overdue, as_user, fmt) -> None:
    """First reports (duplicates joined to them are counted under ``joined``), oldest first."""
    settings = load_settings()
    days = settings.open_data.report_answer_days
    with unit_of_work(settings.database_url) as session:
        actor = acting(session, as_user)
        region_id = resolve_region(session, region).id if region else None
        found = services.queue(session, actor, region_id, kind, "received" if overdue else status)
        due = datetime.now(UTC) - timedelta(days=days)
        rows = [row(session, r) for r in found if not overdue or r.created_at < due]
    emit(rows, fmt, COLUMNS)


def row(session, report) -> dict:
    place = to_shape(report.geom)
    return {
        "number": report.number,
        "kind": report.kind,
        "status": report.status,
        "region": report.region_id,
        "received": report.created_at.date().isoformat(),
        "lon": round(place.x, 6),
        "lat": round(place.y, 6),
        "joined": len(services.joined_to(session, report)),
        "published": "yes" if report.published else "no",
    }


commands = [public_reports]
