"""Field mode in a real headless Chromium on a phone-sized screen: the page reloads offline
through its service worker, changes recorded offline are each stored exactly once when the phone
is back online, an answer lost mid-sync is not a duplicate, and a plant changed online meanwhile
opens the conflict screen with both values."""

from __future__ import annotations

import io
import json
import threading
import uuid
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.serving import make_server

from registry.accounts.models import User
from registry.db import unit_of_work
from registry.field.models import FieldChange, FieldPhoto
from registry.inventory.models import Inspection, Plant
from registry.photos.models import PlantPhoto
from tests.factories import ASTANA, make_plant
from tests.test_browser_web import point, sign_in
from tests.web_client import csrf_token, new_user, serve
from tests.web_client import sign_in as sign_in_client
from web import create_app

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
HERE = {"latitude": ASTANA[1] + 0.0001, "longitude": ASTANA[0] + 0.0001, "accuracy": 4}


@pytest.fixture
def field_site(clean, tmp_path):
    """The app on a real server thread (service workers need http://127.0.0.1), an Astana elm
    next to where the phone stands, and its forester."""
    with unit_of_work(clean) as session:
        elm = make_plant(session, inventory_number="71-FIELD-ELM", geom=point(ASTANA)).id
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    app = create_app({"UPLOADS_DIR": tmp_path / "uploads"})
    for base in serve(app):
        yield base, elm, app


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport=PHONE,
        locale="ru-RU",
        geolocation=HERE,
        permissions=["geolocation"],
        service_workers="allow",
    )
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def open_field(page, base: str) -> None:
    page.goto(base + "/field")
    page.wait_for_selector("#field[data-ready=true]")


def installed(page) -> None:
    """The service worker is active and controls the page (its caches filled at install)."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def locate(page) -> None:
    page.click("#locate")
    page.wait_for_function("() => document.querySelector('#position').textContent.length > 0")


def offline_with_a_fix(page, base: str) -> None:
    """The forester signed in, the field page open, the signal gone, a GPS position taken."""
    sign_in(page, base, "les@test.jasyl.kz")
    open_field(page, base)
    page.context.set_offline(True)
    locate(page)


def download_area_around_me(page) -> None:
    page.click("#area-panel summary")
    locate(page)
    page.click("#area-check")
    page.wait_for_function("() => !document.querySelector('#area-download').disabled")
    page.click("#area-download")
    page.wait_for_function("() => document.querySelector('#area-kept').textContent.length > 0")


def unsent(page) -> int:
    return int(page.inner_text("#unsent-count"))


def add_plant(page, height: str) -> None:
    page.select_option("#add-species", label="вяз приземистый")
    page.fill("#add-form input[name=height_m]", height)
    page.click("#add-save")
    page.wait_for_function("() => document.querySelectorAll('#outbox li').length >= 1")


def inspect_elm(page, condition: str) -> None:
    page.click("#plants li[data-key^='id:'] button")
    page.select_option("#inspect-form select[name=condition]", condition)
    page.click("#inspect-save")


def counts(url: str) -> tuple[int, int, int]:
    with unit_of_work(url) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(m))
            for m in (Plant, Inspection, FieldChange)
        )


def test_offline_the_page_reloads_and_each_change_is_stored_once_back_online(
    phone, field_site, clean
) -> None:
    base, elm, _ = field_site
    sign_in(phone, base, "les@test.jasyl.kz")
    open_field(phone, base)
    installed(phone)
    assert phone.evaluate("document.querySelector('link[rel=manifest]').href").endswith(
        "/field/manifest.webmanifest"
    )
    policy = phone.context.request.get(base + "/field").headers["content-security-policy"]
    assert (
        "worker-src 'self'" in policy and "'unsafe-inline'" not in policy.split("style-src-attr")[0]
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways
    download_area_around_me(phone)
    phone.context.set_offline(True)
    phone.reload()
    phone.wait_for_selector("#field[data-ready=true]")
    assert phone.locator("#add-species option").count() > 10  # the catalogue, from the cache
    assert "Нет связи" in phone.inner_text("#connection")
    locate(phone)
    for height in ("2.5", "3", "4.2"):
        add_plant(phone, height)
    inspect_elm(phone, "4")
    phone.wait_for_function("() => document.querySelector('#unsent-count').textContent === '4'")
    assert counts(clean) == (1, 0, 0)  # nothing reached the server yet

    phone.context.set_offline(False)
    phone.wait_for_function("() => document.querySelector('#unsent-count').textContent === '0'")
    assert counts(clean) == (4, 1, 4)
    with unit_of_work(clean) as session:
        assert session.get(Plant, elm).condition == 4
        heights = sorted(
            float(h) for h in session.scalars(select(Plant.height_m).where(Plant.id != elm))
        )
        added = select(FieldChange.gps_accuracy_m).where(FieldChange.kind == "add_plant")
        accuracies = list(session.scalars(added))
    assert heights == [2.5, 3.0, 4.2]
    assert [float(a) for a in accuracies] == [4.0] * 3  # each new plant's GPS accuracy is kept
    phone.click("#send-now")  # sending again sends nothing twice
    phone.wait_for_function("() => document.querySelector('#sync-message').textContent.length > 0")
    assert counts(clean) == (4, 1, 4)
    assert phone.errors == []


def test_an_answer_lost_mid_sync_is_no_duplicate_and_the_rest_are_sent(
    phone, field_site, clean
) -> None:
    base, _, _ = field_site
    offline_with_a_fix(phone, base)
    for height in ("1.5", "2", "2.5"):
        add_plant(phone, height)
    sent = []

    def lose_second_answer(route) -> None:
        """The server applies the second change, but its answer never reaches the phone."""
        sent.append(route.request.post_data_json["uuid"])
        if len(sent) == 2:
            request = route.request
            applied = phone.context.request.post(
                request.url, data=request.post_data, headers=request.headers
            )
            assert applied.status == 200
            route.abort("connectionreset")
        else:
            route.continue_()

    phone.context.route("**/api/v1/field/changes", lose_second_answer)
    phone.context.set_offline(False)
    phone.wait_for_function(
        "() => document.querySelector('#sync-message').textContent.startsWith('Сервер не ответил')"
    )
    assert unsent(phone) == 2  # the lost answer's change is not marked sent
    assert counts(clean)[0] == 1 + 2  # the elm, and the lost answer's plant; the third waits
    phone.context.unroute("**/api/v1/field/changes")
    phone.click("#send-now")
    phone.wait_for_function("() => document.querySelector('#unsent-count').textContent === '0'")
    assert counts(clean) == (1 + 3, 0, 3)
    assert len(sent) == 2


def test_a_plant_changed_online_meanwhile_opens_the_conflict_screen(
    phone, field_site, clean
) -> None:
    base, elm, app = field_site
    sign_in(phone, base, "les@test.jasyl.kz")
    open_field(phone, base)
    download_area_around_me(phone)
    phone.context.set_offline(True)
    phone.click("#plants li[data-key^='id:'] button")
    phone.fill("#edit-form input[name=height_m]", "7.5")
    phone.click("#edit-save")
    office = app.test_client()
    sign_in_client(office, "les@test.jasyl.kz")
    changed = office.patch(
        f"/api/v1/plants/{elm}",
        json={"version": 1, "height_m": 9.0},
        headers={"X-CSRFToken": csrf_token(office)},
    )
    assert changed.status_code == 200
    phone.context.set_offline(False)
    phone.wait_for_selector("#outbox li[data-state=conflict] button.resolve")
    phone.click("#outbox li[data-state=conflict] button.resolve")
    row = phone.locator("#conflict-table tr[data-field=height_m]")
    assert row.locator("td").nth(1).inner_text() == "9"
    assert "7.5" in row.locator("td").nth(2).inner_text()
    phone.click("#conflict-mine")
    phone.wait_for_function("() => document.querySelector('#unsent-count').textContent === '0'")
    with unit_of_work(clean) as session:
        assert float(session.get(Plant, elm).height_m) == 7.5
    assert phone.errors == []


def test_a_photo_taken_offline_is_sent_after_its_plant(phone, field_site, clean, tmp_path) -> None:
    base, _, _ = field_site
    picture = tmp_path / "карагач.jpg"
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 140, 60)).save(out, "JPEG")
    picture.write_bytes(out.getvalue())
    offline_with_a_fix(phone, base)
    phone.set_input_files("#add-form input[name=photo]", str(picture))
    add_plant(phone, "2")
    phone.wait_for_function("() => document.querySelector('#unsent-count').textContent === '2'")
    phone.context.set_offline(False)
    phone.wait_for_function("() => document.querySelector('#unsent-count').textContent === '0'")
    with unit_of_work(clean) as session:
        photo = session.scalars(select(PlantPhoto)).one()
        added = session.scalars(select(FieldChange).where(FieldChange.kind == "add_plant")).one()
        assert (photo.plant_id, photo.width) == (added.plant_id, 640)
        assert session.scalar(select(func.count()).select_from(FieldPhoto)) == 1


def test_unsent_changes_export_to_a_file(phone, field_site) -> None:
    base, _, _ = field_site
    offline_with_a_fix(phone, base)
    add_plant(phone, "3.5")
    with phone.expect_download() as download:
        phone.click("#export")
    saved = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    (change,) = saved["changes"]
    assert change["kind"] == "add_plant" and change["payload"]["height_m"] == 3.5
    assert change["uuid"] and change["gps_accuracy_m"] == 4
    assert unsent(phone) == 1  # exporting is no sending


def test_a_poor_gps_fix_is_dropped_with_a_message(browser, field_site) -> None:
    base, _, _ = field_site
    context = browser.new_context(
        viewport=PHONE,
        locale="ru-RU",
        geolocation={**HERE, "accuracy": 60},
        permissions=["geolocation"],
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15",
    )
    page = context.new_page()
    sign_in(page, base, "les@test.jasyl.kz")
    open_field(page, base)
    assert page.locator("#iphone-advice").is_visible()  # Safari: add it to the Home Screen
    page.click("#locate")
    page.wait_for_function("() => document.querySelector('#gps-message').textContent.length > 0")
    assert "60" in page.inner_text("#gps-message") and page.inner_text("#position") == ""
    page.select_option("#add-species", label="вяз приземистый")
    page.click("#add-save")
    assert "Положение ещё не определено" in page.inner_text("#gps-message")
    assert unsent(page) == 0
    context.close()


INJECT = """([uuid, number, lon, lat]) => JasylField.db.then((db) => db.put('outbox', {
    uuid, seq: 1, kind: 'add_plant', plant_key: 'new:' + uuid, label: number, state: 'queued',
    recorded_at: new Date().toISOString(), base_version: null, after: null,
    payload: {species: 'Ulmus pumila', inventory_number: number, lon, lat}}))"""


def test_a_change_the_server_refuses_is_shown_refused_not_as_a_conflict(
    phone, field_site, clean
) -> None:
    """A duplicate inventory number is a 409 too, but no one else's edit: nothing to choose
    between, so it is refused with the server's reason (it stays unsent, for export)."""
    base, _, _ = field_site
    sign_in(phone, base, "les@test.jasyl.kz")
    open_field(phone, base)
    phone.evaluate(INJECT, [str(uuid.uuid4()), "71-FIELD-ELM", ASTANA[0] + 0.001, ASTANA[1]])
    phone.click("#send-now")
    refused = phone.locator("#outbox li[data-state=refused]")
    refused.wait_for()
    assert "71-FIELD-ELM" in refused.inner_text() and "already used" in refused.inner_text()
    assert phone.locator("#outbox button.resolve").count() == 0
    assert unsent(phone) == 1 and counts(clean) == (1, 0, 0)


def test_changes_wait_for_the_forester_who_recorded_them(phone, field_site, clean) -> None:
    """A phone shared by two foresters: what one recorded is never sent under the other's
    sign-in (the audit would name the wrong person); it waits, and goes when its author is back."""
    base, _, _ = field_site
    new_user(clean, "les2@test.jasyl.kz", "forester", "KZ-71")
    offline_with_a_fix(phone, base)
    add_plant(phone, "2")
    phone.context.clear_cookies()  # the session ended (60 minutes idle) while offline
    phone.context.set_offline(False)
    phone.wait_for_function(
        "() => document.querySelector('#sync-message').textContent.startsWith('Войдите')"
    )
    assert unsent(phone) == 1
    sign_in(phone, base, "les2@test.jasyl.kz")
    open_field(phone, base)
    assert "les@test.jasyl.kz" in phone.inner_text("#sync-message")
    assert unsent(phone) == 1 and counts(clean) == (1, 0, 0)
    phone.click("#sign-out")
    sign_in(phone, base, "les@test.jasyl.kz")
    open_field(phone, base)
    assert unsent(phone) == 0
    with unit_of_work(clean) as session:
        sent = session.scalars(select(FieldChange)).one()
        author = session.scalar(select(User.id).where(User.email == "les@test.jasyl.kz"))
    assert sent.user_id == author


def test_offline_the_page_speaks_kazakh_from_its_cache(browser, field_site) -> None:
    base, _, _ = field_site
    context = browser.new_context(viewport=PHONE, locale="kk-KZ", service_workers="allow")
    page = context.new_page()
    sign_in(page, base, "les@test.jasyl.kz")
    open_field(page, base)
    installed(page)
    page.click("header button[data-lang=kk]")  # the switcher saves the forester's choice
    page.wait_for_selector("#field[data-ready=true]")
    assert page.inner_text("#send-now") == "Қазір жіберу"
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("#field[data-ready=true]")
    assert page.inner_text("#connection") == "Желі жоқ: өзгерістер осы телефонда күтеді"
    assert "Далалық режим" in page.title()
    assert page.locator("#add-species option").first.inner_text() != ""
    context.close()


def test_the_server_stopped_mid_sync_and_started_again(phone, clean, tmp_path) -> None:
    """The server goes away after the first of three changes; started again on the same
    address, "Send now" sends the other two, and nothing twice."""
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    app = create_app({"UPLOADS_DIR": tmp_path / "uploads"})
    servers = [make_server("127.0.0.1", 0, app, threaded=True)]
    port = servers[0].server_port
    threading.Thread(target=servers[0].serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    offline_with_a_fix(phone, base)
    for height in ("1.5", "2", "2.5"):
        add_plant(phone, height)
    tried = []

    def stop_before_second(route) -> None:
        tried.append(route.request.post_data_json["uuid"])
        if len(tried) == 2:  # the server stops: this and later requests find nobody there
            servers[0].shutdown()
            servers[0].server_close()
        route.continue_()

    phone.context.route("**/api/v1/field/changes", stop_before_second)
    phone.context.set_offline(False)
    phone.wait_for_function(
        "() => document.querySelector('#sync-message').textContent.startsWith('Сервер не ответил')"
    )
    assert unsent(phone) == 2 and counts(clean) == (1, 0, 1)
    phone.context.unroute("**/api/v1/field/changes")
    servers[0] = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=servers[0].serve_forever, daemon=True).start()
    try:
        phone.click("#send-now")
        phone.wait_for_function("() => document.querySelector('#unsent-count').textContent === '0'")
        assert counts(clean) == (3, 0, 3)
    finally:
        servers[0].shutdown()


def test_changes_waiting_for_days_are_warned_about(phone, field_site) -> None:
    """Safari may clear a site's storage after 7 days unused: after 3, the page says so."""
    base, _, _ = field_site
    sign_in(phone, base, "les@test.jasyl.kz")
    open_field(phone, base)
    phone.context.set_offline(True)
    assert phone.locator("#old-unsent").is_hidden()
    phone.evaluate(INJECT, [str(uuid.uuid4()), "71-OLD-1", ASTANA[0], ASTANA[1]])
    phone.evaluate(
        "() => JasylField.db.then(async (db) => { const all = await db.getAll('outbox');"
        " all[0].recorded_at = new Date(Date.now() - 5 * 86400000).toISOString();"
        " await db.put('outbox', all[0]); }).then(() => JasylField.render())"
    )
    assert phone.locator("#old-unsent").is_visible()
    assert "3" in phone.inner_text("#old-unsent")


def new_plant_keys(page) -> list[str]:
    return page.evaluate(
        "JasylField.db.then((db) => db.getAllKeys('plants'))"
        ".then((keys) => keys.filter((k) => k.startsWith('new:')))"
    )


def open_plant(page, key: str) -> None:
    page.click(f"#plants li[data-key='{key}'] button")
    page.wait_for_selector("#plant-dialog[open]")


def test_a_plant_added_offline_is_edited_or_removed_before_it_is_sent(
    phone, field_site, clean
) -> None:
    base, _, _ = field_site
    offline_with_a_fix(phone, base)
    add_plant(phone, "2.5")
    [kept] = new_plant_keys(phone)
    open_plant(phone, kept)
    assert phone.input_value("#edit-form input[name=height_m]") == "2.5"
    phone.fill("#edit-form input[name=height_m]", "3.7")
    phone.fill("#edit-form input[name=notes]", "leaning north")
    phone.click("#edit-save")
    add_plant(phone, "9")
    phone.wait_for_function("() => document.querySelectorAll('#outbox li').length === 2")
    [dropped] = [k for k in new_plant_keys(phone) if k != kept]
    open_plant(phone, dropped)
    phone.click("#drop-unsent")
    phone.wait_for_function("() => document.querySelector('#unsent-count').textContent === '1'")
    assert new_plant_keys(phone) == [kept]
    assert phone.locator("#outbox li").count() == 1

    phone.context.set_offline(False)
    phone.wait_for_function("() => document.querySelector('#unsent-count').textContent === '0'")
    with unit_of_work(clean) as session:
        added = session.scalars(select(Plant).where(Plant.inventory_number != "71-FIELD-ELM"))
        assert [(float(p.height_m), p.notes) for p in added] == [(3.7, "leaning north")]
        assert session.scalar(select(func.count()).select_from(FieldChange)) == 1
    assert phone.errors == []
