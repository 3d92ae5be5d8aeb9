"""Registry errors → HTTP answers, in one place.

JSON clients (``/api``, ``/tiles``, or ``Accept: application/json``) get ``{"error", "message",
...}``; browsers get the site's page with a headline in their language and the specific message
under it (a bare page when even the layout cannot be drawn, e.g. with the database down).
Unexpected errors are logged and answered with 500.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from registry.db import refusal_of
from registry.errors import AccessDenied, DatabaseUnavailable, JasylError
from web.actors import current_actor

# The page for when even the layout cannot be drawn: plain formatting, because Flask's template
# rendering runs the context processors, which read the signed-in user from the database.
BARE_PAGE = (
    '<!doctype html><html><head><meta charset="utf-8"><title>{status}</title></head>'
    '<body><h1>{status}</h1><p>{message}</p><p><a href="/">Jasyl</a></p></body></html>'
)
HEADLINES = {
    400: _l("These values cannot be accepted"),
    401: _l("Please sign in"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    409: _l("Changed by someone else"),
    413: _l("The file is too large"),
    422: _l("These values cannot be accepted"),
    429: _l("Too many attempts; wait a minute"),
    503: _l("The registry is unavailable for a moment"),
    507: _l("The registry is out of space"),
}


def wants_json() -> bool:
    return request.path.startswith(("/api", "/tiles", "/basemap")) or (
        request.accept_mimetypes.best == "application/json"
    )


def _answer(status: int, payload: dict):
    if wants_json():
        return jsonify(payload), status
    return _page(status, payload.get("message", "")), status


def _page(status: int, message: str) -> str:
    headline = HEADLINES.get(status, _l("Something went wrong"))
    try:
        return render_template("error.html", status=status, headline=headline, message=message)
    except Exception:  # noqa: BLE001 - the layout reads the signed-in user; the bare page does not
        return BARE_PAGE.format(status=status, message=escape(message))


def init_app(app: Flask) -> None:
    @app.errorhandler(JasylError)
    def registry_error(exc: JasylError):
        if isinstance(exc, AccessDenied) and not current_actor().signed_in:
            # The refusal is the service's; HTTP only adds that signing in might help.
            return _answer(401, {**exc.as_dict(), "error": "sign_in_required"})
        return _answer(exc.http_status, exc.as_dict())

    @app.errorhandler(DBAPIError)
    def database_refused(exc: DBAPIError):
        """A database that is down, read-only or full: a clear 503/507, never a bare 500."""
        refusal = refusal_of(exc)
        if refusal is None and isinstance(exc, DataError):
            # A value no rule caught but the column cannot hold (an id beyond int4, say).
            reason = str(exc.orig or exc).strip().splitlines()[0]
            return _answer(422, {"error": "invalid_value", "message": f"out of range: {reason}"})
        if refusal is None and not isinstance(exc, OperationalError):
            raise exc
        app.logger.error("database unavailable: %s", exc)
        error = refusal or DatabaseUnavailable("the database is not reachable; try again shortly")
        return _answer(error.http_status, error.as_dict())

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _answer(
            exc.code or 500,
            {"error": exc.name.lower().replace(" ", "_"), "message": exc.description},
        )
