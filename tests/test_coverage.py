"""Coverage: which wards each source looked at, from the health of its crawl scopes."""
from __future__ import annotations

from collections import defaultdict

import pytest

from monitor.indicators.area_groups import load_wards
from monitor.indicators.coverage import counted_sources, source_coverage
from tests.indicator_records import (
    CORBY,
    CORBY_CENTRAL,
    DE_BRUCE,
    HART,
    HARTLEPOOL,
    JESMOND,
    KINGSWOOD,
    LLOYDS,
    crawl,
    record,
)

SOURCES = counted_sources()


@pytest.fixture
def by_lad(fresh_db):
    out = defaultdict(set)
    for w in load_wards(fresh_db).values():
        out[w.lad_code].add(w.code)
    return out


def _hartlepool_with_spillover(db, crawl_id):
    """Ten pubs in Hartlepool and one geocoded across the border into Corby (under a tenth of the scope)."""
    for _ in range(5):
        record(db, "fhrs_pubs", DE_BRUCE, crawl_id, scope="Hartlepool")
        record(db, "fhrs_pubs", HART, crawl_id, scope="Hartlepool")
    record(db, "fhrs_pubs", CORBY_CENTRAL, crawl_id, scope="Hartlepool")


def test_whole_source_scope_covers_england(fresh_db, by_lad):
    crawl(fresh_db, "mutual_aid", {"mutual_aid": True})
    cov = source_coverage(fresh_db, SOURCES["mutual_aid"], by_lad)
    assert cov.has_data and cov.wards is None and cov.covers(KINGSWOOD)


def test_no_crawl_covers_nothing(fresh_db, by_lad):
    cov = source_coverage(fresh_db, SOURCES["fhrs_pubs"], by_lad)
    assert not cov.has_data and not cov.covers(DE_BRUCE)
    assert cov.note() == "no data: fhrs_pubs has no healthy crawl"


def test_region_only_crawl_covers_its_authorities_only(fresh_db, by_lad):
    earlier = crawl(fresh_db, "fhrs_pubs", {"Hartlepool": True, "Corby": True})
    record(fresh_db, "fhrs_pubs", LLOYDS, earlier, scope="Corby")
    latest = crawl(fresh_db, "fhrs_pubs", {"Hartlepool": True})           # the config now names one authority
    _hartlepool_with_spillover(fresh_db, latest)
    cov = source_coverage(fresh_db, SOURCES["fhrs_pubs"], by_lad)
    assert cov.crawl_id == latest
    assert cov.wards == frozenset(by_lad[HARTLEPOOL])                   # the border pub does not bring Corby in
    assert cov.record_scopes == ["Hartlepool"]
    assert not cov.covers(LLOYDS)


def test_unhealthy_authority_is_excluded(fresh_db, by_lad):
    c = crawl(fresh_db, "fhrs_pubs", {"Hartlepool": True, "Corby": False})
    _hartlepool_with_spillover(fresh_db, c)
    record(fresh_db, "fhrs_pubs", KINGSWOOD, c, scope="Corby")
    cov = source_coverage(fresh_db, SOURCES["fhrs_pubs"], by_lad)
    assert cov.wards == frozenset(by_lad[HARTLEPOOL])
    assert cov.counters["unhealthy_scopes"] == 1
    assert "unhealthy_scopes 1" in cov.note()


def test_unhealthy_authority_beats_a_healthy_neighbours_records(fresh_db, by_lad):
    c = crawl(fresh_db, "fhrs_pubs", {"Hartlepool": True, "Corby": False})
    record(fresh_db, "fhrs_pubs", DE_BRUCE, c, scope="Hartlepool")
    record(fresh_db, "fhrs_pubs", CORBY_CENTRAL, c, scope="Hartlepool")   # half of this scope lies in Corby
    record(fresh_db, "fhrs_pubs", KINGSWOOD, c, scope="Corby")
    cov = source_coverage(fresh_db, SOURCES["fhrs_pubs"], by_lad)
    assert cov.wards == frozenset(by_lad[HARTLEPOOL])
    assert cov.counters["districts_excluded_unhealthy"] == 1


def test_merged_authority_covers_every_district_it_holds(fresh_db, by_lad):
    c = crawl(fresh_db, "fhrs_pubs", {"Merged": True})
    for ward in (DE_BRUCE, JESMOND, LLOYDS, KINGSWOOD):
        record(fresh_db, "fhrs_pubs", ward, c, scope="Merged")
    cov = source_coverage(fresh_db, SOURCES["fhrs_pubs"], by_lad)
    assert cov.wards == frozenset(by_lad[HARTLEPOOL] | by_lad[CORBY])
    assert len(cov.wards) == 23


def test_authority_source_crawled_as_a_whole_covers_england(fresh_db, by_lad):
    crawl(fresh_db, "libraries", {"libraries": True})
    cov = source_coverage(fresh_db, SOURCES["libraries"], by_lad)
    assert cov.wards is None and cov.record_scopes is None


def test_healthy_scope_without_located_records_is_counted_unmapped(fresh_db, by_lad):
    c = crawl(fresh_db, "fhrs_pubs", {"Hartlepool": True, "Nowhere": True})
    record(fresh_db, "fhrs_pubs", DE_BRUCE, c, scope="Hartlepool")
    record(fresh_db, "fhrs_pubs", None, c, scope="Nowhere")
    cov = source_coverage(fresh_db, SOURCES["fhrs_pubs"], by_lad)
    assert cov.counters["unmapped_scopes"] == 1
    assert cov.wards == frozenset(by_lad[HARTLEPOOL])
