"""The users of ``python -m bench.load``, for locust (run headless by ``bench.load``, not alone).

- ``MapViewer``: the public and planners on the map. Opens the map page, then pans and zooms
  (z12–z16) around a city, and now and then comes back for a new visit (the page again): each
  view asks for the plant and green-space tiles it lacks, six at a time as a browser does, and
  thinks 3–8 s between views. Its browser cache honours ``Cache-Control: max-age`` (fresh tiles
  are not asked for again) and revalidates older ones with ``If-None-Match``; half of the
  viewers return from a visit an hour ago, with that visit's tiles still in their cache. Now
  and then it clicks a plant (its card: ``/api/v1/plants/at``).
- ``ApiReader``: scripts and GIS clients: plant details, species search, OGC API items in a box.
- ``Forester``: signed in through the login form, edits plants of their own region through the
  JSON API (the version read goes with the change: optimistic locking; CSRF header from the
  page), then loads the plant's tile and checks it shows the change (read-your-writes, which
  must hold with a read replica). Each forester owns its plants, so edits never conflict.
- ``Importer``: a forester of Astana uploading a contractor's survey (a generated CSV of new
  plants) through ``/imports/upload`` every ``JASYL_LOAD_IMPORT_EVERY`` seconds.

With ``JASYL_LOAD_STRANGERS=1`` (``bench.load --strangers``), hostile anonymous traffic joins:

- ``StaffPageProber``: anonymous GETs of staff pages, 50 a second in all, each refused (401, or
  a redirect to the sign-in page); none may grow the audit log.
- ``PublicExporter``: three anonymous clients downloading the whole plants layer as XLSX again
  and again; the server sends the file it made for the published version (an older one, said
  so, while the next is made in the background), or a 503 with ``Retry-After`` while the first
  is made; the count of each is printed.
- ``SearchMisser``: searches for text no plant or green space holds, 10 a second in all.

The plan (plant ids and places, accounts, counts) comes from the JSON file named by
``JASYL_LOAD_PLAN``, written by ``bench.load``. Every answer other than the expected one is a
failure in locust's statistics.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import re
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import gevent.pool
import mapbox_vector_tile
from locust import FastHttpUser, between, constant, constant_throughput, events, task

PLAN = json.loads(Path(os.environ["JASYL_LOAD_PLAN"]).read_text(encoding="utf-8"))
TILE_MAX_AGE = 300  # seconds: the tiles' Cache-Control max-age
VIEW_COLUMNS, VIEW_ROWS = 5, 4  # a 1280 × 1024 map pane in 256-pixel tiles
BROWSER_CONNECTIONS = 6
COUNTS = {"browser cache hits": 0, "revalidated (304)": 0, "read-your-writes checks": 0}


def tile_xy(lon: float, lat: float, z: int) -> tuple[float, float]:
    n = 2**z
    x = (lon + 180) / 360 * n
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return x, y


def lonlat(x: float, y: float, z: int) -> tuple[float, float]:
    n = 2**z
    return x / n * 360 - 180, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))


class MapViewer(FastHttpUser):
    weight = PLAN["viewers"]
    wait_time = between(3, 8)
    concurrency = BROWSER_CONNECTIONS

    def on_start(self) -> None:
        self.rng = random.Random()
        self.cache: dict[str, tuple[str | None, float]] = {}  # url → (ETag, fetched at)
        self.home = self.rng.choice(PLAN["cities"])
        self.lon, self.lat, self.z = *self.home, self.rng.randint(12, 16)
        self.client.get("/", name="map page")
        if self.rng.random() < 0.5:  # back from an hour ago: that view's tiles are cached, stale
            self.view(fetched_at=time.monotonic() - 3600)

    @task(6)
    def pan(self) -> None:
        """Move about half a screen, sometimes zooming in or out; keep near the city."""
        if self.rng.random() < 0.3:
            self.z = min(16, max(12, self.z + self.rng.choice((-1, 1))))
        x, y = tile_xy(self.lon, self.lat, self.z)
        x += self.rng.uniform(-VIEW_COLUMNS, VIEW_COLUMNS) / 2
        y += self.rng.uniform(-VIEW_ROWS, VIEW_ROWS) / 2
        self.lon, self.lat = lonlat(x, y, self.z)
        if abs(self.lon - self.home[0]) > 0.15 or abs(self.lat - self.home[1]) > 0.1:
            self.lon, self.lat = self.home
        self.view()

    @task(1)
    def new_visit(self) -> None:
        """Another visit to the map (a new tab, the next day): the page again, then the view,
        its tiles revalidated where the browser cache holds them and fetched where not. Keeps
        map pages in the steady state, not only in the ramp-up."""
        self.client.get("/", name="map page")
        self.view()

    @task(2)
    def plant_card(self) -> None:
        lon, lat = self.rng.choice(PLAN["points"])
        self.client.get(
            f"/api/v1/plants/at?lon={lon}&lat={lat}&z=17", name="plant card (/api/v1/plants/at)"
        )

    def view(self, fetched_at: float | None = None) -> None:
        """Every tile of the view this browser lacks or must revalidate, six at a time."""
        x, y = tile_xy(self.lon, self.lat, self.z)
        urls = [
            f"/tiles/{layer}/{self.z}/{int(x) + dx}/{int(y) + dy}.pbf"
            for dy in range(-VIEW_ROWS // 2, VIEW_ROWS - VIEW_ROWS // 2)
            for dx in range(-VIEW_COLUMNS // 2, VIEW_COLUMNS - VIEW_COLUMNS // 2)
            for layer in ("plants", "green_spaces")
        ]
        pool = gevent.pool.Pool(BROWSER_CONNECTIONS)
        for url in urls:
            pool.spawn(self.tile, url, fetched_at)
        pool.join()

    def tile(self, url: str, fetched_at: float | None) -> None:
        etag, when = self.cache.get(url, (None, -math.inf))
        now = time.monotonic()
        if now - when < TILE_MAX_AGE:
            COUNTS["browser cache hits"] += 1
            return
        headers = {"If-None-Match": etag} if etag else {}
        with self.client.get(url, headers=headers, name="tile", catch_response=True) as answer:
            if answer.status_code in (200, 204, 304):
                answer.success()
                if answer.status_code == 304:
                    COUNTS["revalidated (304)"] += 1
                self.cache[url] = (answer.headers.get("ETag") or etag, fetched_at or now)
            else:
                answer.failure(f"{answer.status_code} {url}")


class ApiReader(FastHttpUser):
    weight = PLAN["api_readers"]
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.rng = random.Random()

    @task(3)
    def plant(self) -> None:
        plant_id = self.rng.choice(PLAN["plant_ids"])
        self.client.get(f"/api/v1/plants/{plant_id}", name="API read: /api/v1/plants/<id>")

    @task(1)
    def species(self) -> None:
        search = self.rng.choice(["Ulmus", "береза", "Қайың", "Pinus", "тополь"])
        self.client.get(f"/api/v1/species?search={search}", name="API read: /api/v1/species")

    @task(2)
    def ogc_items(self) -> None:
        lon, lat = self.rng.choice(PLAN["points"])
        bbox = f"{lon - 0.005},{lat - 0.005},{lon + 0.005},{lat + 0.005}"
        self.client.get(
            f"/ogc/collections/plants/items?bbox={bbox}&limit=50",
            name="API read: /ogc/collections/plants/items",
        )


class SignedIn(FastHttpUser):
    """A browser with a session: keeps its cookies itself, because the production server marks
    them ``Secure`` (TLS ends at the proxy) and locust's cookie jar does not send those back over
    plain HTTP on loopback."""

    abstract = True

    def on_start(self) -> None:
        self.rng = random.Random()
        self.cookies: dict[str, str] = {}

    def send(self, method: str, url: str, **options):
        headers = dict(options.pop("headers", {}))
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return self.client.request(method, url, headers=headers, **options)

    def keep_cookies(self, answer) -> None:
        given = answer.headers.get("Set-Cookie") or []
        for cookie in [given] if isinstance(given, str) else given:
            name, _, rest = cookie.partition("=")
            value = rest.split(";")[0]
            if value:
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)

    def sign_in(self, email: str) -> str:
        """Through the login form like a browser; the CSRF token for later writes."""
        page = self.send("GET", "/login", name="sign-in: form")
        self.keep_cookies(page)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        with self.send(
            "POST",
            "/login",
            data=urlencode({"email": email, "password": PLAN["password"], "csrf_token": token}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            allow_redirects=False,
            name="sign-in: POST",
            catch_response=True,
        ) as answer:
            self.keep_cookies(answer)
            if answer.status_code != 302:
                answer.failure(f"sign-in of {email} answered {answer.status_code}")
        return token


class Forester(SignedIn):
    fixed_count = len(PLAN["foresters"])
    wait_time = between(5, 15)
    taken: list[int] = []

    def on_start(self) -> None:
        super().on_start()
        account = PLAN["foresters"][len(Forester.taken) % len(PLAN["foresters"])]
        Forester.taken.append(1)
        self.plants = account["plants"]
        self.token = self.sign_in(account["email"])

    @task
    def edit(self) -> None:
        plant = self.rng.choice(self.plants)
        read = self.send("GET", f"/api/v1/plants/{plant['id']}", name="forester edit: read")
        self.keep_cookies(read)
        version = read.json()["version"]
        condition = self.rng.choice([c for c in (1, 2, 3) if c != read.json().get("condition")])
        with self.send(
            "PATCH",
            f"/api/v1/plants/{plant['id']}",
            data=json.dumps({"version": version, "condition": condition}),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.token},
            name="forester edit: PATCH",
            catch_response=True,
        ) as answer:
            self.keep_cookies(answer)  # the write's WAL position rides in the session
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
                return
        self.check_tile(plant, condition)

    def check_tile(self, plant: dict, condition: int) -> None:
        """The plant's own z16 tile, right after the edit, must show the new condition."""
        x, y = tile_xy(plant["lon"], plant["lat"], 16)
        url = f"/tiles/plants/16/{int(x)}/{int(y)}.pbf"
        with self.send("GET", url, name="forester edit: own tile", catch_response=True) as answer:
            self.keep_cookies(answer)
            features = mapbox_vector_tile.decode(answer.content or b"").get("plants", {})
            seen = {f["id"]: f["properties"]["condition"] for f in features.get("features", [])}
            COUNTS["read-your-writes checks"] += 1
            if seen.get(plant["id"]) != condition:
                answer.failure(
                    f"read-your-writes: plant {plant['id']} shows {seen.get(plant['id'])}, "
                    f"wrote {condition}"
                )


class Importer(SignedIn):
    fixed_count = 1
    wait_time = constant(PLAN["import_every"])

    def on_start(self) -> None:
        super().on_start()
        self.sign_in(PLAN["importer"])

    @task
    def upload(self) -> None:
        batch = uuid.uuid4().hex[:8]
        places = self.rng.sample(PLAN["import_points"], PLAN["import_rows"])
        survey = io.StringIO()
        out = csv.writer(survey)
        out.writerow(["Инв. №", "Порода", "Диаметр, см", "Высота, м", "Состояние", "lon", "lat"])
        for i, (lon, lat) in enumerate(places):
            out.writerow(
                [
                    f"LOAD-{batch}-{i}",
                    self.rng.choice(["Вяз приземистый", "Берёза повислая", "ель колючая"]),
                    self.rng.randint(8, 40),
                    self.rng.randint(3, 15),
                    self.rng.choice(["хорошее", "удовлетворительное"]),
                    f"{lon + self.rng.uniform(-0.0003, 0.0003):.6f}",
                    f"{lat + self.rng.uniform(-0.0002, 0.0002):.6f}",
                ]
            )
        form = self.send("GET", "/imports/upload", name="import: form")
        self.keep_cookies(form)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text).group(1)
        boundary = f"jasyl{batch}"
        body = multipart(
            boundary,
            {"region": PLAN["import_region"], "csrf_token": token},
            ("survey", f"опись-{batch}.csv", survey.getvalue().encode()),
        )
        with self.send(
            "POST",
            "/imports/upload",
            data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            name=f"import: survey of {PLAN['import_rows']} plants (upload)",
            catch_response=True,
        ) as answer:
            self.keep_cookies(answer)
            if answer.status_code != 200 or 'data-status="done"' not in answer.text:
                why = re.findall(r'<tr class="error">(.*?)</tr>', answer.text or "", re.S)[:2]
                answer.failure(f"{answer.status_code}: import not done: {why}")


STRANGERS = os.environ.get("JASYL_LOAD_STRANGERS") == "1"
STAFF_PAGES = ("/reports/dashboard", "/api/v1/planting/survival", "/api/v1/care/summary",
               "/nurseries/", "/imports/upload")  # fmt: skip
STRANGER_COUNTS = {
    "public exports served": 0,
    "of them an older file (Jasyl-Data-Current: no)": 0,
    "public exports turned away (503)": 0,
}


class StaffPageProber(FastHttpUser):
    """Five anonymous clients at 10 refused staff pages a second each."""

    abstract = not STRANGERS  # only in the hostile run
    fixed_count = 5
    wait_time = constant_throughput(10)

    @task
    def probe(self) -> None:
        page = random.choice(STAFF_PAGES)
        with self.client.get(
            page, name="stranger: staff page (refused)", allow_redirects=False, catch_response=True
        ) as answer:
            if answer.status_code in (401, 302, 403):
                answer.success()
            else:
                answer.failure(f"{answer.status_code} for an anonymous {page}")


class PublicExporter(FastHttpUser):
    """Three anonymous whole-layer XLSX downloads at once, retried every second."""

    abstract = not STRANGERS  # only in the hostile run
    fixed_count = 3
    wait_time = constant(1)
    network_timeout = 300.0
    connection_timeout = 300.0

    @task
    def download(self) -> None:
        url = "/ogc/collections/plants/download?format=xlsx"
        with self.client.get(url, name="stranger: whole-layer XLSX", catch_response=True) as answer:
            if answer.status_code == 200:
                STRANGER_COUNTS["public exports served"] += 1
                older = answer.headers.get("Jasyl-Data-Current") == "no"
                STRANGER_COUNTS["of them an older file (Jasyl-Data-Current: no)"] += older
                answer.success()
            elif answer.status_code == 503 and answer.headers.get("Retry-After"):
                STRANGER_COUNTS["public exports turned away (503)"] += 1
                answer.success()
            else:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")


class SearchMisser(FastHttpUser):
    """Two anonymous clients searching for what nothing holds, 5 a second each."""

    abstract = not STRANGERS  # only in the hostile run
    fixed_count = 2
    wait_time = constant_throughput(5)

    @task
    def miss(self) -> None:
        wanted = f"zq{uuid.uuid4().hex[:6]}%_"
        query = urlencode({"q": wanted})
        self.client.get(f"/api/v1/search?{query}", name="stranger: search miss")


def multipart(boundary: str, fields: dict[str, str], file: tuple[str, str, bytes]) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    name, filename, content = file
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


SAMPLES: list[tuple[str, float, bool, bool]] = []  # name, milliseconds, failed, steady
# The run's ramp-up: a freshly started server while every user arrives (viewers' first map pages
# and return visits, foresters' sign-ins) and WARM_SECONDS after the last one has. Samples of
# the ramp-up are kept apart from the steady state that follows (locust's ``--reset-stats``).
WARM_SECONDS = float(os.environ.get("JASYL_LOAD_WARM_SECONDS", "10"))
STEADY = {"from": math.inf, "until": math.inf}


@events.spawning_complete.add_listener
def mark_steady(**_kwargs) -> None:
    STEADY["from"] = time.monotonic() + WARM_SECONDS


@events.request.add_listener
def keep_sample(name: str, response_time: float, exception=None, **_kwargs) -> None:
    """Raw times, so ``bench.load`` can pool several runs into exact percentiles."""
    steady = time.monotonic() >= STEADY["from"]
    SAMPLES.append((name, response_time, exception is not None, steady))


@events.test_stop.add_listener
def write_results(**_kwargs) -> None:
    """The samples, the steady state's length, and what never reached the server (browser
    cache hits) and the 304s."""
    steady_seconds = max(0.0, time.monotonic() - STEADY["from"])
    counts = {**COUNTS, **(STRANGER_COUNTS if STRANGERS else {})}
    results = {"counts": counts, "samples": SAMPLES, "steady_seconds": steady_seconds}
    Path(os.environ["JASYL_LOAD_RESULTS"]).write_text(json.dumps(results), encoding="utf-8")
