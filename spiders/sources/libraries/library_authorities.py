"""Derive the 2016 Taskforce list's authority_id -> library authority name, from the libraries' own coordinates.

The 2016 list names a library's authority only by a number. Each of its libraries' lat/lng is placed in its 2017
best-fit ward (geo.geography), the ward's local authority district (db/reference/wards.csv) gives the upper-tier
authority (db/reference/raw/la_all_codes.csv), and library authorities are upper tier: counties, unitaries, London
boroughs, metropolitan districts. The majority answer per authority_id wins; the share that agreed is kept.
la_all_codes names TODAY's upper tier, so a county split since 2016 comes out as one of its successors:
REORGANISED gives the county its libraries were in in 2016. Names are then checked against the later lists
(2019ish, 2023) at the same postcodes: where the normalised forms agree, the later lists' spelling wins.

Example: python -m spiders.sources.libraries.library_authorities
"""
from __future__ import annotations

import argparse
import csv
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from spiders.place_names import norm_authority, norm_postcode
from spiders.sources.libraries.library_layouts import LOOKUP, rows_of
from spiders.sources.libraries.replay import SNAPSHOTS
from spiders.tabular import csv_records, decode

HERE = Path(__file__).parent
REFERENCE = HERE.parents[2] / "db" / "reference"
COLUMNS = ["authority_id", "authority", "utla_code", "libraries", "agreeing_share", "rule"]
# Upper-tier authorities abolished since 2016, by their successors' codes (which la_all_codes gives for all their
# districts): Northamptonshire (split 1 April 2021) and Cumbria (split 1 April 2023).
REORGANISED = {frozenset({"E06000061", "E06000062"}): ("E10000021", "Northamptonshire"),
               frozenset({"E06000063", "E06000064"}): ("E10000006", "Cumbria")}


def _coordinate(value: str | None) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def upper_tier_of(lats, lngs) -> list[tuple[str, str] | None]:
    """Return each point's (upper-tier code, name), None where the point lies in no ward."""
    from geo.geography import ward_index  # shapely and the boundaries are loaded only to build the lookup

    with open(REFERENCE / "wards.csv", newline="", encoding="utf-8") as f:
        lad_of = {r["code"]: r["lad_code"] for r in csv.DictReader(f)}
    with open(REFERENCE / "raw" / "la_all_codes.csv", newline="", encoding="utf-8") as f:
        upper_of = {r["LADCD"]: (r["UTLACD"], r["UTLANM"]) for r in csv.DictReader(f)}
    wards = ward_index().locate(np.asarray(lats, dtype=float), np.asarray(lngs, dtype=float))
    return [upper_of.get(lad_of.get(w)) if w else None for w in wards]


def majority(rows: list[dict], answers: list, counts: Counter) -> dict[str, dict]:
    """Return, per authority_id, the majority upper tier, how many libraries, and the share that agreed."""
    votes: dict[str, Counter] = defaultdict(Counter)
    for row, answer in zip(rows, answers):
        votes[row["authority_id"]][answer] += 1
        counts["libraries/unlocated" if answer is None else "libraries/located"] += 1
    out = {}
    for aid, vote in votes.items():
        total = sum(vote.values())
        located = Counter({a: n for a, n in vote.items() if a})
        (code, name), agreed = located.most_common(1)[0]
        successors = frozenset(a[0] for a in located)
        if successors in REORGANISED:
            (code, name), agreed = REORGANISED[successors], sum(located.values())
            counts["authorities/reorganised"] += 1
        out[aid] = {"authority_id": aid, "authority": name, "utla_code": code, "libraries": total,
                    "agreeing_share": round(agreed / total, 3),
                    "rule": "reorganised" if successors in REORGANISED else "majority"}
    return out


def later_names(rows: list[dict], later_files: list[Path]) -> dict[str, Counter]:
    """Return, per authority_id, the authority names the later lists give at its libraries' postcodes."""

    names: dict[str, Counter] = defaultdict(Counter)
    for path in later_files:
        at_postcode: dict[str, list[str]] = defaultdict(list)
        for fields, _ in rows_of(decode(path.read_bytes()))[1]:
            if fields["authority"]:
                at_postcode[norm_postcode(fields["postcode"])].append(fields["authority"].strip())
        for row in rows:
            names[row["authority_id"]].update(at_postcode.get(norm_postcode(row.get("postcode")), []))
    return names


def reconcile(derived: dict[str, dict], later: dict[str, Counter], counts: Counter) -> list[dict]:
    """Take the later lists' spelling where it normalises alike; return the mismatches left (for a person)."""
    mismatches = []
    for aid, entry in derived.items():
        names = later.get(aid, Counter())
        alike = [n for n, _ in names.most_common() if norm_authority(n) == norm_authority(entry["authority"])]
        if alike and alike[0] != entry["authority"]:
            entry["authority"], entry["rule"] = alike[0], entry["rule"] + "+later_spelling"
            counts["authorities/later_spelling"] += 1
        others = {n: c for n, c in names.items() if norm_authority(n) != norm_authority(entry["authority"])}
        if others:
            counts["authorities/later_lists_differ"] += 1
            mismatches.append({"authority_id": aid, "authority": entry["authority"], "later": others,
                               "later_agreeing": sum(names.values()) - sum(others.values())})
    return mismatches


def build(taskforce: Path, later_files: list[Path], counts: Counter) -> tuple[list[dict], list[dict]]:
    """Return (lookup rows in authority_id order, names the later lists give otherwise)."""
    _, rows = csv_records(decode(taskforce.read_bytes()), {"name", "authority_id", "lat", "lng"})
    answers = upper_tier_of([_coordinate(r.get("lat")) for r in rows], [_coordinate(r.get("lng")) for r in rows])
    derived = majority(rows, answers, counts)
    mismatches = reconcile(derived, later_names(rows, later_files), counts)
    return sorted(derived.values(), key=lambda e: int(e["authority_id"])), mismatches


def write(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    """Build the lookup from the replayed snapshots, write it, print the counts and the mismatches."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=LOOKUP, help="where to write the lookup CSV")
    args = parser.parse_args(argv)
    counts: Counter = Counter()
    rows, mismatches = build(SNAPSHOTS[0].path, [s.path for s in SNAPSHOTS[1:]], counts)
    write(rows, args.out)
    print(f"{len(rows)} authorities written to {args.out}")
    for key, n in sorted(counts.items()):
        print(f"  {key}: {n}")
    for e in sorted(rows, key=lambda e: e["agreeing_share"])[:8]:
        print(f"  least agreement: {e['authority_id']} {e['authority']} {e['agreeing_share']} of {e['libraries']}")
    for m in mismatches:
        print(f"  later lists differ: {m['authority_id']} {m['authority']} ({m['later_agreeing']} agree) "
              f"vs {m['later']}")


if __name__ == "__main__":
    main()
