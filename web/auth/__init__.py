"""Signing in and out, CSRF protection and login rate limiting."""
