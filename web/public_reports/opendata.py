"""``/open-data``: what the registry publishes, under which licence, how much of it, and where
to get it (the OGC API, a download of each layer in every export format, the API documents).

Counts are of what the public sees: published plants and green spaces, published reports.
"""

from __future__ import annotations

from flask import current_app, render_template
from sqlalchemy import func, select

from gis.export import FORMATS
from registry.inventory.models import GreenSpace, Plant
from registry.opendata.collections import COLLECTIONS
from registry.public_reports.services import published_count
from web.db import request_session
from web.public_reports.views import bp


@bp.get("/open-data")
def open_data():
    settings = current_app.config["JASYL_SETTINGS"].open_data
    with request_session() as session:
        counts = {
            "plants": session.scalar(select(func.count()).where(Plant.published)),
            "green_spaces": session.scalar(select(func.count()).where(GreenSpace.published)),
            "reports": published_count(session),
        }
    return render_template(
        "public_reports/open_data.html",
        collections=list(COLLECTIONS.values()),
        formats=FORMATS,
        counts=counts,
        licence=settings.licence,
        licence_url=settings.licence_url,
    )
