"""The ``jasyl`` command: one click group assembled from one module per topic.

Every command parses its input, calls one service and prints the result. Errors from the
registry become one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click
from sqlalchemy.exc import OperationalError

from registry.db import unreachable_message
from registry.errors import JasylError

# Each module exposes ``commands``: a list of click commands or groups.
COMMAND_MODULES = (
    "web.cli.db",
    "web.cli.demo",
    "web.cli.users",
    "web.cli.reference",
    "web.cli.serve",
    "web.cli.importing",
    "web.cli.export",
    "web.cli.raster",
    "web.cli.nursery",
    "web.cli.backup",
    "web.cli.planting",
    "web.cli.reports",
    "web.cli.tiles",
)


class JasylGroup(click.Group):
    """Turns Jasyl's errors into one-line messages with exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except JasylError as exc:
            raise click.ClickException(exc.message) from exc
        except OperationalError as exc:
            raise click.ClickException(unreachable_message(exc)) from exc


@click.group(cls=JasylGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jasyl")
def main() -> None:
    """Jasyl: the green-space and forest-nursery registry of Kazakhstan."""


for _name in COMMAND_MODULES:
    for _command in importlib.import_module(_name).commands:
        main.add_command(_command)


def echo_error(message: str) -> None:
    click.echo(f"Error: {message}", err=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
