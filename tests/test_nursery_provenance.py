"""From a seed lot to a planted tree's provenance card, and survival per seed provenance."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from geoalchemy2.shape import to_shape

from registry.access import Actor
from registry.accounts.services import add_user
from registry.db import unit_of_work
from registry.errors import AccessDenied, InvalidValue
from registry.nursery import provenance, queries, services, shipping
from registry.planting.models import (
    PlantingEvent,
    PlantingEventPlant,
    PlantingPlan,
    PlantingPlanLine,
    SurvivalCheck,
)
from registry.regions.services import resolve_region
from registry.species.services import get_species
from tests.factories import ALMATY, forester, make_plant, point_near
from tests.nursery_factories import SYSTEM, make_nursery
from tests.web_client import PASSWORD, send, sign_in
from web import create_app
from web.cli import main


def grow_and_ship(db, quantity: int = 400):
    """Seed lot → sowing → germination → transplant to school → ready → dispatch → receipt."""
    nursery = make_nursery(db)
    lot = services.register_seed_lot(
        db,
        SYSTEM,
        nursery,
        code="2023-07",
        species="Ulmus pumila",
        collection_place="пойма р. Или, Капшагай",
        seed_zone="Илийская долина",
        collection_year=2023,
        weight_kg=3,
        germination_pct=78,
        certificate_no="№ 88-23",
        received_on=date(2023, 11, 1),
    )
    sown = services.sow(
        db,
        SYSTEM,
        nursery,
        section="sowing",
        quantity=10_000,
        on=date(2024, 4, 20),
        seed_lot_id=lot.id,
        seed_weight_kg=1,
    )
    services.count_batch(db, SYSTEM, sown.id, 7_600, date(2024, 6, 1), germination=True)
    school = services.transplant(db, SYSTEM, sown.id, 2_000, "school", date(2025, 4, 10))
    services.set_stage(db, SYSTEM, school.id, "ready", grade=1, standard="ГОСТ 24835-81")
    shipment = shipping.dispatch(
        db, SYSTEM, nursery, "KZ-75", [(school.id, quantity)], date(2025, 10, 1)
    )
    shipping.receive(db, SYSTEM, shipment.id, {school.id: quantity - 10}, date(2025, 10, 3))
    line = shipping.shipment_lines(db, shipment.id)[0]
    return nursery, lot, school, shipment, line


def planting(db, quantity: int, region_id: int, species="Ulmus pumila", on=date(2025, 10, 20)):
    event = PlantingEvent(
        region_id=region_id,
        species_id=get_species(db, species).id,
        planting_form="group",
        planted_on=on,
        quantity=quantity,
        unit="pieces",
        performer_kind="akimat",
        performer="ГКП «Алматы Жасыл Аймақ»",
    )
    db.add(event)
    db.flush()
    return event


def test_planted_tree_leads_back_to_its_seed_lot(db) -> None:
    nursery, lot, school, shipment, line = grow_and_ship(db)
    almaty = forester(db, "KZ-75")
    plant = make_plant(db, almaty, geom=point_near(ALMATY), planting_year=2025)
    event = planting(db, 300, plant.region_id)
    db.add(PlantingEventPlant(event_id=event.id, plant_id=plant.id))
    db.flush()
    with pytest.raises(AccessDenied):
        provenance.provenance_of_plant(db, Actor.public(), plant.id)
    unknown = provenance.provenance_of_plant(db, almaty, plant.id)
    assert unknown["known"] is False and "names no nursery stock" in unknown["reason"]

    provenance.link_planting(db, almaty, event.id, line.id)
    card = provenance.provenance_of_plant(db, almaty, plant.id)
    assert card["known"] and card["nursery"]["code"] == nursery.code
    assert card["shipment"] == {
        "number": shipment.number,
        "dispatched_on": "2025-10-01",
        "received_on": "2025-10-03",
        "shipped": 400,
        "received": 390,
        "zoning_override": None,
    }
    assert [b["section_kind"] for b in card["batches"]] == ["school", "sowing"]
    assert card["seed_lot"]["seed_zone"] == "Илийская долина"
    assert card["seed_lot"]["certificate_no"] == "№ 88-23"


def test_linking_refuses_what_the_shipment_cannot_explain(db) -> None:
    _, _, _, shipment, line = grow_and_ship(db)
    almaty, astana = forester(db, "KZ-75"), forester(db, "KZ-71")
    region = shipment.region_id
    first = planting(db, 300, region)
    provenance.link_planting(db, almaty, first.id, line.id)
    too_many = planting(db, 91, region)
    with pytest.raises(InvalidValue, match="only 90 of the 390 received are not yet planted"):
        provenance.link_planting(db, almaty, too_many.id, line.id)
    other_species = planting(db, 5, region, "Pinus sylvestris")
    with pytest.raises(InvalidValue, match="holds another species"):
        provenance.link_planting(db, almaty, other_species.id, line.id)
    early = planting(db, 5, region, on=date(2025, 10, 2))
    with pytest.raises(InvalidValue, match="before the stock arrived"):
        provenance.link_planting(db, almaty, early.id, line.id)
    elsewhere = planting(db, 5, resolve_region(db, "KZ-71").id)
    with pytest.raises(InvalidValue, match="went to another region"):
        provenance.link_planting(db, astana, elsewhere.id, line.id)
    with pytest.raises(AccessDenied):
        provenance.link_planting(db, astana, planting(db, 5, region).id, line.id)


def test_survival_per_nursery_species_and_seed_provenance(db) -> None:
    nursery, _, _, shipment, line = grow_and_ship(db)
    almaty = forester(db, "KZ-75")
    for planted, alive_1, alive_3 in ((200, 180, 150), (100, 70, None)):
        event = planting(db, planted, shipment.region_id)
        provenance.link_planting(db, almaty, event.id, line.id)
        db.add(
            SurvivalCheck(
                event_id=event.id,
                season=1,
                checked_on=date(2026, 9, 1),
                alive=alive_1,
                dead=planted - alive_1,
                replaced=0,
            )
        )
        if alive_3 is not None:
            db.add(
                SurvivalCheck(
                    event_id=event.id,
                    season=3,
                    checked_on=date(2026, 10, 1),
                    alive=alive_3,
                    dead=planted - alive_3,
                    replaced=0,
                )
            )
    db.flush()
    rows = provenance.survival_by_provenance(db, Actor(label="m", role="ministry"), nursery.code)
    assert len(rows) == 1
    row = rows[0]
    assert (row["species"], row["seed_zone"], row["planted"]) == (
        "Ulmus pumila",
        "Илийская долина",
        300,
    )
    assert (row["checked_1"], row["alive_1"], float(row["survival_1_pct"])) == (300, 250, 83.3)
    assert (row["checked_3"], row["alive_3"], float(row["survival_3_pct"])) == (200, 150, 75.0)
    with pytest.raises(AccessDenied):
        provenance.survival_by_provenance(db, Actor.public())


def test_provenance_card_over_http_and_cli(database_url, clean) -> None:
    with unit_of_work() as session:
        _, _, _, shipment, line = grow_and_ship(session)
        almaty = forester(session, "KZ-75")
        add_user(session, SYSTEM, "les@almaty.kz", "forester", "KZ-75", PASSWORD)
        plant = make_plant(session, almaty, geom=point_near(ALMATY), planting_year=2025)
        event = planting(session, 50, shipment.region_id)
        session.add(PlantingEventPlant(event_id=event.id, plant_id=plant.id))
        session.flush()
        plant_id, event_id, line_id = plant.id, event.id, line.id
        spot = to_shape(plant.geom)
    runner = CliRunner()
    linked = runner.invoke(main, ["nursery", "link", str(event_id), "--line", str(line_id)])
    assert linked.exit_code == 0, linked.output
    client = create_app({"TESTING": True}).test_client()
    assert client.get(f"/api/v1/nurseries/provenance/plants/{plant_id}").status_code == 401
    sign_in(client, "les@almaty.kz")
    card = client.get(f"/api/v1/nurseries/provenance/plants/{plant_id}").get_json()
    assert card["known"] and card["seed_lot"]["collection_place"] == "пойма р. Или, Капшагай"
    page = client.get(f"/nurseries/provenance/plants/{plant_id}").get_data(as_text=True)
    assert "Илийская долина" in page and "№ 88-23" in page
    # The map's plant card leads staff to the provenance card; the public card does not.
    at_spot = f"/api/v1/plants/at?lon={spot.x}&lat={spot.y}&z=18"
    staff_card = client.get(at_spot).get_json()
    assert staff_card["id"] == plant_id
    assert f"/nurseries/provenance/plants/{plant_id}" in staff_card["html"]
    public_card = create_app({"TESTING": True}).test_client().get(at_spot).get_json()
    assert public_card["id"] == plant_id and "/provenance/" not in public_card["html"]
    printed = runner.invoke(main, ["nursery", "provenance", str(plant_id)])
    assert printed.exit_code == 0 and '"seed_zone": "Илийская долина"' in printed.output
    missing = runner.invoke(main, ["nursery", "provenance", "999999"])
    assert missing.exit_code == 1 and "plant 999999 does not exist" in missing.output


def test_stock_against_approved_plans_and_expected_supplier(db) -> None:
    nursery, _, school, shipment, _ = grow_and_ship(db)  # 390 elms reached Almaty in Oct 2025
    almaty = resolve_region(db, "KZ-75")
    elm, pine = get_species(db, "Ulmus pumila"), get_species(db, "Pinus sylvestris")
    plan = PlantingPlan(region_id=almaty.id, year=2026, season="spring", status="approved")
    draft = PlantingPlan(region_id=almaty.id, year=2026, season="autumn", status="draft")
    db.add_all([plan, draft])
    db.flush()
    lines = [
        PlantingPlanLine(
            plan_id=plan.id, species_id=elm.id, planting_form="group", quantity=5_000, unit="pieces"
        ),
        PlantingPlanLine(
            plan_id=plan.id, species_id=pine.id, planting_form="group", quantity=700, unit="pieces"
        ),
        PlantingPlanLine(
            plan_id=draft.id,
            species_id=pine.id,
            planting_form="group",
            quantity=99_999,
            unit="pieces",
        ),
    ]
    db.add_all(lines)
    db.flush()
    ministry = Actor(label="m", role="ministry")
    rows = {r["species"]: r for r in queries.stock_against_plans(db, ministry, 2026)}
    assert set(rows) == {"Ulmus pumila", "Pinus sylvestris"}  # the draft plan does not count
    ready_elms = school.quantity  # what is left ready in the nursery
    assert rows["Ulmus pumila"]["shipped"] == 390
    assert rows["Ulmus pumila"]["still_needed"] == 5_000 - 390
    assert rows["Ulmus pumila"]["national_shortfall"] == max(5_000 - 390 - ready_elms, 0)
    assert rows["Pinus sylvestris"]["national_shortfall"] == 700

    with pytest.raises(AccessDenied):
        provenance.set_plan_line_nursery(db, forester(db, "KZ-71"), lines[0].id, nursery.code)
    chosen = provenance.set_plan_line_nursery(db, forester(db, "KZ-75"), lines[0].id, nursery.code)
    assert chosen.nursery_id == nursery.id


def test_linking_over_http_and_naming_the_supplier_in_the_cli(database_url, clean) -> None:
    with unit_of_work() as session:
        nursery, _, _, shipment, line = grow_and_ship(session)
        event = planting(session, 20, shipment.region_id)
        plan = PlantingPlan(region_id=shipment.region_id, year=2026, season="spring")
        session.add(plan)
        session.flush()
        plan_line = PlantingPlanLine(
            plan_id=plan.id,
            species_id=event.species_id,
            planting_form="group",
            quantity=20,
            unit="pieces",
        )
        session.add(plan_line)
        session.flush()
        add_user(session, SYSTEM, "les@almaty.kz", "forester", "KZ-75", PASSWORD)
        add_user(session, SYSTEM, "les@astana.kz", "forester", "KZ-71", PASSWORD)
        ids = {
            "event": event.id,
            "line": line.id,
            "plan_line": plan_line.id,
            "nursery": nursery.code,
        }
    client = create_app({"TESTING": True}).test_client()
    sign_in(client, "les@astana.kz")
    path = f"/api/v1/nurseries/planting-events/{ids['event']}/source"
    assert send(client, "POST", path, json={"shipment_line_id": ids["line"]}).status_code == 403
    client = create_app({"TESTING": True}).test_client()
    sign_in(client, "les@almaty.kz")
    linked = send(client, "POST", path, json={"shipment_line_id": ids["line"]})
    assert linked.status_code == 200 and linked.get_json()["shipment_line_id"] == ids["line"]
    runner = CliRunner()
    refused = runner.invoke(
        main,
        [
            "nursery",
            "supply",
            str(ids["plan_line"]),
            "--nursery",
            ids["nursery"],
            "--as",
            "les@astana.kz",
        ],
    )
    assert refused.exit_code == 1 and "may not choose the nursery of plan line" in refused.output
    done = runner.invoke(
        main,
        [
            "nursery",
            "supply",
            str(ids["plan_line"]),
            "--nursery",
            ids["nursery"],
            "--as",
            "les@almaty.kz",
        ],
    )
    assert done.exit_code == 0, done.output
    with unit_of_work() as session:
        assert session.get(PlantingPlanLine, ids["plan_line"]).nursery_id is not None
