"""``jasyl report``: a region's yearly report to the ministry, its workflow, national figures.

``build``/``submit`` act for the akimat, ``approve``/``return`` for the ministry (``--as EMAIL``;
without it, the system operator). Building shows progress on a terminal, section by section.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import func, select

from registry.benefits import services as benefit_services
from registry.care import services as care_services
from registry.db import unit_of_work
from registry.felling import services as felling_services
from registry.planting import services as planting_services
from registry.regions.models import Region
from registry.reports import content as report_content
from registry.reports import dashboards, exports
from registry.reports import services as reports
from registry.reports.content import Progress as StepCallback
from registry.species.models import Species
from web.cli.nursery import AS_USER, acting, emit

REGION = click.option("--region", required=True, help="KZ-75, 75, Almaty or Алматы.")
YEAR = click.option("--year", required=True, type=int, help="Report year.")
SECTIONS = ("planting", "survival", "seed origins", "care", "felling", "inventory", "plans")


class steps:
    """A progress bar over the report's sections on a terminal; silent when piped."""

    def __init__(self, title: str) -> None:
        self.bar = None
        if sys.stderr.isatty():
            self.bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
            )
            self.task = self.bar.add_task(title, total=len(SECTIONS))

    def __enter__(self) -> StepCallback:
        if self.bar:
            self.bar.__enter__()

        def advance(section: str) -> None:
            if self.bar:
                self.bar.update(self.task, advance=1, description=section)

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.__exit__(*exc)


# -- names beside the codes of the figures' tables ------------------------------------------------
NAMES_IN = click.option(
    "--language",
    type=click.Choice(["kk", "ru", "en"]),
    default="ru",
    show_default=True,
    help="The language of the name columns beside the codes.",
)
# A code column, the column of its name, and where the name comes from.
NAMED = {
    "region": ("region_name", "region"),
    "species": ("species_name", "species"),
    "latin": ("species_name", "latin"),
    "kind": ("kind_name", "kind"),
    "unit": ("unit_name", "unit"),
    "form": ("form_name", "planting_form"),
    "planting_form": ("form_name", "planting_form"),
}


def reference_names(session, language: str) -> dict[str, dict[str, str]]:
    """Regions by ISO code, species by code and by Latin name, the terms by code, each named in
    ``language`` (a species without a name in it: its Russian name)."""
    from web.i18n import language as current
    from web.labels import export_terms

    with in_language(language):
        terms = export_terms()
        chosen = current()
    regions = {r.iso_code: getattr(r, f"name_{chosen}") for r in session.scalars(select(Region))}
    species: dict[str, str] = {}
    for s in session.scalars(select(Species)):
        species[s.code] = species[s.latin] = getattr(s, f"name_{chosen}") or s.name_ru
    return {"region": regions, "species": species, "latin": species, **terms}


def with_names(
    session, rows: list[dict], labels: list[str], language: str
) -> tuple[list[dict], list[str]]:
    """The rows with a name column beside each code column among ``labels`` (region, species,
    kind of care, unit, planting form), and the labels with those columns in place."""
    names = reference_names(session, language)
    columns: list[str] = []
    for label in labels:
        columns.append(label)
        if label in NAMED:
            columns.append(NAMED[label][0])
    named = []
    for row in rows:
        extra = {}
        for label in labels:
            if label in NAMED:
                column, source = NAMED[label]
                code = row.get(label)
                extra[column] = names.get(source, names.get(label, {})).get(code, code)
        named.append({**row, **extra})
    return named, columns


@click.group("report")
def report() -> None:
    """Yearly reports of the regions to the Ministry of Ecology."""


@report.command("build")
@REGION
@YEAR
@AS_USER
def build(region, year, as_user) -> None:
    """Build (or rebuild) the region's draft report from the registry."""
    with steps("building") as progress, unit_of_work() as session:
        found = reports.build_report(session, acting(session, as_user), region, year, progress)
        click.echo(f"Draft report {found.year}, edition {found.edition}, built.")


@report.command("submit")
@REGION
@YEAR
@AS_USER
def submit(region, year, as_user) -> None:
    """Submit the draft to the ministry: its figures are locked from now on."""
    with steps("submitting") as progress, unit_of_work() as session:
        found = reports.submit_report(session, acting(session, as_user), region, year, progress)
        click.echo(f"Report {found.year}, edition {found.edition}, submitted.")


@report.command("approve")
@REGION
@YEAR
@AS_USER
def approve(region, year, as_user) -> None:
    """Approve the submitted report (ministry)."""
    with unit_of_work() as session:
        found = reports.approve_report(session, acting(session, as_user), region, year)
        click.echo(f"Report {found.year}, edition {found.edition}, approved.")


@report.command("return")
@REGION
@YEAR
@click.option("--comment", required=True, help="Why it goes back to the akimat.")
@AS_USER
def return_(region, year, comment, as_user) -> None:
    """Return the submitted report to the akimat with a comment (ministry)."""
    with unit_of_work() as session:
        found = reports.return_report(session, acting(session, as_user), region, year, comment)
        click.echo(f"Report {found.year}, edition {found.edition}, returned.")


@report.command("show")
@REGION
@YEAR
@click.option("--edition", type=int, help="Edition (default: the latest).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv", "xlsx", "pdf"]),
    default="json",
    show_default=True,
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file (required for xlsx and pdf).",
)
@click.option(
    "--language",
    type=click.Choice(["kk", "ru", "en"]),
    default="ru",
    show_default=True,
    help="The language of the names in CSV, XLSX and PDF (codes keep their own columns).",
)
@AS_USER
def show(region, year, edition, fmt, output, language, as_user) -> None:
    """Show a report edition as JSON or CSV, or write it as an XLSX workbook or a PDF."""
    if fmt in ("xlsx", "pdf") and output is None:
        raise click.UsageError(f"--format {fmt} needs --output FILE")
    with unit_of_work() as session:
        found = reports.get_report(session, acting(session, as_user), region, year, edition)
        if fmt == "json":
            text = json.dumps(reports.describe(found), ensure_ascii=False, indent=1)
        else:
            with in_language(language):
                data = printed_report(session, found) if fmt == "pdf" else exported(found, fmt)
            if fmt != "csv":
                output.write_bytes(data)
                click.echo(f"Wrote {output} (edition {found.edition}, {found.status.value}).")
                return
            text = data
        if output is not None:
            output.write_text(text, encoding="utf-8")
            click.echo(f"Wrote {output}.")
        else:
            click.echo(text)


@contextmanager
def in_language(language: str) -> Iterator[None]:
    """The web app's templates and translations in ``language``, for a PDF or the names in an
    export (no server, no session: the app is built only for its templates and catalogues)."""
    from flask_babel import force_locale

    from web.app import create_app

    app = create_app({"SECRET_KEY": secrets.token_hex(32), "SERVER_NAME": "jasyl.local"})
    with app.test_request_context("/"), force_locale(language):
        yield


def exported(found, fmt: str) -> str | bytes:
    """The edition as CSV or XLSX with names in the current language beside the codes."""
    from web.i18n import language
    from web.labels import export_terms

    reader = exports.Reader(language(), export_terms())
    return (
        exports.to_csv(found.content, reader)
        if fmt == "csv"
        else exports.to_xlsx(found.content, reader)
    )


def printed_report(session, found) -> bytes:
    """The PDF, rendered by the web app's templates (inside ``in_language``)."""
    from web.reports.pdf import report_pdf

    return report_pdf(session, found)


@report.command("national")
@click.option("--year", type=int, help="One year (default: all).")
@click.option(
    "--by",
    "group_by",
    default="region,year,species",
    show_default=True,
    help="Comma-separated: region, year, species, form, unit.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@NAMES_IN
@AS_USER
def national(year, group_by, fmt, language, as_user) -> None:
    """National planting figures: planned vs planted, replanting, survival (ministry)."""
    groups = tuple(g.strip() for g in group_by.split(",") if g.strip())
    with unit_of_work() as session:
        rows = dashboards.national_planting(session, acting(session, as_user), year, groups)
        rows, labels = with_names(session, rows, list(groups), language)
        emit(
            rows,
            fmt,
            [*labels, "planned", "planted", "replanted", "compensatory", "rate_1", "rate_3"],
        )


@report.command("list")
@click.option("--year", type=int)
@AS_USER
def list_(year, as_user) -> None:
    """Each region's latest report edition and its status (ministry)."""
    with unit_of_work() as session:
        rows = dashboards.list_reports(session, acting(session, as_user), year)
        emit(rows, "table", ["region", "year", "edition", "status"])


commands = [report]


# -- figures straight from the registry ----------------------------------------------------------
FIGURE_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "xlsx"]),
    default="table",
    show_default=True,
    help="Output format (xlsx needs --output).",
)
OUTPUT = click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write xlsx to this file."
)


def figures(
    rows: list[dict],
    labels: list[str],
    measures: list[str],
    fmt: str,
    output: Path | None,
    names: tuple | None = None,
) -> None:
    """The rows as a table, JSON, CSV or XLSX; ``names`` (session, language) puts a name
    column beside each code column."""
    if names is not None:
        rows, labels = with_names(names[0], rows, labels, names[1])
    if fmt == "xlsx":
        if output is None:
            raise click.UsageError("--format xlsx needs --output FILE")
        output.write_bytes(exports.rows_to_xlsx(rows, labels, measures))
        click.echo(f"Wrote {output} ({len(rows)} rows).")
        return
    emit(rows, fmt, [*labels, *measures])


@report.command("planting")
@click.option("--year", required=True, type=int)
@click.option("--region", help="One region (default: the country by region, for the ministry).")
@FIGURE_FORMAT
@OUTPUT
@NAMES_IN
@AS_USER
def planting_figures(year, region, fmt, output, language, as_user) -> None:
    """Planned vs planted and replanted by species (and region)."""
    with unit_of_work() as session:
        actor = acting(session, as_user)
        if region:
            content = report_content.build_content(
                session, report_content.readable_region(session, actor, region), year
            )
            rows, labels = content["planting"], ["latin", "planting_form", "unit"]
        else:
            rows = dashboards.national_planting(session, actor, year, ("region", "species", "unit"))
            labels = ["region", "species", "unit"]
        measures = ["planned", "planted", "replanted", "compensatory"]
        figures(rows, labels, measures, fmt, output, (session, language))


@report.command("survival")
@click.option("--year", required=True, type=int, help="Planting year.")
@click.option("--region", help="One region (default: the country by region, for the ministry).")
@FIGURE_FORMAT
@OUTPUT
@NAMES_IN
@AS_USER
def survival_figures(year, region, fmt, output, language, as_user) -> None:
    """Survival after the 1st and 3rd season of the year's planting, by species (and region)."""
    measures = ["planted", "checked_1", "alive_1", "rate_1", "checked_3", "alive_3", "rate_3"]
    with unit_of_work() as session:
        actor = acting(session, as_user)
        if region:
            rows = planting_services.survival_rates(session, actor, region, year, ("species",))
            codes = dict(session.execute(select(Species.id, Species.code)).all())
            rows = [{**r, "species": codes[r["species"]]} for r in rows]
            labels = ["species"]
        else:
            rows = dashboards.national_planting(session, actor, year, ("region", "species"))
            labels = ["region", "species"]
        figures(rows, labels, measures, fmt, output, (session, language))


@report.command("care")
@click.option("--year", required=True, type=int)
@click.option("--region", help="One region (default: the country, for the ministry).")
@FIGURE_FORMAT
@OUTPUT
@NAMES_IN
@AS_USER
def care_figures(year, region, fmt, output, language, as_user) -> None:
    """Care works planned vs done: volume and cost per kind of work."""
    with unit_of_work() as session:
        rows = care_services.care_summary(session, acting(session, as_user), region, year)
        figures(
            rows,
            ["kind", "unit"],
            ["works", "planned_volume", "done_volume", "planned_cost", "done_cost"],
            fmt,
            output,
            (session, language),
        )


@report.command("compensation")
@click.option("--year", type=int, help="Year of felling (default: all).")
@click.option("--region", help="One region (default: the country, for the ministry).")
@click.option("--status", type=click.Choice(["open", "overdue", "fulfilled"]))
@FIGURE_FORMAT
@OUTPUT
@NAMES_IN
@AS_USER
def compensation_figures(year, region, status, fmt, output, language, as_user) -> None:
    """Compensatory planting owed after felling, done, surviving, and overdue."""
    with unit_of_work() as session:
        rows = felling_services.obligations(session, acting(session, as_user), region, year, status)
        figures(
            rows,
            ["region", "number", "case", "due_on", "status"],
            ["owed", "planted", "replanted", "surviving", "outstanding"],
            fmt,
            output,
            (session, language),
        )


# Prices are labels, not measures: an XLSX totals row adds measures up, never prices.
BENEFIT_LABELS = ["region", "price_basis", "co2_price_kzt_per_t", "stormwater_price_kzt_per_m3"]
BENEFIT_MEASURES = [
    "trees",
    "co2_stored_t",
    "co2_sequestered_t_per_year",
    "rain_intercepted_m3_per_year",
    "value_kzt_per_year",
    "plants_without_method",
    "plants_without_dbh",
    "plants_not_assessed",
    "plants_outside_fitted_range",
    "plants_without_rain_figure",
]


class over_regions:
    """A progress bar over the regions a report goes through, on a terminal; silent piped."""

    def __init__(self, title: str, total: int) -> None:
        self.bar = None
        if sys.stderr.isatty():
            self.bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
            )
            self.task = self.bar.add_task(title, total=total)

    def __enter__(self) -> StepCallback:
        if self.bar:
            self.bar.__enter__()
        return lambda region: self.bar and self.bar.update(self.task, advance=1, description=region)

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.__exit__(*exc)


@report.command("benefits")
@click.option("--year", required=True, type=int, help="Prices in effect on 31 December.")
@click.option("--region", help="One region (default: the country by region, for the ministry).")
@click.option(
    "--price-basis",
    type=click.Choice(benefit_services.PRICE_BASES),
    default=benefit_services.DEFAULT_BASIS,
    show_default=True,
    help="The carbon price: the KZ ETS price or the social cost of carbon.",
)
@FIGURE_FORMAT
@OUTPUT
@NAMES_IN
@AS_USER
def benefits_figures(year, region, price_basis, fmt, output, language, as_user) -> None:
    """Trees' CO₂ stored and sequestered, rain intercepted and their value, by region: estimates
    for trees only, with the plants that got no figure counted beside them."""
    with unit_of_work() as session:
        actor = acting(session, as_user)
        total = 1 if region else session.scalar(select(func.count()).select_from(Region))
        with over_regions("benefits", total) as progress:
            rows = benefit_services.report(session, actor, year, region, price_basis, progress)
        if fmt == "json":
            click.echo(json.dumps(rows, ensure_ascii=False))
            return
        figures(rows, BENEFIT_LABELS, BENEFIT_MEASURES, fmt, output, (session, language))
