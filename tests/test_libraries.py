"""libraries: the three real layouts, the identity rule on the three real snapshots, closures from closed years."""
from __future__ import annotations

import csv
import json
from collections import Counter
from functools import cache

import pytest

from spiders.replay.catalogue import replay_server, start_urls
from spiders.replay.snapshots import ReplayClock
from spiders.sources.libraries.library_layouts import closed_year, keys_of, rows_of
from spiders.sources.libraries.library_match import (
    LibraryKey,
    match_refs,
    name_likeness,
    norm_authority,
    norm_postcode,
    norm_uprn,
    replaced_rows,
)
from spiders.sources.libraries.replay import DATES, SNAPSHOTS
from spiders.tabular import decode
from tests.replay_crawl import crawl, events


@pytest.mark.parametrize("cell, expected", [
    ("2013", (True, "2013")), ("", (False, None)), (" ", (False, None)), ("Closed", (True, None)),
    ("closed 2017", (True, "2017")), ("31/03/2015", (True, "2015")), ("Closed (2014)", (True, "2014")),
    # What the cell does not say is not a closure:
    ("TBC", (False, None)), ("Not closed", (False, None)), ("Unknown", (False, None)), ("0", (False, None)),
    ("Open (community managed)", (False, None)), ("-", (False, None)), ("N/A", (False, None)),
    ("Reopened 2019", (False, None)), ("Moved to the civic centre", (False, None)),
])
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


def test_the_newest_list_decides_a_closed_library_listed_open_is_the_same_library():
    """West View, Hartlepool: the 2016 list closed it ("XL", 2011); the 2021 list's row at the same postcode says
    "Branch Library was closed in 2012 and re-opened within Community Hub North": one library, reopened."""
    known = [LibraryKey("West View", None, "TS249JQ", None, "taskforce2016:1176", closed=True)]
    row = LibraryKey("West View", "Hartlepool", "TS24 9JQ", "100110785472")
    assert match_refs([row], known) == ["taskforce2016:1176"]
    # Its own state is still preferred: an open namesake at the postcode is taken before the closed one.
    both = known + [LibraryKey("West View", None, "TS249JQ", None, "open-one")]
    assert match_refs([row], both) == ["open-one"]


def test_a_replacement_in_one_list_is_a_move():
    """The 2016 list's two Hoyland rows (Barnsley, S74 9AF): "XLR" 2011 "Replaced by new Hoyland library" and the
    open "New building to replace old library": one library that moved. Ledbury (Herefordshire): the same, at two
    postcodes. A closed row whose name no open row shares (Castle Green) is a closure."""
    rows = [LibraryKey("Hoyland", "Barnsley", "S74 9AF", closed=True), LibraryKey("Hoyland", "Barnsley", "S74 9AF"),
            LibraryKey("Ledbury", "Herefordshire, County of", "HR8 2AA", closed=True),
            LibraryKey("Ledbury", "Herefordshire, County of", "HR8 1EA"),
            LibraryKey("Castle Green", "Barking and Dagenham", "RM9 4UN", closed=True),
            LibraryKey("Barking", "Barking and Dagenham", "IG117NB")]
    assert replaced_rows(rows) == {0, 2}


def test_a_name_in_each_state_pairs_by_state():
    """Rule 3: an old closed building and its open replacement share a name; a later list's two rows without a
    postcode match pair off by state (Swanley, Kent: closed 2015, and the new library)."""
    known = [LibraryKey("Swanley", "Kent", "BR8 7AE", None, "old", closed=True),
             LibraryKey("Swanley Library", "Kent", "BR8 7BU", None, "new")]
    counts = Counter()
    rows = [LibraryKey("Swanley", "Kent", None, closed=True), LibraryKey("Swanley Library", "Kent", "BR8 7AX")]
    assert match_refs(rows, known, counts) == ["old", "new"] and counts == {"library_match/authority_name": 2}
    # Two closed rows of the name: which is which is unknown, so neither matches.
    assert match_refs(rows[:1] * 2, known) == ["key:kent|swanley|", "key:kent|swanley|#2"]
    # A closed row with no closed namesake stored is the open library, closed since.
    assert match_refs(rows[:1], known[1:]) == ["new"]


def test_a_row_of_the_very_same_name_claims_first():
    """Rule 2: the closed "Hebburn" (its stored record lost its postcode) may not take the open "Library at
    Hebburn Central" before the row of that very name does; it then finds its own record by rule 3."""
    known = [LibraryKey("Hebburn", "South Tyneside", None, None, "old", closed=True),
             LibraryKey("Library at Hebburn Central", "South Tyneside", "NE31 1PN", None, "central")]
    rows = [LibraryKey("Hebburn", "South Tyneside", "NE31 1PN", closed=True),
            LibraryKey("Library at Hebburn Central", "South Tyneside", "NE31 1PN")]
    assert match_refs(rows, known) == ["old", "central"]


def test_the_only_library_at_a_postcode_needs_no_authority():
    """The 2019 file labels Hertfordshire's libraries "Herefordshire": one library at the postcode, names alike."""
    known = [LibraryKey("Welwyn Garden City (Performing Arts Library)", "Hertfordshire", "AL7 1HT", None, "t")]
    row = LibraryKey("Performing Arts Library", "Herefordshire, County of", "AL7 1HT")
    assert match_refs([row], known) == ["t"]
    two = known + [LibraryKey("Campus West", "Hertfordshire", "AL7 1HT", None, "u")]   # not alone: authority asked
    assert match_refs([row], two) == ["key:herefordshire county of|arts performing|AL71HT"]


def test_normalisers():
    assert norm_uprn("000100053358") == "100053358" and norm_uprn("3029") == "" and norm_uprn("N/A") == ""
    assert norm_authority("Bristol, City of") == "bristol" and norm_authority("Herefordshire, County of") \
        == "herefordshire county of"
    assert norm_postcode("ig11 7nb") == "IG117NB"
    assert name_likeness(frozenset({"barking"}), frozenset({"barking", "dagenham"})) == 1.0


@cache
def lists() -> list:
    """Return each snapshot's (layout, rows), in date order."""
    return [rows_of(decode(s.path.read_bytes())) for s in SNAPSHOTS]


@pytest.fixture(scope="module")
def snapshots():
    return lists()


def replay_identity(snapshots):
    """Match the lists in date order, as the identity pipeline does: return (store, history, closed_by), checking
    that every match shares a UPRN, or a postcode and a like name, or the authority and name, and that nothing is
    claimed twice."""
    store: dict[str, LibraryKey] = {}
    history: dict[str, list[tuple[str, LibraryKey]]] = {}
    closed_by: dict[str, str | None] = {}   # the year the first row of each library says it closed
    for (layout, rows), date in zip(snapshots, DATES):
        keys = keys_of(rows)
        moved = replaced_rows(keys)   # the old site of a library that moved: left out, as the pipeline does
        keys = [k for i, k in enumerate(keys) if i not in moved]
        rows = [r for i, r in enumerate(rows) if i not in moved]
        refs = match_refs(keys, list(store.values()))
        assert len(set(refs)) == len(refs), f"{layout}: a stored library claimed twice"
        for ref, key, (fields, _) in zip(refs, keys, rows):
            closed_by.setdefault(ref, fields["year_closed"])
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
    return store, history, closed_by


def test_three_layouts_told_apart_by_header(snapshots):
    assert [(layout, len(rows)) for layout, rows in snapshots] == [
        ("taskforce_2016", 3238), ("libraries_hacked", 3318), ("dcms_basic", 3487)]


def test_identity_across_the_three_real_snapshots(snapshots):
    """Replay the matching in date order: every match shares a UPRN, or a postcode and a like name, or the
    authority and name; nothing is claimed twice; real libraries spot-checked by name."""
    store, history, closed_by = replay_identity(snapshots)
    names = {ref: [k.name for _, k in h] for ref, h in history.items()}
    assert names["taskforce2016:2"] == ["Castle Green"] * 3
    assert names["taskforce2016:1"] == ["Barking", "Barking", "Barking Learning Centre Community Hub"]
    # Hoyland moved (2016 and 2021 list the old building, "XLR" 2011, beside the new): one library, at the new site.
    assert names["taskforce2016:37"] == ["Hoyland"] * 3 and "taskforce2016:36" not in history
    assert not any(k.closed for _, k in history["taskforce2016:37"])
    # Walsall closed Pelsall in 2017; in 2023 it is a community library (operation ICL): the newest list decides,
    # so the same library, open again.
    assert names["taskforce2016:2968"] == ["Pelsall Library"] * 3
    assert [k.closed for _, k in history["taskforce2016:2968"]] == [False, True, False]
    # Kent lists the closed "Swanley" (2015) beside the open "Swanley Library" in 2016 and 2019: one library that
    # moved. Rule 3 through the 2016 list's derived authorities: the closed Hebburn, listed in 2019 without a
    # postcode, is its 2016 record, not a second record closed again.
    assert "taskforce2016:1397" not in history and names["taskforce2016:1398"] == ["Swanley Library"] * 3
    assert names["taskforce2016:2574"] == ["Hebburn"] * 3 and all(k.closed for _, k in history["taskforce2016:2574"])
    assert names["taskforce2016:2576"] == ["Library at Hebburn Central"] * 3
    assert names["taskforce2016:1249"] == ["Welwyn Garden City (Performing Arts Library)"] + [
        "Performing Arts Library"] * 2
    # At least as many libraries as the longest list names (a row each, but for moves), and at most a tenth more:
    # most libraries are in every list (3,843 before the 2016 list's authorities were derived).
    rows = [len(r) for _, r in snapshots]
    assert max(rows) - 100 < len(store) < max(rows) * 1.1
    # A library first seen in 2021 or 2023 that closed by 2016 is most likely a 2016 library stored twice
    # (Hertfordshire's mislabelled, Oxfordshire's mobiles, ...): 61 before the 2016 list's authorities were
    # derived; fewer than one in 200 libraries now.
    late_old_closures = [ref for ref, h in history.items() if h[0][0] != DATES[0] and h[0][1].closed
                         and (closed_by[ref] or "9999")[:4] <= "2016"]
    assert len(late_old_closures) < len(store) / 200


def refs(db, where: str, params=()) -> dict[str, str]:
    """Return ref -> status of the stored libraries matching `where`."""
    return dict(db.execute(f"select ref, status from libraries where {where}", list(params)).fetchall())


def test_crawls_in_date_order_close_what_the_closed_years_say(db_path):
    clock = ReplayClock(DATES[0])
    with replay_server(clock) as server:
        url = start_urls(server.url)["libraries"]
        results, listed, closed_before, db = [], [], [], None
        for date in DATES:
            clock.date = date
            closed_before.append(set(refs(db, "status = 'closed'")) if results else set())
            result, db, _ = crawl("libraries", db_path, server, f"{date}T06:00:00", start_url=url)
            assert result.status == "ok"
            results.append(result)
            listed.append(refs(db, "last_crawl_id = ?", [result.crawl_id]))   # ref -> status, as this list left it
    first, second, third = (r.crawl_id for r in results)
    moves = [json.loads(db["crawl_runs"].get(r.crawl_id)["stats"])["resolved/replacement_is_a_move"] for r in results]
    # Figures from the lists themselves: each row is one library, but for the old site of a library that moved
    # (left out, counted); the rows a list closes, dated no later than the list (a later date is announced), are
    # the libraries it leaves closed; the rest, temporary closures among them, are open: the newest list decides.
    for (layout, rows), date, seen, moved in zip(lists(), DATES, listed, moves):
        closes = [f for f, _ in rows if f["closed"] and (f["year_closed"] or "0")[:4] <= date[:4]]
        assert len(seen) == len(rows) - moved, layout
        assert sum(s == "closed" for s in seen.values()) == len(closes) - moved, layout
        assert sum(s == "open" for s in seen.values()) == len(rows) - len(closes), layout
    assert moves[0] <= 114   # the 2016 list's moves are among its XLR ("closed, replaced") rows
    # The 2016 list's closure codes, by hand: XL 123, XLR 114, XLT 15 ("closed temporarily": announced, not
    # closed); an XLR row beside an open library of its name and authority is a move (resolved/replacement_is_a_move).
    codes = Counter(r["closed"] for r in csv.DictReader(open(SNAPSHOTS[0].path, newline="", encoding="utf-8-sig")))
    assert (codes["XL"], codes["XLR"], codes["XLT"]) == (123, 114, 15)
    moves = json.loads(db["crawl_runs"].get(first)["stats"])["resolved/replacement_is_a_move"]
    assert len(events(db, first, "closed")) == 123 + 114 - moves and all(e["baseline"] for e in events(db, first, "closed"))
    assert len(events(db, first, "announced")) == 15
    # Walsall closed Pelsall in 2017 (the 2021 list); the 2023 list has it open, community run: the newest decides.
    (event,) = [e for e in events(db, second, "closed") if e["ref"] == "taskforce2016:2968"]
    assert event["baseline"] == 0 and '"year_closed":"2017"' in event["evidence"].replace(" ", "")
    assert [e["ref"] for e in events(db, third, "reopened") if e["ref"] == "taskforce2016:2968"] == ["taskforce2016:2968"]
    pelsall = db["libraries"].get("libraries:taskforce2016:2968")
    assert (pelsall["status"], pelsall["closed_by"], pelsall["closed_at"]) == ("open", None, None)
    # A later list's closures are the libraries it leaves closed that were not closed before it.
    for crawl_id, seen, before in ((second, listed[1], closed_before[1]), (third, listed[2], closed_before[2])):
        reported = [e for e in events(db, crawl_id, "closed") if "missing from" not in e["evidence"]]
        assert sorted(e["ref"] for e in reported) == sorted(r for r, s in seen.items() if s == "closed"
                                                            and r not in before)
    # And a library of 2016 that neither later list names is closed by absence, dated by the first list without it
    # (2021), so backfill, not news: all of them but Dudley, whose address the 2023 list gives to the John Willie
    # Sams Centre Library (a change of hands, see docs/indicators.md).
    by_absence = [e for e in events(db, third, "closed") if "missing from" in e["evidence"]]
    gone = {r for r, s in listed[0].items() if s == "open" and r not in listed[1] and r not in listed[2]}
    assert sorted(e["ref"] for e in by_absence) == sorted(gone - {"taskforce2016:1977"})
    assert [e["ref"] for e in events(db, third, "changed_hands")] == ["taskforce2016:1977"]
    assert {e["closed_on"] for e in by_absence} == {"2021-01-01"} and all(e["backfill"] == 1 for e in by_absence)
    # Every library is one some list named; the store holds what the matching replayed alone finds (identity test).
    total = db.execute("select count(*) from libraries").fetchone()[0]
    assert total == len(set().union(*listed)) == len(replay_identity(lists())[0])
    # Closed by 2016 yet first seen later: most likely a 2016 library stored twice; fewer than one in 200.
    assert db.execute("select count(*) from libraries where first_crawl_id != ? and status = 'closed' and "
                      "substr(closed_at, 1, 4) <= '2016'", [first]).fetchone()[0] < total / 200
    # Every other closure is one the source reported, dated as the source dates it.
    assert db.execute("select count(*) from libraries where status = 'closed' and (source_status != 'closed' "
                      "or closed_by != 'source')").fetchone()[0] == len(by_absence)
    assert db.execute("select count(*) from libraries where status = 'closed' and source_closed_at is not null "
                      "and closed_at != source_closed_at").fetchone()[0] == 0
    # What the source closes is closed, unless it dates the closure after the list: announced (the 2023 list's
    # five "2024" rows not also a temporary closure), never counted closed.
    assert db.execute("select count(*) from libraries where source_status = 'closed' and status != 'closed' "
                      "and announced is null").fetchone()[0] == 0
    assert db.execute("select count(*) from libraries where source_status = 'closed' and status != 'closed' "
                      "and announced = 'to close in 2024'").fetchone()[0] == len(
        [f for f, _ in lists()[2][1] if f["closed"] and (f["year_closed"] or "")[:4] == "2024"]) == 5
    # Old news is not news: every closure the 2021 list reports is dated 2019 or earlier, or undated and last
    # listed open in 2016: backfill, kept out of alerts; closed_on is the source's own date.
    from monitor.reports.alerts import crawl_events
    for e in events(db, second, "closed"):
        assert e["backfill"] == 1 and (e["closed_on"] or "")[:4] <= "2019", (e["ref"], e["closed_on"])
        assert e["closed_on"] or (e["window_from"], e["window_to"]) == (DATES[0], DATES[1])
    assert [e for e in crawl_events(db, second) if e["kind"] == "closed"] == []
