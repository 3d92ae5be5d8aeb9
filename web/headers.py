"""The client's address behind trusted proxies.

``X-Forwarded-For`` (and ``-Proto``, ``-Host``) are believed from exactly
``JASYL_TRUSTED_PROXIES`` proxies (werkzeug's ``ProxyFix``); with none they are ignored, so a
client cannot choose the address that sign-in throttling counts it under.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask, trusted_proxies: int) -> None:
    """Wrap the app (after every other WSGI layer) in the proxies' header reading."""
    if trusted_proxies:
        n = trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
