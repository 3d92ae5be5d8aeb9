"""The charts of the report pages, described once and drawn twice.

A ``Chart`` holds what a reader needs to read a figure: its categories, its series with their
units, and its axis titles, already in the reader's language. The page draws it with Chart.js
(``web/static/jasyl-charts.js`` reads the description from a JSON block, so no page needs an
inline script), the PDF with matplotlib as SVG (``web.reports.pdf``): the bar on the screen and
the bar on paper are the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from flask_babel import gettext as _

from web.i18n import language
from web.labels import (
    CARE_KIND_NAMES,
    STAGE_NAMES,
    local_name,
    region_name,
    seed_origin_name,
    species_name,
    whole_number,
)

PLANNED, PLANTED, REPLANTED = "#9e9e9e", "#31a354", "#fdae6b"
SURVIVAL_1, SURVIVAL_3 = "#d95f0e", "#756bb1"
# Chart.js and the browser's Intl.NumberFormat take BCP 47 tags.
LOCALES = {"kk": "kk-KZ", "ru": "ru-RU", "en": "en-GB"}


@dataclass(frozen=True)
class Series:
    """One named row of values; ``axis`` "percent" puts it on the right-hand 0–100 % scale."""

    label: str
    values: list[float | None]
    colour: str
    kind: Literal["bar", "line"] = "bar"
    axis: Literal["count", "percent"] = "count"


@dataclass(frozen=True)
class Chart:
    """A chart as data: ``id`` names its canvas on the page."""

    id: str
    title: str
    categories: list[str]
    series: list[Series]
    count_title: str
    category_title: str
    percent_title: str | None = None
    horizontal: bool = False
    value_max: float | None = None  # 100 for a chart of percentages
    note: str | None = None  # what the figures leave out, said under the chart
    locale: str = field(default_factory=lambda: LOCALES.get(language(), "ru-RU"))

    @property
    def empty(self) -> bool:
        return not self.categories

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _percent_title() -> str:
    return _("Survival, %")


def planting_by_year(trend: Iterable[Mapping[str, Any]]) -> Chart:
    """Planned against planted and replanted, per planting year (the national trend)."""
    rows = sorted(trend, key=lambda r: r["year"])
    return Chart(
        id="chart-planting-by-year",
        title=_("Planned, planted and replanted by year"),
        categories=[str(r["year"]) for r in rows],
        series=[
            Series(_("Planned"), [r.get("planned", 0.0) for r in rows], PLANNED),
            Series(_("Planted"), [r["planted"] for r in rows], PLANTED),
            Series(_("Replanted"), [r["replanted"] for r in rows], REPLANTED),
        ],
        count_title=_("Quantity"),
        category_title=_("Planting year"),
    )


def plan_and_survival_by_year(trend: Iterable[Mapping[str, Any]]) -> Chart:
    """A region's plan against its planting per year, with the survival of each year's cohort."""
    rows = sorted(trend, key=lambda r: r["year"])
    return Chart(
        id="chart-region-trend",
        title=_("Plan and actual by year"),
        categories=[str(r["year"]) for r in rows],
        series=[
            Series(_("Planned"), [r["planned"] for r in rows], PLANNED),
            Series(_("Planted"), [r["planted"] for r in rows], PLANTED),
            Series(_("Replanted"), [r["replanted"] for r in rows], REPLANTED),
            Series(
                _("Survival after 1 season"),
                [r["rate_1"] for r in rows],
                SURVIVAL_1,
                "line",
                "percent",
            ),
            Series(
                _("Survival after 3 seasons"),
                [r["rate_3"] for r in rows],
                SURVIVAL_3,
                "line",
                "percent",
            ),
        ],
        count_title=_("Trees, pcs"),
        category_title=_("Planting year"),
        percent_title=_percent_title(),
    )


def survival_by_species(rows: Iterable[Mapping[str, Any]], by_code: bool = True) -> Chart:
    """Survival after the 1st and 3rd seasons per species; ``by_code`` rows carry the
    catalogue code (national tallies), otherwise the names themselves (a report's rows)."""

    def name(r: Mapping[str, Any]) -> str:
        return species_name(r["species"]) if by_code else f"{local_name(r)}, {r['planting_year']}"

    title = _("Survival by species")
    return _survival_bars("chart-survival-by-species", title, _("Species"), rows, name)


def survival_by_seed_origin(rows: Iterable[Mapping[str, Any]]) -> Chart:
    """Survival after the 1st and 3rd seasons per seed provenance, from the rows of
    ``registry.nursery.provenance.survival_by_seed_origin``."""
    title, axis = _("Survival by seed provenance"), _("Seed provenance")
    return _survival_bars("chart-survival-by-seed-origin", title, axis, rows, seed_origin_name)


def _survival_bars(
    chart_id: str,
    title: str,
    axis: str,
    rows: Iterable[Mapping[str, Any]],
    name: Callable[[Mapping[str, Any]], str],
) -> Chart:
    """Horizontal bars of survival after the 1st and 3rd seasons (0–100 %), one pair a row
    named by ``name``; ``axis`` says what the names are. Rows with no check are left out:
    nothing measured is not 0 %."""
    rows = [r for r in rows if r.get("rate_1") is not None or r.get("rate_3") is not None]
    return Chart(
        id=chart_id,
        title=title,
        categories=[name(r) for r in rows],
        series=[
            Series(_("After 1 season"), [r.get("rate_1") for r in rows], SURVIVAL_1),
            Series(_("After 3 seasons"), [r.get("rate_3") for r in rows], SURVIVAL_3),
        ],
        count_title=_percent_title(),
        category_title=axis,
        horizontal=True,
        value_max=100,
    )


def plan_and_planting_by_species(rows: Iterable[Mapping[str, Any]]) -> Chart:
    """A report's trees per species: planned against planted and replanted (pieces only: a
    hedge's running metres do not add up with trees)."""
    rows = list(rows)
    return Chart(
        id="chart-planting-by-species",
        title=_("Planned and planted by species"),
        categories=[local_name(r) for r in rows],
        series=[
            Series(_("Planned"), [r["planned"] for r in rows], PLANNED),
            Series(_("Planted"), [r["planted"] for r in rows], PLANTED),
            Series(_("Replanted"), [r["replanted"] for r in rows], REPLANTED),
        ],
        count_title=_("Trees, pcs"),
        category_title=_("Species"),
        horizontal=True,
    )


def care_done_and_planned(care: Iterable[Mapping[str, Any]]) -> Chart:
    """Care works planned against done, per kind of work (counts of works: their volumes are in
    different units)."""
    rows = list(care)
    return Chart(
        id="chart-care",
        title=_("Care works planned and done"),
        categories=[str(CARE_KIND_NAMES.get(r["kind"], r["kind"])) for r in rows],
        series=[
            Series(_("Planned"), [r["works"] for r in rows], PLANNED),
            Series(_("Done"), [r["done_works"] for r in rows], PLANTED),
        ],
        count_title=_("Works"),
        category_title=_("Kind of work"),
        horizontal=True,
    )


STAGE_COLOURS = ["#c7e9c0", "#74c476", "#31a354", "#006d2c"]  # sown → ready, light → dark


def stock_over_time(history: Iterable[Mapping[str, Any]]) -> Chart:
    """A nursery's plants on hand per stage at each month's end (one line per stage), from
    ``registry.nursery.history.stock_by_stage_over_time``; empty when it held nothing."""
    rows = list(history)
    if not any(r[str(stage)] for r in rows for stage in STAGE_NAMES):
        rows = []
    return Chart(
        id="chart-stock-over-time",
        title=_("Stock by stage over time"),
        categories=[r["on"][:7] for r in rows],
        series=[
            Series(str(name), [r[str(stage)] for r in rows], colour, "line")
            for (stage, name), colour in zip(STAGE_NAMES.items(), STAGE_COLOURS, strict=True)
        ],
        count_title=_("Plants"),
        category_title=_("End of month"),
    )


def stock_by_stage(stock: Iterable[Mapping[str, Any]]) -> Chart:
    """A nursery's stock on hand per species, one series per stage (sown → ready to dispatch),
    from the stock rows of ``registry.nursery.queries.stock``."""
    rows = list(stock)
    species = sorted({r["species"] for r in rows})
    names = {r["species"]: local_name(r) for r in rows}
    series = []
    for stage, colour in zip(STAGE_NAMES, STAGE_COLOURS, strict=False):
        held = dict.fromkeys(species, 0)
        for r in rows:
            if r["stage"] == stage:
                held[r["species"]] += r["quantity"]
        series.append(Series(str(STAGE_NAMES[stage]), [held[s] for s in species], colour))
    return Chart(
        id="chart-stock-by-stage",
        title=_("Stock on hand by stage"),
        categories=[names[s] for s in species],
        series=series,
        count_title=_("Plants"),
        category_title=_("Species"),
        horizontal=True,
    )


CO2_STORED, CO2_SEQUESTERED = "#2c7fb8", "#41ab5d"
CO2_BARS = 15  # a region page's green spaces: the 15 that store most


def co2_by_region(rows: Iterable[Mapping[str, Any]], without_method: int) -> list[Chart]:
    """CO₂ stored and sequestered per region (``registry.benefits.services.report`` rows), two
    charts since tonnes and tonnes a year share no axis."""
    return _co2_bars("region", _("Region"), rows, lambda r: region_name(r["region"]),
                     without_method)  # fmt: skip


def co2_by_green_space(rows: Iterable[Mapping[str, Any]], without_method: int) -> list[Chart]:
    """A region's green spaces that store most CO₂ (rows with ``name`` and the figures)."""
    top = sorted(rows, key=lambda r: -r["co2_stored_t"])[:CO2_BARS]
    return _co2_bars("green-space", _("Green space"), top, lambda r: r["name"], without_method)


def _co2_bars(
    kind: str,
    axis: str,
    rows: Iterable[Mapping[str, Any]],
    name: Callable[[Mapping[str, Any]], str],
    without_method: int,
) -> list[Chart]:
    """Horizontal bars of CO₂ stored (t) and sequestered (t a year), the same rows in both,
    each saying "trees only; N plants without a method" (estimates, never extrapolated)."""
    rows = [r for r in rows if r["trees"]]
    note = _("Trees only; %(n)s plants without a method.", n=whole_number(without_method))
    stored = _("CO₂ stored, t")
    sequestered = _("CO₂ sequestered, t per year")
    return [
        Chart(
            id=f"chart-co2-{what}-by-{kind}",
            title=title,
            categories=[name(r) for r in rows],
            series=[Series(title, [r[key] for r in rows], colour)],
            count_title=title,
            category_title=axis,
            horizontal=True,
            note=note,
        )
        for what, title, key, colour in (
            ("stored", stored, "co2_stored_t", CO2_STORED),
            ("sequestered", sequestered, "co2_sequestered_t_per_year", CO2_SEQUESTERED),
        )
    ]
