"""Every setting Jasyl reads, in one place.

Settings come from environment variables only, read when ``load_settings`` is called (never at
import time), so tests and deployments can point one process at another database.

- ``DATABASE_URL``: an external PostGIS; unset means the project's own cluster in ``.jasyl/``.
- ``JASYL_HOME``: where the local cluster, uploads and logs live (``<project>/.jasyl``).
- ``JASYL_PG_PORT``: TCP port of the local cluster, loopback only (``54329``).
- ``JASYL_PG_FAST``: ``1`` starts the local cluster without fsync (tests, never production).
- ``JASYL_SECRET_KEY``: Flask session signing key. Required unless ``JASYL_ENV`` is
  ``development`` or ``test``: the app refuses to build with none or with the development key
  written below (anyone who reads the source could sign a session with it).
- ``JASYL_SECRET_KEY_FALLBACKS``: earlier keys, comma-separated, still accepted for reading
  sessions while they expire after a key rotation (Flask's ``SECRET_KEY_FALLBACKS``).
- ``JASYL_ENV``: ``development`` (``make run``, ``jasyl serve``) or ``test`` (the test suite,
  benches) allow the development key; unset everywhere else. Ignored with ``JASYL_PRODUCTION=1``.
- ``JASYL_PRODUCTION``: ``1`` refuses insecure defaults (``Secure`` cookies).
- ``JASYL_SESSION_IDLE_MINUTES``: a signed-in session unused this long ends (``60``).
- ``JASYL_SESSION_HOURS``: a signed-in session ends this long after sign-in, used or not (``12``).
- ``JASYL_TRUSTED_PROXIES``: how many reverse proxies stand in front of the app and set
  ``X-Forwarded-For``/``-Proto``/``-Host`` (``0``: those headers are ignored, the client is the
  address that connected).
- ``JASYL_DEMO_SCALE``: multiplies the demo data set's size (``1.0``).
- ``JASYL_REPLICA_URL``: a streaming replica for read-only requests (tiles, maps); unset = primary.
- ``JASYL_WORKERS``: server worker processes in production (``2 × cores + 1``).
- ``JASYL_THREADS``: threads per worker; each worker's connection pool holds as many (``4``).
- ``JASYL_ACCESS_LOG``: where the server writes one line per request (``-``: standard output).
- ``JASYL_FIELD_AREA_MAX_PLANTS``: the most plants one work area downloaded for field mode may
  hold; a larger area is refused with its count, before anything is sent (``20000``).
- ``JASYL_FIELD_MAX_GPS_ERROR_M``: field mode drops a GPS fix less accurate than this many metres
  (with a message, keeping the better fixes it averages) (``15``).
- ``JASYL_FIELD_BUDGET_MB``: the most one work area may weigh on a phone, its plants, green
  spaces and self-hosted basemap tiles (z13–z18) together; a heavier area is refused with its
  size, before anything is downloaded (``300``).
- ``JASYL_FIELD_VIEWED_TILES``: the most tiles of a third party's basemap field mode keeps as
  viewed (it may not download them by area); the oldest go first, and all after 30 days
  (``2000``).
- ``JASYL_TILE_CACHE``: a folder to keep rendered tiles in, under their data version; unset or
  ``off`` renders every tile (at the demo's scale a render costs about what a cached read does).
- ``JASYL_BASEMAPS``: the map's background layers, a JSON list (``registry.basemaps``); each
  ``{"id", "name": {"kk", "ru", "en"} or one name, "url": "https://…/{z}/{x}/{y}.png"`` or
  ``"file": "/srv/city.mbtiles"`` (or ``.pmtiles``, served by the app itself), ``"attribution",
  "max_zoom"}`` (19), optionally ``"type": "raster"`` or ``"vector"`` (Mapbox Vector Tiles, drawn
  by the page with protomaps-leaflet in the Protomaps basemap style; an archive says which it
  holds) and ``"subdomains"`` for ``{s}``. The first is shown at first; the page's
  Content-Security-Policy allows exactly the listed URLs' hosts.
  Unset: OpenStreetMap's standard layer with its attribution; ``[]``: no basemap.

Bounds on what one request may cost (``Limits``; each refusal names its setting):

- ``JASYL_MAX_REQUEST_BYTES``: a request body, unless its endpoint says otherwise (``4194304``).
- ``JASYL_MAX_SURVEY_BYTES``: a survey file uploaded to the web importer (``209715200``).
- ``JASYL_MAX_RASTER_BYTES``: a satellite image uploaded for NDVI (``524288000``).
- ``JASYL_ZIP_MAX_MEMBERS``: files in a survey ZIP (``1000``).
- ``JASYL_ZIP_MAX_BYTES``: a survey ZIP's files unpacked, together (``1073741824``).
- ``JASYL_ZIP_MAX_RATIO``: unpacked to packed size of a ZIP over 1 MiB unpacked (``100``).
- ``JASYL_RASTER_MAX_PIXELS``: width × height × bands of an NDVI image (``500000000``).
- ``JASYL_XLSX_MAX_ROWS``: rows below the header of an XLSX export (``1048575``, Excel's limit).
- ``JASYL_PUBLIC_EXPORTS``: whole-layer downloads by the public at once, across every worker
  of the machine; more are answered 503 with ``Retry-After`` (``1``).

Residents' reports of trees and the open-data page (``OpenData``):

- ``JASYL_REPORT_ANSWER_DAYS``: a resident's report still unanswered after this many days is
  counted as overdue on its region's page and the ministry's dashboard (``14``).
- ``JASYL_REPORTS_PER_ADDRESS``: reports one address may send per hour before it must wait (``10``).
- ``JASYL_REPORTS_PER_AREA``: reports about one ~1 km cell per hour from anyone (``30``).
- ``JASYL_OPEN_DATA_LICENCE``: the licence the published data is offered under, by name
  (``CC BY 4.0``).
- ``JASYL_OPEN_DATA_LICENCE_URL``: where its text is
  (``https://creativecommons.org/licenses/by/4.0/``).
- ``JASYL_PUBLIC_EXPORT_MINUTES``: the public's whole-layer GeoPackage, shapefile and XLSX are
  files made once per published version (``registry.opendata.public_files``); after a change
  the older file is still served, its time shown, until it is this old, then made again in the
  background (``10``; ``0``: made again at the first download after any change). A file showing
  a plant since withdrawn from the public is never served.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from registry.basemaps import Basemap, load_basemaps
from registry.errors import InvalidValue

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_PORT = 54329
LOCAL_DATABASE = "jasyl"
DEV_SECRET_KEY = "jasyl-development-key-not-for-production"
DEVELOPMENT_MODES = ("development", "test")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one request or file may cost, so a stranger cannot fill the disk or the memory."""

    max_request_bytes: int = 4 * MIB
    max_survey_bytes: int = 200 * MIB
    max_raster_bytes: int = 500 * MIB
    zip_max_members: int = 1000
    zip_max_bytes: int = 1024 * MIB
    zip_max_ratio: int = 100
    raster_max_pixels: int = 500_000_000
    xlsx_max_rows: int = 1_048_575
    public_exports: int = 1
    public_export_minutes: int = 10


@dataclass(frozen=True)
class OpenData:
    """What residents may send and how soon an answer is due; the published data's licence."""

    report_answer_days: int = 14
    reports_per_address: int = 10
    reports_per_area: int = 30
    licence: str = "CC BY 4.0"
    licence_url: str = "https://creativecommons.org/licenses/by/4.0/"


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one process."""

    external_database_url: str | None
    home: Path
    pg_port: int
    pg_fast: bool
    secret_key: str
    production: bool
    demo_scale: float
    replica_url: str | None = None
    workers: int = 3
    threads: int = 4
    access_log: str = "-"
    tile_cache: Path | None = None
    mode: str = ""
    secret_key_fallbacks: tuple[str, ...] = ()
    session_idle_minutes: int = 60
    session_hours: int = 12
    trusted_proxies: int = 0
    limits: Limits = Limits()
    open_data: OpenData = OpenData()
    field_area_max_plants: int = 20_000
    field_max_gps_error_m: int = 15
    field_budget_mb: int = 300
    field_viewed_tiles: int = 2_000
    basemaps: tuple[Basemap, ...] = ()

    @property
    def development(self) -> bool:
        """Explicitly a developer's or the tests' process: the development key is allowed."""
        return self.mode in DEVELOPMENT_MODES and not self.production

    @property
    def uses_local_cluster(self) -> bool:
        return self.external_database_url is None

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL, always with the psycopg 3 driver."""
        if self.external_database_url:
            return normalise_database_url(self.external_database_url)
        return local_database_url(self.pg_port, LOCAL_DATABASE)

    @property
    def uploads_dir(self) -> Path:
        """Uploaded survey files, photos and rasters kept on disk (backed up with the database)."""
        return self.home / "uploads"

    @property
    def pool_size(self) -> int:
        """Connections each process keeps: one per serving thread, so no request waits for one."""
        return self.threads


def normalise_database_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` URLs as libpq tools write them."""
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def local_database_url(port: int, database: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"


def default_workers() -> int:
    """The usual rule for Python web workers that wait on a database: two per core plus one."""
    return 2 * (os.cpu_count() or 1) + 1


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name) or str(default)
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidValue(name, "must be a whole number of at least 1", raw)
    return int(raw)


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or str(default)).strip()
    if not raw.isascii() or not raw.isdigit():
        raise InvalidValue(name, "must be a whole number of at least 0", raw)
    return int(raw)


def _mode(env: Mapping[str, str]) -> str:
    raw = (env.get("JASYL_ENV") or "").strip().lower()
    if raw and raw not in DEVELOPMENT_MODES:
        raise InvalidValue("JASYL_ENV", f"must be one of {', '.join(DEVELOPMENT_MODES)}", raw)
    return raw


def _fallbacks(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = env.get("JASYL_SECRET_KEY_FALLBACKS") or ""
    return tuple(key.strip() for key in raw.split(",") if key.strip())


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``environ`` (the process environment by default)."""
    env = os.environ if environ is None else environ
    production = _flag(env.get("JASYL_PRODUCTION"))
    mode = _mode(env)
    development = mode in DEVELOPMENT_MODES and not production
    home = Path(env.get("JASYL_HOME") or PROJECT_ROOT / ".jasyl")
    return Settings(
        external_database_url=env.get("DATABASE_URL") or None,
        home=home,
        pg_port=int(env.get("JASYL_PG_PORT") or DEFAULT_PG_PORT),
        pg_fast=_flag(env.get("JASYL_PG_FAST")),
        secret_key=env.get("JASYL_SECRET_KEY") or (DEV_SECRET_KEY if development else ""),
        production=production,
        demo_scale=float(env.get("JASYL_DEMO_SCALE") or 1.0),
        replica_url=normalise_database_url(env["JASYL_REPLICA_URL"])
        if env.get("JASYL_REPLICA_URL")
        else None,
        workers=_positive(env, "JASYL_WORKERS", default_workers()),
        threads=_positive(env, "JASYL_THREADS", 4),
        access_log=env.get("JASYL_ACCESS_LOG") or "-",
        tile_cache=_tile_cache(env),
        mode=mode,
        secret_key_fallbacks=_fallbacks(env),
        session_idle_minutes=_positive(env, "JASYL_SESSION_IDLE_MINUTES", 60),
        session_hours=_positive(env, "JASYL_SESSION_HOURS", 12),
        trusted_proxies=_count(env, "JASYL_TRUSTED_PROXIES", 0),
        limits=load_limits(env),
        open_data=load_open_data(env),
        field_area_max_plants=_positive(env, "JASYL_FIELD_AREA_MAX_PLANTS", 20_000),
        field_max_gps_error_m=_positive(env, "JASYL_FIELD_MAX_GPS_ERROR_M", 15),
        field_budget_mb=_positive(env, "JASYL_FIELD_BUDGET_MB", 300),
        field_viewed_tiles=_positive(env, "JASYL_FIELD_VIEWED_TILES", 2_000),
        basemaps=load_basemaps(env.get("JASYL_BASEMAPS")),
    )


def load_open_data(env: Mapping[str, str]) -> OpenData:
    d = OpenData()
    return OpenData(
        report_answer_days=_positive(env, "JASYL_REPORT_ANSWER_DAYS", d.report_answer_days),
        reports_per_address=_positive(env, "JASYL_REPORTS_PER_ADDRESS", d.reports_per_address),
        reports_per_area=_positive(env, "JASYL_REPORTS_PER_AREA", d.reports_per_area),
        licence=(env.get("JASYL_OPEN_DATA_LICENCE") or d.licence).strip(),
        licence_url=(env.get("JASYL_OPEN_DATA_LICENCE_URL") or d.licence_url).strip(),
    )


def load_limits(environ: Mapping[str, str] | None = None) -> Limits:
    """The bounds of ``Limits`` from the environment (for the importer and the CLI, which have
    no app config); each a whole number of at least 1 (``public_export_minutes``: 0 or more)."""
    env = os.environ if environ is None else environ
    d = Limits()
    return Limits(
        max_request_bytes=_positive(env, "JASYL_MAX_REQUEST_BYTES", d.max_request_bytes),
        max_survey_bytes=_positive(env, "JASYL_MAX_SURVEY_BYTES", d.max_survey_bytes),
        max_raster_bytes=_positive(env, "JASYL_MAX_RASTER_BYTES", d.max_raster_bytes),
        zip_max_members=_positive(env, "JASYL_ZIP_MAX_MEMBERS", d.zip_max_members),
        zip_max_bytes=_positive(env, "JASYL_ZIP_MAX_BYTES", d.zip_max_bytes),
        zip_max_ratio=_positive(env, "JASYL_ZIP_MAX_RATIO", d.zip_max_ratio),
        raster_max_pixels=_positive(env, "JASYL_RASTER_MAX_PIXELS", d.raster_max_pixels),
        xlsx_max_rows=_positive(env, "JASYL_XLSX_MAX_ROWS", d.xlsx_max_rows),
        public_exports=_positive(env, "JASYL_PUBLIC_EXPORTS", d.public_exports),
        public_export_minutes=_count(env, "JASYL_PUBLIC_EXPORT_MINUTES", d.public_export_minutes),
    )


def _tile_cache(env: Mapping[str, str]) -> Path | None:
    raw = (env.get("JASYL_TILE_CACHE") or "").strip()
    return None if raw.lower() in {"", "off", "0", "no", "false"} else Path(raw)
