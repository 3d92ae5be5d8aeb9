"""A region's yearly report as a PDF: the letter the akimat attaches and the ministry files.

The PDF is the report page's own content in print form (``reports/report_pdf.html``): a title
page with the approval (who built, submitted and approved it, and when), the tables, the charts
drawn by matplotlib as SVG from the same ``web.reports.charts`` descriptions the pages use, and
page numbers. WeasyPrint lays it out; its text is real text (``pdftotext`` reads the figures),
and every figure is the edition's stored snapshot, so the PDF says what the JSON says.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from flask import render_template
from flask_babel import format_decimal
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from PIL import ImageFile
from sqlalchemy.orm import Session
from weasyprint import HTML

from registry.reports import services as reports
from registry.reports.models import RegionReport
from web.reports import charts
from web.reports.charts import Chart

# Importing WeasyPrint switches Pillow, process-wide, to accept truncated images; a report holds
# only our own charts, and the photo check must keep refusing a JPEG cut short.
ImageFile.LOAD_TRUNCATED_IMAGES = False

CM = 1 / 2.54  # matplotlib sizes figures in inches


def chart_svg(chart: Chart) -> str:
    """The chart as an SVG data URI; its words stay text (``svg.fonttype: none``), so the PDF's
    text layer carries the axis titles and categories too."""
    height = max(6.5, 2.5 + 0.8 * len(chart.categories)) if chart.horizontal else 8
    figure = Figure(figsize=(17 * CM, height * CM), layout="constrained")
    axes = figure.add_subplot()
    bars = [s for s in chart.series if s.kind == "bar"]
    width = 0.8 / max(1, len(bars))
    positions = range(len(chart.categories))
    for index, series in enumerate(bars):
        offsets = [p - 0.4 + width * (index + 0.5) for p in positions]
        values = [v or 0 for v in series.values]
        draw = axes.barh if chart.horizontal else axes.bar
        draw(offsets, values, width, label=series.label, color=series.colour)
    value_axis, category_axis = (
        (axes.xaxis, axes.yaxis) if chart.horizontal else (axes.yaxis, axes.xaxis)
    )
    value_axis.set_major_formatter(FuncFormatter(lambda v, _: format_decimal(v, "#,##0.#")))
    value_axis.set_major_locator(MaxNLocator(integer=chart.value_max is None))
    if chart.value_max is not None:
        (axes.set_xlim if chart.horizontal else axes.set_ylim)(0, chart.value_max)
    category_axis.set_ticks(list(positions), chart.categories)
    lines = [s for s in chart.series if s.kind == "line"]
    if lines and not chart.horizontal:
        percent = axes.twinx()
        percent.set_ylim(0, 100)
        percent.set_ylabel(chart.percent_title or "")
        for series in lines:
            percent.plot(
                list(positions), series.values, "o-", label=series.label, color=series.colour
            )
    if chart.horizontal:
        axes.set_xlabel(chart.count_title)
        axes.set_ylabel(chart.category_title)
        axes.invert_yaxis()
    else:
        axes.set_ylabel(chart.count_title)
        axes.set_xlabel(chart.category_title)
    figure.legend(loc="outside lower center", ncols=len(chart.series), fontsize=7, frameon=False)
    axes.set_title(chart.title)
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue().encode()).decode()


def report_charts(content: dict[str, Any]) -> list[Chart]:
    """The report's charts: plan against planting per species, survival, care; each only when
    the report has figures for it."""
    found = [
        charts.plan_and_planting_by_species(
            r for r in content["planting"] if r["unit"] == "pieces"
        ),
        charts.survival_by_species(content["survival"], by_code=False),
        charts.care_done_and_planned(content["care"]),
    ]
    return [chart for chart in found if not chart.empty]


def report_pdf(session: Session, report: RegionReport) -> bytes:
    """The edition as a PDF in the current request's language."""
    drawn = [(chart, chart_svg(chart)) for chart in report_charts(report.content)]
    html = render_template(
        "reports/report_pdf.html",
        report=reports.describe(report),
        people=reports.report_people(session, report),
        charts=drawn,
    )
    return HTML(string=html).write_pdf()
