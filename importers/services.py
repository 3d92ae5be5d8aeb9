"""Importing a survey file into the registry: the one entry point the CLI and the web app call.

``import_file(session, actor, path, region=..., options=...)`` reads the file (any format of
``importers.sources``), recognises its columns, decides its encoding and CRS, validates every
record, and merges the valid ones into ``plants`` by inventory number within the region, all
inside the caller's unit of work. By default one bad record means nothing is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from pyproj import CRS
from sqlalchemy import func, select
from sqlalchemy.orm import Session, SessionTransaction

from importers import staging
from importers.crs import looks_geographic, missing_crs_error, parse_crs
from importers.fields import Column, Mapping, load_mapping, resolve_columns
from importers.report import ImportReport, Problem
from importers.rows import Normaliser, whole
from importers.sources import Batch, Source, SourceError, open_source
from registry.access import Actor, require_region_write
from registry.audit.services import record_changes, record_creation
from registry.errors import InvalidValue, NotFound
from registry.imports.models import ImportBatch
from registry.inventory import rules
from registry.regions.models import Region
from registry.regions.services import resolve_region
from registry.species.services import SpeciesIndex

Progress = Callable[[str, int, int], None]
SIDECARS = {".dbf", ".shx", ".prj", ".cpg"}


@dataclass(frozen=True)
class ImportOptions:
    """How to read and what to do: all optional, defaults are the safe choice."""

    mapping: Path | None = None
    crs: str | None = None
    encoding: str | None = None
    layer: str | None = None
    dry_run: bool = False
    allow_partial: bool = False
    near_is_error: bool = False


def import_file(
    session: Session,
    actor: Actor,
    path: Path | str,
    *,
    region: str,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one survey file into ``region`` (ISO code, KATO prefix or name) for ``actor``.

    Returns an ``ImportReport``; its ``status`` says what happened: ``done`` (written; with
    ``allow_partial`` the rejected rows are listed), ``rejected`` (row errors, nothing written),
    ``dry_run`` (checked, nothing written) or ``unchanged`` (the same file was imported before).
    Problems with the file as a whole (unreadable, unknown encoding or CRS, no species column,
    access) raise a ``JasylError`` naming the file. Never commits: the caller's unit of work
    does, and a rollback (or a killed process) leaves the registry as it was.
    ``progress(stage, done, total)`` is called as records are read and written.

    The web upload page calls it like the CLI does::

        with unit_of_work() as session:
            report = import_file(session, current_actor(), saved_path, region="KZ-71",
                                 options=ImportOptions(dry_run=True))
        report.summary(), report.problems  # counts; (file, row, field, value, code, message)
    """
    options = options or ImportOptions()
    path = Path(path)
    target = resolve_region(session, region)
    require_region_write(session, actor, target.id, "import", "plants")
    mapping = load_mapping(options.mapping)
    report = ImportReport(file_name=path.name, region=target.iso_code)
    with ExitStack() as stack:
        source = open_source(
            path,
            stack,
            layer=options.layer or mapping.layer,
            encoding=options.encoding or mapping.encoding,
        )
        digest = _sha256(path)
        earlier = _earlier_batch(session, digest, target.id)
        if earlier is not None and not options.dry_run:
            report.status, report.batch_id = "unchanged", earlier.id
            report.rows_read = earlier.rows_read
            return report
        report.encoding = f"{source.encoding.codec} ({source.encoding.source})"
        columns = resolve_columns(source.columns, mapping, source.file_name)
        aliases = _species_aliases(session, mapping)
        return _run(
            session,
            actor,
            source,
            columns,
            mapping,
            aliases,
            target,
            options,
            report,
            digest,
            progress,
        )


def _run(
    session: Session,
    actor: Actor,
    source: Source,
    columns: dict[str, Column],
    mapping: Mapping,
    aliases: dict[str, str],
    target: Region,
    options: ImportOptions,
    report: ImportReport,
    digest: str,
    progress: Progress | None,
) -> ImportReport:
    savepoint = session.begin_nested()
    try:
        return _stage_and_merge(
            session,
            actor,
            source,
            columns,
            mapping,
            aliases,
            target,
            options,
            report,
            digest,
            progress,
            savepoint,
        )
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()  # the caller's session stays usable after a refused file
        raise


def _stage_and_merge(
    session: Session,
    actor: Actor,
    source: Source,
    columns: dict[str, Column],
    mapping: Mapping,
    aliases: dict[str, str],
    target: Region,
    options: ImportOptions,
    report: ImportReport,
    digest: str,
    progress: Progress | None,
    savepoint: SessionTransaction,
) -> ImportReport:
    staging.create(session)
    species = SpeciesIndex.load(session, aliases)
    normaliser: Normaliser | None = None
    for batch in source.batches():
        geometry = _geometry_of(batch, columns, source, report)
        if normaliser is None:
            source_crs = _source_crs(source, options, mapping, geometry, target, report)
            normaliser = Normaliser(source.file_name, columns, source_crs, mapping, species)
        clean = normaliser.normalise(batch, geometry)
        report.problems.extend(clean.problems)
        report.rows_read += len(batch.frame)
        staging.copy_rows(session, clean.rows())
        if progress:
            progress("reading", report.rows_read, source.total)
    if report.rows_read == 0:
        raise SourceError(f"{source.file_name}: the file holds no records")
    _check_placement(session, source.file_name, target, report)
    _check_duplicates(session, source.file_name, report)
    _check_near(session, source.file_name, target, options.near_is_error, report)
    report.rejected = len({p.row for p in report.errors})
    if report.errors and not options.allow_partial or options.dry_run:
        savepoint.rollback()
        report.status = "dry_run" if options.dry_run else "rejected"
        report.problems.sort(key=lambda p: (p.row or 0, p.field))
        return report
    _drop_rejected(session, report)
    known = staging.any_known(session, target.id)
    if known:
        _skip_conflicts(session, source.file_name, target, report)
    batch = _open_batch(session, actor, source, target, digest, options, report)
    if progress:
        progress("writing", 0, report.rows_read)
    report.imported, report.updated, report.unchanged = staging.merge(
        session, target.id, target.kato, batch.id, actor.user_id, actor.label, known
    )
    _close_batch(session, actor, batch, target, report)
    savepoint.commit()
    if progress:
        progress("writing", report.rows_read, report.rows_read)
    report.problems.sort(key=lambda p: (p.row or 0, p.field))
    return report


def undo_batch(session: Session, actor: Actor, batch_id: int) -> tuple[int, int]:
    """Take an import back: its new plants are deleted, the plants it updated get their values back.

    Refused when a plant of the batch was changed in Jasyl after the import (that work would be
    lost) or the batch is not a finished import. Returns (plants reverted, plants removed).
    """
    batch = session.get(ImportBatch, batch_id)
    if batch is None or batch.source != "file":
        raise NotFound(f"import batch {batch_id} does not exist", id=batch_id)
    require_region_write(session, actor, batch.region_id, "undo", "import batch", batch_id)
    if batch.status != "done":
        raise InvalidValue("batch", f"only a finished import can be undone (it is {batch.status})")
    changed = staging.changed_since(session, batch_id)
    if changed:
        listed = ", ".join(str(i) for i in changed[:10]) + (" …" if len(changed) > 10 else "")
        raise InvalidValue(
            "batch",
            f"{len(changed)} plant(s) of batch {batch_id} were changed in Jasyl after the import "
            f"(plants {listed}); undoing would lose that work",
        )
    reverted, removed = staging.undo(session, batch_id, actor.user_id)
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


# -- reading --------------------------------------------------------------------------------------
def _geometry_of(
    batch: Batch, columns: dict[str, Column], source: Source, report: ImportReport
) -> np.ndarray:
    if batch.geometry is not None:
        return batch.geometry
    if "x" not in columns or "y" not in columns:
        seen = ", ".join(source.columns)
        raise SourceError(
            f"{source.file_name}: no coordinate columns (X/Y or lon/lat); columns seen: {seen}"
        )
    xs = _coordinates(batch, columns["x"], source.file_name, report)
    ys = _coordinates(batch, columns["y"], source.file_name, report)
    points = shapely.points(xs, ys)
    points[~(np.isfinite(xs) & np.isfinite(ys))] = None
    return points


def _coordinates(batch: Batch, column: Column, file_name: str, report: ImportReport) -> np.ndarray:
    values = batch.frame[column.source].to_numpy(dtype=object)
    out = np.full(len(values), np.nan)
    for i, value in enumerate(values):
        try:
            number = rules.to_decimal(column.source, whole(value))
        except InvalidValue as exc:
            report.problems.append(
                Problem(
                    file_name,
                    batch.first_row + i,
                    column.source,
                    value,
                    "invalid_value",
                    exc.reason,
                )
            )
            continue
        if number is not None:
            out[i] = float(number)
    return out


def _source_crs(
    source: Source,
    options: ImportOptions,
    mapping: Mapping,
    geometry: np.ndarray,
    target: Region,
    report: ImportReport,
) -> CRS:
    given = options.crs or mapping.crs
    if given:
        chosen = parse_crs(given, "--crs" if options.crs else "mapping file")
    elif source.crs:
        chosen = parse_crs(source.crs, source.file_name)
    else:
        points = shapely.point_on_surface(geometry[~shapely.is_missing(geometry)])
        xs, ys = shapely.get_x(points), shapely.get_y(points)
        if not looks_geographic(xs, ys):
            area = to_shape(target.boundary)
            raise missing_crs_error(source.file_name, xs, ys, area, target.name_en)
        chosen = CRS.from_epsg(4326)
        report.problems.append(
            Problem(
                source.file_name,
                None,
                "crs",
                None,
                "assumed_crs",
                "the file names no coordinate system; read as WGS 84 longitude/latitude",
                "warning",
            )
        )
    report.crs = f"EPSG:{chosen.to_epsg()}" if chosen.to_epsg() else chosen.name
    return chosen


def _species_aliases(session: Session, mapping: Mapping) -> dict[str, str]:
    """The mapping file's ``[species]`` aliases as alias → catalogue code (any name accepted)."""
    if not mapping.species:
        return {}
    index = SpeciesIndex.load(session)
    return {alias: index.require(name).code for alias, name in mapping.species.items()}


# -- set-wise checks ------------------------------------------------------------------------------
def _check_placement(session: Session, file_name: str, target: Region, report: ImportReport):
    for spot in staging.place(session, target.id):
        where = f"lon {spot.lon:.5f}, lat {spot.lat:.5f}"
        if spot.region_id is None:
            code, message = "outside_kazakhstan", f"lies outside Kazakhstan's regions ({where})"
        else:
            code = "outside_region"
            message = (
                f"lies in {spot.name_en} ({spot.iso_code}), not in {target.name_en} "
                f"({target.iso_code}) ({where})"
            )
        report.problems.append(Problem(file_name, spot.row, "geometry", None, code, message))


def _check_duplicates(session: Session, file_name: str, report: ImportReport) -> None:
    for number, rows in staging.duplicates(session):
        listed = ", ".join(str(r) for r in rows)
        for row in rows:
            report.problems.append(
                Problem(
                    file_name,
                    row,
                    "inventory_number",
                    number,
                    "duplicate_number",
                    f"the inventory number appears {len(rows)} times in this file (rows {listed})",
                )
            )


def _check_near(
    session: Session, file_name: str, target: Region, as_error: bool, report: ImportReport
) -> None:
    for row, plant_id, number, distance in staging.near_existing(session, target.id):
        report.problems.append(
            Problem(
                file_name,
                row,
                "geometry",
                None,
                "near_existing",
                f"lies {distance} m from plant {plant_id} ({number}) of the same species; "
                "the same tree surveyed again?",
                "error" if as_error else "warning",
            )
        )


def _drop_rejected(session: Session, report: ImportReport) -> None:
    staging.drop_rows(session, sorted({p.row for p in report.errors if p.row is not None}))


def _skip_conflicts(session: Session, file_name: str, target: Region, report: ImportReport) -> None:
    found = staging.conflicts(session, target.id)
    for row, plant_id, number in found:
        report.problems.append(
            Problem(
                file_name,
                row,
                "inventory_number",
                number,
                "conflict",
                f"plant {plant_id} was changed in Jasyl after its last import; "
                "kept as it is, this row was not applied",
                "warning",
            )
        )
    staging.drop_rows(session, [row for row, _, _ in found])
    report.conflicts = len(found)


# -- the batch record -----------------------------------------------------------------------------
def _open_batch(
    session: Session,
    actor: Actor,
    source: Source,
    target: Region,
    digest: str,
    options: ImportOptions,
    report: ImportReport,
) -> ImportBatch:
    batch = ImportBatch(
        file_name=source.file_name,
        file_sha256=digest,
        source="file",
        region_id=target.id,
        user_id=actor.user_id,
        status="running",
        encoding=report.encoding,
        crs=report.crs,
        details={
            "format": source.kind,
            "layer": source.layer,
            "actor": actor.label,
            "allow_partial": options.allow_partial,
            "mapping": options.mapping.name if options.mapping else None,
        },
    )
    session.add(batch)
    session.flush()
    report.batch_id = batch.id
    return batch


def _close_batch(
    session: Session, actor: Actor, batch: ImportBatch, target: Region, report: ImportReport
) -> None:
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
    session.flush()
    record_creation(session, actor, "import_batch", batch.id, target.id, report.summary())


def _earlier_batch(session: Session, digest: str, region_id: int) -> ImportBatch | None:
    query = select(ImportBatch).where(
        ImportBatch.file_sha256 == digest,
        ImportBatch.region_id == region_id,
        ImportBatch.status == "done",
    )
    return session.scalars(query.order_by(ImportBatch.id.desc())).first()


def _sha256(path: Path) -> str:
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
