"""The news-links pipeline: a mention names its authority and, when its words hold a stored library's name, that library."""
from __future__ import annotations

import pytest

from spiders.sources.library_news.pipelines import library_id, load_places

LIBRARIES = [("libraries:a", "Pelsall Village Library", "Walsall"), ("libraries:b", "Woodseats", "Sheffield"),
             ("libraries:c", "Central Library", "Walsall"), ("libraries:d", "Pelsall", "Walsall")]


@pytest.mark.parametrize("text, place, expected", [
    ("Council proposes to close Pelsall Village Library", "Walsall", "libraries:a"),   # the longer of two names
    ("Pelsall's library hours cut", "Walsall", "libraries:d"),                  # possessive dropped; one word matches
    ("Woodseats reopened", "Walsall", None),                                    # a library of another authority
    ("Woodseats reopened", "Sheffield", "libraries:b"),
    ("Central Library closed", None, None),                                     # no place: never guessed
    ("Cuts across the borough", "Walsall", None),
])
def test_library_id(text, place, expected):
    assert library_id(text, place, LIBRARIES) == expected


def test_places_come_from_the_store(fresh_db):
    places = load_places(fresh_db)
    assert places["lads"]["walsall"] == "E08000030"          # the ONS code of Walsall
    assert places["libraries"] == []                          # no libraries stored yet: nothing to link to
