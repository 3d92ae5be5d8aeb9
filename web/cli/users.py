"""``jasyl users``: accounts and roles."""

from __future__ import annotations

import click
from sqlalchemy import select

from registry.access import Actor
from registry.accounts.models import Role, User
from registry.accounts.services import add_user
from registry.db import unit_of_work


@click.group("users")
def users() -> None:
    """Add and list users."""


@users.command("add")
@click.argument("email")
@click.option(
    "--role", required=True, type=click.Choice([r.value for r in Role]), help="What the user does."
)
@click.option("--region", help="Region a forester works in: KZ-75, 75, Almaty or Алматы.")
@click.option("--name", "full_name", default="", help="Full name.")
@click.option("--password", help="Password (asked for when omitted on a terminal).")
@click.option("--no-password", is_flag=True, help="Create the account without a password.")
def add(
    email: str,
    role: str,
    region: str | None,
    full_name: str,
    password: str | None,
    no_password: bool,
) -> None:
    """Add a user with a role (and, for foresters, a region)."""
    if password is None and not no_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with unit_of_work() as session:
        user = add_user(session, Actor.system("cli"), email, role, region, password, full_name)
        where = f" in region {user.region_id}" if user.region_id else ""
        click.echo(f"Added {user.email} as {user.role.value}{where}.")


@users.command("list")
def list_users() -> None:
    """List users with their roles and regions."""
    with unit_of_work() as session:
        for user in session.scalars(select(User).order_by(User.email)):
            region = user.region_id or ""
            click.echo(f"{user.email:40} {user.role.value:9} {region}")


commands = [users]
