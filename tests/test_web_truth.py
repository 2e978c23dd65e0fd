"""The people's pages never overstate (HTTP, against `run.py serve`): a first crawl's listings are not news, a ward's
own figure carries its interval and says "too few to say", an empty count is "no data", the data's date is the
crawls' own clock, and the site root is "Find a ward".

The site is the sample of tests/test_serve.py plus, in Headland and Harbour (E05008947, Hartlepool, 8,356 people),
one COVID grant of £220,000 (as the Westminster Foundation's 2020 file gives it) and two pubs listed by the
register's first crawl. The crawls ran today by the wall clock but their data is dated 2024 (their own clock).
"""
from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import httpx
import pytest
from bs4 import BeautifulSoup

from tests.test_serve import _record
from tests.web_server import web_server

ATOM = "{http://www.w3.org/2005/Atom}"
HEADLAND = "E05008947"
BECONTREE = "E05000028"
POPULATION = 8_356            # Headland and Harbour: ONS mid-2019 LSOA estimates over the best-fit lookup
Z95 = 1.959964                # the normal 97.5% point
EMPTY_WINDOW = "no social club closures recorded in the window (none ever recorded)"


def add_headland(db) -> None:
    """One COVID grant and two first-crawl pubs in Headland and Harbour; crawl clocks in 2024."""
    recent = db.execute("select max(computed_at) from indicators").fetchone()[0]
    for crawl_id, clock in ((1, "2024-01-01T06:00:00+00:00"), (2, "2024-02-12T06:00:00+00:00"),
                            (3, "2024-02-26T06:00:00+00:00")):        # 3: the libraries' crawl that failed
        db.execute("update crawl_runs set now = ? where id = ?", [clock, crawl_id])
    db["crawl_runs"].insert({"id": 4, "source": "threesixty_giving", "scope": "threesixty_giving",
                             "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                             "now": "2024-02-19T06:00:00+00:00", "status": "ok", "items": 4})
    db["scope_runs"].insert({"crawl_id": 4, "source": "threesixty_giving", "scope": "threesixty_giving",
                             "items": 4, "healthy": 1, "at": "2024-02-19T06:00:00+00:00"})
    db["grants"].insert(_record("threesixty_giving", "h1", "Covid 19 response Fund", HEADLAND, None, None,
                                amount=220_000.0, award_date="2020-04-06", funder_name="Westminster Foundation",
                                covid=1, currency="GBP"))
    db["events"].insert_all([
        {"kind": "new", "source": "fhrs_pubs", "record_id": f"fhrs_pubs:{ref}", "ref": ref, "name": name,
         "ward_code": HEADLAND, "at": "2024-01-01T06:00:00+00:00", "crawl_id": 1, "baseline": 1}
        for ref, name in (("h2", "The Ship Inn"), ("h3", "The Globe"))])
    # The published comparison (Local Trust, 2020): £21,182, £50,054 and £60,312 per 100,000 people.
    db["indicators"].insert_all([
        {"computed_at": recent, "indicator": "covid_grants_gbp_per_100k", "area_group": group, "value": value,
         "ci_low": low, "ci_high": high, "reliable": 1, "note": ""}
        for group, value, low, high in (("left_behind", 21_182.0, 15_000.0, 27_000.0),
                                        ("other_deprived", 50_054.0, 45_000.0, 55_000.0),
                                        ("england", 60_312.0, 59_000.0, 61_600.0))])
    # A window with nothing in it anywhere: no figure for any group, and the computation says why.
    db["indicators"].insert_all([
        {"computed_at": recent, "indicator": "social_club_closures_per_100k", "area_group": group, "value": None,
         "reliable": 0, "note": EMPTY_WINDOW} for group in ("left_behind", "other_deprived", "england")])


@pytest.fixture(scope="module")
def site(tmp_path_factory, template_db):
    with web_server(tmp_path_factory.mktemp("truth"), template_db, fill=add_headland) as served:
        yield served


@pytest.fixture
def client(site):
    with httpx.Client(base_url=site["url"], timeout=30) as c:
        yield c


def words(html: str) -> str:
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def figure_row(page, label: str) -> list[str]:
    soup = BeautifulSoup(page.text, "html.parser")
    row = next(tr for tr in soup.select("tbody tr") if tr.th and tr.th.get_text(strip=True) == label)
    return [td.get_text(" ", strip=True) for td in row.select("td")]


def test_one_grant_is_too_few_to_say_with_its_interval(client):
    page = client.get(f"/wards/{HEADLAND}")
    assert page.status_code == 200 and f"population {POPULATION:,}" in words(page.text)
    mine = figure_row(page, "COVID grants, £")[0]
    # £220,000 over 8,356 people; a total of one amount has the interval 220,000 ± 1.96 × 220,000, cut at 0.
    rate, high = 220_000 * 1e5 / POPULATION, 220_000 * (1 + Z95) * 1e5 / POPULATION
    assert f"£{rate:,.0f}" == "£2,632,839" and mine.startswith("£2,632,839 (£220,000)")
    assert f"£0–£{high:,.0f}" in mine
    assert "too few to say: 1 grant (fewer than 20)" in mine


def test_a_ward_with_nothing_to_count_says_no_data_never_zero(client):
    page = client.get(f"/wards/{HEADLAND}")
    # The sample's grants window (2021) holds no grant in Headland and Harbour, but one in Becontree.
    mine = figure_row(page, "Grants, £")[0]
    assert mine == "no data: no grants recorded in this ward"
    assert "£0" not in mine
    becontree = figure_row(client.get(f"/wards/{BECONTREE}"), "Grants, £")[0]
    assert becontree.startswith("£") and "(£2,500)" in becontree        # its Youth club grant of 2021


def test_an_empty_window_says_why_once_beside_its_no_data(client):
    cells = figure_row(client.get(f"/wards/{HEADLAND}"), "Social club closures")
    assert cells[1:] == ["no data", "no data", f"no data: {EMPTY_WINDOW}"]     # said once, under England


def test_first_crawl_listings_are_not_new(client, site):
    page = client.get(f"/wards/{HEADLAND}")
    text = words(page.text)
    assert "The Ship Inn" not in text and "The Globe" not in text     # only their first listing is known
    assert "2 records were listed when monitoring began" in text
    assert "No events recorded for this ward since monitoring began" in text
    feed = ET.fromstring(client.get(f"/wards/{HEADLAND}.atom").content)
    assert feed.findall(f"{ATOM}entry") == []
    for path in ("/left-behind.atom", f"/wards/{BECONTREE}.atom"):
        titles = [e.find(f"{ATOM}title").text for e in ET.fromstring(client.get(path).content).iter(f"{ATOM}entry")]
        assert titles and not any(t.startswith("New: The Ship Inn") or "Becontree Library" in t for t in titles)


def test_the_page_gives_the_datas_own_date_not_the_wall_clock(client):
    text = words(client.get(f"/wards/{HEADLAND}").text)
    # Healthy crawls' clocks: 2024-01-01 and 2024-02-12 (register), 2024-02-19 (grants); 2024-02-26 failed.
    assert "Data as of 2024-02-19" in text
    today = datetime.now(UTC).date().isoformat()
    assert today not in text


def test_the_root_is_find_a_ward_and_datasette_is_one_click_on(client, site):
    root = client.get("/")
    assert root.status_code == 200
    soup = BeautifulSoup(root.text, "html.parser")
    assert soup.h1.get_text(strip=True) == "Find your ward"
    assert soup.select_one("main form[action='/wards'] input[name=q]")
    datasette = soup.select_one("main a[href='/-/data']")
    assert datasette and "browse all the data" in datasette.get_text()
    index = client.get("/-/data")
    assert index.status_code == 200
    links = {a["href"] for a in BeautifulSoup(index.text, "html.parser").select("a[href]")}
    assert f"/{site['db']}" in links and f"/{site['db']}/ward_profile" in links
    assert client.get("/.json").json()["leftbehind"]["name"] == "leftbehind"     # Datasette's index as JSON
