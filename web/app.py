"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

import registry.models  # noqa: F401  (every mapper known before the first query)
from registry.access import may_edit_inventory
from registry.config import load_settings
from web import bounds, errors, headers, i18n, labels, vendor
from web.actors import current_actor
from web.api import operations as declared_api
from web.api.views import bp as api_bp
from web.auth import views as auth
from web.auth.sessions import require_signing_key, session_config
from web.basemap import views as basemap
from web.editing.views import bp as editing_bp
from web.field.pages import bp as field_bp
from web.field.views import api as field_api_bp
from web.health.views import bp as health_bp
from web.map.views import bp as map_bp
from web.nursery.views import api as nursery_api_bp
from web.nursery.views import bp as nursery_bp
from web.ogcapi.views import bp as ogcapi_bp
from web.photos.views import api as photos_api_bp
from web.photos.views import bp as photos_bp
from web.planting.pages import bp as planting_pages_bp
from web.planting.views import bp as planting_bp
from web.public_reports import api as public_reports_api
from web.public_reports import opendata as _opendata  # noqa: F401  (its route on the bp)
from web.public_reports import views as public_reports
from web.raster.views import bp as raster_bp
from web.reports.views import bp as reports_bp
from web.tiles.public import serve_public_tiles
from web.tiles.views import bp as tiles_bp

BLUEPRINTS = (
    map_bp,
    tiles_bp,
    auth.bp,
    health_bp,
    ogcapi_bp,
    raster_bp,
    api_bp,
    editing_bp,
    nursery_bp,
    nursery_api_bp,
    planting_bp,
    planting_pages_bp,
    reports_bp,
    photos_bp,
    photos_api_bp,
    public_reports.bp,
    public_reports_api.api,
    field_bp,
    field_api_bp,
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the settings (environment), then ``test_config`` on top."""
    settings = load_settings()
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE_URL=settings.database_url,
        REPLICA_URL=settings.replica_url,
        TILE_CACHE=settings.tile_cache,
        JASYL_SETTINGS=settings,
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=bounds.body_ceiling(settings.limits),  # each endpoint: its own
        TRUSTED_PROXIES=settings.trusted_proxies,
        BASEMAPS=settings.basemaps,
        **session_config(settings),
    )
    if test_config:
        app.config.update(test_config)
    require_signing_key(app, settings)
    errors.init_app(app)
    bounds.init_app(app)  # before CSRF reads a form: the body limit must be set first
    vendor.init_app(app)
    i18n.init_app(app)
    labels.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    declared_api.init_app(app)  # every /api/v1 view behind its declared schemas
    auth.init_app(app)
    public_reports_api.init_app(app)  # after CSRF: the report is exempt
    public_reports.init_app(app)
    serve_public_tiles(app)
    basemap.init_app(app)  # before the headers: its hosts join the CSP
    headers.init_app(app, app.config["TRUSTED_PROXIES"])

    @app.context_processor
    def navigation() -> dict:
        """The pages the header links to: those registered, and the survey upload only for
        those who may write plants (the ministry, planners and nurseries would only meet 403)."""
        return {
            "nav_endpoints": app.view_functions.keys(),
            "may_upload_surveys": may_edit_inventory(current_actor()),
        }

    return app
