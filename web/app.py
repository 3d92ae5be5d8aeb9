"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

from registry.config import load_settings
from web import errors, vendor
from web.health.views import bp as health_bp
from web.map.views import bp as map_bp
from web.ogcapi.views import bp as ogcapi_bp
from web.tiles.views import bp as tiles_bp

BLUEPRINTS = (map_bp, tiles_bp, health_bp, ogcapi_bp)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the settings (environment), then ``test_config`` on top."""
    settings = load_settings()
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        DATABASE_URL=settings.database_url,
        REPLICA_URL=settings.replica_url,
        JASYL_SETTINGS=settings,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        MAX_CONTENT_LENGTH=200 * 1024 * 1024,
    )
    if test_config:
        app.config.update(test_config)
    errors.init_app(app)
    vendor.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app
