"""``jasyl db``: the local PostGIS cluster and the schema's migrations."""

from __future__ import annotations

import click
import psycopg

from registry import migrate
from registry.cluster import LocalCluster
from registry.config import LOCAL_DATABASE, load_settings
from registry.errors import ClusterError


@click.group("db")
def db() -> None:
    """Start, stop, inspect and migrate the database."""


@db.command("up")
def up() -> None:
    """Start the local PostGIS cluster (initialising it the first time)."""
    settings = load_settings()
    if not settings.uses_local_cluster:
        _check_external(settings.database_url)
        click.echo("Using the external database from DATABASE_URL; nothing to start.")
        return
    state = LocalCluster(settings).up()
    click.echo(f"PostGIS {state.version} is running on 127.0.0.1:{state.port} ({state.data_dir})")


@db.command("down")
def down() -> None:
    """Stop the local cluster (its data stays)."""
    settings = load_settings()
    if not settings.uses_local_cluster:
        click.echo("Using the external database from DATABASE_URL; nothing to stop.")
        return
    LocalCluster(settings).down()
    click.echo("The local PostGIS cluster is stopped.")


@db.command("status")
def status() -> None:
    """Say where the database is, whether it runs and whether its schema is current."""
    settings = load_settings()
    if settings.uses_local_cluster:
        state = LocalCluster(settings).status()
        running = "running" if state.running else "stopped"
        click.echo(f"local cluster: {state.data_dir} ({running}, port {state.port})")
        if not state.running:
            return
    else:
        click.echo("external database: DATABASE_URL")
    current = migrate.current_revisions(settings.database_url)
    heads = migrate.head_revisions(settings.database_url)
    state_text = "current" if current == heads else f"behind (at {sorted(current) or 'nothing'})"
    click.echo(f"schema: {state_text}; heads {', '.join(sorted(heads))}")


@db.command("migrate")
def migrate_command() -> None:
    """Apply every migration not yet applied."""
    migrate.upgrade(load_settings().database_url)
    click.echo("The schema is current.")


@db.command("reset")
@click.option("--yes", is_flag=True, help="Confirm that every record will be deleted.")
def reset(yes: bool) -> None:
    """Delete all data and rebuild the schema from the migrations."""
    if not yes:
        raise click.UsageError("reset deletes every record; repeat with --yes to confirm")
    settings = load_settings()
    if settings.uses_local_cluster:
        cluster = LocalCluster(settings)
        cluster.up()
        with psycopg.connect(cluster.admin_dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{LOCAL_DATABASE}" WITH (FORCE)')
        cluster.up()
    else:
        migrate.downgrade(settings.database_url, "base")
    migrate.upgrade(settings.database_url)
    click.echo("The database is empty and its schema is current.")


def _check_external(url: str) -> None:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        raise ClusterError(
            f"cannot reach DATABASE_URL: {str(exc).strip().splitlines()[0]}"
        ) from exc


commands = [db]
