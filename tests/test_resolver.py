"""The resolver chain, step by step, against the bundled reference geography and the postcodes.io emulator."""
from __future__ import annotations

import pytest

from core.config import load
from core.errors import PostcodesError
from db.store import init_public
from geo.geography import ward_index
from geo.resolver import Query, Resolution, Resolver, best_place
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer

NOW = "2024-05-01T09:00:00+00:00"
SOUTH_MOLTON = "E05003557"      # EX36 4AT's best-fit 2017 ward (its LSOA E01020135)


class CountingIndex:
    """The real ward index, counting how often it is asked."""

    def __init__(self):
        self.calls = []

    def locate(self, lats, lngs):
        self.calls.append(len(lats))
        return ward_index().locate(lats, lngs)


@pytest.fixture(scope="module")
def server():
    with ReplayServer(routes=postcodes_io.routes()) as srv:
        yield srv


@pytest.fixture(scope="module")
def reference_db(tmp_path_factory):
    """One migrated database with the reference geography for the module (loading it takes a second)."""
    return init_public(tmp_path_factory.mktemp("resolver") / "leftbehind.db")


@pytest.fixture
def resolver(reference_db, server):
    reference_db["postcode_cache"].delete_where()
    reference_db["place_cache"].delete_where()
    settings = load(environ={"LBM_POSTCODES_URL": server.url})
    settings.update(http_backoff=0.001, http_retries=1)
    server.log.clear()
    server.clear_faults()
    return Resolver(reference_db, settings, ward_index=CountingIndex())


CASES = [
    # (query, ward_code, method, reason)
    (Query(ward_code="E05004164"), "E05004164", "ward_code", None),
    (Query(ward_code=" e05004164 "), "E05004164", "ward_code", None),
    (Query(lsoa_code="E01020135"), SOUTH_MOLTON, "lsoa", None),
    (Query(lsoa_code="E01020135", ward_code="E05004164"), "E05004164", "ward_code", None),
    (Query(ward_code="E05012435"), SOUTH_MOLTON, "ward_alias", None),            # 2019 code of South Molton
    (Query(ward_code="E05012435", lsoa_code="E01021786"), "E05004164", "lsoa", None),  # LSOA before alias
    (Query(ward_code="E05999999"), None, None, "ward code has no 2017 ward"),
    (Query(ward_code="W05000001"), None, None, "outside England"),
    (Query(lsoa_code="W01000001"), None, None, "outside England"),
    (Query(lsoa_code="E01999999"), None, None, "unknown LSOA code"),
    (Query(lat=51.01467, lng=-3.83317), SOUTH_MOLTON, "point", None),             # EX36 4AT's NSPL point
    (Query(lat="51.01467", lng="-3.83317"), SOUTH_MOLTON, "point", None),
    (Query(lat=0.0, lng=0.0), None, None, "outside England"),
    (Query(lat=55.9533, lng=-3.1883), None, None, "outside England"),              # Edinburgh
    (Query(lat=float("nan"), lng=-3.8, postcode="EX36 4AT"), SOUTH_MOLTON, "postcode", None),
    (Query(lat=0.0, lng=0.0, postcode="EX36 4AT"), SOUTH_MOLTON, "postcode", None),
    (Query(postcode="ex364at"), SOUTH_MOLTON, "postcode", None),
    (Query(postcode="PR3 0SG"), "E05005288", "postcode", None),                    # docs example, via its LSOA
    (Query(postcode="EX36 9ZZ"), None, None, "postcode not found"),
    (Query(postcode="NG7 3LF"), None, None, "postcode not found"),                 # terminated in 2009
    (Query(postcode="SW1A OAA"), None, None, "invalid postcode"),
    (Query(lat=0.0, lng=0.0, postcode="SW1A OAA"), None, None, "outside England; invalid postcode"),
    (Query(place="Londonthorpe"), "E05010171", "place", None),
    (Query(place="  LONDON "), "E05009311", "place", None),                        # the exact name, not Colney
    (Query(place="Atlantis"), None, None, "place not found"),
    (Query(postcode="EX36 9ZZ", place="Londonthorpe"), "E05010171", "place", None),
    (Query(), None, None, "no location"),
    (Query(ward_code="", postcode=" ", place=""), None, None, "no location"),
]


@pytest.mark.parametrize("query, ward, method, reason", CASES)
def test_each_step_of_the_chain(resolver, query, ward, method, reason):
    assert resolver.resolve_one(query, now=NOW) == Resolution(ward, method, reason)


def test_postcode_whose_lsoa_is_not_ours_falls_back_to_its_point(resolver):
    # M45 6GN's LSOA code (E01005134) is not a 2011 LSOA we know; its point lies in Pendlebury on the
    # generalised best-fit boundaries, next to the Bury ward postcodes.io names.
    answer = resolver.resolve_one(Query(postcode="M45 6GN"), now=NOW)
    assert answer == Resolution("E05000771", "postcode")
    assert list(ward_index().locate([53.513289], [-2.298444])) == ["E05000771"]
    assert resolver.counts["postcode/point"] == 1 and resolver.counts["postcode/lsoa"] == 0


def test_a_whole_batch_in_one_request_per_kind_and_one_index_call_per_step(resolver, server):
    queries = [query for query, *_ in CASES] * 3
    answers = resolver.resolve_many(queries, now=NOW)
    assert [a.method for a in answers] == [method for _, _, method, _ in CASES] * 3
    posts = server.requests("/postcodes")
    assert len(posts) == 1 and posts[0][0] == "POST"
    assert sorted(path for _, path, _ in server.requests("/places")) == [
        "/places?q=atlantis&limit=10", "/places?q=london&limit=10", "/places?q=londonthorpe&limit=10"]
    # Six cases carry finite coordinates and no code; three reach the place step.
    assert resolver.ward_index.calls == [6 * 3, 3 * 3]
    assert resolver.counts["method/point"] == 6 and resolver.counts["unresolved/no location"] == 6


def test_second_batch_is_answered_from_the_cache(resolver, server):
    queries = [Query(postcode="EX36 4AT"), Query(postcode="EX36 9ZZ"), Query(place="Londonthorpe")]
    first = resolver.resolve_many(queries, now=NOW)
    assert resolver.resolve_many(queries, now=NOW) == first
    assert len(server.log) == 2


def test_postcodes_io_down_leaves_items_unresolved_and_counted(resolver, server):
    server.set_fault("/postcodes", status=503)
    server.set_fault("/places", status=503)
    answers = resolver.resolve_many([Query(postcode="EX36 4AT"), Query(lsoa_code="E01020135"),
                                     Query(place="London")], now=NOW)
    assert answers == [Resolution(None, None, "postcodes.io unavailable"), Resolution(SOUTH_MOLTON, "lsoa"),
                       Resolution(None, None, "postcodes.io unavailable")]
    assert resolver.counts["postcode/lookup_failed"] == 1 and resolver.counts["place/lookup_failed"] == 1


def test_strict_resolver_raises_when_postcodes_io_is_down(resolver, server):
    server.set_fault("/postcodes", status=503)
    resolver.strict = True
    with pytest.raises(PostcodesError, match="HTTP 503"):
        resolver.resolve_one(Query(postcode="EX36 4AT"), now=NOW)


@pytest.mark.parametrize("query, names, expected", [
    ("london", ["London Colney", "London"], "London"),
    ("london", ["London Colney", "Londonthorpe"], "London Colney"),
    ("atlantis", [], None),
])
def test_best_place_prefers_the_exact_name(query, names, expected):
    matches = [{"name_1": n, "latitude": 51.5, "longitude": -0.1} for n in names]
    best = best_place(query, matches)
    assert (best or {}).get("name_1") == expected


def test_best_place_skips_matches_without_coordinates():
    matches = [{"place_name": "London", "latitude": None, "longitude": None},
               {"place_name": "London Colney", "latitude": 51.724, "longitude": -0.2956}]
    assert best_place("london", matches)["place_name"] == "London Colney"


def test_two_places_of_the_same_name_are_counted_as_ambiguous(resolver):
    class TwoLondons:
        """A place lookup answering two exact matches (as the live API does for, say, Newport)."""

        def postcodes(self, postcodes, now=None):
            return {}

        def places(self, queries, now=None):
            first = {"name_1": "London", "country": "England", "latitude": 51.51396, "longitude": -0.09853}
            return {q: [first, dict(first, latitude=52.9464, longitude=-0.5726)] for q in queries}

    resolver.postcodes = TwoLondons()
    assert resolver.resolve_one(Query(place="London"), now=NOW) == Resolution("E05009311", "place")
    assert resolver.counts["place/ambiguous"] == 1
