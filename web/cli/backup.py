"""``jasyl backup FILE`` and ``jasyl restore FILE``: the whole registry in one archive."""

from __future__ import annotations

from pathlib import Path

import click

from registry.backup import services
from registry.config import load_settings


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Write the database and the uploaded files to FILE (a tar archive)."""
    settings = load_settings()
    summary = services.backup(settings.database_url, settings.uploads_dir, file)
    click.echo(
        f"Backed up {len(summary.tables)} tables ({summary.rows:,} rows) and "
        f"{len(summary.files)} uploaded files to {file} ({summary.size_bytes / 1e6:.1f} MB)"
    )


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that is not empty.")
def restore(file: Path, force: bool) -> None:
    """Restore FILE into the (empty) database, then check every table against the backup."""
    settings = load_settings()
    summary = services.restore(settings.database_url, settings.uploads_dir, file, force)
    click.echo(
        f"Restored {len(summary.tables)} tables ({summary.rows:,} rows) and "
        f"{len(summary.files)} uploaded files from {file}; every count and checksum matches"
    )


commands = [backup, restore]
