/* Charts of the report pages, drawn with Chart.js from the description each page carries in a
   JSON block (web/reports/charts.py): <canvas data-chart="ID"> and
   <script type="application/json" id="ID-data">. No inline script, so the pages keep a strict
   Content-Security-Policy. Numbers are written the reader's way (Intl.NumberFormat). */
(function () {
  "use strict";

  function axis(title, extra) {
    return Object.assign({ title: { display: true, text: title }, beginAtZero: true }, extra || {});
  }

  function draw(canvas) {
    var block = document.getElementById(canvas.dataset.chart + "-data");
    if (!block || !window.Chart) return;
    var spec = JSON.parse(block.textContent);
    var numbers = new Intl.NumberFormat(spec.locale, { maximumFractionDigits: 1 });
    var tick = { callback: function (value) { return numbers.format(value); } };
    var valueKey = spec.horizontal ? "x" : "y";
    var categoryKey = spec.horizontal ? "y" : "x";
    var scales = {};
    scales[categoryKey] = axis(spec.category_title);
    scales[valueKey] = axis(spec.count_title, { ticks: tick });
    if (spec.value_max !== null) scales[valueKey].max = spec.value_max;
    var percent = spec.series.some(function (s) { return s.axis === "percent"; });
    if (percent) {
      scales.percent = axis(spec.percent_title, {
        position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, ticks: tick,
      });
    }
    var datasets = spec.series.map(function (s) {
      return {
        type: s.kind, label: s.label, data: s.values, backgroundColor: s.colour,
        borderColor: s.colour, yAxisID: s.axis === "percent" ? "percent" : undefined,
        spanGaps: true, order: s.kind === "line" ? 0 : 1,
      };
    });
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: spec.categories, datasets: datasets },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: {
          title: { display: true, text: spec.title },
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) {
                var value = spec.horizontal ? item.parsed.x : item.parsed.y;
                var unit = item.dataset.yAxisID === "percent" || spec.value_max === 100 ? " %" : "";
                return item.dataset.label + ": " + (value === null ? "—" : numbers.format(value) + unit);
              },
            },
          },
        },
      },
    });
  }

  function ready() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  /* A printed page is narrower than the screen: let each chart take the paper's width. */
  window.addEventListener("beforeprint", function () {
    if (!window.Chart) return;
    Object.values(window.Chart.instances).forEach(function (chart) { chart.resize(); });
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
