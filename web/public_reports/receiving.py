"""Receiving a resident's report, for the API and the web form alike: throttled per address
and per ~1 km area in the shared PostgreSQL throttle table (``web.auth.throttle``, the one
sign-in uses, so every worker sees one count), judged by ``registry.public_reports``, stored in
one unit of work.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, request
from werkzeug.exceptions import TooManyRequests

from registry.errors import InvalidValue
from registry.public_reports.services import Draft, Receipt, submit
from web.auth import throttle
from web.db import request_session
from web.errors import _answer
from web.photos.views import uploads
from web.public_reports.schemas import HONEYPOT

RULES = throttle.ThrottleRules(
    first_wait=timedelta(minutes=5), longest_wait=timedelta(hours=1), window=timedelta(hours=1)
)
AREA_DEGREES = 0.01  # ~1.1 km north-south, ~0.7 km east-west at Astana's latitude


class TooManyReports(TooManyRequests):
    """An address or an area sent more reports this hour than it may."""

    def __init__(self, seconds: int) -> None:
        minutes = -(-seconds // 60)
        super().__init__(f"too many reports from here; try again in {minutes} min")
        self.seconds = seconds


def throttle_keys(lon: Any, lat: Any) -> dict[str, int]:
    """The counts this report goes under, with each one's hourly allowance."""
    settings = current_app.config["JASYL_SETTINGS"].open_data
    keys = {f"report-address:{request.remote_addr or ''}": settings.reports_per_address}
    if all(isinstance(v, float | int) and math.isfinite(v) for v in (lon, lat)):
        cell = f"{math.floor(lon / AREA_DEGREES)}:{math.floor(lat / AREA_DEGREES)}"
        keys[f"report-area:{cell}"] = settings.reports_per_area
    return keys


def receive(draft: Draft, honeypot: Any) -> Receipt:
    """Store the report unless its address or area must wait, or a robot filled the trap."""
    if honeypot:
        raise InvalidValue(HONEYPOT, "must stay empty")
    database = current_app.config["DATABASE_URL"]
    keys = throttle_keys(draft.lon, draft.lat)
    wait = throttle.seconds_blocked(database, list(keys))
    if wait:
        raise TooManyReports(wait)
    with request_session() as session:
        receipt = submit(session, draft, uploads())
        session.flush()
    throttle.count(database, keys, current_app.config.get("REPORT_THROTTLE_RULES", RULES))
    return receipt


def init_app(app: Flask) -> None:
    @app.errorhandler(TooManyReports)
    def wait_a_while(exc: TooManyReports):
        body, status = _answer(429, {"error": "too_many_requests", "message": exc.description})
        return body, status, {"Retry-After": str(exc.seconds)}
