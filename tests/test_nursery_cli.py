"""``jasyl nursery`` as a user runs it: through click's runner against the real database."""

from __future__ import annotations

import csv
import io
import json
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from registry.access import Actor
from registry.accounts.services import add_user
from registry.db import unit_of_work
from registry.nursery.demo import load_nursery_demo
from registry.nursery.models import Batch, BatchMovement, Nursery
from tests.nursery_factories import make_nursery, ready_batch
from web.cli import main


@pytest.fixture
def run(database_url):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


@pytest.mark.parametrize(
    "command",
    [
        "list",
        "stock",
        "report",
        "seedlot",
        "sow",
        "move",
        "reverse",
        "dispatch",
        "receive",
        "ledger",
        "link",
        "supply",
        "provenance",
        "survival",
    ],
)
def test_every_nursery_command_has_help(run, command) -> None:
    result = run("nursery", command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output


def test_seed_lot_to_receipt_end_to_end(run, clean) -> None:
    with unit_of_work() as session:
        code = make_nursery(session).code
        add_user(session, Actor.system("t"), "akimat@almaty.kz", "forester", "KZ-75", None)
    ok = run(
        "nursery",
        "seedlot",
        code,
        "--code",
        "2024-01",
        "--species",
        "карагач",
        "--place",
        "пойма р. Или",
        "--seed-zone",
        "Илийская долина",
        "--year",
        "2024",
        "--kg",
        "5",
        "--germination",
        "80",
        "--certificate",
        "№ 17-24",
        "--on",
        "2024-11-02",
    )
    assert ok.exit_code == 0, ok.output
    sown = run(
        "nursery",
        "sow",
        code,
        "--section",
        "sowing",
        "--quantity",
        "20000",
        "--seed-lot",
        "2024-01",
        "--seed-kg",
        "1.5",
        "--on",
        "2025-04-20",
    )
    assert sown.exit_code == 0 and "20000 sown" in sown.output
    with unit_of_work() as session:
        batch_id = session.scalar(select(Batch.id).order_by(Batch.id.desc()))
    steps = [
        ("move", str(batch_id), "germination", "--counted", "16500", "--on", "2025-06-01"),
        (
            "move",
            str(batch_id),
            "loss",
            "--quantity",
            "500",
            "--cause",
            "drought",
            "--on",
            "2025-08-01",
        ),
        ("move", str(batch_id), "stage", "--stage", "ready", "--grade", "II"),
    ]
    for step in steps:
        result = run("nursery", *step)
        assert result.exit_code == 0, result.output
    assert "16000 ready, grade 2" in result.output
    refused = run(
        "nursery",
        "dispatch",
        code,
        "--to",
        "KZ-75",
        "--line",
        f"{batch_id}:16001",
        "--on",
        "2025-10-01",
    )
    assert refused.exit_code == 1 and "only 16000 left in batch" in refused.output
    shipped = run(
        "nursery",
        "dispatch",
        code,
        "--to",
        "Алматы",
        "--line",
        f"{batch_id}:6000",
        "--on",
        "2025-10-01",
    )
    assert shipped.exit_code == 0 and "6000 plants dispatched" in shipped.output
    shipment_id = shipped.output.split("(id ")[1].split(")")[0]
    as_nursery = run(
        "nursery", "receive", shipment_id, "--count", f"{batch_id}:5900", "--on", "2025-10-03"
    )
    assert as_nursery.exit_code == 0  # the system operator may confirm for any region
    stock = json.loads(run("nursery", "stock", "--nursery", code, "--format", "json").output)
    assert stock == [{**stock[0], "species": "Ulmus pumila", "stage": "ready", "quantity": 10000}]
    ledger = run("nursery", "ledger", "--batch", str(batch_id), "--format", "csv").output
    assert ledger.splitlines()[0] == "id,on,batch,kind,quantity,cause,reason,actor"
    assert [line.split(",")[3] for line in ledger.splitlines()[1:]] == [
        "dispatch",
        "loss",
        "germination",
        "sowing",
    ]


def test_cli_errors_are_one_line_and_change_nothing(run, clean) -> None:
    with unit_of_work() as session:
        nursery = make_nursery(session)
        batch = ready_batch(session, nursery, 10)
        code, batch_id = nursery.code, batch.id
        add_user(session, Actor.system("t"), "staff@other.kz", "nursery", None, None)
    cases = [
        (
            (
                "move",
                str(batch_id),
                "loss",
                "--quantity",
                "11",
                "--cause",
                "frost",
                "--on",
                "2025-01-01",
            ),
            "only 10 left",
        ),
        (
            ("move", str(batch_id), "loss", "--quantity", "1", "--on", "2025-01-01"),
            "cause: must be one of",
        ),
        (
            (
                "move",
                str(batch_id),
                "loss",
                "--quantity",
                "1",
                "--cause",
                "frost",
                "--on",
                "2025-13-01",
            ),
            "on: must be a date YYYY-MM-DD",
        ),
        (
            (
                "move",
                str(batch_id),
                "loss",
                "--quantity",
                "1",
                "--cause",
                "frost",
                "--on",
                "2025-01-01",
                "--as",
                "staff@other.kz",
            ),
            "may not record a loss",
        ),
        (
            ("dispatch", "NOPE", "--to", "KZ-75", "--line", f"{batch_id}:1", "--on", "2025-01-01"),
            "unknown nursery 'NOPE'",
        ),
        (
            ("dispatch", code, "--to", "KZ-75", "--line", f"{batch_id}-1", "--on", "2025-01-01"),
            "each line is BATCH_ID:QUANTITY",
        ),
        (("stock", "--as", "nobody@x.kz"), "no active user nobody@x.kz"),
    ]
    for args, message in cases:
        result = run("nursery", *args)
        assert result.exit_code != 0 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    with unit_of_work() as session:
        assert session.scalar(select(func.count(BatchMovement.id))) == 1
        assert session.get(Batch, batch_id).quantity == 10


def test_concurrent_cli_dispatches_sell_the_last_plants_once(run, clean) -> None:
    with unit_of_work() as session:
        nursery = make_nursery(session)
        code, batch_id = nursery.code, ready_batch(session, nursery, 5).id
    results = []

    def take() -> None:
        results.append(
            CliRunner().invoke(
                main,
                [
                    "nursery",
                    "dispatch",
                    code,
                    "--to",
                    "KZ-75",
                    "--line",
                    f"{batch_id}:4",
                    "--on",
                    "2025-10-01",
                ],
            )
        )

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r.exit_code for r in results) == [0, 1]
    with unit_of_work() as session:  # click's output capture is per process, so check the data
        assert session.get(Batch, batch_id).quantity == 1
        dispatches = select(func.count(BatchMovement.id)).where(BatchMovement.kind == "dispatch")
        assert session.scalar(dispatches) == 1


def test_demo_nurseries_load_once(clean) -> None:
    with unit_of_work() as session:
        assert load_nursery_demo(session) == 6
    with unit_of_work() as session:
        assert load_nursery_demo(session) == 0
        regions = set(session.scalars(select(Nursery.region_id)))
        assert len(regions) == 5
        over = session.scalar(select(func.count(Batch.id)).where(Batch.quantity < 0))
        assert over == 0
        mismatched = session.execute(
            select(Batch.id)
            .join(BatchMovement, BatchMovement.batch_id == Batch.id)
            .group_by(Batch.id)
            .having(func.sum(BatchMovement.quantity) != Batch.quantity)
        ).all()
        assert mismatched == []


def test_list_names_each_nursery_region(run, clean) -> None:
    """The table showed ``region_id`` 19 where a forester reads KZ-19, Almaty Region (#22)."""
    with unit_of_work() as session:
        code = make_nursery(session).code  # at Konaev, in Almaty Region
    table = run("nursery", "list")
    assert table.exit_code == 0, table.output
    header, row = table.output.splitlines()[:2]
    assert header.split() == ["code", "name", "region", "region_name", "zones"]
    assert row.startswith(code) and "KZ-19" in row and "Almaty Region" in row
    listed = json.loads(run("nursery", "list", "--format", "json").output)
    assert listed[0]["region"] == "KZ-19" and listed[0]["region_id"] == 19
    report = run("nursery", "report", "--format", "csv").output.splitlines()
    assert report[0].startswith("nursery,region,region_name,on_hand")
    assert report[1].startswith(f"{code},KZ-19,Almaty Region,")


def test_stock_names_the_species_beside_its_latin(run, clean) -> None:
    """The stock CSV carried the Latin name alone; a nursery manager reads Russian or Kazakh."""
    with unit_of_work() as session:
        nursery = make_nursery(session)
        ready_batch(session, nursery, 40)
    rows = list(csv.DictReader(io.StringIO(run("nursery", "stock", "--format", "csv").output)))
    assert [(r["species"], r["name_ru"], r["region"], r["quantity"]) for r in rows] == [
        ("Ulmus pumila", "вяз приземистый", "KZ-19", "40")
    ]
    assert rows[0]["name_kk"]
