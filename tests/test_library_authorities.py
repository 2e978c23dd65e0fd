"""library_authorities: the 2016 list's authority_id named from its libraries' own coordinates."""
from __future__ import annotations

import csv
from collections import Counter

import pytest

from spiders.sources.libraries.library_authorities import build, main, majority, reconcile
from spiders.sources.libraries.library_layouts import LOOKUP, authority_names_2016, rows_of
from spiders.sources.libraries.replay import SNAPSHOTS
from spiders.tabular import decode


@pytest.fixture(scope="module")
def built():
    counts = Counter()
    rows, mismatches = build(SNAPSHOTS[0].path, [s.path for s in SNAPSHOTS[1:]], counts)
    return rows, mismatches, counts


def test_the_shipped_lookup_is_what_the_script_builds(tmp_path, capsys):
    main(["--out", str(tmp_path / "lookup.csv")])
    assert (tmp_path / "lookup.csv").read_text(encoding="utf-8") == LOOKUP.read_text(encoding="utf-8")
    assert "151 authorities written" in capsys.readouterr().out


def test_every_2016_authority_is_named_and_most_agree_wholly(built):
    rows, _, counts = built
    assert len(rows) == 151 and len({r["authority_id"] for r in rows}) == 151
    assert sum(r["libraries"] for r in rows) == 3238
    assert counts["libraries/located"] == 3237 and counts["libraries/unlocated"] == 1
    assert sum(r["agreeing_share"] == 1.0 for r in rows) == 145
    assert min(r["agreeing_share"] for r in rows) == 0.875                # Tower Hamlets: one library in no ward
    names = {r["authority_id"]: r["authority"] for r in rows}
    assert (names["1"], names["56"], names["38"], names["117"]) == (
        "Barking and Dagenham", "Hertfordshire", "County Durham", "Southend-on-Sea")


def test_counties_split_since_2016_keep_their_2016_name(built):
    rows, _, counts = built
    by_id = {r["authority_id"]: r for r in rows}
    assert {k: (by_id[k]["authority"], by_id[k]["utla_code"], by_id[k]["rule"]) for k in ("30", "89")} == {
        "30": ("Cumbria", "E10000006", "reorganised"), "89": ("Northamptonshire", "E10000021", "reorganised")}
    assert counts["authorities/reorganised"] == 2


def test_later_spelling_wins_when_the_normalised_names_agree():
    derived = {"64": {"authority_id": "64", "authority": "Kingston upon Thames", "rule": "majority"},
               "56": {"authority_id": "56", "authority": "Hertfordshire", "rule": "majority"}}
    later = {"64": Counter({"Kingston Upon Thames": 8, "Kingston upon Thames": 7}),
             "56": Counter({"Herefordshire, County of": 51, "Hertfordshire": 45})}
    counts = Counter()
    mismatches = reconcile(derived, later, counts)
    assert derived["64"]["authority"] == "Kingston Upon Thames" and derived["64"]["rule"] == "majority+later_spelling"
    assert derived["56"]["authority"] == "Hertfordshire"                  # the 2019 file's mislabel is reported
    assert mismatches == [{"authority_id": "56", "authority": "Hertfordshire",
                           "later": {"Herefordshire, County of": 51}, "later_agreeing": 45}]
    assert counts == {"authorities/later_spelling": 1, "authorities/later_lists_differ": 1}


def test_the_mismatches_left_are_the_later_lists_own(built):
    _, mismatches, _ = built
    assert {m["authority_id"]: sorted(m["later"]) for m in mismatches} == {
        "36": ["Bournemouth, Christchurch and Poole"],
        "56": ["Herefordshire, County of"], "67": ["Croydon"], "117": ["Southend"]}
    # Cumbria's and Northamptonshire's successors (2021, 2023) are no mismatch: library_match.SUCCESSORS.


def test_majority_counts_an_unlocated_library_as_disagreeing():
    rows = [{"authority_id": "7"}] * 4
    answers = [("E1", "Leeds"), ("E1", "Leeds"), ("E2", "Bradford"), None]
    entry = majority(rows, answers, Counter())["7"]
    assert (entry["authority"], entry["libraries"], entry["agreeing_share"]) == ("Leeds", 4, 0.5)


def test_the_spider_names_the_authority_of_2016_rows():
    layout, rows = rows_of(decode(SNAPSHOTS[0].path.read_bytes()))
    assert layout == "taskforce_2016" and all(f["authority"] for f, _ in rows)
    assert rows[0][0]["name"] == "Barking" and rows[0][0]["authority"] == "Barking and Dagenham"
    with open(LOOKUP, newline="", encoding="utf-8") as f:
        assert authority_names_2016() == {r["authority_id"]: r["authority"] for r in csv.DictReader(f)}
