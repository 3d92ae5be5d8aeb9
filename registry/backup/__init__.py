"""Backups: the database (pg_dump custom format) and the uploaded files, in one archive."""
