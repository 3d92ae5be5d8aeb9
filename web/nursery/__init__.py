"""Nursery pages and JSON: dashboards, ledger, dispatch and receipt."""
