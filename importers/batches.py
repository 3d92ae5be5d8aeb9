"""The record of an import (``import_batches``): opened, closed, found again, and undone.

Every import leaves one batch row saying which file (by its SHA-256), layer, region, who, how
many rows and what went wrong; a file imported before is recognised by it, and ``undo_batch``
takes an import back by it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from importers import staging
from registry.access import Actor, require_region_write
from registry.audit.services import record_changes, record_creation
from registry.errors import InvalidValue, NotFound
from registry.imports.models import ImportBatch

if TYPE_CHECKING:
    from importers.services import ImportRun

SIDECARS = {".dbf", ".shx", ".prj", ".cpg"}


def open_batch(run: ImportRun) -> ImportBatch:
    report, options = run.report, run.options
    batch = ImportBatch(
        file_name=run.file_name,
        file_sha256=run.digest,
        source="file",
        region_id=run.target.id,
        user_id=run.actor.user_id,
        status="running",
        encoding=report.encoding,
        crs=report.crs,
        details={
            "format": run.source.kind,
            "layer": run.source.layer,
            "actor": run.actor.label,
            "allow_partial": options.allow_partial,
            "mapping": options.mapping.name if options.mapping else None,
            "records": run.records,
        },
    )
    run.session.add(batch)
    run.session.flush()
    report.batch_id = batch.id
    return batch


def close_batch(run: ImportRun, batch: ImportBatch) -> None:
    report = run.report
    report.status = "done"
    batch.status = "done"
    batch.finished_at = func.now()
    batch.rows_read = report.rows_read
    batch.rows_imported = report.imported
    batch.rows_updated = report.updated
    batch.rows_rejected = report.rejected
    batch.warnings = len(report.warnings)
    batch.details = {
        **batch.details,
        "conflicts": report.conflicts,
        "unchanged": report.unchanged,
        "problems": [p.__dict__ for p in report.problems[:1000]],
    }
    run.session.flush()
    record_creation(
        run.session, run.actor, "import_batch", batch.id, run.target.id, report.summary()
    )


def earlier_batch(
    session: Session, digest: str, region_id: int, layer: str | None, records: str
) -> ImportBatch | None:
    """The finished import of this very file and layer (a GeoPackage holds several) as the
    same records (a mixed layer is imported once as green spaces, once as plants)."""
    query = select(ImportBatch).where(
        ImportBatch.file_sha256 == digest,
        ImportBatch.region_id == region_id,
        ImportBatch.status == "done",
        ImportBatch.details["layer"].astext.is_not_distinct_from(layer),
        ImportBatch.details["records"].astext == records,
    )
    return session.scalars(query.order_by(ImportBatch.id.desc())).first()


def file_sha256(path: Path) -> str:
    """The file's hash; a shapefile's covers its sidecars (the attributes live in the .dbf)."""
    parts = [path]
    if path.suffix.lower() == ".shp":
        parts += sorted(
            p for p in path.parent.glob(f"{path.stem}.*") if p.suffix.lower() in SIDECARS
        )
    digest = hashlib.sha256()
    for part in parts:
        with part.open("rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def undo_batch(session: Session, actor: Actor, batch_id: int) -> tuple[int, int]:
    """Take an import back: its new records are deleted, plants it updated get their values back.

    Refused when a record of the batch was changed in Jasyl after the import (that work would be
    lost), when other records now refer to its green spaces, or the batch is not a finished
    import. Returns (plants reverted, plants or green spaces removed).
    """
    batch = session.get(ImportBatch, batch_id)
    if batch is None or batch.source != "file":
        raise NotFound(f"import batch {batch_id} does not exist", id=batch_id)
    require_region_write(session, actor, batch.region_id, "undo", "import batch", batch_id)
    if batch.status != "done":
        raise InvalidValue("batch", f"only a finished import can be undone (it is {batch.status})")
    what = "green space" if batch.details.get("records") == "green_spaces" else "plant"
    changed = staging.changed_since(session, batch_id)
    if changed:
        listed = ", ".join(str(i) for i in changed[:10]) + (" …" if len(changed) > 10 else "")
        raise InvalidValue(
            "batch",
            f"{len(changed)} {what}(s) of batch {batch_id} were changed in Jasyl after the import "
            f"({what}s {listed}); undoing would lose that work",
        )
    try:
        with session.begin_nested():
            reverted, removed = staging.undo(session, batch_id, actor.user_id)
    except IntegrityError:
        raise InvalidValue(
            "batch",
            f"other records (care works, plantings, plans) now refer to {what}s of batch "
            f"{batch_id}; undoing would break them",
        ) from None
    batch.status = "undone"
    session.flush()
    record_changes(
        session,
        actor,
        "import_batch",
        batch_id,
        batch.region_id,
        {"status": ("done", "undone")},
        action="undo",
    )
    return reverted, removed
