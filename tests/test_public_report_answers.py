"""The foresters' queue: accept into an inspection or a care work, reject with a reason, join a
duplicate, publish; each step audited and scoped to the region (``registry.access``); reports
nobody answered in time counted on the region's page and the ministry's dashboard."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from registry.access import Actor
from registry.accounts.services import add_user
from registry.audit.models import AuditEntry
from registry.care.models import CareWork
from registry.db import unit_of_work
from registry.inventory.models import Inspection
from tests.factories import ASTANA, make_plant
from tests.nursery_factories import make_nursery
from tests.web_client import PASSWORD, csrf_token, new_user, send, sign_in
from web import create_app
from web.cli import main

REPORTS = "/api/v1/public-reports"
QUEUE = "/api/v1/report-queue"


@pytest.fixture
def app(clean, tmp_path):
    new_user(clean, "astana@test.kz", "forester", "KZ-71")
    new_user(clean, "almaty@test.kz", "forester", "KZ-75")
    new_user(clean, "ministry@test.kz", "ministry")
    return create_app({"TESTING": True, "UPLOADS_DIR": tmp_path / "uploads"})


@pytest.fixture
def tree(clean) -> int:
    with unit_of_work(clean) as session:
        return make_plant(session).id


def reported(app, **fields) -> tuple[str, int]:
    body = {"kind": "hazard", "lon": ASTANA[0], "lat": ASTANA[1], **fields}
    answer = app.test_client().post(REPORTS, json=body)
    assert answer.status_code == 201, answer.json
    number = answer.json["number"]
    return number, id_of(app, number)


def id_of(app, number: str) -> int:
    with unit_of_work(app.config["DATABASE_URL"]) as session:
        found = text("SELECT id FROM public_reports WHERE number = :n")
        return session.scalar(found, {"n": number})


def staff(app, email: str):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def test_a_forester_accepts_into_an_inspection_and_the_status_follows(app, clean, tree) -> None:
    number, report_id = reported(app, plant_id=tree, contact="aigerim@mail.kz")
    forester, public = staff(app, "astana@test.kz"), app.test_client()
    listed = forester.get(QUEUE).json["items"]
    assert [(r["number"], r["contact"]) for r in listed] == [(number, "aigerim@mail.kz")]
    accepted = send(
        forester, "POST", f"{QUEUE}/{report_id}/accept", {"action": "inspection", "condition": 4}
    )
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["status"] == "accepted" and accepted.json["inspection_id"]
    with unit_of_work(clean) as session:
        inspection = session.get(Inspection, accepted.json["inspection_id"])
        assert (inspection.plant_id, inspection.condition) == (tree, 4)
    assert public.get(f"{REPORTS}/{number}").json["status"] == "received"  # not yet published
    assert send(forester, "POST", f"{QUEUE}/{report_id}/publish", {}).status_code == 200
    shown = public.get(f"{REPORTS}/{number}").json
    assert (shown["status"], shown["kind"], shown["plant_id"]) == ("accepted", "hazard", tree)
    assert "contact" not in shown and "description" not in shown
    assert (
        send(forester, "POST", f"{QUEUE}/{report_id}/status", {"status": "done"}).json["status"]
        == "done"
    )
    assert "aigerim" not in public.get(f"/report/{number}").get_data(as_text=True)
    with unit_of_work(clean) as session:
        steps = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.entity == "public_report", AuditEntry.entity_id == report_id
            )
        ).all()
    assert {"create", "accept", "publish", "answer"} <= set(steps)


def test_a_place_report_becomes_a_planned_care_work_then_done(app, clean) -> None:
    number, report_id = reported(app, kind="plant_request")
    forester = staff(app, "astana@test.kz")
    refused = send(forester, "POST", f"{QUEUE}/{report_id}/accept", {"action": "inspection"})
    assert refused.status_code == 422 and refused.json["field"] == "action"
    planned = send(
        forester,
        "POST",
        f"{QUEUE}/{report_id}/accept",
        {"action": "care", "kind": "watering", "unit": "pieces", "planned_volume": 3},
    )
    assert planned.status_code == 200, planned.json
    assert planned.json["status"] == "planned" and planned.json["care_work_id"]
    with unit_of_work(clean) as session:
        work = session.get(CareWork, planned.json["care_work_id"])
        assert (work.kind, float(work.planned_volume)) == ("watering", 3.0)
        assert work.plant_id is None and work.area is not None  # at the reported place
    skipped = send(forester, "POST", f"{QUEUE}/{report_id}/reject", {"reason": "late"})
    assert skipped.status_code == 422 and skipped.json["field"] == "status"


def test_a_felling_is_planned_as_a_sanitary_felling_work_on_the_tree(app, clean, tree) -> None:
    number, report_id = reported(app, kind="dead", plant_id=tree)
    forester = staff(app, "astana@test.kz")
    body = {"action": "felling", "planned_volume": 1, "kind": "watering"}  # the kind is felling's
    planned = send(forester, "POST", f"{QUEUE}/{report_id}/accept", body)
    assert planned.status_code == 200, planned.json
    with unit_of_work(clean) as session:
        work = session.get(CareWork, planned.json["care_work_id"])
        assert (work.kind, work.unit, work.plant_id) == ("sanitary_felling", "pieces", tree)
    again = send(forester, "POST", f"{QUEUE}/{report_id}/accept", body)
    assert again.status_code == 422 and again.json["field"] == "status"


def test_reject_needs_a_reason_and_the_public_reads_it_once_published(app, clean) -> None:
    number, report_id = reported(app, kind="missing_tree")
    forester = staff(app, "astana@test.kz")
    blank = send(forester, "POST", f"{QUEUE}/{report_id}/reject", {"reason": ""})
    assert blank.status_code == 422 and blank.json["field"] == "reason"
    why = "the tree was felled under permit 12/2026"
    assert send(forester, "POST", f"{QUEUE}/{report_id}/reject", {"reason": why}).status_code == 200
    send(forester, "POST", f"{QUEUE}/{report_id}/publish", {})
    shown = app.test_client().get(f"{REPORTS}/{number}").json
    assert (shown["status"], shown["reason"]) == ("rejected", why)


def test_a_forester_joins_a_duplicate_the_rule_missed(app, clean) -> None:
    first, first_id = reported(app)
    later, later_id = reported(app, lon=ASTANA[0] + 0.001)  # ~70 m: not joined by itself
    assert later != first
    forester = staff(app, "astana@test.kz")
    joined = send(forester, "POST", f"{QUEUE}/{later_id}/merge", {"into": first})
    assert joined.status_code == 200, joined.json
    assert [r["number"] for r in forester.get(QUEUE).json["items"]] == [first]
    assert forester.get(f"{QUEUE}/{first_id}").json["joined"] == 1
    assert app.test_client().get(f"{REPORTS}/{later}").json["number"] == first


def test_another_regions_forester_is_refused_and_the_public_must_sign_in(app, clean) -> None:
    number, report_id = reported(app)
    almaty, public = staff(app, "almaty@test.kz"), app.test_client()
    assert almaty.get(QUEUE).json["items"] == []
    assert almaty.get(f"{QUEUE}/{report_id}").status_code == 403
    assert almaty.get(QUEUE, query_string={"region": "KZ-71"}).status_code == 403
    step = send(almaty, "POST", f"{QUEUE}/{report_id}/accept", {"action": "care"})
    assert step.status_code == 403
    assert send(almaty, "POST", f"{QUEUE}/{report_id}/publish", {}).status_code == 403
    assert public.get(QUEUE).status_code == 401
    assert public.post(f"{QUEUE}/{report_id}/publish", json={}).status_code in (400, 401)
    assert app.test_client().get(f"{REPORTS}/{number}").json["published"] is False
    with unit_of_work(clean) as session:
        denied = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "denied", AuditEntry.entity_id == report_id
            )
        ).all()
    assert denied, "the refusals are audited"
    ministry = staff(app, "ministry@test.kz")
    assert [r["number"] for r in ministry.get(QUEUE).json["items"]] == [number]


def test_reports_unanswered_too_long_are_counted_for_the_region_and_ministry(app, clean) -> None:
    old, old_id = reported(app)
    reported(app, kind="dead")  # fresh: not overdue
    with unit_of_work(clean) as session:
        session.execute(
            text("UPDATE public_reports SET created_at = now() - interval '15 days' WHERE id = :i"),
            {"i": old_id},
        )
    region_page = app.test_client().get("/regions/KZ-71").get_data(as_text=True)
    assert 'id="overdue-reports">1<' in region_page
    assert 'id="overdue-reports">0<' in app.test_client().get("/regions/KZ-75").get_data(
        as_text=True
    )
    ministry = staff(app, "ministry@test.kz")
    assert 'id="overdue-reports">1<' in ministry.get("/reports/dashboard").get_data(as_text=True)
    forester = staff(app, "astana@test.kz")
    send(forester, "POST", f"{QUEUE}/{old_id}/reject", {"reason": "not a registry tree"})
    assert 'id="overdue-reports">0<' in ministry.get("/reports/dashboard").get_data(as_text=True)


def test_jasyl_public_reports_list_shows_a_region_and_its_overdue(app, clean) -> None:
    old, old_id = reported(app)
    fresh, _ = reported(app, kind="dead")
    with unit_of_work(clean) as session:
        session.execute(
            text("UPDATE public_reports SET created_at = now() - interval '20 days' WHERE id = :i"),
            {"i": old_id},
        )

    def listed(*args: str) -> list[str]:
        ran = CliRunner().invoke(main, ["public-reports", "list", *args, "--format", "json"])
        assert ran.exit_code == 0, ran.output
        return [r["number"] for r in json.loads(ran.output)]

    assert listed("--region", "KZ-71") == [old, fresh]
    assert listed("--region", "KZ-71", "--overdue") == [old]
    assert listed("--region", "KZ-75") == []
    assert listed("--kind", "dead") == [fresh]
    refused = CliRunner().invoke(
        main, ["public-reports", "list", "--region", "KZ-71", "--as", "almaty@test.kz"]
    )
    assert refused.exit_code == 1 and "may not read public reports" in refused.output


def test_the_queue_pages_keep_to_the_foresters_region(app, clean) -> None:
    number, report_id = reported(app, contact="aigerim@mail.kz")
    astana, almaty = staff(app, "astana@test.kz"), staff(app, "almaty@test.kz")
    assert number in astana.get("/public-reports/queue").get_data(as_text=True)
    assert number not in almaty.get("/public-reports/queue").get_data(as_text=True)
    assert almaty.get(f"/public-reports/{report_id}").status_code == 403
    token = csrf_token(almaty, "/public-reports/queue")
    refused = almaty.post(f"/public-reports/{report_id}/publish", data={"csrf_token": token})
    assert refused.status_code == 403
    page = astana.get(f"/public-reports/{report_id}").get_data(as_text=True)
    assert "aigerim@mail.kz" in page
    token = csrf_token(astana, "/public-reports/queue")
    why = {"csrf_token": token, "reason": "no such tree"}
    assert astana.post(f"/public-reports/{report_id}/reject", data=why).status_code == 302
    assert app.test_client().get(f"{REPORTS}/{number}").json["published"] is False


def test_nursery_staff_read_no_region_and_are_refused_the_queue(app, clean) -> None:
    reported(app)
    with unit_of_work(clean) as session:
        nursery_id = make_nursery(session).id
        add_user(session, Actor.system("test"), "nursery@test.kz", "nursery", None, PASSWORD,
                 nursery_id=nursery_id)  # fmt: skip
    grower = staff(app, "nursery@test.kz")
    refused = grower.get(QUEUE)
    assert refused.status_code == 403 and "may not read public reports" in refused.json["message"]
    assert grower.get("/public-reports/queue").status_code == 403
