"""``/planting/plans/<id>``: a planting plan's page, its lines and its projected benefits.

The page is staff-only like the plan's API (``GET /api/v1/planting/plans/{id}``): the services
decide who may read the plan (``get_plan``), the public hears 401 before anything is read. The
projection (``registry.benefits.projection``) is the one ``jasyl planting show`` prints.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from registry.access import require_signed_in
from registry.benefits.projection import project, survival_rates
from registry.planting import queries
from registry.planting import services as planting
from registry.regions.models import Region
from web.actors import current_actor
from web.db import request_session
from web.labels import region_name

bp = Blueprint("planting_pages", __name__, url_prefix="/planting")


@bp.before_request
def signed_in_only() -> None:
    with request_session() as session:
        require_signed_in(session, current_actor(), request.method.lower(), "planting records")


@bp.get("/plans/<int:plan_id>")
def plan_page(plan_id: int) -> str:
    with request_session() as session:
        plan = planting.get_plan(session, current_actor(), plan_id)  # access decided there
        region = session.get(Region, plan.region_id)
        return render_template(
            "planting/plan.html",
            plan=plan,
            region=region_name(region.iso_code),
            lines=queries.named_plan_lines(session, plan.id),
            projection=project(session, plan, survival_rates(session, plan.region_id)),
        )
