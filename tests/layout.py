"""Layout checks for browser tests: what a user cannot click is as broken as what fails."""

from __future__ import annotations

MAP_CONTROLS = [
    "header",
    "#downloads",
    "#ndvi-legend",
    "#legend",
    "#panel",
    ".leaflet-control-zoom",
    ".leaflet-control-locate",
    ".leaflet-control-layers",
    ".leaflet-control-attribution",
]
OVERLAPPING = """(selectors) => {
  const boxes = [];
  for (const s of selectors) document.querySelectorAll(s).forEach((element, i) => {
    const r = element.getBoundingClientRect();
    if (r.width && r.height && !element.hidden) boxes.push([s + "[" + i + "]", r, element]);
  });
  const pairs = [];
  for (let a = 0; a < boxes.length; a++) for (let b = a + 1; b < boxes.length; b++) {
    const [n, p, x] = boxes[a], [m, q, y] = boxes[b];
    const nested = x.contains(y) || y.contains(x);
    if (!nested && p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom)
      pairs.push(n + " over " + m);
  }
  return pairs;
}"""


def overlapping(page, selectors: list[str]) -> list[str]:
    """Pairs of the page's visible boxes (header, panels, map controls) that cover each other:
    a control over the header or another control hides what a user has to click."""
    return page.evaluate(OVERLAPPING, selectors)
