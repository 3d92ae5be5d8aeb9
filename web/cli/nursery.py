"""``jasyl nursery``: stock, the ledger's movements, dispatch to akimats and their receipts.

Write commands act as the system operator unless ``--as EMAIL`` names a user, whose role then
decides (through ``registry.access``) what they may do, exactly as on the web.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.access import Actor
from registry.accounts.services import actor_for, find_user
from registry.db import unit_of_work
from registry.errors import NotFound
from registry.nursery import provenance, queries, services, shipping
from registry.nursery.models import SeedLot
from registry.regions.services import list_regions

AS_USER = click.option(
    "--as", "as_user", metavar="EMAIL", help="Act as this user (default: the system operator)."
)
ON = click.option("--on", "on", required=True, help="Date of the movement, YYYY-MM-DD.")


def acting(session: Session, email: str | None) -> Actor:
    if not email:
        return Actor.system("cli")
    user = find_user(session, email)
    if user is None or not user.active:
        raise NotFound(f"no active user {email}", reference=email)
    return actor_for(user)


def emit(rows: list[dict[str, Any]], fmt: str, columns: list[str]) -> None:
    """Rows as an aligned table, JSON (one array) or CSV with a header."""
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        click.echo(out.getvalue(), nl=False)
        return
    if not rows:
        click.echo("(nothing)")
        return
    widths = {
        c: max(len(c), *(len(str(r.get(c) if r.get(c) is not None else "")) for r in rows))
        for c in columns
    }
    click.echo("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        cells = [str(row.get(c) if row.get(c) is not None else "") for c in columns]
        click.echo("  ".join(cell.ljust(widths[c]) for cell, c in zip(cells, columns, strict=True)))


FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="Output format.",
)


@click.group("nursery")
def nursery() -> None:
    """Forest nurseries: stock, ledger movements, dispatch and receipt."""


@nursery.command("list")
@FORMAT
def list_command(fmt: str) -> None:
    """List the nurseries with their regions (ISO code and name) and natural zones."""
    with unit_of_work() as session:
        regions = {region.id: region for region in list_regions(session)}
        rows = [
            {
                "code": n.code,
                "name": n.name,
                "region": regions[n.region_id].iso_code,
                "region_name": regions[n.region_id].name_en,
                "region_id": n.region_id,
                "zones": ",".join(n.zones),
                "operator": n.operator,
            }
            for n in services.list_nurseries(session)
        ]
    emit(rows, fmt, ["code", "name", "region", "region_name", "zones"])


@nursery.command("stock")
@click.option("--nursery", "nursery_ref", help="Nursery code, id or name.")
@click.option("--species", help="Species by Latin, Russian, Kazakh or English name.")
@FORMAT
@AS_USER
def stock_command(
    nursery_ref: str | None, species: str | None, fmt: str, as_user: str | None
) -> None:
    """Stock on hand by nursery, species, stage, grade and root system."""
    with unit_of_work() as session:
        rows = queries.stock(session, acting(session, as_user), nursery_ref, species)
    names = ["nursery", "region", "species", "name_ru", "name_kk"]  # codes and what people read
    emit(rows, fmt, [*names, "stage", "grade", "root_system", "batches", "quantity"])


@nursery.command("report")
@click.option("--year", type=int, help="Calendar year of the movements (default: this year).")
@FORMAT
@AS_USER
def report_command(year: int | None, fmt: str, as_user: str | None) -> None:
    """National summary: stock, sown, dispatched and lost per nursery, capacity used."""
    with unit_of_work() as session:
        rows = queries.national_summary(session, acting(session, as_user), year)
        names = {region.iso_code: region.name_en for region in list_regions(session)}
    rows = [{**row, "region_name": names.get(row["region"], "")} for row in rows]
    emit(
        rows,
        fmt,
        [
            "nursery",
            "region",
            "region_name",
            "on_hand",
            "ready",
            "sown",
            "dispatched",
            "lost",
            "capacity",
            "capacity_used_pct",
        ],
    )


@nursery.command("seedlot")
@click.argument("nursery_ref", metavar="NURSERY")
@click.option("--code", required=True, help="Lot code, unique in the nursery.")
@click.option("--species", required=True)
@click.option("--place", "collection_place", required=True, help="Where the seed was collected.")
@click.option("--seed-zone", default="", help="Seed zone of the collection place.")
@click.option("--year", "collection_year", required=True, help="Collection year.")
@click.option("--kg", "weight_kg", required=True, help="Weight received, kg.")
@click.option("--germination", "germination_pct", required=True, help="Germination, %.")
@click.option("--certificate", "certificate_no", required=True, help="Certificate/passport no.")
@click.option("--storage", default="", help="Where the lot is stored.")
@ON
@AS_USER
def seedlot_command(nursery_ref: str, on: str, as_user: str | None, **passport: Any) -> None:
    """Register a seed lot with its passport; its weight opens the lot's ledger."""
    with unit_of_work() as session:
        actor = acting(session, as_user)
        place = services.resolve_nursery(session, nursery_ref)
        lot = services.register_seed_lot(session, actor, place, received_on=on, **passport)
        click.echo(f"Seed lot {lot.code} (id {lot.id}): {lot.weight_kg} kg.")


@nursery.command("sow")
@click.argument("nursery_ref", metavar="NURSERY")
@click.option(
    "--section", required=True, help="Section name or kind (sowing, school, closed_root)."
)
@click.option("--quantity", required=True, help="Pieces sown or received.")
@click.option("--seed-lot", help="Code or id of the seed lot sown.")
@click.option("--seed-kg", help="Seed weight taken from the lot, kg.")
@click.option("--species", help="Species received (with --supplier).")
@click.option("--supplier", default="", help="Supplier of stock not grown from a lot here.")
@click.option("--root", "root_system", type=click.Choice(["open", "closed"]), default="open")
@click.option("--age", "age_years", default="0", help="Age of received stock, years.")
@ON
@AS_USER
def sow_command(
    nursery_ref: str,
    section: str,
    quantity: str,
    seed_lot: str | None,
    seed_kg: str | None,
    species: str | None,
    supplier: str,
    root_system: str,
    age_years: str,
    on: str,
    as_user: str | None,
) -> None:
    """Start a batch: sown from a seed lot, or received from a supplier."""
    with unit_of_work() as session:
        actor = acting(session, as_user)
        place = services.resolve_nursery(session, nursery_ref)
        lot_id = _seed_lot_id(session, place.id, seed_lot) if seed_lot else None
        batch = services.sow(
            session,
            actor,
            place,
            section=section,
            quantity=quantity,
            on=on,
            seed_lot_id=lot_id,
            species=species,
            supplier=supplier,
            seed_weight_kg=seed_kg,
            root_system=root_system,
            age_years=age_years,
        )
        click.echo(f"Batch {batch.code} (id {batch.id}): {batch.quantity} {batch.stage.value}.")


def _seed_lot_id(session: Session, nursery_id: int, reference: str) -> int:
    found = session.scalar(
        select(SeedLot.id).where(SeedLot.nursery_id == nursery_id, SeedLot.code == reference)
    )
    if found is None and reference.isdigit():
        found = session.scalar(
            select(SeedLot.id).where(SeedLot.nursery_id == nursery_id, SeedLot.id == int(reference))
        )
    if found is None:
        raise NotFound(f"no seed lot {reference!r} in this nursery", reference=reference)
    return found


@nursery.command("move")
@click.argument("batch_id", metavar="BATCH")
@click.argument(
    "kind", type=click.Choice(["germination", "stocktake", "loss", "transplant", "stage"])
)
@click.option("--quantity", help="Pieces lost or transplanted.")
@click.option("--counted", help="Pieces counted (germination, stocktake).")
@click.option("--cause", help="Loss cause: frost, drought, pests, disease, culling, other.")
@click.option("--to", "to_section", help="Target section of a transplant.")
@click.option("--stage", "stage", help="New stage (stage): seedlings, transplanted, ready.")
@click.option("--grade", help="Grade 1, 2 or 3 (stage).")
@click.option("--standard", default="", help="Standard graded against, e.g. ГОСТ 3317-90.")
@click.option("--reason", default="", help="Why (required for stock-take corrections).")
@click.option("--on", "on", help="Date of the movement, YYYY-MM-DD.")
@AS_USER
def move_command(
    batch_id: str,
    kind: str,
    quantity: str | None,
    counted: str | None,
    cause: str | None,
    to_section: str | None,
    stage: str | None,
    grade: str | None,
    standard: str,
    reason: str,
    on: str | None,
    as_user: str | None,
) -> None:
    """Record a movement of a batch: a count, a loss, a transplant, or a stage/grade change."""
    needed = {
        "germination": ("counted", counted, on),
        "stocktake": ("counted", counted, on),
        "loss": ("quantity", quantity, on),
        "transplant": ("quantity", quantity, on),
        "stage": ("stage", stage, "-"),
    }[kind]
    if needed[1] is None:
        raise click.UsageError(f"{kind} needs --{needed[0]}")
    if needed[2] is None:
        raise click.UsageError(f"{kind} needs --on DATE")
    with unit_of_work() as session:
        actor = acting(session, as_user)
        if kind in {"germination", "stocktake"}:
            services.count_batch(
                session, actor, batch_id, counted, on, reason, germination=kind == "germination"
            )
        elif kind == "loss":
            services.record_loss(session, actor, batch_id, quantity, cause or "", on, reason)
        elif kind == "transplant":
            if not to_section:
                raise click.UsageError("transplant needs --to SECTION")
            target = services.transplant(session, actor, batch_id, quantity, to_section, on)
            click.echo(f"Transplanted into batch {target.code} (id {target.id}).")
        else:
            services.set_stage(session, actor, batch_id, stage, grade, standard)
        batch = services.get_batch(session, batch_id)
        grade_text = f", grade {batch.grade}" if batch.grade else ""
        click.echo(f"Batch {batch.code}: {batch.quantity} {batch.stage.value}{grade_text}.")


@nursery.command("reverse")
@click.argument("movement_id", metavar="MOVEMENT")
@click.option("--reason", required=True, help="Why the movement is reversed.")
@click.option("--on", "on", help="Date of the counter-movement (default: today).")
@AS_USER
def reverse_command(movement_id: str, reason: str, on: str | None, as_user: str | None) -> None:
    """Reverse a movement by a counter-movement (history is never deleted)."""
    with unit_of_work() as session:
        done = services.reverse_movement(session, acting(session, as_user), movement_id, reason, on)
        click.echo("Counter-movements: " + ", ".join(str(m.id) for m in done) + ".")


@nursery.command("dispatch")
@click.argument("nursery_ref", metavar="NURSERY")
@click.option("--to", "region", required=True, help="Receiving region: KZ-75, 75, Almaty, Алматы.")
@click.option(
    "--line", "lines", multiple=True, required=True, help="BATCH_ID:QUANTITY, repeatable."
)
@click.option("--consignee", default="", help="Receiving akimat or organisation.")
@click.option(
    "--override-zoning",
    "override_reason",
    default="",
    help="Reason to send stock outside its natural zones (administrators only).",
)
@ON
@AS_USER
def dispatch_command(
    nursery_ref: str,
    region: str,
    lines: tuple[str, ...],
    consignee: str,
    override_reason: str,
    on: str,
    as_user: str | None,
) -> None:
    """Ship ready stock to an akimat."""
    with unit_of_work() as session:
        actor = acting(session, as_user)
        place = services.resolve_nursery(session, nursery_ref)
        shipment = shipping.dispatch(
            session, actor, place, region, lines, on, consignee, override_reason
        )
        total = sum(line.quantity_shipped for line in shipping.shipment_lines(session, shipment.id))
        click.echo(f"Shipment {shipment.number} (id {shipment.id}): {total} plants dispatched.")


@nursery.command("receive")
@click.argument("shipment_id", metavar="SHIPMENT")
@click.option(
    "--count",
    "counts",
    multiple=True,
    required=True,
    help="BATCH_ID:RECEIVED for every line, repeatable.",
)
@ON
@AS_USER
def receive_command(
    shipment_id: str, counts: tuple[str, ...], on: str, as_user: str | None
) -> None:
    """Confirm receipt with the counts that arrived; the difference is lost in transit."""
    with unit_of_work() as session:
        shipment = shipping.receive(session, acting(session, as_user), shipment_id, counts, on)
        lost = sum(
            (line.quantity_shipped - line.quantity_received)
            for line in shipping.shipment_lines(session, shipment.id)
        )
        click.echo(f"Shipment {shipment.number} received; lost in transit: {lost}.")


@nursery.command("ledger")
@click.option("--nursery", "nursery_ref", help="Nursery code, id or name.")
@click.option("--batch", "batch_id", type=int, help="One batch.")
@click.option("--kind", help="sowing, germination, transplant_out, loss, dispatch, …")
@click.option("--since", help="From date, YYYY-MM-DD.")
@click.option("--until", help="To date, YYYY-MM-DD.")
@click.option("--limit", type=int, default=200, show_default=True)
@FORMAT
@AS_USER
def ledger_command(
    nursery_ref: str | None,
    batch_id: int | None,
    kind: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    fmt: str,
    as_user: str | None,
) -> None:
    """The movements of the ledger, newest first."""
    with unit_of_work() as session:
        actor = acting(session, as_user)
        place = services.resolve_nursery(session, nursery_ref) if nursery_ref else None
        rows = queries.ledger(session, actor, place, batch_id, kind, since, until, limit)
    emit(rows, fmt, ["id", "on", "batch", "kind", "quantity", "cause", "reason", "actor"])


@nursery.command("link")
@click.argument("event_id", metavar="EVENT", type=int)
@click.option(
    "--line", "line_id", type=int, required=True, help="Shipment line the stock came from."
)
@AS_USER
def link_command(event_id: int, line_id: int, as_user: str | None) -> None:
    """Record which received shipment line a planting event used."""
    with unit_of_work() as session:
        event = provenance.link_planting(session, acting(session, as_user), event_id, line_id)
        click.echo(f"Planting event {event.id} planted stock of batch {event.batch_id}.")


@nursery.command("supply")
@click.argument("plan_line_id", metavar="PLAN_LINE", type=int)
@click.option("--nursery", "nursery_ref", required=True, help="Nursery expected to supply it.")
@AS_USER
def supply_command(plan_line_id: int, nursery_ref: str, as_user: str | None) -> None:
    """Name the nursery expected to supply a planting plan line."""
    with unit_of_work() as session:
        actor = acting(session, as_user)
        line = provenance.set_plan_line_nursery(session, actor, plan_line_id, nursery_ref)
        click.echo(f"Plan line {line.id} is to be supplied by nursery {nursery_ref}.")


@nursery.command("provenance")
@click.argument("plant_id", metavar="PLANT", type=int)
@AS_USER
def provenance_command(plant_id: int, as_user: str | None) -> None:
    """The provenance card of a planted tree, as JSON."""
    with unit_of_work() as session:
        card = provenance.provenance_of_plant(session, acting(session, as_user), plant_id)
    click.echo(json.dumps(card, ensure_ascii=False, indent=2))


@nursery.command("survival")
@click.option("--nursery", "nursery_ref", help="Nursery code, id or name.")
@FORMAT
@AS_USER
def survival_command(nursery_ref: str | None, fmt: str, as_user: str | None) -> None:
    """Survival after 1 and 3 seasons per nursery, species and seed provenance."""
    with unit_of_work() as session:
        rows = provenance.survival_by_provenance(session, acting(session, as_user), nursery_ref)
    emit(
        rows,
        fmt,
        ["nursery", "species", "seed_zone", "planted", "survival_1_pct", "survival_3_pct"],
    )


commands = [nursery]
