"""The pages under the Content-Security-Policy in a real headless Chromium (issue #18): folium's
inline map scripts and styles, the page scripts and the legends run with the response's nonce,
and the browser reports no violation and no error on any page with a map or a page script."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from registry.db import unit_of_work
from registry.demo.services import load_demo
from registry.nursery.demo import load_nursery_demo
from registry.nursery.models import Nursery
from tests.conftest import empty_inventory
from tests.web_client import PASSWORD, new_user

pytestmark = pytest.mark.browser
ADMIN = "admin@test.jasyl.kz"
# Every violation the page meets, as the browser reports it to the page itself.
WATCH_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation",
    e => window.cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline")));
"""


@pytest.fixture(scope="module")
def demo_site(database_url, live_server):
    with unit_of_work(database_url) as session:
        load_demo(session, scale=0.05)
        load_nursery_demo(session)
        nursery = session.scalars(select(Nursery.code).order_by(Nursery.code)).first()
    new_user(database_url, ADMIN, "admin")
    yield live_server, nursery
    empty_inventory(database_url)


def visit(page, url: str, problems: list[str]) -> None:
    page.goto(url, wait_until="networkidle")
    problems += [f"{url}: {v}" for v in page.evaluate("window.cspViolations")]


def watched_page(browser):
    """A page whose CSP violations, console errors and script errors are collected."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return context, page, problems


def test_the_map_loads_with_no_csp_violation(browser, demo_site) -> None:
    base, _ = demo_site
    context, page, problems = watched_page(browser)
    answer = page.goto(base + "/", wait_until="networkidle")
    assert "script-src 'self' 'nonce-" in answer.headers["content-security-policy"]
    problems += page.evaluate("window.cspViolations")
    assert page.locator(".leaflet-container").count() == 1
    assert page.evaluate("typeof Jasyl.map === 'object'"), "the page script ran"
    assert page.locator(".leaflet-control-layers").count() == 1, "folium's script ran"
    assert problems == []
    context.close()


def test_staff_pages_with_maps_and_scripts_run_under_the_policy(browser, demo_site) -> None:
    base, nursery = demo_site
    context, page, problems = watched_page(browser)
    visit(page, base + "/regions/KZ-71", problems)
    page.goto(base + "/login")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    for path in ("/", "/reports/dashboard", "/green_spaces/new", f"/nurseries/{nursery}"):
        visit(page, base + path, problems)
        assert page.locator(".leaflet-container").count() == 1, path
    # the charts' library and the page's drawing script ran under the policy too
    visit(page, base + f"/nurseries/{nursery}", problems)  # its stock chart
    assert page.evaluate("typeof Chart === 'function'")
    drawn = "[...document.querySelectorAll('canvas[data-chart]')].map(c => !!Chart.getChart(c))"
    assert page.evaluate(drawn) and all(page.evaluate(drawn))
    assert problems == []
    visit(page, base + "/ogc/", problems)  # its own style sheet (the browser asks for a favicon)
    assert [p for p in problems if "/ogc/" in p] == []
    context.close()
