"""Jasyl's domain: the green-space registry, its rules and its services.

Nothing in this package knows about HTTP, click or file formats; the web app, the CLI and the
importers call the services here, so every rule holds whichever door the data comes through.
"""
