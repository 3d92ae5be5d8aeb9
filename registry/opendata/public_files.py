"""The public's whole-layer files (GeoPackage, shapefile, XLSX), made once per published version.

A national XLSX of the plants costs ~33 s of CPU; made per request, three strangers downloading
it kept a core busy and a forester's save waited behind them (p95 449 ms under that load). So a
public download of a whole layer is a file on disk, keyed by the *published* data's version, and
made by a separate process at the lowest CPU priority (``nice 19``), one at a time per file and
no more than ``JASYL_PUBLIC_EXPORTS`` at once on the machine (the slots of ``web.bounds``).

The version (``published_version``) is computed by PostgreSQL over the rows the public sees:
their count and a hash of every row's stored version (``xmin``, which each write of a row
changes; ``Collection.row_version`` adds the joined rows the properties read, e.g. the species).
An edit of an unpublished plant leaves it as it was; an edit of a published one, a publish or
a withdrawal changes it. The same statement tells whether every row of an older file is still
published (a hash of the ids up to the file's last id): a file that shows a plant since
withdrawn is never served again (``PublicFile.withdrawn``).

Files live in ``<root>/<database>/<layer>/<format>/``: ``<key>.<ext>`` beside ``<key>.json``
(when its data was read, how many rows, the hashes), ``builds.log`` (one line per file made)
and ``build.lock`` (held by the process making one). A build writes under ``.building-<pid>/``
and renames into place, so a reader never sees half a file; what a killed build left behind is
removed by the next. Only the newest file is kept.

Run as ``python -m registry.opendata.public_files LAYER FORMAT FOLDER LOCK_FD SLOT_FD`` by
``web.ogcapi.public_downloads``, which took the build lock and a slot and hands them down, with
``DATABASE_URL`` in its environment (files and versions are read on the primary: see
``_snapshot``); exit status 0: made, 1: failed (the
reason is in ``builds.log``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access import Actor
from registry.config import load_settings
from registry.db import engine_for
from registry.opendata.collections import Collection, get_collection
from registry.opendata.rules import FeatureQuery, parse_map_filters
from registry.opendata.services import export_layer
from registry.storage import write_atomically

CACHED_FORMATS = ("gpkg", "shp", "xlsx")  # containers written whole; CSV and GeoJSON stream
KEPT_SUFFIXES = {".json", ".gpkg", ".zip", ".xlsx"}
NICENESS = 19  # the lowest CPU priority: a build gets what the requests leave idle


@dataclass(frozen=True)
class PublishedVersion:
    """What the public sees of a layer, in one snapshot: a key that changes with any of it, and
    whether the rows of an older file (up to ``upto``) are all still published."""

    key: str
    holder: str  # the cluster, database and table file: a restore or another server changes it
    rows: int
    last_id: int
    ids: str  # hash of the published ids, as text (a numeric sum)
    kept_rows: int  # published rows with an id ≤ upto
    kept_ids: str


def version_sql(collection: Collection) -> str:
    key, where = collection.key, f"WHERE {collection.published}" if collection.published else ""
    return (
        "SELECT concat_ws('.', (SELECT system_identifier FROM pg_control_system()), "  # noqa: S608
        "(SELECT oid FROM pg_database WHERE datname = current_database()), "
        f"pg_relation_filenode('{collection.source.split()[0]}')) AS holder, count(*) AS rows, "
        f"coalesce(sum(hashtextextended({key}::text || ':' || {collection.row_version}, 0)"
        "::numeric), 0)::text AS content, "
        f"coalesce(max({key}), 0) AS last_id, "
        f"coalesce(sum(hashint8(({key})::bigint)::numeric), 0)::text AS ids, "
        f"count(*) FILTER (WHERE {key} <= :upto) AS kept_rows, "
        f"coalesce(sum(hashint8(({key})::bigint)::numeric) FILTER (WHERE {key} <= :upto), 0)"
        f"::text AS kept_ids FROM {collection.source} {where}"
    )


def published_version(session: Session, collection: Collection, upto: int = 0) -> PublishedVersion:
    """The published version of ``collection`` (one scan of its published rows, ~tens of ms for
    the demo's 135k plants), and which of the rows with an id ≤ ``upto`` are still published."""
    row = session.execute(text(version_sql(collection)), {"upto": upto}).one()
    origin = f"{row.holder}|{collection.id}|{row.rows}|{row.content}".encode()
    key = hashlib.sha1(origin).hexdigest()[:16]  # noqa: S324 - a name, not a secret
    return PublishedVersion(
        key, row.holder, row.rows, int(row.last_id), row.ids, row.kept_rows, row.kept_ids
    )


@dataclass(frozen=True)
class PublicFile:
    """One file made for the public, as its ``<key>.json`` describes it."""

    key: str
    holder: str
    name: str  # the file's name in its folder
    as_of: str  # ISO time the data was read (the snapshot's)
    rows: int
    last_id: int
    ids: str
    seconds: float

    def withdrawn(self, now: PublishedVersion) -> bool:
        """Whether a row in this file has left the public's view since (unpublished, removed),
        or the file was read from another database (a restore): such a file must not be served,
        however recent. ``now`` is read with ``upto=last_id``."""
        return now.holder != self.holder or now.kept_rows != self.rows or now.kept_ids != self.ids

    @property
    def made(self) -> datetime:
        return datetime.fromisoformat(self.as_of)


def folder_for(root: Path, database_url: str, layer: str, fmt: str) -> Path:
    """Where a layer's public files in ``fmt`` are kept: a folder per database, so that two
    databases (the tests', a restore) never take each other's newest file."""
    database = hashlib.sha1(database_url.encode()).hexdigest()[:12]  # noqa: S324 - a name
    return root / database / layer / fmt


def newest(folder: Path) -> PublicFile | None:
    """The newest complete file in ``folder`` (its description is written last)."""
    found = []
    for described in folder.glob("*.json"):
        with suppress(OSError, ValueError, TypeError):
            found.append(PublicFile(**json.loads(described.read_text(encoding="utf-8"))))
    return max(found, key=lambda f: f.as_of, default=None)


def lock_build(folder: Path) -> IO[bytes] | None:
    """The right to make ``folder``'s next file (an open, locked ``build.lock``), or ``None``
    while another process makes one. The building process inherits the handle, so the lock is
    held from the request's decision to the build's end; the kernel frees it if that dies."""
    folder.mkdir(parents=True, exist_ok=True)
    return _locked(folder / "build.lock")


def take_slot(folder: Path, slots: int) -> IO[bytes] | None:
    """One of ``slots`` machine-wide slots for a public export (close the handle to free it),
    or ``None`` when all are taken."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(slots):
        handle = _locked(folder / f"public-export-{number}.lock")
        if handle is not None:
            return handle
    return None


def _locked(path: Path) -> IO[bytes] | None:
    handle = path.open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def build(collection: Collection, fmt: str, folder: Path) -> int:
    """Make the public file of ``collection`` in ``fmt`` in ``folder``, whose build lock (and a
    slot) the caller holds: the exit status (see above)."""
    for leftover in folder.glob(".building-*"):  # what a killed build left
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        made = _make(collection, fmt, folder)
    except Exception as exc:
        _log(folder, f"failed: {type(exc).__name__}: {exc}")
        return 1
    _log(
        folder,
        f"made {made.name}: {made.rows} rows as of {made.as_of} in {made.seconds:.1f} s "
        f"at nice {os.nice(0)}",
    )
    return 0


def _make(collection: Collection, fmt: str, folder: Path) -> PublicFile:
    started = time.monotonic()
    work = folder / f".building-{os.getpid()}"
    work.mkdir(parents=True)
    try:
        with _snapshot() as session:
            version = published_version(session, collection)
            as_of = session.execute(text("SELECT now()")).scalar()
            target = work / f"{collection.id}.{fmt}"
            export_layer(session, Actor.public(), collection, FeatureQuery(), fmt, target)
        if fmt == "shp":
            target = _zipped(work, collection.id)
        name = f"{version.key}{'.zip' if fmt == 'shp' else target.suffix}"
        os.replace(target, folder / name)
        seconds = round(time.monotonic() - started, 1)
        made = PublicFile(version.key, version.holder, name, as_of.isoformat(), version.rows,
                          version.last_id, version.ids, seconds)  # fmt: skip
        write_atomically(folder / f"{version.key}.json", json.dumps(asdict(made)).encode())
        _drop_older(folder, made)
        return made
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def _snapshot() -> Iterator[Session]:
    """A read-only REPEATABLE READ session on the primary, so the version and every batch of the
    file see one snapshot. Not the replica: a standby cancels a snapshot held longer than its
    ``max_standby_streaming_delay`` (30 s) once the primary's vacuum removes rows it might see
    ("conflict with recovery"), which a national XLSX always was; on the primary it only holds
    back vacuum's clean-up for the minute a file takes."""
    with engine_for(load_settings().database_url).connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with Session(bind=connection) as session:
            session.execute(text("SET TRANSACTION READ ONLY"))
            yield session
            session.rollback()


def _zipped(work: Path, layer: str) -> Path:
    target = work / f"{layer}-shp.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in sorted(work.iterdir()):
            if part != target:
                archive.write(part, part.name)
    return target


def _drop_older(folder: Path, kept: PublicFile) -> None:
    """Only the newest file is kept (a download still sending an older one keeps its bytes)."""
    for path in folder.iterdir():
        if path.is_file() and path.stem != kept.key and path.suffix in KEPT_SUFFIXES:
            path.unlink(missing_ok=True)


def _log(folder: Path, line: str) -> None:
    with (folder / "builds.log").open("a", encoding="utf-8") as log:
        log.write(f"{datetime.now().astimezone().isoformat(timespec='seconds')} {line}\n")


def write_filtered(collection: Collection, fmt: str, args: dict[str, str], folder: Path) -> Path:
    """A public download narrowed by the map's filters (``args``), written in ``folder``: not
    kept, but made here all the same, at this process's low priority (a filter is no way
    around it)."""
    target = folder / f"{collection.id}.{fmt}"
    with _snapshot() as session:
        query = parse_map_filters(collection, args, False)
        export_layer(session, Actor.public(), collection, query, fmt, target)
    return _zipped(folder, collection.id) if fmt == "shp" else target


def main(argv: list[str]) -> int:
    """``LAYER FORMAT FOLDER LOCK_FD SLOT_FD``: the two descriptors are the build lock and the
    slot the request took; they stay open (held) until this process ends. ``filtered LAYER
    FORMAT FOLDER ARGS_JSON SLOT_FD``: one filtered download written in FOLDER."""
    os.nice(NICENESS)
    filtered = argv[0] == "filtered"
    layer, fmt, folder, *rest = argv[1:] if filtered else argv
    handles = [os.fdopen(int(fd), "ab") for fd in (rest[1:] if filtered else rest)]
    try:
        if filtered:
            write_filtered(get_collection(layer), fmt, json.loads(rest[0]), Path(folder))
            return 0
        return build(get_collection(layer), fmt, Path(folder))
    finally:
        for handle in handles:
            handle.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
