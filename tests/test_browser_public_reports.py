"""Issue #21 in a real headless Chromium: a resident reports a tree with a photo from the
public map, the region's forester accepts it into an inspection and publishes it, and the
resident's status page follows; an empty spot of the map offers to report the place."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from registry.db import unit_of_work
from registry.inventory.models import Inspection
from tests import test_browser_web
from tests.factories import ASTANA, make_plant
from tests.test_browser_web import click_at, point, sign_in
from tests.web_client import new_user, serve
from web import create_app

pytestmark = pytest.mark.browser
page = test_browser_web.page  # the same browser page fixture


@pytest.fixture
def report_site(clean, tmp_path):
    """The app with uploads in the test's own folder, one published elm and Astana's forester."""
    with unit_of_work(clean) as session:
        elm = make_plant(session, inventory_number="71-REPORT-1", geom=point(ASTANA)).id
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    app = create_app({"UPLOADS_DIR": tmp_path / "uploads"})
    for base in serve(app):
        yield base, elm, tmp_path


def a_photo(folder) -> str:
    picture = folder / "сломанная ветка.jpg"
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (90, 60, 30)).save(out, "JPEG")
    picture.write_bytes(out.getvalue())
    return str(picture)


def test_a_resident_reports_a_tree_a_forester_accepts_it_and_the_status_follows(
    browser, page, report_site, clean
) -> None:
    base, elm, folder = report_site
    page.goto(f"{base}/?plant={elm}", wait_until="networkidle")
    page.locator(".leaflet-popup-content a.report-tree").click()
    page.wait_for_url(re.compile(r"/report\?plant="))
    assert "71-REPORT-1" in page.locator("#report-about").inner_text()
    page.select_option("#report-kind", "hazard")
    page.fill("#report-description", "Ветка висит над тротуаром")
    page.fill("#report-contact", "+7 701 555 00 00")
    page.set_input_files("#report-photos", a_photo(folder))
    page.click("#report-send")
    page.wait_for_url(re.compile(r"/report/[2-9A-Z]{4}-[2-9A-Z]{4}\?sent=1$"))
    number = page.locator("#report-number").inner_text()
    assert page.locator("#report-status").get_attribute("data-status") == "received"
    assert "+7 701" not in page.content()
    status_url = page.url.split("?")[0]

    staff = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU")
    forester = staff.new_page()
    sign_in(forester, base, "les@test.jasyl.kz")
    forester.click("#reports-queue")
    forester.wait_for_selector("#queue-map .leaflet-interactive")  # the report on the map
    forester.click(f"#queue a:text('{number}')")
    forester.wait_for_function(
        "() => { const i = document.querySelector('img.report-photo');"
        " return i && i.complete && i.naturalWidth === 800; }"
    )
    assert "+7 701 555 00 00" in forester.content()  # the staff see the contact
    form = forester.locator("#accept-inspection")
    form.locator("select[name=condition]").select_option("4")
    form.locator("input[name=hazardous]").check()
    form.locator("button[type=submit]").click()
    forester.wait_for_selector("#report-status[data-status=accepted]")
    forester.locator("#publish button").click()
    forester.wait_for_selector("#report-inspection")
    assert forester.locator("#report-published").inner_text() == "да"
    staff.close()
    with unit_of_work(clean) as session:
        inspection = session.scalars(select(Inspection).where(Inspection.plant_id == elm)).one()
        assert (inspection.condition, inspection.hazardous) == (4, True)

    page.goto(status_url)
    assert page.locator("#report-status").get_attribute("data-status") == "accepted"
    assert "Опасное дерево".lower() in page.locator("#report-kind").inner_text().lower()
    assert page.errors == []


def test_an_empty_spot_of_the_map_offers_to_report_the_place(page, report_site) -> None:
    base, _, _ = report_site
    page.goto(base + "/", wait_until="networkidle")
    lon, lat = ASTANA[0] + 0.01, ASTANA[1] + 0.01
    click_at(page, lon, lat)
    link = page.locator(".leaflet-popup-content a.report-place")
    link.click()
    page.wait_for_url(re.compile(r"/report\?lat="))
    kinds = page.locator("#report-kind option").all_inner_texts()
    assert len(kinds) == 7  # a place may be reported as any kind, trees' too
    page.select_option("#report-kind", "plant_request")
    page.click("#report-send")
    page.wait_for_url(re.compile(r"/report/[2-9A-Z]{4}-[2-9A-Z]{4}\?sent=1$"))
    assert page.errors == []
