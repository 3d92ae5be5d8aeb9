"""Planting, care and felling over HTTP (JSON API)."""
