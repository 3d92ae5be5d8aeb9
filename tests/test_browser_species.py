"""The upload page in headless Chromium: a dry run lists the species to confirm and downloads
the mapping with the proposals; uploaded again once confirmed, the survey imports (issue #17)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.test_browser_web import sign_in
from tests.test_species_upload import SURVEY, stored
from tests.web_client import new_user

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, clean, live_server):
    new_user(clean, "les@test.jasyl.kz", "forester", "KZ-71")
    context = browser.new_context(accept_downloads=True, locale="ru-RU")
    page = context.new_page()
    sign_in(page, live_server, "les@test.jasyl.kz")
    page.goto(live_server + "/imports/upload")
    yield page
    context.close()


def test_confirming_a_species_through_the_upload_page(page, tmp_path: Path) -> None:
    survey = tmp_path / "опись.csv"
    survey.write_bytes(SURVEY)
    page.set_input_files("#f-survey", str(survey))
    page.check("input[name=dry_run]")
    page.click("#upload")
    proposals = page.locator("#species-proposals")
    expect(proposals).to_contain_text("Acer saccharum")
    expect(proposals).to_contain_text("Acer saccharinum (acer_saccharinum)")

    with page.expect_download() as caught:
        page.click("#proposed-mapping-link")
    mapping = tmp_path / "mapping.toml"
    caught.value.save_as(mapping)
    text = mapping.read_text(encoding="utf-8")
    assert '# "Acer saccharum" = "acer_saccharinum"' in text
    mapping.write_text(text.replace('# "Acer saccharum"', '"Acer saccharum"'), encoding="utf-8")

    page.set_input_files("#f-survey", str(survey))
    page.set_input_files("#f-mapping", str(mapping))
    page.uncheck("input[name=dry_run]")
    page.click("#upload")
    expect(page.locator("#import-report")).to_have_attribute("data-status", "done")
    assert stored() == {"S-1": ("ulmus_pumila", 1), "S-2": ("acer_saccharinum", 4)}
