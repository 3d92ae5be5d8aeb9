"""``jasyl import``: survey files into the registry (see ``importers.services.import_file``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from registry.access import Actor
from registry.db import unit_of_work

if TYPE_CHECKING:
    from importers.report import ImportReport

EXIT_REJECTED = 3
SHOWN_PROBLEMS = 20


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


@import_group.command("file")
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
    help="Write the species names to confirm into this TOML mapping (as commented lines under "
    "[species]; uncomment a line to confirm it), then run again with --mapping.",
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

    options = ImportOptions(
        mapping, crs, encoding, layer, dry_run, allow_partial, near_is_error, keep_aliases
    )
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
    if report_path:
        report.write_csv(report_path)
    _write_proposals(report, write_mapping, mapping)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        _print_summary(report)
    if not report.ok:
        sys.exit(EXIT_REJECTED)


def _write_proposals(report: ImportReport, target: Path | None, mapping: Path | None) -> int:
    """The proposals into ``--write-mapping``'s file, told on stderr (stdout may be JSON)."""
    if target is None:
        return 0
    from importers.proposals import write_proposals

    written = write_proposals(target, report, mapping)
    if written:
        click.echo(
            f"{target}: {written} species proposal(s) written as commented lines under "
            "[species]; uncomment (and correct) each to confirm it, then run with "
            f"--mapping {target}",
            err=True,
        )
    else:
        click.echo(f"{target}: no species to confirm; the file was not changed", err=True)
    return written


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
    for kept in report.kept_aliases:
        click.echo(f"species alias kept in the catalogue: {kept}")
    if report.proposals:
        click.echo(
            f"{len(report.proposals)} species name(s) need confirmation (not imported as a guess); "
            "write them into a mapping with --dry-run --write-mapping MAP.toml"
        )
    for problem in report.problems[:SHOWN_PROBLEMS]:
        click.echo(("error: " if problem.severity == "error" else "warning: ") + problem.line())
    hidden = len(report.problems) - SHOWN_PROBLEMS
    if hidden > 0:
        click.echo(f"… and {hidden:,} more; write them all with --report FILE")


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
