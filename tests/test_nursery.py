"""The nursery ledger's rules, through the services against the real database."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from registry.access import Actor
from registry.audit.models import AuditEntry
from registry.db import unit_of_work
from registry.errors import AccessDenied, DuplicateRecord, InvalidValue
from registry.nursery import queries, services, shipping
from registry.nursery.models import Batch, BatchMovement, SeedLot, ShipmentLine, Stage
from tests.factories import forester
from tests.nursery_factories import SYSTEM, make_nursery, nursery_staff, ready_batch


def ledger_sum(db, batch_id: int) -> int:
    return db.scalar(
        text("SELECT coalesce(sum(quantity), 0) FROM batch_movements WHERE batch_id = :b"),
        {"b": batch_id},
    )


def register_lot(db, nursery, weight="12.5"):
    return services.register_seed_lot(
        db,
        SYSTEM,
        nursery,
        code=f"SL-{nursery.code}",
        species="Pinus sylvestris",
        collection_place="Семей орманы, Бородулихинское лесничество",
        seed_zone="Irtysh ribbon forests",
        collection_year=2023,
        weight_kg=weight,
        germination_pct="87",
        certificate_no="№ 0451-23",
        storage="склад семян, камера 2",
        received_on=date(2023, 11, 2),
    )


def test_sowing_from_a_seed_lot_draws_its_weight_and_starts_the_ledger(db) -> None:
    nursery = make_nursery(db)
    lot = register_lot(db, nursery)
    batch = services.sow(
        db,
        SYSTEM,
        nursery,
        section="sowing",
        quantity=60_000,
        on=date(2024, 5, 3),
        seed_lot_id=lot.id,
        seed_weight_kg="4.25",
    )
    assert batch.quantity == 60_000 and batch.stage is Stage.SOWN
    assert batch.species_id == lot.species_id and batch.code.startswith(nursery.code)
    db.refresh(lot)
    assert lot.weight_kg == pytest.approx(8.25)
    with pytest.raises(InvalidValue, match="only 8.250 kg left in seed lot"):
        services.sow(
            db,
            SYSTEM,
            nursery,
            section="sowing",
            quantity=10,
            on=date(2024, 5, 4),
            seed_lot_id=lot.id,
            seed_weight_kg="9",
        )


def test_germination_stocktake_loss_keep_count_and_ledger_in_step(db) -> None:
    nursery = make_nursery(db)
    lot = register_lot(db, nursery)
    batch = services.sow(
        db,
        SYSTEM,
        nursery,
        section="sowing",
        quantity=50_000,
        on=date(2024, 5, 3),
        seed_lot_id=lot.id,
    )
    services.count_batch(db, SYSTEM, batch.id, 41_200, date(2024, 6, 10), germination=True)
    assert batch.stage is Stage.SEEDLINGS and batch.quantity == 41_200
    services.record_loss(
        db, SYSTEM, batch.id, 1_200, "frost", date(2024, 10, 1), "ранние заморозки"
    )
    services.count_batch(db, SYSTEM, batch.id, 39_950, date(2024, 11, 1), "осенняя инвентаризация")
    assert batch.quantity == 39_950 == ledger_sum(db, batch.id)
    kinds = [m["kind"] for m in queries.ledger(db, SYSTEM, batch_id=batch.id)]
    assert kinds == ["stocktake", "loss", "germination", "sowing"]


def test_stock_never_goes_below_zero_and_refusal_leaves_ledger_unchanged(db) -> None:
    nursery = make_nursery(db)
    batch = ready_batch(db, nursery, 100)
    before = db.scalar(text("SELECT count(*) FROM batch_movements"))
    with pytest.raises(InvalidValue, match="only 100 left in batch"):
        services.record_loss(db, SYSTEM, batch.id, 101, "drought", date(2025, 7, 1))
    with pytest.raises(InvalidValue, match="cause: must be one of frost"):
        services.record_loss(db, SYSTEM, batch.id, 1, "hail", date(2025, 7, 1))
    with pytest.raises(InvalidValue, match="on: cannot precede the batch's sowing"):
        services.record_loss(db, SYSTEM, batch.id, 1, "drought", date(2024, 1, 1))
    with pytest.raises(InvalidValue, match="cannot be in the future"):
        services.record_loss(db, SYSTEM, batch.id, 1, "drought", date(2099, 1, 1))
    assert db.scalar(text("SELECT count(*) FROM batch_movements")) == before
    assert batch.quantity == 100


def test_the_database_itself_refuses_editing_stock_or_history(db) -> None:
    nursery = make_nursery(db)
    batch = ready_batch(db, nursery, 100)
    movement = db.scalar(select(BatchMovement).where(BatchMovement.batch_id == batch.id))
    for sql, message in (
        (f"UPDATE batches SET quantity = 5 WHERE id = {batch.id}", "moves only through"),
        (f"DELETE FROM batch_movements WHERE id = {movement.id}", "rows are history"),
        (f"UPDATE batch_movements SET quantity = 7 WHERE id = {movement.id}", "rows are history"),
        (
            f"INSERT INTO batch_movements (batch_id, kind, quantity, on_date, actor, reason) "
            f"VALUES ({batch.id}, 'stocktake', -101, '2025-01-01', 'psql', '')",
            "quantity_not_negative",
        ),
    ):
        with pytest.raises(DBAPIError, match=message), db.begin_nested():
            db.execute(text(sql))
    db.refresh(batch)
    assert batch.quantity == 100 == ledger_sum(db, batch.id)


def test_transplant_and_its_reversal_by_counter_movements(db) -> None:
    nursery = make_nursery(db)
    lot = register_lot(db, nursery)
    seedlings = services.sow(
        db,
        SYSTEM,
        nursery,
        section="sowing",
        quantity=5_000,
        on=date(2024, 5, 3),
        seed_lot_id=lot.id,
    )
    school = services.transplant(db, SYSTEM, seedlings.id, 1_500, "school", date(2025, 4, 15))
    assert school.stage is Stage.TRANSPLANTED and school.parent_batch_id == seedlings.id
    assert school.seed_lot_id == lot.id and (seedlings.quantity, school.quantity) == (3_500, 1_500)
    out = db.scalar(
        select(BatchMovement).where(
            BatchMovement.batch_id == seedlings.id, BatchMovement.kind == "transplant_out"
        )
    )
    undone = services.reverse_movement(db, SYSTEM, out.id, "пересадка записана ошибочно")
    assert len(undone) == 2 and {m.reverses_id for m in undone} == {out.id, out.id + 1}
    assert (seedlings.quantity, school.quantity) == (5_000, 0)
    assert db.scalar(select(BatchMovement).where(BatchMovement.id == out.id)) is not None
    with pytest.raises(DuplicateRecord, match="already reversed"):
        services.reverse_movement(db, SYSTEM, out.id, "ещё раз")
    assert services.get_batch(db, seedlings.id).quantity == ledger_sum(db, seedlings.id)


def test_reversal_that_would_go_negative_is_refused(db) -> None:
    nursery = make_nursery(db)
    batch = ready_batch(db, nursery, 50)
    receipt = db.scalar(select(BatchMovement).where(BatchMovement.batch_id == batch.id))
    services.record_loss(db, SYSTEM, batch.id, 20, "pests", date(2025, 6, 1))
    with pytest.raises(InvalidValue, match="only 30 left"):
        services.reverse_movement(db, SYSTEM, receipt.id, "ошибка")


def test_stage_goes_forward_and_ready_needs_grade(db) -> None:
    nursery = make_nursery(db)
    batch = services.sow(
        db,
        SYSTEM,
        nursery,
        section="closed_root",
        quantity=10,
        on=date(2025, 3, 1),
        species="Pinus sylvestris",
        supplier="KazNIILHA",
        root_system="closed",
    )
    with pytest.raises(InvalidValue, match="needs its grade"):
        services.set_stage(db, SYSTEM, batch.id, "ready")
    services.set_stage(db, SYSTEM, batch.id, "ready", grade="I")
    with pytest.raises(InvalidValue, match="cannot go back from ready to seedlings"):
        services.set_stage(db, SYSTEM, batch.id, "seedlings")


def test_dispatch_only_ready_stock_and_receipt_records_transit_losses(db) -> None:
    nursery = make_nursery(db)
    growing = services.sow(
        db,
        SYSTEM,
        nursery,
        section="sowing",
        quantity=10,
        on=date(2025, 3, 1),
        species="Ulmus pumila",
        supplier="ТОО «Юг»",
    )
    with pytest.raises(InvalidValue, match="is sown, not ready to dispatch"):
        shipping.dispatch(db, SYSTEM, nursery, "KZ-75", [f"{growing.id}:5"], date(2025, 9, 1))
    elm = ready_batch(db, nursery, 300)
    ash = ready_batch(db, nursery, 200, "Fraxinus pennsylvanica")
    shipment = shipping.dispatch(
        db, SYSTEM, nursery, "Алматы", [f"{elm.id}:120", (ash.id, 80)], date(2025, 9, 1)
    )
    assert (elm.quantity, ash.quantity) == (180, 120)
    almaty = forester(db, "KZ-75")
    with pytest.raises(InvalidValue, match="130 received exceeds 120 shipped"):
        shipping.receive(db, almaty, shipment.id, {elm.id: 130, ash.id: 80}, date(2025, 9, 3))
    with pytest.raises(InvalidValue, match="cannot precede the dispatch"):
        shipping.receive(db, almaty, shipment.id, {elm.id: 1, ash.id: 1}, date(2025, 8, 3))
    shipping.receive(db, almaty, shipment.id, [f"{elm.id}:117", f"{ash.id}:80"], date(2025, 9, 3))
    db.expire_all()
    lost = {
        line.batch_id: line.lost_in_transit
        for line in db.scalars(select(ShipmentLine).where(ShipmentLine.shipment_id == shipment.id))
    }
    assert lost == {elm.id: 3, ash.id: 0}
    with pytest.raises(InvalidValue, match="already received"):
        shipping.receive(db, almaty, shipment.id, {elm.id: 117, ash.id: 80}, date(2025, 9, 3))
    dispatch_row = db.scalar(
        select(BatchMovement).where(
            BatchMovement.batch_id == elm.id, BatchMovement.kind == "dispatch"
        )
    )
    with pytest.raises(InvalidValue, match="settled by the akimat's receipt"):
        services.reverse_movement(db, SYSTEM, dispatch_row.id, "ошибка")


def test_zoning_refusal_and_audited_override(db) -> None:
    nursery = make_nursery(db)
    spruce = ready_batch(db, nursery, 40, "Picea schrenkiana")
    staff = nursery_staff(db, nursery)
    with pytest.raises(InvalidValue, match="Kyzylorda Region lies in desert, which does not suit"):
        shipping.dispatch(db, staff, nursery, "KZ-43", [f"{spruce.id}:10"], date(2025, 9, 1))
    with pytest.raises(AccessDenied, match="may not override the zoning rule"):
        shipping.dispatch(
            db, staff, nursery, "KZ-43", [f"{spruce.id}:10"], date(2025, 9, 1), override_reason="x"
        )
    db.refresh(spruce)
    assert spruce.quantity == 40
    shipment = shipping.dispatch(
        db,
        SYSTEM,
        nursery,
        "KZ-43",
        [f"{spruce.id}:10"],
        date(2025, 9, 1),
        override_reason="опытная посадка в орошаемом дендропарке Кызылорды",
    )
    assert shipment.zoning_override.startswith("опытная")
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "zoning_override", AuditEntry.entity_id == shipment.id
        )
    )
    assert entry.new_value["reason"].startswith("опытная")
    assert entry.old_value["species"] == ["Picea schrenkiana"]


def test_access_is_scoped_to_own_nursery_and_own_region(db) -> None:
    mine, other = make_nursery(db), make_nursery(db)
    staff = nursery_staff(db, mine)
    theirs = ready_batch(db, other, 10)
    own = ready_batch(db, mine, 10)
    services.record_loss(db, staff, own.id, 1, "culling", date(2025, 6, 1))
    with pytest.raises(AccessDenied, match="may not record a loss in batch of nursery"):
        services.record_loss(db, staff, theirs.id, 1, "culling", date(2025, 6, 1))
    with pytest.raises(AccessDenied):
        shipping.dispatch(db, staff, other, "KZ-75", [f"{theirs.id}:1"], date(2025, 9, 1))
    with pytest.raises(AccessDenied):
        queries.stock(db, Actor.public())
    shipment = shipping.dispatch(db, staff, mine, "KZ-75", [f"{own.id}:5"], date(2025, 9, 1))
    for outsider in (forester(db, "KZ-71"), staff):
        with pytest.raises(AccessDenied, match="may not confirm receipt of shipment"):
            shipping.receive(db, outsider, shipment.id, {own.id: 5}, date(2025, 9, 2))
    ministry = Actor(label="ministry", role="ministry")
    assert {row["nursery"] for row in queries.stock(db, ministry)} >= {mine.code, other.code}
    denied = db.scalar(
        select(AuditEntry).where(AuditEntry.action == "denied").order_by(AuditEntry.id.desc())
    )
    assert denied is not None and denied.new_value == {"attempted": "confirm receipt of"}


def test_stock_and_national_summary(db) -> None:
    nursery = make_nursery(db)
    ready_batch(db, nursery, 300, on=date.today().replace(month=1, day=2))
    ready_batch(db, nursery, 200, "Fraxinus pennsylvanica")
    rows = queries.stock(db, SYSTEM, nursery=nursery.code)
    assert {(r["species"], r["stage"], r["grade"], r["quantity"]) for r in rows} == {
        ("Ulmus pumila", "ready", 1, 300),
        ("Fraxinus pennsylvanica", "ready", 1, 200),
    }
    summary = {r["nursery"]: r for r in queries.national_summary(db, SYSTEM)}
    assert summary[nursery.code]["on_hand"] == 500
    assert summary[nursery.code]["capacity"] == 1_600_000


def test_concurrent_dispatches_cannot_oversell(database_url, clean) -> None:
    with unit_of_work(database_url) as session:
        nursery = make_nursery(session)
        batch = ready_batch(session, nursery, 10)
        nursery_id, batch_id, code = nursery.id, batch.id, batch.code
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def take(quantity: int) -> None:
        try:
            with unit_of_work(database_url) as session:
                place = services.resolve_nursery(session, nursery_id)
                barrier.wait(timeout=10)
                shipping.dispatch(
                    session, SYSTEM, place, "KZ-75", [f"{batch_id}:{quantity}"], date(2025, 9, 1)
                )
                outcomes.append("ok")
        except InvalidValue as exc:
            outcomes.append(exc.message)

    threads = [threading.Thread(target=take, args=(q,)) for q in (8, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 2 and outcomes.count("ok") == 1
    refusal = next(o for o in outcomes if o != "ok")
    assert refusal in {
        f"quantity: only {left} left in batch {code} (got {wanted})"
        for left, wanted in ((2, 7), (3, 8))
    }
    with unit_of_work(database_url) as session:
        batch = session.get(Batch, batch_id)
        assert batch.quantity in (2, 3)
        assert batch.quantity == ledger_sum(session, batch_id)
        assert session.scalar(text("SELECT count(*) FROM shipments")) == 1


def test_seed_lot_rules(db) -> None:
    nursery = make_nursery(db)
    lot = register_lot(db, nursery)
    with pytest.raises(DuplicateRecord):
        register_lot(db, nursery)
    services.use_seed(db, SYSTEM, lot.id, "loss", "0.5", date(2024, 1, 10), "плесень")
    with pytest.raises(InvalidValue, match="only 12.000 kg left"):
        services.use_seed(db, SYSTEM, lot.id, "stocktake", "-13", date(2024, 1, 10), "пересчёт")
    assert db.get(SeedLot, lot.id).weight_kg == pytest.approx(12.0)


def test_seed_movements_are_reversed_by_counter_rows(db) -> None:
    nursery = make_nursery(db)
    lot = register_lot(db, nursery, weight="10")
    loss = services.use_seed(db, SYSTEM, lot.id, "loss", "2", date(2024, 1, 10), "мыши")
    back = services.reverse_seed_movement(db, SYSTEM, loss.id, "нашли мешок", date(2024, 1, 11))
    assert back.reverses_id == loss.id and db.get(SeedLot, lot.id).weight_kg == pytest.approx(10)
    with pytest.raises(DuplicateRecord, match="already reversed"):
        services.reverse_seed_movement(db, SYSTEM, loss.id, "ещё раз")
    staff = nursery_staff(db, make_nursery(db))
    with pytest.raises(AccessDenied):
        services.reverse_seed_movement(db, staff, loss.id, "чужой")
    rows = db.scalar(
        text("SELECT count(*) FROM seed_lot_movements WHERE seed_lot_id = :l"), {"l": lot.id}
    )
    assert rows == 3
