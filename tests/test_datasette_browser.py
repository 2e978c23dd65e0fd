"""Browser tests of the served public database: what a person sees in headless Chromium after the scripts ran.

Screenshots are saved for a person to look at: in $LBM_TEST_ARTIFACTS/datasette/ when set (CI keeps them),
otherwise in pytest's temporary folder; never in the repository.
"""
from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.browser import Browser, PageFailed, render_all
from tests.test_serve import LEFT_BEHIND, served  # noqa: F401  (the module-scoped server fixture)


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory) -> Path:
    return Path(os.environ.get("LBM_TEST_ARTIFACTS") or tmp_path_factory.mktemp("artefacts")) / "datasette"


MARKERS = "document.querySelector('.leaflet-marker-icon')"   # the map's scripts have placed the rows


@pytest.fixture(scope="module")
def pages(served, artefacts):  # noqa: F811
    """Render each page once, in parallel; the tests assert on the DOMs."""
    base = f"{served['url']}/{served['db']}"
    urls = {
        "home": served["url"] + "/-/data",
        "groups_table": base + "/groups",
        "ward_profile": base + "/ward_profile?" + urllib.parse.urlencode({"ward": LEFT_BEHIND}),
        "indicator_history": base + "/indicator_history?indicator=grants_gbp_per_100k",
        "map": (base + "/places", MARKERS),
        "map_pubs": (base + "/places?kind=pub", MARKERS),
        "map_social_clubs": (base + "/places?venue_kind=members_club", MARKERS),
        "private": served["url"] + "/private",
    }
    rendered = render_all(urls, artefacts)
    return {name: BeautifulSoup(page.dom, "html.parser") for name, page in rendered.items()}


def text_of(soup) -> str:
    return " ".join(soup.get_text(" ").split())


def markers_on_map(soup) -> int:
    """Count the places the map shows: single markers plus the numbers on the clusters."""
    clusters = soup.select(".leaflet-marker-icon.marker-cluster")
    singles = [m for m in soup.select("img.leaflet-marker-icon") if "marker-cluster" not in m.get("class", [])]
    return len(singles) + sum(int(c.get_text(strip=True)) for c in clusters)


def test_home_page_names_the_project_its_queries_and_tables(pages, served):  # noqa: F811
    soup = pages["home"]
    assert soup.title.get_text(strip=True).startswith("Left-behind neighbourhoods monitor")
    links = {a["href"] for a in soup.select("a[href]")}
    db = served["db"]
    for query in ("recent_closures", "indicator_history", "ward_profile", "grants_by_funder", "source_health"):
        assert f"/{db}/{query}" in links
    text = text_of(soup)
    assert "225 'left behind' wards" in text
    assert "private" not in {a.get_text(strip=True) for a in soup.select("h2 a")}


def test_table_page_shows_rows_facets_and_licence(pages):
    soup = pages["groups_table"]
    text = text_of(soup)
    assert "Becontree Mutual Aid" in text and "Abbey Helpers" in text
    assert "CC BY-NC-SA 4.0" in text and "mutualaid.wiki" in text
    facet_titles = {p.get_text(" ", strip=True).split()[0] for p in soup.select(".facet-info p.facet-info-name")}
    assert {"status", "source"} <= facet_titles


def test_ward_profile_with_a_parameter_shows_the_wards_places_and_figures(pages):
    soup = pages["ward_profile"]
    assert soup.select_one("input[name=ward]")["value"] == LEFT_BEHIND
    cells = [td.get_text(strip=True) for td in soup.select("table.rows-and-columns td")]
    assert "Follows the licences of the tables it reads" in text_of(soup)
    for expected in ("Becontree", "Becontree Mutual Aid", "The Royal Oak", "The Old Crown", "Becontree Library",
                     "pubs_per_100k", "4.2", "10.5"):
        assert expected in cells, expected


def test_indicator_history_says_too_few_to_say_where_a_ratio_would_mislead(pages):
    cells = [td.get_text(strip=True) for td in pages["indicator_history"].select("table.rows-and-columns td")]
    assert cells.count("too few to say") == 2          # against England and against other deprived wards
    assert "too few to say: 2 grants (fewer than 20)" in cells
    assert "90.0" not in cells                          # the bare ratio 900 / 1000 is not shown


def test_map_page_plots_every_place_and_follows_the_filter(pages):
    assert pages["map"].select_one(".leaflet-container") is not None
    # tests/test_serve.py fill_sample: 2 groups, 4 register venues (3 pubs, 1 social club), 2 libraries.
    assert markers_on_map(pages["map"]) == 8
    assert markers_on_map(pages["map_pubs"]) == 4
    assert markers_on_map(pages["map_social_clubs"]) == 1


def test_private_database_is_not_found_in_the_browser(pages):
    text = text_of(pages["private"])
    assert "Error 404" in text and "Database not found" in text
    assert "subscriptions" not in text


def test_screenshots_are_saved_for_people_to_look_at(pages, artefacts):
    for name in pages:
        shot = artefacts / f"{name}.png"
        assert shot.is_file() and shot.stat().st_size > 5000, name


def test_a_page_that_cannot_load_is_reported_not_hung_on(served):  # noqa: F811
    with Browser(timeout=5) as browser:
        with pytest.raises(PageFailed, match="could not load http://127.0.0.1:9/"):
            browser.goto("http://127.0.0.1:9/")
        # A page that loads but never gets where the test waits for is reported within the time limit too.
        with pytest.raises(PageFailed, match="was not true within 5 s"):
            browser.goto(served["url"] + "/", "document.querySelector('#no-such-thing')")
