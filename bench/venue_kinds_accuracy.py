"""Precision and recall of the venue-kind rules against the hand-labelled sample, per kind.

Run: python -m bench.venue_kinds_accuracy [--sample PATH] [--errors]
Prints, per kind, how many venues the sample labels so (support), how many the rules call so, precision and
recall; then the same for pubs and bars together (what the pub indicators count), the rules that fired, and
with --errors every venue the rules got wrong.
"""
from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path

from spiders.sources.fhrs_pubs.venue_kinds import KINDS, PUBS_AND_BARS, classify_venue

SAMPLE = Path(__file__).resolve().parent.parent / "tests/fixtures/venue_kinds/sample.csv"


def load_sample(path: Path = SAMPLE) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def scores(pairs: list[tuple[str, str]], kinds) -> dict[str, tuple[int, int, float | None, float | None]]:
    """Return {kind: (labelled, predicted, precision, recall)} for (label, predicted) pairs."""
    out = {}
    for kind in kinds:
        members = {kind} if isinstance(kind, str) else set(kind)
        labelled = sum(label in members for label, _ in pairs)
        predicted = sum(guess in members for _, guess in pairs)
        right = sum(label in members and guess in members for label, guess in pairs)
        out[kind if isinstance(kind, str) else "+".join(kind)] = (
            labelled, predicted, right / predicted if predicted else None, right / labelled if labelled else None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    parser.add_argument("--errors", action="store_true", help="list every venue the rules got wrong")
    args = parser.parse_args()
    rows = load_sample(args.sample)
    results = [(r, *classify_venue(r["name"], r["address"])) for r in rows]
    pairs = [(r["label"], kind) for r, kind, _ in results]
    print(f"{len(rows)} hand-labelled venues; {sum(a == b for a, b in pairs)} classified right")
    print(f"{'kind':<14}{'labelled':>9}{'called':>8}{'precision':>11}{'recall':>8}")
    for kind, (n, called, p, r) in scores(pairs, [*KINDS, PUBS_AND_BARS]).items():
        fmt = lambda v: "   -" if v is None else f"{v:.2f}"   # noqa: E731
        print(f"{kind:<14}{n:>9}{called:>8}{fmt(p):>11}{fmt(r):>8}")
    print("rules fired:", ", ".join(f"{k} {v}" for k, v in Counter(rule for *_, rule in results).most_common()))
    if args.errors:
        for r, kind, rule in results:
            if kind != r["label"]:
                print(f"  {r['label']:<13} called {kind:<13} ({rule}): {r['name']} | {r['address']} | {r['note']}")


if __name__ == "__main__":
    main()
