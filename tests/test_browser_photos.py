"""Plant photos in a real headless Chromium: a forester adds one from the plant card, and the
card shows it to the public (the plant is published)."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from registry.db import unit_of_work
from tests import test_browser_web
from tests.factories import ASTANA, make_plant
from tests.test_browser_web import card_at_rest, point, sign_in
from tests.web_client import new_user, serve
from web import create_app

pytestmark = pytest.mark.browser
page = test_browser_web.page  # the same browser page fixture


@pytest.fixture
def photo_site(clean, tmp_path):
    """The app with uploads in the test's own folder, one published elm and its forester."""
    with unit_of_work(clean) as session:
        elm = make_plant(session, inventory_number="71-PHOTO-1", geom=point(ASTANA)).id
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    app = create_app({"UPLOADS_DIR": tmp_path / "uploads"})
    for base in serve(app):
        yield base, elm, tmp_path


def card_photo_width(page) -> int:
    """The natural width of the card's first photo once the browser has decoded it."""
    photo = page.locator(".leaflet-popup-content .card img.plant-photo").first
    photo.wait_for()
    page.wait_for_function(
        "() => { const i = document.querySelector('.leaflet-popup-content img.plant-photo');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    return photo.evaluate("img => img.naturalWidth")


def test_a_forester_adds_a_photo_on_the_card_and_the_public_sees_it(
    browser, page, photo_site
) -> None:
    base, elm, folder = photo_site
    picture = folder / "берёза.jpg"
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 120, 50)).save(out, "JPEG")
    picture.write_bytes(out.getvalue())

    sign_in(page, base, "les@test.jasyl.kz")
    page.goto(f"{base}/?plant={elm}", wait_until="networkidle")
    form = page.locator(".leaflet-popup-content form.photo-upload")
    form.wait_for()
    assert page.locator(".leaflet-popup-content img.plant-photo").count() == 0
    form.locator("input[type=file]").set_input_files(str(picture))
    card_at_rest(page)
    # The upload redirects to this very card, whose map then writes its view into the URL's
    # fragment: so the new page is awaited by its load, not by a URL it may already have left.
    with page.expect_event("load"):
        form.locator("button[type=submit]").click()
    assert re.search(rf"/\?plant={elm}(#|$)", page.url), page.url
    assert card_photo_width(page) == 320  # the thumbnail, not the 800-pixel original
    assert page.errors == []

    public = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU")
    visitor = public.new_page()
    visitor.goto(f"{base}/?plant={elm}", wait_until="networkidle")
    assert card_photo_width(visitor) == 320
    assert visitor.locator(".leaflet-popup-content form.photo-upload").count() == 0
    public.close()
