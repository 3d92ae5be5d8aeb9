"""``backup`` and ``restore``: one archive holds the whole registry, and restoring it is checked.

An archive is an uncompressed tar (the dump inside is already compressed) with three parts:

- ``manifest.json``: when and from what it was made, the schema's revisions, and for every table
  its row count and a checksum of its rows;
- ``database.dump``: ``pg_dump --format=custom`` of the database, PostGIS data included, made by
  the client binaries of the server's own major version;
- ``uploads/``: the files under ``JASYL_HOME/uploads`` (survey files, photos, rasters).

The checksums are taken in the same snapshot that ``pg_dump`` reads (``pg_export_snapshot``), so
they describe exactly what the dump holds, even while the registry is in use. ``restore``
recomputes them afterwards and fails loudly on any difference. It refuses a database that holds
tables unless told ``force`` (then the database is dropped and recreated), restores in a single
transaction (a failure leaves nothing half-restored), and refuses archive members whose names
would land outside the uploads folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from registry.errors import InvalidValue, JasylError

FORMAT = "jasyl-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.dump"
UPLOADS = "uploads"
PG_ROOT = Path("/usr/lib/postgresql")
# Tables PostGIS owns and recreates itself: never "user data" when judging emptiness.
EXTENSION_TABLES = {"spatial_ref_sys"}
USER_TABLES = """
    SELECT n.nspname, c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'topology', 'tiger')
      AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.objid = c.oid AND d.deptype = 'e')
    ORDER BY 1, 2
"""
FINGERPRINT = (
    "SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') "
    "FROM {} AS t"
)


class BackupError(JasylError):
    """A backup or restore could not be done; nothing was changed."""

    code = "backup_error"


@dataclass(frozen=True)
class Summary:
    """What an archive holds (or what was restored): tables, rows and files."""

    tables: dict[str, dict[str, object]]
    files: dict[str, str]
    size_bytes: int = 0

    @property
    def rows(self) -> int:
        return sum(int(t["rows"]) for t in self.tables.values())


# -- connecting and the client binaries -----------------------------------------------------------
def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and an environment that carries it (not on argv)."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    bare = parsed.set(drivername="postgresql", password=None)
    return bare.render_as_string(hide_password=False), env


def client_binary(name: str, server_version_num: int) -> Path:
    """``pg_dump``/``pg_restore`` of the server's major version: older ones refuse newer data."""
    major = server_version_num // 10000
    binary = PG_ROOT / str(major) / "bin" / name
    if not binary.exists():
        raise BackupError(
            f"{name} for PostgreSQL {major} is not installed ({binary}); "
            f"install it with: apt-get install postgresql-client-{major}"
        )
    return binary


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd="/")
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        detail = lines[0] if lines else f"exit status {result.returncode}"
        raise BackupError(f"{what} failed: {detail}")


# -- fingerprints ---------------------------------------------------------------------------------
def user_tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return [
        (schema, table)
        for schema, table in conn.execute(USER_TABLES).fetchall()
        if table not in EXTENSION_TABLES
    ]


def table_fingerprints(conn: psycopg.Connection) -> dict[str, dict[str, object]]:
    """Row count and an order-independent checksum of every user table, by ``schema.table``."""
    prints = {}
    for schema, table in user_tables(conn):
        query = sql.SQL(FINGERPRINT).format(sql.Identifier(schema, table))
        rows, checksum = conn.execute(query).fetchone()
        prints[f"{schema}.{table}"] = {"rows": rows, "checksum": checksum}
    return prints


def _file_digests(root: Path) -> dict[str, str]:
    if not root.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


# -- backup ---------------------------------------------------------------------------------------
def backup(database_url: str, uploads_dir: Path, target: Path) -> Summary:
    """Write the archive to ``target`` (atomically: a failure leaves no partial file)."""
    dsn, env = libpq_target(database_url)
    with tempfile.TemporaryDirectory(prefix=".jasyl-backup-", dir=_writable_dir(target)) as work:
        dump = Path(work) / DUMP
        with psycopg.connect(dsn) as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            version = conn.info.server_version
            pg_dump = client_binary("pg_dump", version)
            _run(
                [str(pg_dump), "--format=custom", f"--snapshot={snapshot}", "-f", str(dump), dsn],
                env,
                "pg_dump",
            )
            manifest = {
                "format": FORMAT,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "database": make_url(database_url).database,
                "server_version": conn.execute("SHOW server_version").fetchone()[0],
                "postgis_version": _postgis_version(conn),
                "revisions": _revisions(conn),
                "tables": table_fingerprints(conn),
                "files": _file_digests(uploads_dir),
            }
        partial = Path(work) / "archive.tar"
        try:
            with tarfile.open(partial, "w") as archive:
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
                archive.add(dump, arcname=DUMP)
                if manifest["files"]:
                    archive.add(uploads_dir, arcname=UPLOADS)
            shutil.move(partial, target)
        except OSError as exc:
            Path(target).unlink(missing_ok=True)
            raise BackupError(
                f"could not write the backup to {target}: {exc.strerror or exc}; "
                "no backup was written"
            ) from exc
    return Summary(manifest["tables"], manifest["files"], target.stat().st_size)


def _writable_dir(target: Path) -> Path:
    folder = target.resolve().parent
    if not folder.is_dir():
        raise InvalidValue("FILE", "its folder does not exist", str(folder))
    if target.is_dir():
        raise InvalidValue("FILE", "is a folder; name the archive file to write", str(target))
    return folder


def _add_bytes(archive: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def _postgis_version(conn: psycopg.Connection) -> str | None:
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'postgis'").fetchone()
    return row[0] if row else None


def _revisions(conn: psycopg.Connection) -> list[str]:
    exists = conn.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone()[0]
    if not exists:
        return []
    return sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))


# -- restore --------------------------------------------------------------------------------------
def read_manifest(source: Path) -> dict:
    """The archive's manifest, after checking every member's name is safe to extract."""
    if not source.is_file():
        raise InvalidValue("FILE", "no such backup file", str(source))
    try:
        with tarfile.open(source, "r") as archive:
            for member in archive.getmembers():
                check_member(member)
            manifest = json.loads(archive.extractfile(MANIFEST).read().decode("utf-8"))
    except (tarfile.TarError, KeyError, ValueError, AttributeError) as exc:
        raise BackupError(f"{source} is not a Jasyl backup ({exc})") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source} has format {manifest.get('format')!r}, expected {FORMAT!r}")
    return manifest


def check_member(member: tarfile.TarInfo) -> None:
    """Refuse names that would escape the uploads folder, links and devices (path traversal)."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or "\\" in member.name or "\x00" in member.name:
        raise BackupError(f"archive member {member.name!r} points outside the backup; refused")
    if not (member.isfile() or member.isdir()):
        raise BackupError(f"archive member {member.name!r} is a link or device; refused")
    if path.parts and path.parts[0] not in (MANIFEST, DUMP, UPLOADS):
        raise BackupError(f"archive member {member.name!r} is not part of a Jasyl backup")


def restore(database_url: str, uploads_dir: Path, source: Path, force: bool) -> Summary:
    """Restore ``source`` into the database and the uploads folder, then verify every table."""
    manifest = read_manifest(source)
    dsn, env = libpq_target(database_url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        version = conn.info.server_version
        occupied = _occupancy(conn)
    if (occupied or _has_files(uploads_dir)) and not force:
        what = occupied or f"files in {uploads_dir}"
        raise BackupError(
            f"the database {make_url(database_url).database} is not empty ({what}); restore "
            "refuses to overwrite it; repeat with --force to replace everything"
        )
    pg_restore = client_binary("pg_restore", version)
    with tempfile.TemporaryDirectory(prefix=".jasyl-restore-") as work, _extracted(source) as tar:
        tar.extract(DUMP, work, filter="data")
        if occupied:
            _recreate_database(database_url)
        _run(
            [
                str(pg_restore),
                "--exit-on-error",
                "--single-transaction",
                "--no-owner",
                "--no-privileges",
                "-d",
                dsn,
                str(Path(work) / DUMP),
            ],
            env,
            "pg_restore",
        )
        _restore_uploads(tar, uploads_dir, Path(work))
    return verify(database_url, uploads_dir, manifest)


@contextmanager
def _extracted(source: Path) -> Iterator[tarfile.TarFile]:
    with tarfile.open(source, "r") as archive:
        yield archive


def _occupancy(conn: psycopg.Connection) -> str:
    tables = user_tables(conn)
    if not tables:
        return ""
    names = ", ".join(table for _, table in tables[:3])
    more = f" and {len(tables) - 3} more" if len(tables) > 3 else ""
    return f"{len(tables)} tables: {names}{more}"


def _has_files(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))


def _recreate_database(database_url: str) -> None:
    """``--force``: drop and recreate the database, so nothing of the old contents survives."""
    name = make_url(database_url).database
    admin, _ = libpq_target(make_url(database_url).set(database="postgres").render_as_string(False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _restore_uploads(archive: tarfile.TarFile, uploads_dir: Path, work: Path) -> None:
    members = [m for m in archive.getmembers() if PurePosixPath(m.name).parts[0] == UPLOADS]
    if uploads_dir.exists():
        shutil.rmtree(uploads_dir)
    if not members:
        return
    archive.extractall(work, members=members, filter="data")
    uploads_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(work / UPLOADS, uploads_dir)


def verify(database_url: str, uploads_dir: Path, manifest: dict) -> Summary:
    """Compare every table's count and checksum, and every file's digest, with the manifest."""
    dsn, _ = libpq_target(database_url)
    with psycopg.connect(dsn) as conn:
        found = table_fingerprints(conn)
    expected = manifest["tables"]
    wrong = sorted(
        name for name in set(found) | set(expected) if found.get(name) != expected.get(name)
    )
    files = _file_digests(uploads_dir)
    wrong += sorted(f"file {n}" for n in set(files) ^ set(manifest["files"]))
    wrong += sorted(
        f"file {n}" for n in set(files) & set(manifest["files"]) if files[n] != manifest["files"][n]
    )
    if wrong:
        raise BackupError(
            f"the restored data differs from the backup in {len(wrong)} places: {', '.join(wrong)}"
        )
    return Summary(found, files)
