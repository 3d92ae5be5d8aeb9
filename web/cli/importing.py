"""``jasyl import``: survey files into the registry (see ``importers.services.import_file``)."""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from importers.fields import MAPPING_EXAMPLE
from registry.access import Actor
from registry.db import unit_of_work
from registry.errors import JasylError

if TYPE_CHECKING:
    from importers.report import ImportReport

EXIT_REJECTED = 3
EXIT_FILE_ERROR = 1
SHOWN_PROBLEMS = 20
# click rewraps help text unless a paragraph starts with \b: the example keeps its lines.
MAPPING_HELP = (
    "The mapping file (--mapping) says what recognition cannot: which column is which field, "
    "units, cell values, species aliases, defaults. Unknown keys are errors listing the valid "
    "ones. Each report lists every column: the field it fills, mapped (the mapping says so), "
    "recognised (its name, with values that fit), proposed (a name that fits but values or "
    "words that do not, such as dates or codes taken for a number or a species: not used "
    "until the mapping names it) or ignored, and why.\n\n\b\n"
    + MAPPING_EXAMPLE
    + "\n--dry-run --write-mapping MAP.toml writes this file for you from the survey: every "
    "column's field (proposed ones as commented lines), the units read from column names, the "
    'distinct condition, status and planting-form words with their meaning ("?" where '
    'unknown, commented) and the species names to confirm. Remove the "# " before a line to '
    "confirm it, correct what is wrong, then run with --mapping MAP.toml: the same columns are "
    "read in the same units; an unknown word stays refused until given a meaning. An existing "
    "MAP.toml keeps its lines and gains only the keys it lacks."
)


class ImportCommands(click.Group):
    """``jasyl import PATH …`` imports a file; ``jasyl import undo BATCH`` takes one back."""

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["file", *args]
        return super().resolve_command(ctx, args)


@click.group("import", cls=ImportCommands)
def import_group() -> None:
    """Import survey files: `jasyl import PATH --region CODE [options]` (see `import file --help`),
    or take an import back with `jasyl import undo BATCH`."""


@import_group.command("file", epilog=MAPPING_HELP)
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--region", required=True, help="Region of the survey: KZ-71, 71, Astana or Астана.")
@click.option(
    "--mapping",
    type=click.Path(path_type=Path, dir_okay=False),
    help="TOML or YAML file naming columns, units, value translations, species aliases.",
)
@click.option("--crs", help="Coordinate system when the file has none or a wrong one (EPSG).")
@click.option(
    "--encoding", help="Text encoding of a shapefile or CSV: cp1251, cp866, kz1048, utf-8."
)
@click.option("--layer", help="Layer of a GeoPackage (or sheet of an XLSX workbook).")
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option("--allow-partial", is_flag=True, help="Write the valid rows even if others fail.")
@click.option(
    "--near-is-error",
    is_flag=True,
    help="Refuse rows within 1 m of an existing plant of the same species (else a warning).",
)
@click.option(
    "--keep-aliases",
    is_flag=True,
    help="After a successful import, keep the mapping file's [species] aliases in the catalogue.",
)
@click.option(
    "--write-mapping",
    "write_mapping",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a complete mapping template into this TOML file: every column's field, the units "
    "read from column names, the distinct condition, status and planting-form words with their "
    'meaning ("?" where unknown) and the species names to confirm. Proposals are commented '
    "lines: remove the # to confirm one. An existing file keeps its lines. Then run again "
    "with --mapping.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write every problem to this CSV (file,row,field,value,code,message).",
)
def import_file_command(
    path: Path,
    region: str,
    mapping: Path | None,
    crs: str | None,
    encoding: str | None,
    layer: str | None,
    dry_run: bool,
    allow_partial: bool,
    near_is_error: bool,
    keep_aliases: bool,
    write_mapping: Path | None,
    as_json: bool,
    report_path: Path | None,
) -> None:
    """Import a survey file (shapefile or its .zip, GeoPackage, GeoJSON, CSV, XLSX).

    By default nothing is written when any row has an error (exit status 3); file-level
    problems (encoding, CRS, columns) exit with status 1.
    """
    from importers.services import ImportOptions, import_file  # heavy: only when importing

    if write_mapping is not None and write_mapping.suffix.lower() != ".toml":
        raise click.BadParameter(
            "the mapping is written as TOML: name a .toml file", param_hint="--write-mapping"
        )
    if write_mapping is not None:  # before importing: not a committed import, then an error
        from importers.template import check_base

        _check_writable(write_mapping, "--write-mapping")
        check_base(write_mapping)
    if report_path:
        _check_writable(report_path, "--report")
    options = ImportOptions(
        mapping, crs, encoding, layer, dry_run, allow_partial, near_is_error, keep_aliases
    )
    _collect_less()
    try:
        with _progress(quiet=as_json) as bar, unit_of_work() as session:
            task = bar.add_task("reading", total=None) if bar else None

            def progress(stage: str, done: int, total: int) -> None:
                if bar is not None:
                    bar.update(task, description=stage, completed=done, total=total)

            report = import_file(
                session,
                Actor.system("jasyl import"),
                path,
                region=region,
                options=options,
                progress=progress,
            )
            if report_path:  # before the commit: a report that cannot be written undoes it
                _write_report(report, report_path)
    except JasylError as exc:
        failed = _failed_report(path, region, exc)
        if report_path:
            _write_report(failed, report_path)
        _write_template(failed, write_mapping, mapping)
        if not as_json:
            _print_columns(failed)
            raise
        click.echo(json.dumps(_file_error(path, exc), ensure_ascii=False))
        sys.exit(EXIT_FILE_ERROR)
    _write_template(report, write_mapping, mapping)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        _print_summary(report)
    if not report.ok:
        sys.exit(EXIT_REJECTED)


def _collect_less() -> None:
    """This process reads one file, in chunks of tens of thousands of objects (geometries,
    cells, texts), none of them in a reference cycle: Python's cyclic collector, run every
    700 allocations by default, went through them again and again (~25 % of validation's CPU
    at 200,000 rows). The modules already loaded are set aside for good (``gc.freeze``) and
    the collector runs every 100,000 allocations; memory is still freed by reference count."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _write_template(report: ImportReport, target: Path | None, mapping: Path | None) -> None:
    """The mapping template into ``--write-mapping``'s file, told on stderr (stdout may be
    JSON); nothing when the import stopped before it saw the columns."""
    if target is None:
        return
    if not report.columns:
        stopped = "the import stopped before reading the columns"
        click.echo(f"{target}: not written: {stopped}", err=True)
        return
    from importers.template import write_template

    held = write_template(target, report, mapping)
    click.echo(
        f"{target}: mapping template written: {held['columns']} column(s) read, "
        f"{held['proposed_columns']} proposed; {held['words']} distinct word(s), "
        f'{held["unknown_words"]} not understood ("?"); {held["species"]} species '
        'proposal(s) to confirm. Lines starting with "# " are not used until the "# " is '
        f"removed; correct what is wrong, then run with --mapping {target}",
        err=True,
    )


def _check_writable(path: Path, option: str) -> None:
    """Refuse a --report (or --write-mapping) path that cannot be written before importing
    anything (it used to fail with a traceback after the import had committed)."""
    existed = path.exists()
    try:
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        message = f"{path} cannot be written ({reason})"
        raise click.BadParameter(message, param_hint=option) from None
    if not existed:
        path.unlink()


def _write_report(report: ImportReport, path: Path) -> None:
    try:
        report.write_csv(path)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise click.ClickException(
            f"--report {path} cannot be written ({reason}); nothing was imported"
        ) from None


def _failed_report(path: Path, region: str, exc: JasylError) -> ImportReport:
    """A file-level error as a report: the column table detection got to, and the error as
    one line without a row, so ``--report`` holds it like any other problem."""
    from importers.detection import ColumnUse
    from importers.report import ImportReport, Problem

    report = ImportReport(file_name=path.name, region=region, status="error")
    report.columns = [ColumnUse(**use) for use in exc.details.get("columns", [])]
    report.problems = [Problem(path.name, None, "file", None, exc.code, exc.message)]
    return report


def _file_error(path: Path, exc: JasylError) -> dict:
    """A file-level error as ``--json`` prints it: the status, the code, the message, and the
    column table when detection got that far."""
    details = {k: v for k, v in exc.details.items() if k != "columns"}
    return {
        "file": path.name,
        "status": "error",
        "error": exc.code,
        "message": exc.message,
        "columns": exc.details.get("columns", []),
        **({"details": details} if details else {}),
    }


class _progress:
    """A rich progress bar on a terminal; nothing when output is piped or JSON is asked for."""

    def __init__(self, quiet: bool) -> None:
        self.bar = None
        if not quiet and sys.stderr.isatty():
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                transient=True,
            )

    def __enter__(self) -> Progress | None:
        if self.bar:
            self.bar.__enter__()
        return self.bar

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.__exit__(*exc)


def _print_summary(report: ImportReport) -> None:
    verdict = {
        "done": f"Imported into {report.region} as batch {report.batch_id}",
        "rejected": "Rejected: nothing was written",
        "dry_run": "Dry run: nothing was written",
        "unchanged": f"Already imported as batch {report.batch_id}: nothing to do",
    }[report.status]
    click.echo(f"{report.file_name}: {verdict}.")
    click.echo(
        f"rows read {report.rows_read:,}, imported {report.imported:,}, "
        f"updated {report.updated:,}, unchanged {report.unchanged:,}, "
        f"rejected {report.rejected:,}, "
        f"conflicts {report.conflicts:,}, warnings {len(report.warnings):,}"
    )
    if report.encoding or report.crs:
        click.echo(f"encoding {report.encoding or '-'}, CRS {report.crs or '-'}")
    if report.records == "green_spaces":
        click.echo("records: green spaces (one per polygon)")
    _print_columns(report)
    for kept in report.kept_aliases:
        click.echo(f"species alias kept in the catalogue: {kept}")
    if report.proposals:
        click.echo(
            f"{len(report.proposals)} species name(s) need confirmation (not imported as a guess); "
            "write them into a mapping with --dry-run --write-mapping MAP.toml"
        )
    _hint_words(report)
    for problem in report.problems[:SHOWN_PROBLEMS]:
        click.echo(("error: " if problem.severity == "error" else "warning: ") + problem.line())
    hidden = len(report.problems) - SHOWN_PROBLEMS
    if hidden > 0:
        click.echo(f"… and {hidden:,} more; write them all with --report FILE")


def _hint_words(report: ImportReport) -> None:
    """Point at the template when words of a condition, status or form column were refused."""
    from importers.vocabulary import WORD_FIELDS

    words = {u.column for u in report.columns if u.field in WORD_FIELDS}
    refused = sorted({p.field for p in report.errors if p.field in words})
    if refused:
        click.echo(
            f"words of {', '.join(refused)} are not understood: --dry-run --write-mapping "
            'MAP.toml lists each distinct word with its meaning ("?" where unknown) to confirm'
        )


def _print_columns(report: ImportReport) -> None:
    if report.columns:
        click.echo("columns:")
    for use in report.columns:
        click.echo(f"  {use.line()}")


@import_group.command("undo")
@click.argument("batch_id", type=int)
def undo_command(batch_id: int) -> None:
    """Remove the plants an import added and give the plants it updated their values back."""
    from importers.services import undo_batch
    from registry.imports.models import ImportBatch

    with unit_of_work() as session:
        reverted, removed = undo_batch(session, Actor.system("jasyl import undo"), batch_id)
        records = session.get(ImportBatch, batch_id).details.get("records", "plants")
    what = "green spaces" if records == "green_spaces" else "plants"
    click.echo(f"Batch {batch_id} undone: {removed:,} {what} removed, {reverted:,} reverted.")


commands = [import_group]
