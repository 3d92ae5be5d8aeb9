"""Signed session cookies that cannot be forged and that end.

A session cookie is signed with ``SECRET_KEY``; whoever holds the key can sign one for any user.
So the app refuses to build with no key, or with the development key written in
``registry/config.py``, unless the process is explicitly a developer's or the tests'
(``JASYL_ENV``), whatever server loads the factory.

A signed-in cookie carries the user's session generation, when the user signed in and when it
was last used. On each request (``still_signed_in``) it stops being a sign-in when the user's
generation has moved on (sign-out, a new password: every earlier cookie, copied or not), when
it has been idle too long, or when the sign-in is older than the absolute lifetime.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

from flask import Flask, request

from registry.config import DEV_SECRET_KEY, Settings

GENERATION = "jasyl_generation"
SIGNED_IN_AT = "jasyl_signed_in_at"
SEEN_AT = "jasyl_seen_at"
# The last use is written back at most this often (a new cookie on every tile is not needed).
SEEN_RESOLUTION_SECONDS = 60
# Answers a shared cache may keep (tiles: ``Cache-Control: public`` for some staff) never carry
# a new cookie; the pages and API calls around them note the use.
QUIET_PATHS = ("/tiles/",)
LOGIN_KEYS = ("_user_id", "_fresh", "_id", GENERATION, SIGNED_IN_AT, SEEN_AT)


class InsecureSigningKey(RuntimeError):
    """The app would sign sessions with a key anyone can read, or with none."""


def session_config(settings: Settings) -> dict[str, Any]:
    """Flask's cookie and key settings: secure cookies in production, key rotation."""
    return {
        "SECRET_KEY": settings.secret_key,
        "SECRET_KEY_FALLBACKS": list(settings.secret_key_fallbacks),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.production,
        "SESSION_COOKIE_NAME": "jasyl_session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": settings.production,
        # The signature's own age limit: no cookie outlives the absolute lifetime.
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=settings.session_hours),
        "SESSION_IDLE": timedelta(minutes=settings.session_idle_minutes),
    }


def require_signing_key(app: Flask, settings: Settings) -> None:
    """Refuse to serve with a key from the source, or none, outside development and tests."""
    keys = [app.config.get("SECRET_KEY"), *app.config.get("SECRET_KEY_FALLBACKS", [])]
    if not keys[0]:
        raise InsecureSigningKey(
            "JASYL_SECRET_KEY is not set: sessions are signed with it. Set it to a long random "
            "value (python -c 'import secrets; print(secrets.token_hex(32))'), or set "
            "JASYL_ENV=development on a developer's machine"
        )
    if DEV_SECRET_KEY in keys and not settings.development:
        raise InsecureSigningKey(
            "JASYL_SECRET_KEY is the development key written in registry/config.py: anyone "
            "could sign a session with it. Set a long random key, or JASYL_ENV=development "
            "on a developer's machine"
        )


def begin(cookie: MutableMapping[str, Any], generation: int) -> None:
    """Mark a fresh sign-in in the cookie Flask-Login has just filled."""
    now = int(time.time())
    cookie[GENERATION] = generation
    cookie[SIGNED_IN_AT] = now
    cookie[SEEN_AT] = now


def still_signed_in(cookie: MutableMapping[str, Any], generation: int, config: Any) -> bool:
    """Whether the cookie is still a sign-in of the user whose generation is ``generation``;
    notes its use when it is."""
    now = int(time.time())
    signed_in_at, seen_at = cookie.get(SIGNED_IN_AT), cookie.get(SEEN_AT)
    if cookie.get(GENERATION) != generation:
        return False
    if not isinstance(signed_in_at, int) or not isinstance(seen_at, int):
        return False
    if now - signed_in_at > config["PERMANENT_SESSION_LIFETIME"].total_seconds():
        return False
    if now - seen_at > config["SESSION_IDLE"].total_seconds():
        return False
    if now - seen_at >= SEEN_RESOLUTION_SECONDS and not request.path.startswith(QUIET_PATHS):
        cookie[SEEN_AT] = now
    return True


def forget(cookie: MutableMapping[str, Any]) -> None:
    """Drop the sign-in from the cookie (the language and the CSRF token stay)."""
    for key in LOGIN_KEYS:
        cookie.pop(key, None)
