"""``/nurseries`` over HTTP: pages and JSON, signed in through the real login form."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from registry.access import Actor
from registry.accounts.services import add_user
from registry.audit.models import AuditEntry
from registry.db import unit_of_work
from registry.nursery.models import Batch, BatchMovement, Shipment
from tests.nursery_factories import make_nursery, ready_batch
from tests.web_client import PASSWORD, csrf_token, send, sign_in, third_party_assets
from web import create_app


@pytest.fixture
def client(database_url):
    app = create_app({"TESTING": True})
    return app.test_client()


@pytest.fixture
def world(clean):
    """Two nurseries, their staff, an Almaty forester, the ministry and an admin."""
    with unit_of_work() as session:
        mine, other = make_nursery(session), make_nursery(session)
        elm = ready_batch(session, mine, 100)
        spruce = ready_batch(session, mine, 50, "Picea schrenkiana")
        theirs = ready_batch(session, other, 30)
        system = Actor.system("test")
        add_user(session, system, "staff@mine.kz", "nursery", None, PASSWORD, nursery_id=mine.id)
        add_user(session, system, "forester@almaty.kz", "forester", "KZ-75", PASSWORD)
        add_user(session, system, "forester@astana.kz", "forester", "KZ-71", PASSWORD)
        add_user(session, system, "ministry@gov.kz", "ministry", None, PASSWORD)
        add_user(session, system, "admin@jasyl.kz", "admin", None, PASSWORD)
        return {
            "mine": mine.code,
            "other": other.code,
            "elm": elm.id,
            "spruce": spruce.id,
            "theirs": theirs.id,
        }


def dispatch(client, code, lines, region="KZ-75", **extra):
    body = {"region": region, "on": "2025-10-01", "lines": lines, **extra}
    return send(client, "POST", f"/api/v1/nurseries/{code}/dispatch", json=body)


def test_public_sees_no_stock(client, world) -> None:
    answer = client.get("/api/v1/nurseries/stock")
    assert answer.status_code == 401 and answer.get_json()["error"] == "sign_in_required"
    assert client.get("/nurseries/").status_code == 401


def test_ministry_dashboard_lists_every_nursery(client, world) -> None:
    sign_in(client, "ministry@gov.kz")
    page = client.get("/nurseries/?year=2025", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and world["mine"] in html and world["other"] in html
    assert "Picea schrenkiana" in html.split('id="national-stock"')[1]
    report = client.get("/api/v1/nurseries/report?year=2025").get_json()
    assert {n["nursery"] for n in report["nurseries"]} == {world["mine"], world["other"]}
    assert (
        dispatch(client, world["mine"], [{"batch_id": world["elm"], "quantity": 1}]).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("language", "ready", "elm", "root"),
    [
        ("ru", "готово к отгрузке", "вяз приземистый", "открытая корневая система"),
        ("kk", "жөнелтуге дайын", "аласа қарағаш", "ашық тамыр жүйесі"),
        ("en", "ready to dispatch", "Siberian elm", "open roots"),
    ],
)
def test_nursery_pages_speak_the_readers_language(client, world, language, ready, elm, root):
    """Stages, root systems and species in the reader's language, never the ledger's codes."""
    sign_in(client, "ministry@gov.kz")
    token = csrf_token(client, "/nurseries/")
    client.post("/language", data={"lang": language, "csrf_token": token})  # the switcher
    national = client.get("/nurseries/").get_data(as_text=True)
    table = national.split('id="national-stock"')[1].split("</table>")[0]
    assert ready in table and elm in table
    own = client.get(f"/nurseries/{world['mine']}").get_data(as_text=True)
    stock = own.split('id="stock"')[1].split("</table>")[0]
    assert ready in stock and elm in stock and root in stock
    if language != "en":
        assert "<td>ready</td>" not in stock and "<td>open</td>" not in stock
        heading = own.split('id="stock"')[0]
        assert re.search(r"\b(steppe|semi_desert|desert|foothill|mountain)\b", heading) is None


def test_nursery_staff_dispatch_own_stock_only_and_forester_receives(client, world) -> None:
    sign_in(client, "staff@mine.kz")
    ok = dispatch(client, world["mine"], [{"batch_id": world["elm"], "quantity": 60}])
    assert ok.status_code == 201, ok.get_json()
    shipment_id = ok.get_json()["id"]
    over = dispatch(client, world["mine"], [{"batch_id": world["elm"], "quantity": 41}])
    assert over.status_code == 422 and "only 40 left" in over.get_json()["message"]
    foreign = dispatch(client, world["other"], [{"batch_id": world["theirs"], "quantity": 1}])
    assert foreign.status_code == 403
    denied_receipt = send(
        client,
        "POST",
        f"/api/v1/nurseries/shipments/{shipment_id}/receive",
        json={"received": {str(world["elm"]): 60}, "on": "2025-10-02"},
    )
    assert denied_receipt.status_code == 403

    astana = client.application.test_client()
    sign_in(astana, "forester@astana.kz")
    wrong_region = send(
        astana,
        "POST",
        f"/api/v1/nurseries/shipments/{shipment_id}/receive",
        json={"received": {str(world["elm"]): 60}, "on": "2025-10-02"},
    )
    assert wrong_region.status_code == 403

    almaty = client.application.test_client()
    sign_in(almaty, "forester@almaty.kz")
    too_many = send(
        almaty,
        "POST",
        f"/api/v1/nurseries/shipments/{shipment_id}/receive",
        json={"received": {str(world["elm"]): 61}, "on": "2025-10-02"},
    )
    assert too_many.status_code == 422 and "exceeds 60 shipped" in too_many.get_json()["message"]
    done = send(
        almaty,
        "POST",
        f"/api/v1/nurseries/shipments/{shipment_id}/receive",
        json={"received": {str(world["elm"]): 57}, "on": "2025-10-02"},
    )
    assert done.status_code == 200
    assert done.get_json() == {
        "id": shipment_id,
        "status": "received",
        "lost_in_transit": {str(world["elm"]): 3},
    }


def test_zoning_refusal_and_admin_override_over_http(client, world) -> None:
    sign_in(client, "staff@mine.kz")
    refused = dispatch(
        client, world["mine"], [{"batch_id": world["spruce"], "quantity": 5}], region="KZ-43"
    )
    assert refused.status_code == 422 and "does not suit" in refused.get_json()["message"]
    not_allowed = dispatch(
        client,
        world["mine"],
        [{"batch_id": world["spruce"], "quantity": 5}],
        region="KZ-43",
        override_reason="хочу",
    )
    assert not_allowed.status_code == 403
    admin = client.application.test_client()
    sign_in(admin, "admin@jasyl.kz")
    allowed = dispatch(
        admin,
        world["mine"],
        [{"batch_id": world["spruce"], "quantity": 5}],
        region="KZ-43",
        override_reason="дендрарий с поливом",
    )
    assert allowed.status_code == 201
    assert allowed.get_json()["zoning_override"] == "дендрарий с поливом"
    with unit_of_work() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "zoning_override"))
        assert entry.actor == "admin@jasyl.kz" and entry.entity_id == allowed.get_json()["id"]


def test_movements_and_counter_movements_over_http(client, world) -> None:
    sign_in(client, "staff@mine.kz")
    path = f"/api/v1/nurseries/batches/{world['elm']}/movements"
    loss = send(
        client,
        "POST",
        path,
        json={"kind": "loss", "quantity": 10, "cause": "frost", "on": "2025-03-01"},
    )
    assert loss.status_code == 201 and loss.get_json()["quantity"] == 90
    bad = send(
        client,
        "POST",
        path,
        json={"kind": "loss", "quantity": 10, "cause": "frost", "on": "2023-03-01"},
    )
    assert (
        bad.status_code == 422 and "cannot precede the batch's sowing" in bad.get_json()["message"]
    )
    ledger = client.get(f"/api/v1/nurseries/{world['mine']}/ledger?batch={world['elm']}&kind=loss")
    loss_id = ledger.get_json()[0]["id"]
    back = send(
        client,
        "POST",
        path,
        json={
            "kind": "reversal",
            "movement_id": loss_id,
            "reason": "ошибка учёта",
            "on": "2025-03-02",
        },
    )
    assert back.status_code == 201 and back.get_json()["quantity"] == 100
    with unit_of_work() as session:
        assert (
            session.scalar(
                select(func.count(BatchMovement.id)).where(BatchMovement.batch_id == world["elm"])
            )
            == 3
        )


def test_pages_dispatch_form_and_receipt_form(client, world) -> None:
    sign_in(client, "staff@mine.kz")
    page = client.get(f"/nurseries/{world['mine']}", headers={"Accept-Language": "ru"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Ulmus pumila" in html and "folium-map" in html
    assert "/vendor/" in html and third_party_assets(html) == []
    form = client.post(
        f"/nurseries/{world['mine']}/dispatch",
        data={
            "csrf_token": csrf_token(client, f"/nurseries/{world['mine']}/dispatch"),
            "region": "KZ-75",
            "on": "2025-10-01",
            f"qty_{world['elm']}": "500",
        },
    )
    assert form.status_code == 422 and "only 100 left" in form.get_data(as_text=True)
    form = client.post(
        f"/nurseries/{world['mine']}/dispatch",
        data={
            "csrf_token": csrf_token(client, f"/nurseries/{world['mine']}/dispatch"),
            "region": "KZ-75",
            "on": "2025-10-01",
            f"qty_{world['elm']}": "25",
        },
    )
    assert form.status_code == 302
    with unit_of_work() as session:
        shipment_id = session.scalar(select(Shipment.id))
    almaty = client.application.test_client()
    sign_in(almaty, "forester@almaty.kz")
    token = csrf_token(almaty, f"/nurseries/shipments/{shipment_id}")
    got = almaty.post(
        f"/nurseries/shipments/{shipment_id}",
        data={"csrf_token": token, "on": "2025-10-02", f"got_{world['elm']}": "24"},
    )
    assert got.status_code == 302
    shown = almaty.get(f"/nurseries/shipments/{shipment_id}").get_data(as_text=True)
    assert 'data-status="received"' in shown
    ledger = client.get(f"/nurseries/{world['mine']}/ledger?kind=dispatch").get_data(as_text=True)
    assert "dispatch" in ledger and "-25" in ledger
    with unit_of_work() as session:
        assert session.get(Batch, world["elm"]).quantity == 75
    assert date.today()  # pages render dates of today in the forms
