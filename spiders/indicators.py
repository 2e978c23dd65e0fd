"""What a source declares of each indicator it feeds: its label, unit, whether more is worse, and its SQL.

Each source's folder lists its own (spiders/sources/<name>/indicators.py); monitor/indicators/ tallies them for the
area groups, the digest, the CLI table and the ward pages, reading them through the registry.
"""
from __future__ import annotations

from dataclasses import dataclass

from db import seen


def within(column: str, lo: str, hi: str) -> str:
    """SQL: the date in `column` lies in [lo, hi], compared at the column's own precision (a bare year counts)."""
    n = f"min(length({column}), 10)"
    return (f"({column} IS NOT NULL AND substr({column}, 1, {n}) "
            f"BETWEEN substr({lo}, 1, {n}) AND substr({hi}, 1, {n}))")


def in_days(column: str, first: str, after_last: str) -> str:
    """SQL: the ISO date or date-time in `column` falls on a day in [first, after_last); can use an index."""
    return f"({column} >= {first} AND {column} < {after_last})"


@dataclass(frozen=True)
class Indicator:
    name: str
    label: str              # as people read it: "Open pubs and bars"
    source: str
    condition: str          # SQL over record alias r: which records count
    measure: str = "1"      # SQL: what a counted record adds to the numerator
    excluded: str = ""      # SQL: counted records left out of the numerator (reported as excluded_non_gbp)
    window: str = ""        # "window" (grants_window_days before now..now) or "since" (a date..now); stored with the row
    since: str = ""         # a "since" indicator's setting giving its first date (its source declares it)
    unit: str = "count"     # "gbp" for money
    dated_by: str = ""      # the record column a windowed indicator's dates come from
    noun: str = "records"   # what an empty window holds none of
    more_is_worse: bool = False   # closures: a left-behind rate above England's is the bad gap
    # Only records the latest healthy crawl listed count (:crawl_id): a list re-published whole, where a record it
    # no longer lists must not count as open for ever.
    listed_in_latest: bool = False

    def where(self, table: str) -> str:
        """Return SQL over the record r of `table`: the indicator's condition, with the latest-crawl test if any."""
        if not self.listed_in_latest:
            return self.condition
        return f"{self.condition} AND {seen.last_crawl(table)} = :crawl_id"


CLOSED_IN_WINDOW = within("r.closed_at", ":window_from", ":window_to")
