"""The parts of the people's pages that need no server: name matching, the limiter, the chart, intervals."""
from __future__ import annotations

import asyncio
import sqlite3
import time

import jinja2
import pytest
from datasette.app import Datasette

from monitor.web import chart, wards
from monitor.web.state import RateLimiter

BECONTREE = "E05000028"


def test_names_match_ignoring_case_and_punctuation():
    assert wards.normalise_name("St. Mary's & St John's") == "st marys and st johns"
    assert wards.normalise_name("  HEADLAND-and-Harbour!! ") == "headland and harbour"


def test_limiter_counts_per_client_within_the_window():
    limiter = RateLimiter(2, window=1)
    assert [limiter.allow("a"), limiter.allow("a"), limiter.allow("a"), limiter.allow("b")] == [True, True, False,
                                                                                               True]
    time.sleep(1.1)                                 # the first two hits have left the window
    assert limiter.allow("a") is True


def test_timeline_chart_says_in_words_what_it_draws():
    svg = chart.timeline_svg([("2023", "closed", 2), ("2024", "closed", 1), ("2024", "new", 3)])
    assert svg.count("<rect") == 3 and 'role="img"' in svg
    assert "2023: 2 closed; 2024: 1 closed, 3 new" in svg
    assert "No events" in chart.timeline_svg([])


def test_ward_figures_carry_intervals_when_the_indicators_have_them(fresh_db, db_path):
    fresh_db["pubs"].insert({"id": "fhrs_pubs:1", "source": "fhrs_pubs", "ward_code": BECONTREE, "status": "open",
                             "name": "The Bell", "venue_kind": "pub"}, alter=True)
    rows = [{"computed_at": "2024-06-01T00:00:00+00:00", "indicator": "pubs_per_100k", "area_group": g,
             "value": v, "ci_low": v - 1, "ci_high": v + 1} for g, v in (("left_behind", 4.0),
                                                                          ("other_deprived", 8.0), ("england", 10.0))]
    fresh_db["indicators"].insert_all(rows, alter=True)
    conn = sqlite3.connect(db_path)
    population = conn.execute("select population from wards where code = ?", [BECONTREE]).fetchone()[0]
    # No healthy crawl of the register yet: the ward's own figure is no data, not a count of what is stored.
    figures = {f["indicator"]: f for f in wards.ward_figures(conn, BECONTREE, population)}
    assert figures["pubs_per_100k"]["count"] is None and figures["pubs_per_100k"]["ward_rate"] is None
    fresh_db["crawl_runs"].insert({"id": 1, "source": "fhrs_pubs", "scope": "", "status": "ok"}, alter=True)
    fresh_db["scope_runs"].insert({"crawl_id": 1, "source": "fhrs_pubs", "scope": "fhrs_pubs", "healthy": 1},
                                  alter=True)
    conn = sqlite3.connect(db_path)
    figures = {f["indicator"]: f for f in wards.ward_figures(conn, BECONTREE, population)}
    pubs = figures["pubs_per_100k"]
    assert pubs["count"] == 1 and abs(pubs["ward_rate"] - 100_000 / population) < 1e-9
    assert (pubs["groups"]["england"]["ci_low"], pubs["groups"]["england"]["ci_high"]) == (9.0, 11.0)
    html = render_page(
        db_path, "people/ward.html", ward=wards.ward(conn, BECONTREE), db="leftbehind", groups=wards.AREA_GROUPS,
        group_labels=wards.GROUP_LABELS, chart="", ward_href="/x", figures=list(figures.values()),
        records=wards.ward_records(conn, BECONTREE, "leftbehind"), events=[], coverage=[], as_of=None,
        min_count=20, listed_at_start=0)
    assert "with its 95% interval beneath" in " ".join(html.split()) and "9.0–11.0" in html and "3.0–5.0" in html


def render_page(db_path, template: str, **context) -> str:
    """Render a template as the pages do: through the Datasette of db_path, with the project's plugin loaded."""
    async def render():
        datasette = Datasette([str(db_path)])
        await datasette.invoke_startup()
        return await datasette.render_template(template, context)
    return asyncio.run(render())


def test_people_pages_strip_bidi_and_cap_values_but_datasette_templates_are_untouched(fresh_db, db_path):
    rlo, long = "\u202e", "x" * 5_000
    page = render_page(db_path, "people/message.html", title=f"The {rlo}nuS{rlo} Arms", body=long)
    assert "<h1>The  nuS  Arms</h1>" in page and rlo not in page           # replaced by spaces, as in mail
    assert "x" * 1_999 + "…" in page and "x" * 2_000 not in page          # SHOWN_LIMIT: 2,000 characters
    # Datasette's own error page, given the same values, shows them as they are.
    page = render_page(db_path, "error.html", title="t", error=f"{rlo}{long}", status=400)
    assert f"{rlo}{long}" in page
    with pytest.raises(jinja2.UndefinedError):                            # a name the page was not given
        render_page(db_path, "people/message.html", title="only a title")
