"""Reading a chart the way a person reads it, for browser tests: what Chart.js drew on a canvas
(its categories, series and axis titles), and whether the canvas has any ink at all."""

from __future__ import annotations

from typing import Any

DRAWN = """(id) => {
  const canvas = document.querySelector(`canvas[data-chart="${id}"]`);
  const chart = canvas && window.Chart && window.Chart.getChart(canvas);
  if (!chart) return null;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) ink++;
  const axes = {};
  for (const [key, scale] of Object.entries(chart.scales)) {
    axes[key] = { title: scale.options.title.text, ticks: scale.ticks.map((t) => t.label) };
  }
  return {
    categories: chart.data.labels,
    series: chart.data.datasets.map((d) => ({ label: d.label, data: d.data })),
    axes: axes,
    ink: ink,
    title: chart.options.plugins.title.text,
  };
}"""


def drawn_chart(page: Any, chart_id: str, timeout: float = 15000) -> dict[str, Any]:
    """The chart ``chart_id`` once Chart.js has drawn it (fails if it never is)."""
    page.wait_for_function(
        '(id) => { const c = document.querySelector(`canvas[data-chart="${id}"]`);'
        " return c && window.Chart && window.Chart.getChart(c); }",
        arg=chart_id,
        timeout=timeout,
    )
    return page.evaluate(DRAWN, chart_id)


def series(chart: dict[str, Any]) -> dict[str, list]:
    return {s["label"]: s["data"] for s in chart["series"]}
