"""Security headers on every response, and the client's address behind trusted proxies.

The headers are added by a WSGI layer outside everything else, so the public tiles answered
before Flask (``web.tiles.public``) and error pages carry them too. The Content-Security-Policy
allows scripts, styles, images and fetches from the app's own origin only, and images and
fetches from the hosts of the configured basemaps (``CSP_TILE_HOSTS``, set by ``web.basemap``
from ``JASYL_BASEMAPS``: exactly those hosts, none when every basemap is a file Jasyl serves
itself); inline
``<script>`` and ``<style>`` blocks run only with the nonce drawn for that response, which the
templates write into the blocks they mean (``csp_nonce``), so markup injected into a page
never runs. Inline ``style="…"`` attributes stay allowed (``style-src-attr``): Leaflet, folium
and the legends draw with them, and a style attribute cannot run code.

``X-Forwarded-For`` (and ``-Proto``, ``-Host``) are believed from exactly
``JASYL_TRUSTED_PROXIES`` proxies (werkzeug's ``ProxyFix``); with none they are ignored, so a
client cannot choose the address that sign-in throttling counts it under.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request
from markupsafe import Markup
from werkzeug.middleware.proxy_fix import ProxyFix

NONCE_KEY = "jasyl.csp_nonce"
INLINE_BLOCK = re.compile(r"<(script|style)(?![^>]*\bnonce=)(?=[\s>])", re.I)
WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def content_security_policy(nonce: str, tile_hosts: Iterable[str] = ()) -> str:
    images = " ".join(["'self'", "data:", "blob:", *tile_hosts])
    fetches = " ".join(["'self'", *tile_hosts])  # a service worker may cache the tiles
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "style-src-attr 'unsafe-inline'",
            f"img-src {images}",
            f"connect-src {fetches}",
            "worker-src 'self'",  # field mode's service worker, from the app's own origin only
            "manifest-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeaders:
    """Draws a nonce per request (``environ[NONCE_KEY]``) and adds the headers to the answer,
    unless the answer already set its own."""

    def __init__(self, wsgi_app: WsgiApp, tile_hosts: Iterable[str] = ()) -> None:
        self.wsgi_app = wsgi_app
        self.tile_hosts = tuple(tile_hosts)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        nonce = environ[NONCE_KEY] = secrets.token_urlsafe(16)
        fixed = {
            "Content-Security-Policy": content_security_policy(nonce, self.tile_hosts),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "X-Frame-Options": "DENY",
        }

        def with_headers(status: str, headers: list, exc_info: Any = None):
            present = {name.lower() for name, _ in headers}
            headers = headers + [(k, v) for k, v in fixed.items() if k.lower() not in present]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, with_headers)


def csp_nonce() -> str:
    """This response's nonce, for the ``nonce`` attribute of the page's own inline blocks."""
    return request.environ.get(NONCE_KEY, "")


def nonced(generated: str) -> Markup:
    """folium's generated header (its ``<script>`` and ``<style>`` blocks, written by our code
    from our settings, never from a user's input) with this response's nonce on each block."""
    return Markup(INLINE_BLOCK.sub(lambda m: f'<{m[1]} nonce="{csp_nonce()}"', str(generated)))


def init_app(app: Flask, trusted_proxies: int) -> None:
    """Wrap the app (after every other WSGI layer): headers outermost, then the proxies."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.filters["nonced"] = nonced
    wsgi_app = app.wsgi_app
    if trusted_proxies:
        n = trusted_proxies
        wsgi_app = ProxyFix(wsgi_app, x_for=n, x_proto=n, x_host=n)
    app.wsgi_app = SecurityHeaders(wsgi_app, app.config.get("CSP_TILE_HOSTS", ()))  # type: ignore[method-assign]
