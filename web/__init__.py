"""Jasyl's faces: the Flask app (map, forms, JSON API, tiles) and the ``jasyl`` CLI."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """``from web import create_app`` loads the app on first use, so a ``jasyl`` command that
    needs no web app (an import of a million trees) does not spend seconds importing it."""
    if name == "create_app":
        from web.app import create_app

        return create_app
    raise AttributeError(f"module 'web' has no attribute {name!r}")
