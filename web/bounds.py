"""Bounds on what one request may cost the server: body size per endpoint, and the public's
whole-layer downloads at once.

A view declares a larger body than the default with ``@body_limit("max_survey_bytes")`` (a
field of ``registry.config.Limits``) or a number of bytes; the limit is set before anything
reads the body (CSRF reads the form first), and going over it is a 413 naming the setting.

The public's downloads of whole layers are the costliest anonymous requests (a national XLSX
took 85 s and slowed every other request ~18×), so only ``JASYL_PUBLIC_EXPORTS`` of them run
at once on the machine: each takes a slot, a lock file under ``JASYL_HOME/locks`` that every
worker process sees and that the kernel frees if a worker dies. Without a free slot the answer
is 503 with ``Retry-After``; signed-in staff are not queued.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import IO, Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, ServiceUnavailable

from importers.bounds import megabytes
from registry.access import REQUEST_ORIGIN
from registry.config import Limits
from registry.opendata.public_files import take_slot
from web.errors import _answer

View = TypeVar("View", bound=Callable[..., Any])
RETRY_AFTER = 30  # seconds: about what a large public download takes on the demo's data


def body_limit(limit: str | int) -> Callable[[View], View]:
    """Let this view's request body be up to ``limit`` (a ``Limits`` field or bytes)."""

    def mark(view: View) -> View:
        view.jasyl_body_limit = limit  # type: ignore[attr-defined]  (wraps() copies it up)
        return view

    return mark


def limits() -> Limits:
    return current_app.config["JASYL_SETTINGS"].limits


def _limit_of_endpoint() -> tuple[int, str]:
    """The body limit of the requested view, and the setting that gives it: its own, within
    the app's ``MAX_CONTENT_LENGTH`` (the ceiling of them all)."""
    view = current_app.view_functions.get(request.endpoint or "")
    declared = getattr(view, "jasyl_body_limit", None) or "max_request_bytes"
    if isinstance(declared, int):
        size, setting = declared, "this address's fixed limit"
    else:
        size, setting = getattr(limits(), declared), f"JASYL_{declared.upper()}"
    ceiling = current_app.config.get("MAX_CONTENT_LENGTH")
    if ceiling is not None and ceiling < size:
        return ceiling, "MAX_CONTENT_LENGTH"
    return size, setting


def body_ceiling(limits: Limits) -> int:
    """The app's ``MAX_CONTENT_LENGTH``: the largest body any endpoint takes."""
    return max(limits.max_request_bytes, limits.max_survey_bytes, limits.max_raster_bytes)


class ExportsBusy(ServiceUnavailable):
    """Every slot for the public's whole-layer downloads is taken."""


def init_app(app: Flask) -> None:
    """Register before CSRF protection, so the body limit is set before the form is read."""

    @app.before_request
    def bound_the_body() -> None:
        request.max_content_length, _ = _limit_of_endpoint()
        if request.mimetype == "multipart/form-data":
            refuse_unnamed_parts()

    @app.before_request
    def note_origin() -> None:
        """Where the request came from, for the audit row of a signed-in user's refusal."""
        REQUEST_ORIGIN.set({"address": request.remote_addr or "", "path": request.path})

    @app.teardown_request
    def forget_origin(exc: BaseException | None) -> None:
        REQUEST_ORIGIN.set(None)

    @app.errorhandler(413)
    def too_large(exc: RequestEntityTooLarge):
        size, setting = _limit_of_endpoint()
        message = (
            f"the request is larger than the {megabytes(size)} {request.path} accepts ({setting})"
        )
        return _answer(413, {"error": "too_large", "message": message, "limit_bytes": size})

    @app.errorhandler(ExportsBusy)
    def busy(exc: ExportsBusy):
        body, status = _answer(503, {"error": "busy", "message": exc.description})
        return body, status, {"Retry-After": str(RETRY_AFTER)}


def refuse_unnamed_parts() -> None:
    """A multipart part without a name is a 400: werkzeug keeps it under the key ``None``, on
    which CSRF protection (reading every key) failed with a 500, anonymous requests too."""
    if None in request.form or None in request.files:
        raise BadRequest(
            "a part of the multipart body has no name (Content-Disposition: form-data; "
            'name="…"); send each file and field under its name'
        )


def export_locks() -> Path:
    """The folder of the slots' lock files, shared by every worker of the machine."""
    configured = current_app.config.get("EXPORT_LOCKS_DIR")
    return Path(configured or current_app.config["JASYL_SETTINGS"].home / "locks")


def take_export_slot() -> IO[bytes]:
    """A slot for one public whole-layer download (close the handle to free it), or
    ``ExportsBusy`` when all ``JASYL_PUBLIC_EXPORTS`` are taken."""
    slots = limits().public_exports
    handle = take_slot(export_locks(), slots)
    if handle is None:
        raise ExportsBusy(
            f"{slots} public download(s) of a whole layer are being prepared, the most the "
            f"server runs at once (JASYL_PUBLIC_EXPORTS); try again in {RETRY_AFTER} seconds, "
            "or narrow the download with the map's filters"
        )
    return handle


def free_slot(handle: IO[bytes] | None) -> None:
    """Close a slot's lock file (twice is harmless: streams free it when done and on close)."""
    if handle is not None:
        with suppress(OSError):
            handle.close()
