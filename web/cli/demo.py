"""``jasyl demo``: load the demo data set."""

from __future__ import annotations

import click
from rich.progress import Progress

from registry.config import load_settings
from registry.db import unit_of_work
from registry.demo.services import demo_loaded, load_demo
from registry.demo.users import ensure_demo_users
from registry.nursery.demo import load_nursery_demo
from registry.planting.demo import load_planting_demo


@click.command("demo")
@click.option(
    "--scale",
    type=float,
    default=None,
    help="Multiply the number of demo plants (default JASYL_DEMO_SCALE or 1).",
)
def demo(scale: float | None) -> None:
    """Load the demo cities (Astana, Almaty, Shymkent) once; later calls do nothing."""
    scale = scale if scale is not None else load_settings().demo_scale
    if scale <= 0:
        raise click.BadParameter("must be greater than zero", param_hint="--scale")
    with Progress(transient=True) as bar, unit_of_work() as session:
        tasks: dict[str, int] = {}

        def progress(region: str, done: int, total: int) -> None:
            if region not in tasks:
                tasks[region] = bar.add_task(f"region {region}", total=total)
            bar.update(tasks[region], completed=done, total=max(total, done))

        already = demo_loaded(session)  # a tiny --scale loads 0 plants, yet loads the rest
        added = load_demo(session, scale, progress)
        users = ensure_demo_users(session)
        nurseries = load_nursery_demo(session)
        plantings = load_planting_demo(session)
    if not already:
        click.echo(f"Loaded the demo data set: {added:,} plants.")
    else:
        click.echo("The demo data set is already loaded.")
    if nurseries:
        click.echo(f"Demo nurseries added: {nurseries}.")
    if plantings:
        click.echo(
            f"Demo plantings added: {plantings} planting events over three springs, with their "
            "plans, survival re-counts and care works."
        )
    if users:
        click.echo(f"Demo accounts added: {', '.join(users)} (see README).")


commands = [demo]
