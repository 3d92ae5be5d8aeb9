"""``jasyl serve``: the web app."""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--debug", is_flag=True, help="Reload on code changes, show tracebacks.")
def serve(host: str, port: int, debug: bool) -> None:
    """Serve the map and the API."""
    from web.app import create_app

    app = create_app()
    click.echo(f"Jasyl is serving on http://{host}:{port}")
    app.run(host=host, port=port, debug=debug, use_reloader=debug)


commands = [serve]
