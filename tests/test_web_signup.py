"""Double opt-in over HTTP: subscribe, the confirmation in the Maildir, confirm, manage, unsubscribe; and abuse.

A separate site with tight limits (6 requests an hour per client, 2 confirmation emails a day per address,
2 KB bodies) checks the limits; the answers must never tell whether an address is subscribed.
"""
from __future__ import annotations

import sqlite3

import httpx
import pytest
from bs4 import BeautifulSoup

from tests.web_flow import csrf_of, link_in, mails_to, run_cli
from tests.web_server import web_server

BECONTREE = "E05000028"


@pytest.fixture(scope="module")
def site(tmp_path_factory, template_db):
    with web_server(tmp_path_factory.mktemp("signup"), template_db, web_requests_per_minute=1000) as served:
        yield served


def _subscribe(client, email, *wards, kinds=()):
    form = csrf_of(client.get("/subscribe").text)
    return client.post("/subscribe", data={"csrftoken": form, "email": email, "ward": list(wards),
                                           "kinds": list(kinds)})


def _active(site, email):
    with sqlite3.connect(site["private_path"]) as conn:
        row = conn.execute("select active, wards, kinds from subscriptions where email = ?", [email]).fetchone()
    return row


def test_double_opt_in_then_the_next_alert_arrives(site):
    with httpx.Client(base_url=site["url"], timeout=60) as client:
        answer = _subscribe(client, "resident@example.org", "Becontree", kinds=["pub", "library"])
        assert answer.status_code == 200 and "Check your email" in answer.text
        assert _active(site, "resident@example.org") is None            # nothing until confirmed
        [confirmation] = mails_to(site["maildir"], "resident@example.org")
        link = link_in(confirmation, "/confirm")
        assert len(link.rsplit("=", 1)[1]) >= 43                          # 256-bit token (>= 128 required)
        page = client.get(link)
        assert page.status_code == 200 and "<button" in page.text
        assert _active(site, "resident@example.org") is None            # a link scanner confirms nothing
        token = link.rsplit("=", 1)[1]
        done = client.post("/confirm", data={"csrftoken": csrf_of(page.text), "token": token})
        assert done.status_code == 200 and "Your alerts are on" in done.text
        assert _active(site, "resident@example.org") == (1, f'["{BECONTREE}"]', '["library", "pub"]')
        # Used once: the same link does nothing the second time.
        assert client.post("/confirm", data={"csrftoken": csrf_of(page.text), "token": token}).status_code == 404
    listed = run_cli(site, "subscriptions")
    assert f"resident@example.org  [active]  1 ward(s): {BECONTREE}; kinds: library, pub" in listed
    # The sample's crawl 2 closed The Old Crown in Becontree: its alert reaches the new subscriber.
    run_cli(site, "alerts", "--crawl", "2")
    alerts = [m for m in mails_to(site["maildir"], "resident@example.org") if "Confirm" not in m["Subject"]]
    assert len(alerts) == 1 and "The Old Crown" in alerts[0].get_body(("plain",)).get_content()


def test_manage_changes_wards_and_one_click_unsubscribe(site):
    with httpx.Client(base_url=site["url"], timeout=60) as client:
        _subscribe(client, "mover@example.org", BECONTREE)
        link = link_in(mails_to(site["maildir"], "mover@example.org")[-1], "/confirm")
        page = client.get(link)
        done = client.post("/confirm", data={"csrftoken": csrf_of(page.text), "token": link.rsplit("=", 1)[1]})
        manage = BeautifulSoup(done.text, "html.parser").select_one("a[href^='/manage']")["href"]
        form = client.get(manage)
        saved = client.post("/manage", data={"csrftoken": csrf_of(form.text), "token": manage.split("=", 1)[1],
                                             "ward": ["", "Headland and Harbour"], "kinds": ["group"]})
        assert saved.status_code == 200 and "Saved" in saved.text
        assert _active(site, "mover@example.org") == (1, '["E05008947"]', '["group"]')
    token = manage.split("=", 1)[1]
    # A mail client's RFC 8058 one-click POST: no cookie, no CSRF token, only the token in the URL.
    assert httpx.get(f"{site['url']}/unsubscribe", params={"token": token}).status_code == 200
    assert _active(site, "mover@example.org")[0] == 1                   # GET only asks
    left = httpx.post(f"{site['url']}/unsubscribe", params={"token": token},
                      content=b"List-Unsubscribe=One-Click",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert left.status_code == 200 and "no more mail" in left.text
    assert _active(site, "mover@example.org")[0] == 0


def test_tokens_that_are_not_exactly_right_do_nothing(site):
    with httpx.Client(base_url=site["url"], timeout=60) as client:
        csrf = csrf_of(client.get("/subscribe").text)
        for token in ("", "x", "resident@example.org", "A" * 43, "' or 1=1 --"):
            assert client.get("/confirm", params={"token": token}).status_code == 404
            assert client.post("/confirm", data={"csrftoken": csrf, "token": token}).status_code == 404
            assert client.get("/manage", params={"token": token}).status_code == 404
            assert client.post("/unsubscribe", params={"token": token}).status_code == 404


def test_bad_input_is_explained_and_nothing_sent(site):
    with httpx.Client(base_url=site["url"], timeout=60) as client:
        bad = _subscribe(client, "not an address", "Nowhere-on-Earth-123")
        assert bad.status_code == 400
        assert "does not look like an email address" in bad.text and "No ward found" in bad.text
        assert mails_to(site["maildir"], "not an address") == []


@pytest.fixture(scope="module")
def strict(tmp_path_factory, template_db):
    with web_server(tmp_path_factory.mktemp("strict"), template_db, web_requests_per_minute=6,
                    web_rate_window_seconds=3600,  # an hour, so a slow machine cannot let hits expire mid-test
                    web_confirmations_per_day=2, web_max_body_bytes=2048) as served:
        yield served


def test_same_answer_whether_subscribed_or_not_and_daily_cap(strict):
    run_cli(strict, "subscribe", "known@example.org", "--ward", BECONTREE)
    with httpx.Client(base_url=strict["url"], timeout=60) as client:
        known = _subscribe(client, "known@example.org", BECONTREE)
        unknown = _subscribe(client, "stranger@example.org", BECONTREE)
        assert known.status_code == unknown.status_code == 200
        assert _strip_csrf(known.text) == _strip_csrf(unknown.text)
        again = _subscribe(client, "stranger@example.org", BECONTREE)       # 2nd confirmation: allowed
        capped = _subscribe(client, "STRANGER@example.org", BECONTREE)      # 3rd in a day: dropped, silently
        assert _strip_csrf(again.text) == _strip_csrf(capped.text) == _strip_csrf(unknown.text)
        assert len(mails_to(strict["maildir"], "stranger@example.org")) == 2
        assert mails_to(strict["maildir"], "STRANGER@example.org") == []
        # Four POSTs counted so far (GETs of the form do not count): two searches fill the six, the next is refused.
        assert client.get("/wards", params={"q": "Headland"}).status_code == 200
        assert client.get("/wards", params={"q": "Headland"}).status_code == 200
        assert client.get("/wards", params={"q": "Headland"}).status_code == 429
        assert client.get("/confirm", params={"token": "x"}).status_code == 429
        assert client.get(f"/wards/{BECONTREE}").status_code == 200        # reading a ward page is not limited


def test_oversized_bodies_are_refused(strict):
    big = httpx.post(f"{strict['url']}/subscribe", content=b"email=" + b"a" * 5000,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413
    chunked = httpx.post(f"{strict['url']}/subscribe", content=iter([b"a" * 1500] * 3),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert chunked.status_code == 413


def _strip_csrf(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for field in soup.select("input[name=csrftoken]"):
        field.decompose()
    return str(soup)
