"""Yearly reports and the ministry dashboard over HTTP."""
