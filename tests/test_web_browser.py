"""The people's pages in real headless Chromium: a person finds their ward by postcode, subscribes, confirms,
and gets the next alert; every page passes axe-core (no serious or critical violations) and fits a phone.

Screenshots are saved for a person to look at: in $LBM_TEST_ARTIFACTS/web/ when set, else in a temporary folder
(never in the repository).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from db.store import init_public
from tests.browser import Browser
from tests.web_flow import link_in, mails_to, run_cli
from tests.web_server import web_server

SOUTH_MOLTON = "E05003557"      # where EX36 4AT is (the recorded postcodes.io answer)
EMAIL = "browser@example.org"


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("LBM_TEST_ARTIFACTS") or tmp_path_factory.mktemp("artefacts")) / "web"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory, template_db):
    with web_server(tmp_path_factory.mktemp("browser"), template_db, web_requests_per_minute=1000) as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    with Browser() as b:
        yield b


def _h1(browser) -> str:
    return browser.js("document.querySelector('h1').textContent.replace(/\\s+/g, ' ').trim()")


def test_find_subscribe_confirm_and_get_the_next_alert(site, browser, artefacts):
    browser.goto(site["url"] + "/wards")
    browser.fill("#q", "EX36 4AT")
    browser.click("form[role=search] button")
    browser.wait_for("document.querySelector('main li a')")
    browser.screenshot(artefacts / "search.png")
    browser.click(f"a[href='/wards/{SOUTH_MOLTON}']")
    browser.wait_for("document.querySelector('h1').textContent.includes('South Molton')")
    browser.click("main a[href^='/subscribe?ward=']")
    browser.wait_for("document.querySelector('#email')")
    assert browser.js("document.querySelector('#ward1').value") == SOUTH_MOLTON
    browser.fill("#email", EMAIL)
    browser.click("form[action='/subscribe'] button")
    browser.wait_for("document.querySelector('h1').textContent === 'Check your email'")
    [confirmation] = mails_to(site["maildir"], EMAIL)
    browser.goto(link_in(confirmation, "/confirm"))
    browser.click("form[action='/confirm'] button")
    browser.wait_for("document.querySelector('h1').textContent === 'Subscribed'")
    assert f"{EMAIL}  [active]  1 ward(s): {SOUTH_MOLTON}" in run_cli(site, "subscriptions")
    # The next crawl closes a pub in South Molton: the alert reaches the new subscriber.
    db = init_public(site["db_path"])
    db["crawl_runs"].insert({"id": 40, "source": "fhrs_pubs", "scope": "fhrs_pubs", "status": "ok", "items": 1})
    db["events"].insert({"kind": "closed", "source": "fhrs_pubs", "record_id": "fhrs_pubs:sm1", "ref": "sm1",
                         "name": "The Molton Arms", "ward_code": SOUTH_MOLTON, "at": "2024-06-01T06:00:00+00:00",
                         "crawl_id": 40, "evidence": "{}", "baseline": 0})
    db.close()
    run_cli(site, "alerts", "--crawl", "40")
    alerts = [m for m in mails_to(site["maildir"], EMAIL) if not m["Subject"].startswith("Confirm")]
    assert len(alerts) == 1 and "The Molton Arms" in alerts[0].get_body(("plain",)).get_content()


PAGES = {
    "root": "/",
    "search": "/wards?q=Headland",
    "ward": "/wards/E05000028",
    "ward_quiet": "/wards/E05008947",
    "not_found": "/wards/E05999999",
    "subscribe": "/subscribe?ward=E05000028",
    "confirm_invalid": "/confirm?token=nope",
    "unsubscribe_invalid": "/unsubscribe?token=nope",
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_passes_axe_and_fits_a_phone(site, browser, name, artefacts):
    browser.phone()
    browser.goto(site["url"] + PAGES[name])
    assert browser.axe() == []
    # Nothing wider than the phone but the tables, which scroll inside their own box.
    assert browser.js("document.documentElement.scrollWidth <= window.innerWidth + 1")
    browser.screenshot(artefacts / f"phone_{name}.png")

