"""The field API over HTTP: a phone's changes applied exactly once, conflicts with both sides,
the online rules (region, validation, audit) kept, idempotent photos, and work areas."""

from __future__ import annotations

import io
import threading
import uuid

import pytest
from PIL import Image
from sqlalchemy import func, select

from registry.audit.models import AuditEntry
from registry.db import unit_of_work
from registry.field.models import FieldChange
from registry.inventory.models import Inspection, Plant
from registry.photos.models import PlantPhoto
from tests.factories import ALMATY, ASTANA, make_green_space, make_plant, point_near
from tests.web_client import csrf_token, new_user, sign_in
from web import create_app

CHANGES = "/api/v1/field/changes"


@pytest.fixture
def field(clean, tmp_path):
    """The app, an Astana forester signed in (client, CSRF token), an Astana elm."""
    with unit_of_work(clean) as session:
        elm = make_plant(session, inventory_number="71-FIELD-1").id
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    app = create_app({"TESTING": True, "UPLOADS_DIR": tmp_path / "uploads"})
    client = app.test_client()
    assert sign_in(client, "les@test.jasyl.kz").status_code == 302
    return app, client, csrf_token(client), elm


def new_plant_change(**payload) -> dict:
    lon, lat = point_near(ASTANA).coords[0]
    return {
        "uuid": str(uuid.uuid4()),
        "kind": "add_plant",
        "recorded_at": "2026-06-01T09:30:00+05:00",
        "gps_accuracy_m": 4.5,
        "gps_fixes": 5,
        "payload": {"species": "Ulmus pumila", "lon": lon, "lat": lat, **payload},
    }


def post(client, token: str, change: dict):
    return client.post(CHANGES, json=change, headers={"X-CSRFToken": token})


def count(url: str, model) -> int:
    with unit_of_work(url) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_replayed_change_gets_the_stored_answer_and_adds_one_plant(field, clean) -> None:
    _, client, token, _ = field
    before = count(clean, Plant)
    change = new_plant_change(height_m=3.5)
    first, again = post(client, token, change), post(client, token, change)
    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json()
    assert (first.headers["Idempotent-Replayed"], again.headers["Idempotent-Replayed"]) == (
        "false",
        "true",
    )
    assert count(clean, Plant) == before + 1
    with unit_of_work(clean) as session:
        kept = session.get(FieldChange, uuid.UUID(change["uuid"]))
        assert (float(kept.gps_accuracy_m), kept.gps_fixes) == (4.5, 5)
        created = session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "plant", AuditEntry.entity_id == kept.plant_id
            )
        ).all()
    assert created and all(e.actor.startswith("les@") for e in created)  # audited as online


def test_concurrent_replays_of_one_uuid_add_one_plant(field, clean) -> None:
    app, client, token, _ = field
    cookie = client.get_cookie("jasyl_session").value
    change, answers, start = new_plant_change(), [], threading.Barrier(6)
    before = count(clean, Plant)

    def send() -> None:
        phone = app.test_client()
        phone.set_cookie("jasyl_session", cookie)
        start.wait()
        answers.append(post(phone, token, change))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * 6
    assert len({a.get_data() for a in answers}) == 1
    assert sorted(a.headers["Idempotent-Replayed"] for a in answers) == ["false"] + ["true"] * 5
    assert count(clean, Plant) == before + 1


def test_a_stale_edit_is_a_conflict_with_both_values(field, clean) -> None:
    _, client, token, elm = field
    online = client.patch(
        f"/api/v1/plants/{elm}",
        json={"version": 1, "height_m": 9.0},
        headers={"X-CSRFToken": token},
    )
    assert online.status_code == 200
    edit = {
        "uuid": str(uuid.uuid4()),
        "kind": "edit_plant",
        "base_version": 1,
        "payload": {"plant_id": elm, "height_m": 7.5},
    }
    answer = post(client, token, edit)
    assert answer.status_code == 409
    body = answer.get_json()
    assert body["error"] == "stale_version"
    assert body["current"]["height_m"] == 9.0 and body["current_version"] == 2
    assert body["yours"] == {"plant_id": elm, "height_m": 7.5} and body["base_version"] == 1
    assert count(clean, FieldChange) == 0  # refused: nothing kept, it may be resolved and resent
    resolved = {**edit, "uuid": str(uuid.uuid4()), "base_version": 2}
    assert post(client, token, resolved).get_json()["result"]["height_m"] == 7.5


def test_another_regions_plant_is_refused(field, clean) -> None:
    _, client, token, _ = field
    with unit_of_work(clean) as session:
        far = make_plant(session, geom=point_near(ALMATY)).id
    inspect = {
        "uuid": str(uuid.uuid4()),
        "kind": "inspect",
        "payload": {"plant_id": far, "condition": 3},
    }
    assert post(client, token, inspect).status_code == 403
    lon, lat = point_near(ALMATY).coords[0]
    add = new_plant_change(lon=lon, lat=lat)
    assert post(client, token, add).status_code == 403
    assert count(clean, FieldChange) == 0 and count(clean, Inspection) == 0


@pytest.mark.parametrize(
    ("payload", "field_name"),
    [
        ({"height_m": "tall"}, "add_plant.payload.height_m"),
        ({"colour": "green"}, "add_plant.payload.colour"),
        ({"condition": 9}, "add_plant.payload.condition"),
    ],
)
def test_a_bad_payload_is_refused_naming_its_field(field, clean, payload, field_name) -> None:
    _, client, token, _ = field
    answer = post(client, token, new_plant_change(**payload))
    assert answer.status_code == 422
    assert answer.get_json()["field"] == field_name
    assert count(clean, FieldChange) == 0


def test_a_change_without_uuid_or_of_unknown_kind_is_refused(field) -> None:
    _, client, token, _ = field
    change = new_plant_change()
    del change["uuid"]
    assert post(client, token, change).get_json()["field"] == "add_plant.uuid"
    assert post(client, token, {**new_plant_change(), "kind": "fell"}).status_code == 422


def test_a_uuid_reused_for_other_content_is_refused(field, clean) -> None:
    _, client, token, _ = field
    change = new_plant_change(height_m=3.0)
    assert post(client, token, change).status_code == 200
    other = {**change, "payload": {**change["payload"], "height_m": 4.0}}
    answer = post(client, token, other)
    assert (answer.status_code, answer.get_json()["field"]) == (422, "uuid")


def test_an_offline_plant_is_inspected_and_removed_by_its_change_uuid(field, clean) -> None:
    _, client, token, _ = field
    add = new_plant_change()
    inspect = {
        "uuid": str(uuid.uuid4()),
        "kind": "inspect",
        "recorded_at": "2026-06-01T10:00:00+05:00",
        "payload": {"plant_uuid": add["uuid"], "condition": 4},
    }
    early = post(client, token, inspect)  # its plant has not arrived yet
    assert (early.status_code, early.get_json()["field"]) == (422, "payload.plant_uuid")
    plant_id = post(client, token, add).get_json()["plant_id"]
    assert post(client, token, inspect).get_json()["result"]["inspected_on"] == "2026-06-01"
    remove = {
        "uuid": str(uuid.uuid4()),
        "kind": "remove",
        "base_version": 2,  # the inspection set its condition: version 2
        "payload": {"plant_uuid": add["uuid"], "status": "dead", "reason": "storm"},
    }
    assert post(client, token, remove).get_json()["result"]["status"] == "dead"
    asked = client.get(f"{CHANGES}?uuids={add['uuid']},{uuid.uuid4()}")
    assert asked.get_json() == {"received": [add["uuid"]]}
    with unit_of_work(clean) as session:
        assert session.get(Plant, plant_id).condition == 4


def test_the_public_cannot_send_changes(field) -> None:
    app, _, _, _ = field
    answer = app.test_client().post(CHANGES, json=new_plant_change())
    assert answer.status_code in (400, 401)  # no session: CSRF or sign-in refuses first
    assert app.test_client().get("/api/v1/field/area?region=1&count_only=1").status_code == 401


def jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


def test_a_resumed_photo_upload_keeps_one_photo(field, clean) -> None:
    _, client, token, _ = field
    add = new_plant_change()
    photo = str(uuid.uuid4())
    url = f"{CHANGES}/{add['uuid']}/photos/{photo}"

    def put(data: bytes):
        return client.put(
            url,
            data={"photo": (io.BytesIO(data), "elm.jpg")},
            headers={"X-CSRFToken": token},
            content_type="multipart/form-data",
        )

    assert put(jpeg((0, 120, 0))).status_code == 404  # its change has not arrived yet
    post(client, token, add)
    first, again = put(jpeg((0, 120, 0))), put(jpeg((0, 120, 0)))
    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(clean, PlantPhoto) == 1
    assert put(jpeg((200, 0, 0))).get_json()["field"] == "photo_uuid"


def test_a_work_area_says_its_size_then_downloads_within_the_budget(field, clean) -> None:
    app, client, _, elm = field
    with unit_of_work(clean) as session:
        park = make_green_space(session)
        for _ in range(3):
            make_plant(session, green_space_id=park.id)
        park_id = park.id
    size = client.get(f"/api/v1/field/area?green_space={park_id}&count_only=true").get_json()
    assert size["size"]["plants"] >= 3 and size["size"]["green_spaces"] == 1
    area = client.get(f"/api/v1/field/area?green_space={park_id}").get_json()
    assert len(area["plants"]) == size["size"]["plants"]
    assert area["green_spaces"][0]["geometry"]["type"] == "MultiPolygon"
    box = ",".join(
        str(v) for v in (ASTANA[0] - 0.1, ASTANA[1] - 0.1, ASTANA[0] + 0.1, ASTANA[1] + 0.1)
    )
    plants = client.get(f"/api/v1/field/area?bbox={box}").get_json()["plants"]
    assert elm in {p["id"] for p in plants}
    assert {"lon", "lat", "version", "species_id", "condition"} <= set(plants[0])
    app.config["JASYL_SETTINGS"] = app.config["JASYL_SETTINGS"].__class__(
        **{**app.config["JASYL_SETTINGS"].__dict__, "field_area_max_plants": 2}
    )
    refused = client.get(f"/api/v1/field/area?bbox={box}")
    assert refused.status_code == 413
    assert "JASYL_FIELD_AREA_MAX_PLANTS" in refused.get_json()["message"]
    both = client.get(f"/api/v1/field/area?bbox={box}&region=1")
    assert (both.status_code, both.get_json()["field"]) == (422, "area")


def card_of(client, lon: float, lat: float, lang: str) -> str:
    answer = client.get(f"/api/v1/plants/at?lon={lon}&lat={lat}&z=19&lang={lang}").get_json()
    return answer["html"]


def test_a_synced_plant_keeps_its_gps_accuracy_and_fixes_shown_on_its_card(field, clean) -> None:
    _, client, token, elm = field
    add = new_plant_change(height_m=2.0)
    added = post(client, token, add).get_json()
    assert (added["result"]["gps_accuracy_m"], added["result"]["gps_fixes"]) == (4.5, 5)
    with unit_of_work(clean) as session:
        plant = session.get(Plant, added["plant_id"])
        assert (float(plant.gps_accuracy_m), plant.gps_fixes) == (4.5, 5)
        assert session.get(Plant, elm).gps_accuracy_m is None  # not measured, not zero
    lon, lat = add["payload"]["lon"], add["payload"]["lat"]
    card = card_of(client, lon, lat, "ru")  # the forester's own language
    assert "<th>Точность GPS</th>" in card and "± 4,5 м · усреднено замеров: 5" in card
    no_fix = new_plant_change()
    del no_fix["gps_accuracy_m"], no_fix["gps_fixes"]
    post(client, token, no_fix)
    assert "GPS" not in card_of(client, no_fix["payload"]["lon"], no_fix["payload"]["lat"], "ru")
    public = client.application.test_client()
    assert "gps-accuracy" not in card_of(public, lon, lat, "en")  # staff only
