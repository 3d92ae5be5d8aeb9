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

# Each command's module (which lists it in ``commands``). A module is imported when one of its
# commands runs: ``jasyl import`` need not load the raster, export and report stacks first
# (importing every module took 2.7 s of each command's start).
COMMAND_MODULES = {
    "db": "web.cli.db",
    "demo": "web.cli.demo",
    "users": "web.cli.users",
    "species": "web.cli.reference",
    "regions": "web.cli.reference",
    "serve": "web.cli.serve",
    "import": "web.cli.importing",
    "export": "web.cli.export",
    "raster": "web.cli.raster",
    "nursery": "web.cli.nursery",
    "backup": "web.cli.backup",
    "restore": "web.cli.backup",
    "planting": "web.cli.planting",
    "care": "web.cli.planting",
    "felling": "web.cli.planting",
    "report": "web.cli.reports",
    "public-reports": "web.cli.public_reports",
    "tiles": "web.cli.tiles",
    "benefits": "web.cli.benefits",
}


class JasylGroup(click.Group):
    """Turns Jasyl's errors into one-line messages with exit status 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMAND_MODULES:
            return None
        commands = importlib.import_module(COMMAND_MODULES[name]).commands
        return next(command for command in commands if command.name == name)

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


def echo_error(message: str) -> None:
    click.echo(f"Error: {message}", err=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
