"""The public's tiles without Flask's request machinery: a WSGI layer in front of the app.

A map visit asks for hundreds of tiles. Through Flask each paid routing, the login lookup, the
rate limiter's and the languages' hooks: ~1.5 ms of Python on top of a tile whose SQL takes
2–6 ms, measured (``bench.tiles``). An unfiltered tile request from someone not signed in (no
user in the signed session cookie, no remember-me cookie) is the public's and needs none of
those; this layer answers it with the very function the Flask view uses (``answer_tile``), so
the bytes, ETags, 304s, disk cache and lazy rebuilds are the same. Everything else (signed-in
staff, a client waiting for its own write on the replica, filtered maps, addresses that do not
exist, other methods, and any failure) goes on to Flask, which answers or explains itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from flask import Flask, Request
from werkzeug.http import parse_etags
from werkzeug.wsgi import ClosingIterator

from gis.tiles import LAYERS, TileAddress
from registry.access import Actor, sees_internal_fields
from web.db import WRITTEN_LSN, read_connection
from web.tiles.views import TileAnswer, answer_tile, rebuild_quietly, tile_cache

TILE_PATH = re.compile(
    r"/tiles/(?P<layer>[a-z_]+)/(?P<z>\d{1,2})/(?P<x>\d{1,7})/(?P<y>\d{1,7})\.pbf"
)
STATUS = {200: "200 OK", 204: "204 No Content", 304: "304 Not Modified"}
WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


class PublicTiles:
    """Wraps ``app.wsgi_app``: anonymous, unfiltered GET/HEAD tile requests are answered here."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.flask: WsgiApp = app.wsgi_app
        self.remember = f"{app.config.get('REMEMBER_COOKIE_NAME', 'remember_token')}="
        self.internal = sees_internal_fields(Actor.public())

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        address = self._public_tile(environ)
        if address is None:
            return self.flask(environ, start_response)
        try:
            answer = self._answer(environ, *address)
        except Exception as exc:  # noqa: BLE001 - Flask answers it again, with its error pages
            self.app.logger.warning("public tile goes to Flask: %r", exc)
            return self.flask(environ, start_response)
        headers = answer.headers  # no Content-Length on a 204 or a 304 (RFC 9110, 8.6)
        if answer.body:
            headers = headers + [("Content-Length", str(len(answer.body)))]
        start_response(STATUS[answer.status], headers)
        body = [] if environ["REQUEST_METHOD"] == "HEAD" or not answer.body else [answer.body]
        if answer.rebuild:
            return ClosingIterator(body, [rebuild_quietly(self.app, answer.rebuild)])
        return body

    def _answer(self, environ: dict, layer: str, tile: TileAddress) -> TileAnswer:
        conditional = parse_etags(environ.get("HTTP_IF_NONE_MATCH"))
        cache = tile_cache(self.app, None)
        with read_connection(serial=True, config=self.app.config) as connection:
            return answer_tile(connection, layer, tile, self.internal, None, conditional, cache)

    def _public_tile(self, environ: dict) -> tuple[str, TileAddress] | None:
        """The layer and tile an anonymous, unfiltered request asks for; ``None`` for Flask."""
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return None
        match = TILE_PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None or match["layer"] not in LAYERS or not self._anonymous(environ):
            return None
        try:
            return match["layer"], TileAddress(int(match["z"]), int(match["x"]), int(match["y"]))
        except ValueError:
            return None

    def _anonymous(self, environ: dict) -> bool:
        """No user in the signed session (Flask-Login's ``_user_id``), no remember-me cookie,
        and no write of this client's for the replica to catch up with."""
        cookies = environ.get("HTTP_COOKIE", "")
        if not cookies:
            return True
        if self.remember in cookies:
            return False
        session = self.app.session_interface.open_session(self.app, Request(environ))
        return session is not None and not ({"_user_id", WRITTEN_LSN} & session.keys())


def serve_public_tiles(app: Flask) -> None:
    """Put the public tile layer in front of ``app``."""
    app.wsgi_app = PublicTiles(app)  # type: ignore[method-assign]
