"""libraries: the three real layouts, the identity rule on the three real snapshots, closures from closed years."""
from __future__ import annotations

from collections import Counter

import pytest

from spiders.library_match import LibraryKey, match_refs, name_likeness, norm_authority, norm_postcode, norm_uprn
from spiders.replay.catalogue import replay_server, start_urls
from spiders.replay.libraries import DATES, SNAPSHOTS
from spiders.replay.snapshots import ReplayClock
from spiders.sources.libraries import closed_year, keys_of, rows_of
from spiders.tabular import decode
from tests.replay_crawl import crawl, events


@pytest.mark.parametrize("cell, expected", [("2013", (True, "2013")), ("", (False, None)), (" ", (False, None)),
                                            ("Closed", (True, None)), ("closed 2017", (True, "2017"))])
def test_closed_year(cell, expected):
    assert closed_year(cell) == expected


def test_match_rule_cases():
    known = [LibraryKey("Barking", None, "IG117NB", None, "taskforce2016:1"),
             LibraryKey("Hoyland", None, "S74 9AF", None, "taskforce2016:36", closed=True),
             LibraryKey("Hoyland", None, "S74 9AF", None, "taskforce2016:37"),
             LibraryKey("Bishops Waltham", "Hampshire", "SO32 1EE", None, "key:a"),
             LibraryKey("Seacroft Library", "Leeds", "LS14 6JD", "72786442", "uprn:72786442")]
    rows = [LibraryKey("Barking Learning Centre Community Hub", "Barking and Dagenham", "IG11 7NB", "100053358"),
            LibraryKey("Hoyland", "Barnsley", "S74 9AF"),                       # open: the new building
            LibraryKey("Bishop's Waltham", "Hampshire", "SO32 1EE"),
            LibraryKey("Hawksworth Community Hub", "Leeds", "LS5 3PR", "72786442"),   # a shared UPRN: no identity
            LibraryKey("Seacroft Library", "Leeds", "LS14 6JD", "72786442")]
    counts = Counter()
    refs = match_refs(rows, known, counts)
    assert refs[:3] == ["taskforce2016:1", "taskforce2016:37", "key:a"]
    assert refs[3] == "key:leeds|hawksworth|LS53PR"
    assert refs[4] == "uprn:72786442"                                   # by postcode and name, not by UPRN
    assert counts == {"library_match/postcode_name": 4, "library_match/new": 1}


def test_closed_library_is_matched_by_an_open_row_only_through_its_uprn():
    known = [LibraryKey("Swanley Library", "Kent", "BR8 7AE", None, "old", closed=True)]
    assert match_refs([LibraryKey("Swanley Library", "Kent", "BR8 7AE")], known) != ["old"]
    assert match_refs([LibraryKey("Swanley Library", "Kent", "BR8 7AE", closed=True)], known) == ["old"]


def test_normalisers():
    assert norm_uprn("000100053358") == "100053358" and norm_uprn("3029") == "" and norm_uprn("N/A") == ""
    assert norm_authority("Bristol, City of") == "bristol" and norm_authority("Herefordshire, County of") \
        == "herefordshire county of"
    assert norm_postcode("ig11 7nb") == "IG117NB"
    assert name_likeness(frozenset({"barking"}), frozenset({"barking", "dagenham"})) == 1.0


@pytest.fixture(scope="module")
def snapshots():
    return [rows_of(decode(s.path.read_bytes())) for s in SNAPSHOTS]


def test_three_layouts_told_apart_by_header(snapshots):
    assert [(layout, len(rows)) for layout, rows in snapshots] == [
        ("taskforce_2016", 3238), ("libraries_hacked", 3318), ("dcms_basic", 3487)]


def test_identity_across_the_three_real_snapshots(snapshots):
    """Replay the matching in date order: every match shares a UPRN, or a postcode and a like name, or the
    authority and name; nothing is claimed twice; real libraries spot-checked by name."""
    store: dict[str, LibraryKey] = {}
    history: dict[str, list[tuple[str, LibraryKey]]] = {}
    for (layout, rows), date in zip(snapshots, DATES):
        keys = keys_of(rows)
        refs = match_refs(keys, list(store.values()))
        assert len(set(refs)) == len(refs), f"{layout}: a stored library claimed twice"
        for ref, key in zip(refs, keys):
            if ref in store:
                old = store[ref]
                same_uprn = norm_uprn(old.uprn) and norm_uprn(old.uprn) == norm_uprn(key.uprn)
                same_place = norm_postcode(old.postcode) == norm_postcode(key.postcode) and \
                    name_likeness(old.words, key.words) >= 0.5
                same_name = old.words == key.words and norm_authority(old.authority) == norm_authority(key.authority)
                assert same_uprn or same_place or same_name, (old, key)
            store[ref] = LibraryKey(key.name, key.authority or (store[ref].authority if ref in store else None),
                                    key.postcode, key.uprn or (store[ref].uprn if ref in store else None), ref,
                                    key.closed)
            history.setdefault(ref, []).append((date, key))
    names = {ref: [k.name for _, k in h] for ref, h in history.items()}
    assert names["taskforce2016:2"] == ["Castle Green"] * 3
    assert names["taskforce2016:1"] == ["Barking", "Barking", "Barking Learning Centre Community Hub"]
    assert names["taskforce2016:37"] == ["Hoyland"] * 3                       # the new building
    assert all(k.closed for _, k in history["taskforce2016:36"])          # the old building stays closed
    assert not any(k.closed for _, k in history["taskforce2016:37"])
    # Walsall closed Pelsall in 2017; in 2023 it is a community library (operation ICL): a library of its own.
    assert names["taskforce2016:2968"] == ["Pelsall Library"] * 2
    assert [d for ref, h in history.items() for d, k in h if k.name == "Pelsall Library" and ref != "taskforce2016:2968"
            ] == [DATES[2]]
    assert len(store) < 3238 + 700                                       # matching works for the bulk


def test_crawls_in_date_order_close_what_the_closed_years_say(db_path):
    clock = ReplayClock(DATES[0])
    with replay_server(clock) as server:
        url = start_urls(server.url)["libraries"]
        results = []
        for date in DATES:
            clock.date = date
            result, db, _ = crawl("libraries", db_path, server, f"{date}T06:00:00", start_url=url)
            assert result.status == "ok"
            results.append(result)
    first, second, third = (r.crawl_id for r in results)
    assert len(events(db, first, "closed")) == 252 and all(e["baseline"] for e in events(db, first, "closed"))
    pelsall = db["libraries"].get("libraries:taskforce2016:2968")
    assert (pelsall["status"], pelsall["closed_by"], pelsall["closed_at"]) == ("closed", "source", "2017")
    (event,) = [e for e in events(db, second, "closed") if e["ref"] == "taskforce2016:2968"]
    assert event["baseline"] == 0 and '"year_closed":"2017"' in event["evidence"].replace(" ", "")
    assert len(events(db, second, "closed")) > 100 and len(events(db, third, "closed")) > 50
    # Every closure is one the source reported, dated as the source dates it.
    assert db.execute("select count(*) from libraries where status = 'closed' and (source_status != 'closed' "
                      "or closed_by != 'source')").fetchone()[0] == 0
    assert db.execute("select count(*) from libraries where status = 'closed' and source_closed_at is not null "
                      "and closed_at != source_closed_at").fetchone()[0] == 0
    assert db.execute("select count(*) from libraries where source_status = 'closed' and status != 'closed'"
                      ).fetchone()[0] == 0
