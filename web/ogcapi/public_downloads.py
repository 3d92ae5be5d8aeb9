"""The public's whole-layer GeoPackage, shapefile and XLSX, served from files made per published
version (``registry.opendata.public_files``) instead of per request.

A download asks PostgreSQL for the layer's published version (one scan, tens of ms) and:

- the newest file has that version: it is sent (``Jasyl-Data-Current: yes``);
- it is older, but every plant in it is still published: it is sent all the same, with the time
  its data was read (``Jasyl-Data-As-Of``, ``Last-Modified``, the file's name) and
  ``Jasyl-Data-Current: no``; once it is ``JASYL_PUBLIC_EXPORT_MINUTES`` old a new one is made
  in the background (one at a time), which the next downloads get;
- there is none, or it shows a plant since withdrawn from the public: a new one is made while
  the client waits (up to ``FOREGROUND_WAIT``).

Files are made by a separate process at the lowest CPU priority, holding the file's build lock
and one of the ``JASYL_PUBLIC_EXPORTS`` slots, both taken here before it starts: without them
the answer is 503 with ``Retry-After``, and no process is started. A public download narrowed
by filters is made by the same process for its request alone (``filtered``), so a filter is no
way around the low priority. Signed-in staff never get these files: their downloads are read
for them, fresh, with what only staff see.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from flask import Response, current_app, send_file
from sqlalchemy.orm import Session

from registry.access import Actor
from registry.db import engine_for
from registry.opendata import public_files
from registry.opendata.collections import Collection
from registry.opendata.public_files import PublicFile, PublishedVersion
from registry.opendata.rules import FeatureQuery, parse_map_filters
from registry.opendata.services import check_sheet_rows
from web.bounds import RETRY_AFTER, ExportsBusy, limits, take_export_slot

FOREGROUND_WAIT = 120.0  # seconds a download waits for its file before answering 503


def served_from_file(actor: Actor, collection: Collection, query: FeatureQuery, fmt: str) -> bool:
    """A public download of the whole layer (no filter) in a format written whole."""
    return (
        not actor.signed_in
        and fmt in public_files.CACHED_FORMATS
        and query == parse_map_filters(collection, {}, False)
    )


def download(collection: Collection, fmt: str, mimetype: str) -> Response:
    """The layer's public file in ``fmt``: the newest one if the public may still have it,
    else one made now."""
    folder = _folder(collection, fmt)
    ready = public_files.newest(folder)
    now = _published_version(collection, ready)
    check_sheet_rows(fmt, now.rows, collection.id)  # a layer may outgrow XLSX after its file
    if ready is not None and ready.key == now.key:
        served = _send(folder, ready, mimetype, current=True)
    elif ready is not None and not ready.withdrawn(now):
        if _age_minutes(ready) >= limits().public_export_minutes:
            _make(collection, fmt, folder, wait=False)
        served = _send(folder, ready, mimetype, current=False)
    else:
        served = None
    if served is not None:
        return served
    made = _make(collection, fmt, folder, wait=True)
    served = _send(folder, made, mimetype, current=True) if made else None
    if served is None:  # replaced between its making and its sending: the next one is coming
        raise _busy(collection, fmt)
    return served


def _folder(collection: Collection, fmt: str) -> Path:
    root = current_app.config.get("PUBLIC_EXPORTS_DIR")
    root = Path(root or current_app.config["JASYL_SETTINGS"].home / "public-exports")
    return public_files.folder_for(root, current_app.config["DATABASE_URL"], collection.id, fmt)


def _published_version(collection: Collection, ready: PublicFile | None) -> PublishedVersion:
    """Read on the primary, where the files are read: a replica a moment behind would take a
    plant published since for one withdrawn (and have a file made again for nothing)."""
    engine = engine_for(current_app.config["DATABASE_URL"])
    with engine.connect() as connection, Session(bind=connection) as session:
        return public_files.published_version(session, collection, ready.last_id if ready else 0)


def _age_minutes(ready: PublicFile) -> float:
    return (datetime.now(UTC) - ready.made).total_seconds() / 60


def _send(folder: Path, ready: PublicFile, mimetype: str, current: bool) -> Response | None:
    """The file as a download named by its layer and time, or ``None`` if it has just been
    replaced (the open handle keeps its bytes once it is open)."""
    try:
        handle = (folder / ready.name).open("rb")
    except FileNotFoundError:
        return None
    layer, fmt = folder.parent.name, folder.name
    stamp = ready.made.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
    name = f"{layer}-shp-{stamp}.zip" if fmt == "shp" else f"{layer}-{stamp}.{fmt}"
    response = send_file(handle, mimetype=mimetype, as_attachment=True, download_name=name,
                         etag=ready.key, last_modified=ready.made, conditional=True)  # fmt: skip
    response.headers["Jasyl-Data-As-Of"] = ready.as_of
    response.headers["Jasyl-Data-Current"] = "yes" if current else "no"
    return response


def _make(collection: Collection, fmt: str, folder: Path, wait: bool) -> PublicFile | None:
    """Start the process that makes the next file; wait for it when ``wait``. Busy (another
    build of this file, or no free slot): 503 when waiting, nothing otherwise."""
    lock = public_files.lock_build(folder)
    if lock is None:
        if wait:
            raise _busy(collection, fmt)
        return None  # the caller sends the file it has
    try:
        slot = take_export_slot()
    except ExportsBusy:
        lock.close()
        if wait:
            raise
        return None
    process = _start(collection, fmt, folder, lock, slot)
    if not wait:
        threading.Thread(target=process.wait, daemon=True).start()  # reaped when done
        return None
    try:
        status = process.wait(timeout=FOREGROUND_WAIT)
    except subprocess.TimeoutExpired:
        threading.Thread(target=process.wait, daemon=True).start()
        raise _busy(collection, fmt) from None
    made = public_files.newest(folder)
    if status != 0 or made is None:
        raise RuntimeError(f"the public {collection.id} file could not be made: see {folder}")
    return made


def _start(
    collection: Collection, fmt: str, folder: Path, lock: IO[bytes], slot: IO[bytes]
) -> subprocess.Popen:
    """The building process, handed the build lock and the slot (it holds them until it ends);
    its error output goes to the folder's ``builds.log``."""
    held = [lock, slot]
    arguments = [collection.id, fmt, str(folder), *(str(h.fileno()) for h in held)]
    with (folder / "builds.log").open("ab") as log:
        return _spawn(arguments, held, log)


def _spawn(arguments: list[str], held: list[IO[bytes]], log: IO[bytes] | int) -> subprocess.Popen:
    """``python -m registry.opendata.public_files ARGUMENTS`` on the primary, handed ``held``
    (locks it keeps until it ends; closed here), in a session of its own: it outlives the
    request that started it."""
    env = {**os.environ, "DATABASE_URL": current_app.config["DATABASE_URL"]}
    command = [sys.executable, "-m", public_files.__name__, *arguments]
    try:
        return subprocess.Popen(  # noqa: S603 - our own module, our own arguments
            command,
            pass_fds=tuple(h.fileno() for h in held),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    finally:
        for handle in held:
            handle.close()


def filtered(collection: Collection, fmt: str, args: dict[str, str], mimetype: str) -> Response:
    """A public download narrowed by filters, made for this request alone by the same low
    priority process (within a ``JASYL_PUBLIC_EXPORTS`` slot), in a temporary folder that is
    gone before the file is sent (the open handle keeps its bytes)."""
    slot = take_export_slot()
    with (
        tempfile.TemporaryDirectory(prefix="jasyl-export-") as name,
        tempfile.TemporaryFile() as log,
    ):
        arguments = ["filtered", collection.id, fmt, name, json.dumps(args), str(slot.fileno())]
        process = _spawn(arguments, [slot], log)
        try:
            status = process.wait(timeout=FOREGROUND_WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise _busy(collection, fmt) from None
        if status != 0:
            log.seek(0)
            raise RuntimeError(f"a public download could not be made: {log.read()[-2000:]!r}")
        made = f"{collection.id}-shp.zip" if fmt == "shp" else f"{collection.id}.{fmt}"
        target = Path(name) / made
        handle = target.open("rb")
    return send_file(handle, mimetype=mimetype, as_attachment=True, download_name=target.name)


def _busy(collection: Collection, fmt: str) -> ExportsBusy:
    return ExportsBusy(
        f"the public {collection.id} file in {fmt} is being made; try again in {RETRY_AFTER} "
        "seconds, or narrow the download with the map's filters"
    )
