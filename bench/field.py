"""Field mode's work-area download: ``--plants`` plants (10,000) in one region, sent as the
field API's JSON and stored in the phone's IndexedDB (issue #19: ≤ 3 s on this machine).

Uses a scratch database next to the configured one (dropped afterwards). Measures on the
server (the app's test client) the size check (``count_only``), the download and its JSON size,
against the baseline of reading the same plants through the ordinary paged ``/api/v1/plants``
(1,000 a page). Then, unless ``--no-browser`` or Chromium is missing, Debian's Chromium opens
``/field`` on a real server thread, and the page's own code downloads the area and stores it in
IndexedDB: download and store timed apart, by the page (``performance.now``).
Run: ``python -m bench.field [--plants N] [--repeat N] [--no-browser]``.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from dataclasses import replace
from pathlib import Path

from bench.harness import Timing, machine, measure, report
from bench.tiles_scale import drop_database, load_plants, scratch_database
from registry import migrate
from registry.access import Actor
from registry.accounts.services import add_user
from registry.config import load_settings
from registry.db import unit_of_work
from web import create_app
from web.field.pages import WORKBOX

GOAL_SECONDS = 3.0
REGION = 71  # load_plants files every plant under Astana
EMAIL, PASSWORD = "bench-field@test.jasyl.kz", "correct horse battery"
WARMED = re.compile(r"const WARM = (\[[^\]]*\]);")
PRECACHED = re.compile(r'"url": ?"([^"]+)"')
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
CHROMIUM = Path("/usr/bin/chromium")
KEPT = "() => document.querySelector('#area-kept').textContent.length > 0"
FORGET_AREA = """() => JasylField.db.then((db) => db.delete('meta', 'area'))
    .then(() => { document.querySelector('#area-kept').textContent = ''; })"""
AREA_KEPT = "() => JasylField.db.then((db) => db.get('meta', 'area'))"


def signed_in_client(app):
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    answer = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    if answer.status_code != 302:
        raise SystemExit(f"sign-in answered {answer.status_code}")
    return client


def paged_read(client) -> int:
    """The baseline: the same plants through the ordinary list API, page after page."""
    url, count = f"/api/v1/plants?region={REGION}&limit=1000", 0
    while url:
        page = client.get(url).get_json()
        count += len(page["items"])
        url = page["next"]
    return count


def precache_bytes(client) -> tuple[int, int]:
    """What the service worker keeps before the first offline day (reported apart from any page's
    weight): its script, Workbox's modules, every file of its precache list, and what it warms
    at install (the page, its messages in three languages, the species catalogue)."""
    script = client.get("/field-sw.js").get_data(as_text=True)
    urls = PRECACHED.findall(script) + [f"/vendor/{m}/build/{m}.prod.js" for m in WORKBOX]
    urls.append("/vendor/workbox-sw/build/workbox-sw.js")
    urls += json.loads(WARMED.search(script).group(1))  # the page, its words, the species
    return len(urls) + 1, len(script) + sum(len(client.get(url).data) for url in urls)


def server_side(app, plants: int, repeat: int) -> tuple[Timing, Timing, int]:
    client = signed_in_client(app)
    files, precached = precache_bytes(client)
    kept = f"{files} files, {precached / 1024:.0f} KB"
    print(
        f"service worker keeps at install: {kept} (field page and shell, Workbox, words, species)"
    )
    area = f"/api/v1/field/area?region={REGION}"
    size = client.get(area + "&count_only=true").get_json()["size"]
    body = client.get(area)
    if body.status_code != 200 or size["plants"] != plants:
        raise SystemExit(f"the area answered {body.status_code}, size {size}")
    megabytes, announced = len(body.data) / 1e6, size["approximate_bytes"] / 1e6
    print(
        f"work area: {size['plants']:,} plants, JSON {megabytes:.2f} MB "
        f"({len(body.data) / plants:.0f} bytes a plant; announced ~{announced:.2f} MB)"
    )
    check = measure("size check (count_only)", lambda: client.get(f"{area}&count_only=1"), repeat)
    print(check.line())
    download = measure("work area download (server)", lambda: client.get(area), repeat, warmup=1)
    rounds = max(2, repeat // 3)
    baseline = measure("paged /api/v1/plants, 1,000 a page", lambda: paged_read(client), rounds, 1)
    return download, baseline, len(body.data)


def in_browser(app, repeat: int) -> Timing | None:
    """The page's own download and IndexedDB store of the area, in Chromium."""
    if not CHROMIUM.exists():
        print("in-browser store: skipped (no /usr/bin/chromium)")
        return None
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    stored: list[dict] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox"]
            )
            page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
            page.goto(base + "/login")
            page.fill("input[name=email]", EMAIL)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(base + "/")
            page.goto(base + "/field")
            page.wait_for_selector("#field[data-ready=true]")
            page.click("#area-panel summary")
            page.select_option("#area-kind", "region")
            for _ in range(repeat):
                page.click("#area-check")
                page.wait_for_function("() => !document.querySelector('#area-download').disabled")
                page.evaluate(FORGET_AREA)
                page.click("#area-download")
                page.wait_for_function(KEPT)
                stored.append(page.evaluate(AREA_KEPT))
            browser.close()
    finally:
        server.shutdown()
    print(
        measure_line(
            "in-browser download (fetch + JSON)", [s["download_ms"] / 1000 for s in stored]
        )
    )
    print(measure_line("in-browser store (IndexedDB)", [s["store_ms"] / 1000 for s in stored]))
    both = [(s["download_ms"] + s["store_ms"]) / 1000 for s in stored]
    return Timing("in-browser download + store", both)


def measure_line(name: str, samples: list[float]) -> str:
    return Timing(name, samples).line()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    base = load_settings().database_url
    name, url = scratch_database(base, f"jasyl_bench_field_{int(time.time())}")
    try:
        migrate.upgrade(url)
        load_plants(url, args.plants)
        with unit_of_work(url) as session:
            add_user(session, Actor.system("bench"), EMAIL, "forester", "KZ-71", PASSWORD)
        app = create_app({"DATABASE_URL": url, "TESTING": True})
        settings = app.config["JASYL_SETTINGS"]
        most = max(args.plants, settings.field_area_max_plants)
        app.config["JASYL_SETTINGS"] = replace(settings, field_area_max_plants=most)
        download, baseline, _ = server_side(app, args.plants, args.repeat)
        title = f"work area of {args.plants:,} plants: field download vs paged list"
        report(title, download, baseline)
        browser = None if args.no_browser else in_browser(app, max(1, args.repeat // 2))
        if browser is not None:
            print(browser.line())
            met = "met" if browser.median <= GOAL_SECONDS else "NOT met"
            goal = f"≤ {GOAL_SECONDS:.0f} s"
            print(f"goal: downloaded and stored in {goal}: median {browser.median:.2f} s, {met}")
    finally:
        drop_database(base, name)
    print(machine())


if __name__ == "__main__":
    main()
