"""The indicator table's formatting."""
from __future__ import annotations

import pytest

from monitor.indicators.table import format_table, format_value, share_of_england


@pytest.mark.parametrize("indicator, value, coverage, text", [
    ("covid_grants_gbp_per_100k", 21182.147, None, "£21,182"),
    ("mutual_aid_groups_per_100k", 3.54, None, "3.5"),
    ("pubs_per_100k", 0.0419, None, "0.04"),
    ("grants_count_per_100k", 1234.4, None, "1,234"),
    ("pubs_per_100k", None, {"note": "no data: fhrs_pubs has no healthy crawl"}, "no data"),
    ("pubs_per_100k", None, {"note": "fhrs_pubs crawl 3: healthy authorities only; no covered wards"}, "n/a"),
])
def test_format_value(indicator, value, coverage, text):
    assert format_value(indicator, value, coverage) == text


@pytest.mark.parametrize("lb, eng, text", [(3.5, 10.6, "33%"), (None, 10.6, "-"), (3.5, 0.0, "-"), (0.0, 2.0, "0%")])
def test_share_of_england(lb, eng, text):
    assert share_of_england(lb, eng) == text


def test_empty_table_says_so():
    assert format_table([]) == "No indicators computed yet."
