"""The people's pages over HTTP (curl-style): ward search and pages, feeds, the private database kept out of reach.

The site is `run.py serve` over the sample public database of tests/test_serve.py (Becontree, E05000028, has
one open pub, one closed pub, a closed library, a group, three grants and four events), with postcodes.io
replayed locally.
"""
from __future__ import annotations

import re
import urllib.parse
from xml.etree import ElementTree as ET

import httpx
import pytest
from bs4 import BeautifulSoup

from spiders import registry
from tests.web_server import web_server

ATOM = "{http://www.w3.org/2005/Atom}"
BECONTREE = "E05000028"


@pytest.fixture(scope="module")
def site(tmp_path_factory, template_db):
    with web_server(tmp_path_factory.mktemp("web"), template_db) as served:
        yield served


@pytest.fixture
def client(site):
    with httpx.Client(base_url=site["url"], timeout=30) as c:
        yield c


def text(html: str) -> str:
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def test_the_ward_page_of_headland_and_harbour(client):
    page = client.get("/wards/E05008947")
    assert page.status_code == 200
    words = text(page.text)
    assert "Headland and Harbour" in words and "Hartlepool" in words and "left behind" in words


@pytest.mark.parametrize("query, code, name", [
    ("EX36 4AT", "E05003557", "South Molton"),            # postcode, via the (replayed) postcodes.io
    ("ex364at", "E05003557", "South Molton"),             # same postcode, typed carelessly
    ("HEADLAND & harbour", "E05008947", "Headland and Harbour"),   # case and punctuation do not matter
    ("headland-and-harbour!", "E05008947", "Headland and Harbour"),
    ("Londonthorpe", "E05010171", None),                  # a place, not a ward name: postcodes.io places
])
def test_search_finds_the_ward(client, query, code, name):
    page = client.get("/wards", params={"q": query})
    assert page.status_code == 200
    links = [a["href"] for a in BeautifulSoup(page.text, "html.parser").select("main li a")]
    assert f"/wards/{code}" in links
    if name:
        assert name in text(page.text)


def test_search_for_nothing_known_says_so(client):
    page = client.get("/wards", params={"q": "Xyzzyville Quux"})
    assert page.status_code == 200 and "No ward in England found" in text(page.text)


def test_unknown_ward_is_404_with_a_search_box(client):
    for code in ("E05999999", "nonsense", "E05008947x"):
        page = client.get(f"/wards/{code}")
        assert page.status_code == 404
        assert BeautifulSoup(page.text, "html.parser").select_one("form[action='/wards'] input[name=q]")


def test_ward_page_shows_figures_groups_events_and_records_linked_to_their_rows(client, site):
    page = client.get(f"/wards/{BECONTREE}")
    soup = BeautifulSoup(page.text, "html.parser")
    words = text(page.text)
    # The latest pubs_per_100k of each area group in the sample: 4.2, 7.7 and 10.5.
    row = next(tr for tr in soup.select("tbody tr") if tr.th and tr.th.get_text(strip=True) == "Open pubs and bars")
    cells = [td.get_text(" ", strip=True) for td in row.select("td")][1:]
    assert [c.split()[0] for c in cells] == ["4.2", "7.7", "10.5"]
    assert all("–" in c for c in cells)                    # each with its 95% interval
    mine = row.select("td")[0].get_text(" ", strip=True)
    assert mine.split()[1] == "(1)"                         # one open pub: The Royal Oak
    assert mine.endswith("too few to say: 1 pub or bar (fewer than 20)")
    assert "interval" in words                         # the page says what the ranges are
    for name in ("The Royal Oak", "The Old Crown", "Becontree Library", "Becontree Mutual Aid", "Food bank",
                 "Long Gone Inn"):
        assert name in words
    assert soup.select_one("svg[role=img] title").get_text() == "Events in this ward per year"
    # Sources as people know them, each declared by its spider (label), never the internal name alone.
    sources = [a.get_text() for a in soup.select("#sources + div table a[href*='crawl_runs']")]
    assert sources and set(sources) <= {s.label for s in registry.sources().values()}
    assert "Pubs (FSA register)" in sources
    assert "(Pubs (FSA register))" in words and "(fhrs_pubs)" not in words
    hrefs = [a["href"] for a in soup.select("main a[href^='/leftbehind/']")]
    expected = {"/leftbehind/pubs/fhrs_pubs~3Ap1", "/leftbehind/pubs/fhrs_pubs~3Ap2",
                "/leftbehind/libraries/libraries~3Al1", "/leftbehind/groups/mutual_aid~3Ag1",
                "/leftbehind/grants/threesixty_giving~3At1", "/leftbehind/grants/threesixty_giving~3At2"}
    assert expected <= set(hrefs)
    for href in expected | {h for h in hrefs if "/events/" in h}:
        row_page = client.get(href)
        assert row_page.status_code == 200, href


def _feed(client, path: str) -> ET.Element:
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{tag}").text
    return root


@pytest.mark.parametrize("path", [f"/wards/{BECONTREE}.atom", "/left-behind.atom"])
def test_feeds_are_atom_with_the_events_newest_first(client, path):
    entries = _feed(client, path).findall(f"{ATOM}entry")
    # The sample's four events are all in Becontree, a left-behind ward; the Long Gone Inn's is the old one. The
    # library's closure is the libraries' first crawl (baseline): listed when monitoring began, not news.
    assert len(entries) == 3
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert titles[-1] == "Closed: Long Gone Inn (Becontree)"
    assert not any("Becontree Library" in t for t in titles)
    assert {"Closed: The Old Crown (Becontree)", "New: Becontree Mutual Aid (Becontree)"} <= set(titles)
    updated = [e.find(f"{ATOM}updated").text for e in entries]
    assert updated == sorted(updated, reverse=True)
    assert len({e.find(f"{ATOM}id").text for e in entries}) == 3
    for e in entries:
        assert e.find(f"{ATOM}link").get("href").startswith("http://127.0.0.1:")


def test_a_quiet_ward_has_a_feed_without_entries_as_new_as_its_data(client):
    feed = _feed(client, "/wards/E05008947.atom")
    assert feed.findall(f"{ATOM}entry") == []
    as_of = re.search(r"Data as of (\d{4}-\d{2}-\d{2})", client.get("/wards/E05008947").text).group(1)
    assert feed.find(f"{ATOM}updated").text.startswith(as_of)


def test_private_database_and_its_path_are_unreachable(client, site):
    private = str(site["private_path"])
    assert client.get("/private").status_code == 404
    assert client.get("/private.db").status_code == 404
    assert [d["name"] for d in client.get("/-/databases.json").json()] == ["leftbehind"]
    pages = ["/", "/wards", f"/wards/{BECONTREE}", "/subscribe", "/-/settings.json", "/-/metadata.json",
             "/-/plugins.json", "/-/versions.json", "/confirm?token=x", "/manage?token=x", "/unsubscribe?token=x",
             "/wards/E05999999", "/left-behind.atom", "/leftbehind/subscriptions"]
    for path in pages:
        body = client.get(path).text
        assert private not in body and "private.db" not in body, path
    assert client.post("/subscribe", data={"email": "a@example.org"}).text.find(private) == -1


def test_post_without_csrf_token_is_refused_and_changes_nothing(client, site):
    import sqlite3
    form = {"email": "nocsrf@example.org", "ward": BECONTREE}
    assert client.post("/subscribe", data=form).status_code == 403          # no cookie, no token
    client.get("/subscribe")                                                 # now holds the CSRF cookie
    assert client.post("/subscribe", data=form).status_code == 403          # cookie but no token
    assert client.post("/subscribe", data={**form, "csrftoken": "forged"}).status_code == 403
    with sqlite3.connect(site["private_path"]) as conn:
        assert conn.execute("select count(*) from signups where email = 'nocsrf@example.org'").fetchone()[0] == 0


def test_datasette_stays_read_only(client):
    assert client.post("/leftbehind/pubs", data={"x": "1"}).status_code == 405
    assert client.post("/leftbehind/-/query", data={"sql": "select 1"}).status_code == 405


def test_subscribe_form_prefills_the_ward_from_its_page(client):
    page = client.get("/subscribe?" + urllib.parse.urlencode({"ward": BECONTREE}))
    assert BeautifulSoup(page.text, "html.parser").select_one("input#ward1")["value"] == BECONTREE


def test_pages_carry_no_script(client):
    # Everything works without JavaScript: the chart is SVG drawn by the server, the forms are plain forms.
    for path in ("/wards?q=Headland", f"/wards/{BECONTREE}", "/subscribe", "/wards/E05999999"):
        soup = BeautifulSoup(client.get(path).text, "html.parser")
        assert soup.select("script") == [] and soup.select("main a, main form")
