"""Importing a survey file into the registry: the one entry point the CLI and the web app call.

``import_file(session, actor, path, region=..., options=...)`` reads the file (any format of
``importers.sources``), recognises its columns, decides its encoding and CRS, validates every
record, and merges the valid ones into ``plants`` by inventory number within the region, all
inside the caller's unit of work. By default one bad record means nothing is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from pyproj import CRS
from sqlalchemy.orm import Session

from importers import sources, staging
from importers.batches import close_batch, earlier_batch, file_sha256, open_batch, undo_batch
from importers.benefits import BenefitsBeside
from importers.coordinates import LOCATION_HINT, table_geometry
from importers.crs import looks_geographic, missing_crs_error, parse_crs
from importers.detection import geometry_type, layer_columns
from importers.fields import Column, Mapping, load_mapping, record_kind
from importers.green_spaces import Area, AreaReader, Refusal, existing_names
from importers.neighbours import ExistingPlants
from importers.proposals import confirmed_aliases, confirmed_lines
from importers.report import ImportReport, Problem
from importers.rows import Clean, Normaliser
from importers.sources import Batch, Source, SourceError, open_source
from registry.access import Actor, require_region_write
from registry.errors import InvalidValue
from registry.imports.models import ImportBatch
from registry.inventory.services import create_green_space, green_space_values
from registry.regions.models import Region
from registry.regions.services import RegionPieces, resolve_region
from registry.species.services import SpeciesIndex, keep_aliases
from registry.text import fold

Progress = Callable[[str, int, int], None]
__all__ = ["ImportOptions", "ImportRun", "import_file", "undo_batch"]


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
    keep_aliases: bool = False  # the mapping's [species] aliases into the catalogue, once written


class InventoryNumbers:
    """The inventory numbers of a file's good rows, noted chunk by chunk as they are read: each
    repeated one with all its rows. (Chunks merged live never reach the staging table, so the
    file's repeats are found here, not there.)"""

    def __init__(self) -> None:
        self.first: dict[str, int] = {}  # each number's first row
        self.repeats: dict[str, list[int]] = {}  # a repeated number's rows

    def add(self, numbers: list[str | None], rows: list[int]) -> bool:
        """Note a chunk's rows and their numbers (``None``: none); ``False`` if any repeats."""
        chunk = {n: r for n, r in zip(numbers, rows, strict=True) if n is not None}
        if len(chunk) == len(rows) - numbers.count(None) and self.first.keys().isdisjoint(chunk):
            self.first.update(chunk)  # the usual case, without a loop in Python
            return True
        for number, row in zip(numbers, rows, strict=True):
            if number is not None and self.first.setdefault(number, row) != row:
                self.repeats.setdefault(number, [self.first[number]]).append(row)
        return False

    def repeated(self) -> list[tuple[str, list[int]]]:
        return sorted(self.repeats.items(), key=lambda item: item[1][0])


@dataclass
class ImportRun:
    """One import under way: what was asked, what the file turned out to be, what happened.

    The steps of an import read and write this one record instead of passing a dozen
    arguments along; ``report`` is what the caller gets back.
    """

    session: Session
    actor: Actor
    source: Source
    columns: dict[str, Column]
    mapping: Mapping
    target: Region
    options: ImportOptions
    report: ImportReport
    digest: str
    progress: Progress | None = None
    records: str = "plants"  # or "green_spaces" (importers.fields.record_kind)
    areas: list[Area] = field(default_factory=list)  # green spaces to create
    batch: ImportBatch | None = None  # opened before the first live chunk, else at the merge
    inserted: int | None = None  # new plants merged live, chunk by chunk (``_ChunkWriter``)
    known: int = 0  # rows staged live with numbers the region has: they update at the end
    ids_after: int = 0  # the plants' sequence value before the first live chunk
    numbers: InventoryNumbers = field(default_factory=InventoryNumbers)
    benefits: BenefitsBeside | None = None  # a live import's benefit tallies, summed beside it

    @property
    def file_name(self) -> str:
        return self.source.file_name

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        """Add a phase's wall time to ``report.seconds``: where a slow import spends it."""
        start = time.perf_counter()
        try:
            yield
        finally:
            seconds = self.report.seconds
            seconds[phase] = seconds.get(phase, 0.0) + time.perf_counter() - start

    def tell(self, stage: str, done: int, total: int) -> None:
        if self.progress:
            self.progress(stage, done, total)

    def problem(
        self,
        row: int | None,
        field: str,
        value: Any,
        code: str,
        message: str,
        severity: str = "error",
    ) -> None:
        self.report.problems.append(
            Problem(self.file_name, row, field, value, code, message, severity)
        )


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
        digest = file_sha256(path)
        shape = geometry_type(source, mapping)
        records = record_kind(source.columns, mapping, shape, source.file_name)
        earlier = earlier_batch(session, digest, target.id, source.layer, records)
        if earlier is not None and not options.dry_run:
            report.status, report.batch_id = "unchanged", earlier.id
            report.rows_read = earlier.rows_read
            return report
        report.encoding = f"{source.encoding.codec} ({source.encoding.source})"
        report.records = records
        columns = layer_columns(source, mapping, records, report)
        run = ImportRun(
            session, actor, source, columns, mapping, target, options, report, digest, progress
        )
        run.records = records
        return _in_savepoint(run)


def _in_savepoint(run: ImportRun) -> ImportReport:
    """Everything an import writes sits in one savepoint: a refused file leaves no trace."""
    read, write = (_read_areas, _write_areas) if run.records == "green_spaces" else (_stage, _merge)
    savepoint = run.session.begin_nested()
    try:
        read(run)
        run.report.rejected = len({p.row for p in run.report.errors})
        # A species only a person may confirm stops the import even when partial: the file
        # cannot be imported again later for its remaining rows (the same file is "unchanged").
        stop = run.report.errors and not run.options.allow_partial or run.report.proposals
        if stop or run.options.dry_run:
            savepoint.rollback()
            run.report.status = "dry_run" if run.options.dry_run else "rejected"
        else:
            write(run)
            if run.options.keep_aliases:
                _keep_aliases(run)
            savepoint.commit()
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()  # the caller's session stays usable after a refused file
        raise
    finally:
        if run.benefits is not None:
            run.benefits.close()
    run.report.problems.sort(key=lambda p: (p.row or 0, p.field))
    return run.report


def _stage(run: ImportRun) -> None:
    """Read, validate and COPY every batch of the file into the staging table.

    An import of several chunks that will write everything or nothing also merges each
    chunk's new plants while it reads (``_ChunkWriter``); the whole-file checks still come
    before the commit.
    """
    with run.timed("prepare"):
        staging.create(run.session)
        species = SpeciesIndex.load(run.session, _species_aliases(run.session, run.mapping))
        pieces = RegionPieces.load(run.session)
    normaliser: Normaliser | None = None
    existing: ExistingPlants | None = None  # the region's plants, read with the first chunk
    # A file of one chunk has nothing to overlap: it is staged, checked, then merged.
    several = run.source.total > sources.BATCH_SIZE
    live = several and not run.options.dry_run and not run.options.allow_partial
    # Closed even when a batch fails: an open reader keeps GDAL settings (the encoding) set.
    with closing(run.source.batches()) as batches, _ChunkWriter(run, live) as writer:
        while True:
            with run.timed("read"):
                batch = next(batches, None)
            if batch is None:
                break
            with run.timed("validate"):
                geometry = _geometry_of(batch, run)
                if normaliser is None:
                    region = (run.target, pieces)
                    source_crs = _source_crs(run, geometry)
                    normaliser = Normaliser(
                        run.file_name, run.columns, source_crs, run.mapping, species, region
                    )
                clean = normaliser.normalise(batch, geometry)
                if run.report.rows_read == 0:  # the first chunk: nothing is merged yet
                    spots = None if several else normaliser.spots[clean.good]
                    existing = ExistingPlants.load(run.session, run.target.id, spots)
                    writer.known = set(existing.numbers) if existing else set()
                if existing is not None:
                    _check_near(run, existing, normaliser.spots, clean)
            run.report.problems.extend(clean.problems)
            run.report.rows_read += len(batch.frame)
            writer.send(clean)
            run.tell("reading", run.report.rows_read, run.source.total)
    if run.report.rows_read == 0:
        raise SourceError(f"{run.file_name}: the file holds no records")
    run.report.proposals = list(normaliser.proposals.values()) if normaliser else []
    run.report.words = normaliser.words.counts if normaliser else {}
    with run.timed("checks"):
        _check_duplicates(run)


class _ChunkWriter:
    """Writes each validated chunk on a thread of its own, one chunk behind the reader: to the
    staging table, and in a live import its new plants straight into ``plants`` (see
    ``importers.staging``).

    The thread uses the session's connection (the import's one transaction) while the reading
    thread leaves the session alone; the reader waits for the previous chunk before handing
    over the next, so there is one chunk in flight and memory stays flat. The first row error
    or repeated inventory number ends the live merging (the import will be refused and rolled
    back); the chunks are still staged so that every problem of the file gets reported.
    """

    def __init__(self, run: ImportRun, live: bool) -> None:
        self.run = run
        self.live = live
        self.connection = staging.driver_connection(run.session)
        self.thread = staging.InFlight("jasyl-import")
        self.known: set[str] = set()  # the region's numbers before the import (set when live)

    def __enter__(self) -> _ChunkWriter:
        if self.live:
            self.run.ids_after = staging.go_live(self.run.session)
            self.run.inserted = 0
            if BenefitsBeside.possible(self.run.session):
                self.run.benefits = BenefitsBeside(self.run.session)
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        with self.run.timed("write"):  # the last chunk, still being written
            self.thread.close(quietly=kind is not None)  # the first exception is the one to tell
        if not self.live:
            self.run.inserted = None  # merged in part, if at all: the import will be refused

    def send(self, clean: Clean) -> None:
        """Write a chunk's good rows: staged, or if live, the new plants merged at once and the
        rest staged."""
        run = self.run
        good = np.flatnonzero(clean.good)
        numbers = clean.values["inventory_number"][good].tolist()
        repeated = not run.numbers.add(numbers, clean.values["row_no"][good].tolist())
        if repeated or any(p.severity == "error" for p in clean.problems):
            self.live = False
        if self.live and run.batch is None:  # the first chunk: nothing in flight, the session
            run.batch = open_batch(run)  # is ours
        with run.timed("copy"):
            plants, staged = self._split(good, numbers)
            new = None
            if len(plants):
                # Rows without a number are always new: their registry numbers need their ids.
                ids = staging.reserve_ids(run.session, len(plants)) if None in numbers else None
                region = (run.target.id, run.target.kato)
                new = staging.plant_copy_data(
                    self.connection, clean, plants, ids, region, run.actor.user_id, run.batch.id
                )
            rows = staging.copy_data(self.connection, clean.rows(staged)) if len(staged) else None
        if self.live:
            run.known += len(staged)
        with run.timed("write"):  # waiting for the database to finish the previous chunk
            self.thread.wait()
        self.thread.send(self._write, new, rows)
        if new is not None and run.benefits is not None:
            with run.timed("benefits"):  # waiting for the sums of the previous chunk
                run.benefits.add(new)

    def _split(self, good: np.ndarray, numbers: list[str | None]) -> tuple[np.ndarray, ...]:
        """The rows ``good`` as (new plants to COPY, rows to stage): all staged unless live."""
        if not self.live:
            return good[:0], good
        known = self.known
        new = np.fromiter((n is None or n not in known for n in numbers), bool, len(good))
        return good[new], good[~new]

    def _write(self, plants: staging.NewPlants | None, rows: bytes | None) -> None:
        if plants is not None:
            staging.copy_plants(self.connection, plants)
            self.run.inserted += plants.count
        if rows is not None:
            staging.copy_rows(self.connection, rows)


def _merge(run: ImportRun) -> None:
    session, report, target, actor = run.session, run.report, run.target, run.actor
    staging.drop_rows(session, sorted({p.row for p in report.errors if p.row is not None}))
    merged = run.batch.id if run.batch else staging.NO_BATCH
    if run.batch is not None and run.inserted is None:
        raise RuntimeError("a live import stopped merging but found no row error")
    with run.timed("checks"):
        # Live, the rows that did not go in are those whose numbers the region knew.
        known = run.known > 0 if run.batch else staging.any_known(session, target.id, merged)
        if known:
            _skip_conflicts(run, merged)
    batch = run.batch or open_batch(run)
    run.tell("writing", 0, report.rows_read)
    if run.benefits is not None:
        with run.timed("benefits"):  # the last chunk's sums, and adding them up
            run.benefits.book(session)
    with run.timed("merge"):
        report.imported, report.updated, report.unchanged = staging.merge(
            session,
            target.id,
            target.kato,
            batch.id,
            actor.user_id,
            actor.label,
            known,
            inserted=run.inserted if run.batch else None,
            after=run.ids_after,
        )
    with run.timed("close"):
        close_batch(run, batch)
    run.tell("writing", report.rows_read, report.rows_read)


def _read_areas(run: ImportRun) -> None:
    """Read and check a layer of green spaces; keep the records to create in ``run.areas``."""
    pieces = RegionPieces.load(run.session)
    taken = existing_names(run.session, run.target.id)
    reader: AreaReader | None = None
    left_out = 0  # points and lines of a layer mixing them with the green spaces' polygons
    for batch in run.source.batches():
        geometry = _geometry_of(batch, run)
        if reader is None:
            region = (run.target, pieces)
            reader = AreaReader(run.columns, run.mapping, _source_crs(run, geometry), region)
        other = ~np.isin(shapely.get_type_id(geometry), (-1, 3, 6))
        left_out += int(other.sum())
        skipped = set((np.flatnonzero(other) + batch.first_row).tolist())
        for item in reader.read(batch, geometry):
            if item.row in skipped:
                continue
            if isinstance(item, Refusal):
                run.problem(item.row, item.field, item.value, item.code, item.message)
            else:
                _check_area(run, item, taken)
        run.report.rows_read += len(batch.frame)
        run.tell("reading", run.report.rows_read, run.source.total)
    if run.report.rows_read == 0:
        raise SourceError(f"{run.file_name}: the file holds no records")
    if left_out:
        message = (
            f"{left_out} points and lines left out: a green space is an area; import them as "
            'plants with records = "plants" in the mapping file'
        )
        run.problem(None, "geometry", None, "left_out", message, "warning")


def _check_area(run: ImportRun, area: Area, taken: dict[str, int]) -> None:
    try:
        values = green_space_values(area.values)
    except InvalidValue as exc:
        column = run.columns.get(exc.field)
        where = column.source if column else {"geom": "geometry"}.get(exc.field, exc.field)
        run.problem(area.row, where, exc.value, "invalid_value", exc.reason)
        return
    same = fold(values["name"])
    if same in taken:
        run.problem(
            area.row,
            run.columns["name"].source if "name" in run.columns else "name",
            values["name"],
            "conflict",
            f"green space {taken[same]} of this name is in the registry already; "
            "kept as it is, this row was not applied",
            "warning",
        )
        run.report.conflicts += 1
        return
    run.areas.append(area)


def _write_areas(run: ImportRun) -> None:
    batch = open_batch(run)
    for done, area in enumerate(run.areas, start=1):
        space = create_green_space(run.session, run.actor, area.values)
        space.import_batch_id = batch.id
        run.tell("writing", done, len(run.areas))
    run.session.flush()
    run.report.imported = len(run.areas)
    close_batch(run, batch)


# -- reading --------------------------------------------------------------------------------------
def _geometry_of(batch: Batch, run: ImportRun) -> np.ndarray:
    if batch.geometry is not None:
        return batch.geometry
    built = table_geometry(batch.frame, run.columns, run.file_name, batch.first_row)
    if built is None:
        seen = ", ".join(run.source.columns)
        raise SourceError(f"{run.file_name}: {LOCATION_HINT}; columns seen: {seen}")
    geometry, problems = built
    run.report.problems.extend(problems)
    return geometry


def _source_crs(run: ImportRun, geometry: np.ndarray) -> CRS:
    given = run.options.crs or run.mapping.crs
    if given:
        chosen = parse_crs(given, "--crs" if run.options.crs else "mapping file")
    elif run.source.crs:
        chosen = parse_crs(run.source.crs, run.file_name)
    else:
        points = shapely.point_on_surface(geometry[~shapely.is_missing(geometry)])
        xs, ys = shapely.get_x(points), shapely.get_y(points)
        if not looks_geographic(xs, ys):
            area = to_shape(run.target.boundary)
            raise missing_crs_error(run.file_name, xs, ys, area, run.target.name_en)
        chosen = CRS.from_epsg(4326)
        run.problem(
            None,
            "crs",
            None,
            "assumed_crs",
            "the file names no coordinate system; read as WGS 84 longitude/latitude",
            "warning",
        )
    run.report.crs = f"EPSG:{chosen.to_epsg()}" if chosen.to_epsg() else chosen.name
    return chosen


def _keep_aliases(run: ImportRun) -> None:
    kept = keep_aliases(run.session, run.actor, confirmed_lines(run.mapping))
    run.report.kept_aliases = [f"{alias} → {species.code}" for alias, species in kept]


def _species_aliases(session: Session, mapping: Mapping) -> dict[str, str]:
    """The mapping's confirmed ``[species]`` lines as alias → catalogue code."""
    if not mapping.species:
        return {}
    return confirmed_aliases(SpeciesIndex.load(session), mapping)


# -- set-wise checks ------------------------------------------------------------------------------
def _check_duplicates(run: ImportRun) -> None:
    for number, rows in run.numbers.repeated():
        listed = ", ".join(str(r) for r in rows)
        message = f"the inventory number appears {len(rows)} times in this file (rows {listed})"
        for row in rows:
            run.problem(row, "inventory_number", number, "duplicate_number", message)


def _check_near(run: ImportRun, existing: ExistingPlants, spots: np.ndarray, clean: Clean) -> None:
    """Rows within a metre of an existing plant of the same species: warnings, or row errors
    when the options say so (such rows are then not staged, like any refused row)."""
    good = np.flatnonzero(clean.good)
    values = clean.values
    found = existing.near(spots[good], values["species_id"][good], values["inventory_number"][good])
    error = run.options.near_is_error
    for neighbour in found:
        i = good[neighbour.index]
        clean.good[i] = clean.good[i] and not error
        clean.problems.append(
            Problem(
                run.file_name,
                int(values["row_no"][i]),
                "geometry",
                None,
                "near_existing",
                f"lies {neighbour.metres:.2f} m from plant {neighbour.plant_id} "
                f"({neighbour.number}) of the same species; the same tree surveyed again?",
                "error" if error else "warning",
            )
        )


def _skip_conflicts(run: ImportRun, merged: int) -> None:
    found = staging.conflicts(run.session, run.target.id, merged)
    for row, plant_id, number in found:
        run.problem(
            row,
            "inventory_number",
            number,
            "conflict",
            f"plant {plant_id} was changed in Jasyl after its last import; "
            "kept as it is, this row was not applied",
            "warning",
        )
    staging.drop_rows(run.session, [row for row, _, _ in found])
    run.report.conflicts = len(found)
