"""The exceptions every service raises, each also a builtin so callers may catch either way.

The CLI turns them into one-line messages and the web app into HTTP answers, each in one place
(``web.cli`` and ``web.errors``); services never print or format responses themselves.
"""

from __future__ import annotations

from typing import Any


class JasylError(Exception):
    """Base of every error Jasyl reports to a user."""

    http_status = 400
    code = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.details}


class NotFound(JasylError, LookupError):
    http_status = 404
    code = "not_found"


class InvalidValue(JasylError, ValueError):
    """A value breaks a rule: names the field, the value and why."""

    http_status = 422
    code = "invalid_value"

    def __init__(self, field: str, reason: str, value: Any = None) -> None:
        shown = "" if value is None else f" (got {value!r})"
        super().__init__(f"{field}: {reason}{shown}", field=field, reason=reason, value=value)
        self.field = field
        self.reason = reason
        self.value = value


class NeedsConfirmation(InvalidValue):
    """A value that may mean something the registry knows, but only a person may say so (a
    species name near a catalogue name): proposed with candidates, never applied."""

    code = "needs_confirmation"


class TooLarge(InvalidValue):
    """A value (an uploaded file) over its size limit."""

    http_status = 413
    code = "too_large"


class DuplicateRecord(JasylError, ValueError):
    http_status = 409
    code = "duplicate"


class AccessDenied(JasylError, PermissionError):
    http_status = 403
    code = "access_denied"


class StaleVersion(JasylError):
    """Someone saved the record after the caller read it; nothing was overwritten."""

    http_status = 409
    code = "stale_version"


class DatabaseUnavailable(JasylError, ConnectionError):
    http_status = 503
    code = "database_unavailable"


class DatabaseReadOnly(DatabaseUnavailable):
    """The database accepts reads only (maintenance, a replica, a read-only role)."""

    code = "database_read_only"


class DatabaseFull(DatabaseUnavailable):
    """The database server's disk is full."""

    http_status = 507
    code = "database_full"


class ClusterError(JasylError, RuntimeError):
    """The local PostGIS cluster cannot be set up or started."""

    code = "cluster_error"
