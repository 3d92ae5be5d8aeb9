"""Jasyl's faces: the Flask app (map, forms, JSON API, tiles) and the ``jasyl`` CLI."""

from web.app import create_app

__all__ = ["create_app"]
