"""Report photos on disk: cleaned of their metadata (``rules.clean_photo``) before any byte is
written, under ``JASYL_HOME/uploads/public_reports/<report id>/``, and removed again if the unit
of work rolls back (as plant photos are, ``registry.photos.services``)."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from registry.errors import InvalidValue
from registry.public_reports import rules
from registry.public_reports.models import PublicReport, PublicReportPhoto
from registry.storage import write_atomically

Upload = tuple[bytes, str]  # the bytes sent and the file name the browser gave


def cleaned(photos: list[Upload]) -> list[tuple[bytes, int, int]]:
    """Every photo judged and cleaned before anything is stored (one bad photo refuses all)."""
    if len(photos) > rules.MAX_PHOTOS:
        raise InvalidValue("photos", f"at most {rules.MAX_PHOTOS} photos (got {len(photos)})")
    return [rules.clean_photo(data, name) for data, name in photos]


def keep(
    session: Session, report: PublicReport, photos: list[tuple[bytes, int, int]], uploads: Path
) -> None:
    written: list[Path] = []
    _remove_on_rollback(session, written)
    for data, width, height in photos:
        photo = PublicReportPhoto(
            report_id=report.id,
            token=secrets.token_hex(16),
            size_bytes=len(data),
            width=width,
            height=height,
        )
        session.add(photo)
        session.flush()
        written.append(uploads / photo.relative_path)
        write_atomically(written[-1], data)


def photos_of(session: Session, report_ids: list[int]) -> list[PublicReportPhoto]:
    query = select(PublicReportPhoto).where(PublicReportPhoto.report_id.in_(report_ids))
    return list(session.scalars(query.order_by(PublicReportPhoto.id)))


def _remove_on_rollback(session: Session, paths: list[Path]) -> None:
    def remove(_session: Session) -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    event.listen(session, "after_rollback", remove, once=True)
