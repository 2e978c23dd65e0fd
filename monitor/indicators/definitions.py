"""The indicators, each defined once: its label, source, unit, whether more is worse, and its SQL.

compute.py tallies them for the area groups, the digest and the CLI table label and format them, and the ward
pages (monitor/web, Datasette's ward_profile query) count a single ward's numerator from the same SQL.
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


GBP = "upper(coalesce(r.currency, '')) = 'GBP'"
PUBS_AND_BARS = "r.venue_kind IN ('pub', 'bar')"       # db/venue_kinds.py PUBS_AND_BARS
MEMBERS_CLUBS = "r.venue_kind = 'members_club'"


@dataclass(frozen=True)
class Indicator:
    name: str
    label: str              # as people read it: "Open pubs and bars"
    source: str
    condition: str          # SQL over record alias r: which records count
    measure: str = "1"      # SQL: what a counted record adds to the numerator
    excluded: str = ""      # SQL: counted records left out of the numerator (reported as excluded_non_gbp)
    window: str = ""        # "window" (from..to) or "since" (library_closures_since..to); stored with the row
    unit: str = "count"     # "gbp" for money
    dated_by: str = ""      # the record column a windowed indicator's dates come from
    noun: str = "records"   # what an empty window holds none of
    more_is_worse: bool = False   # closures: a left-behind rate above England's is the bad gap


WINDOW = in_days("r.award_date", ":window_from", ":window_end")
GBP_AMOUNT = f"CASE WHEN {GBP} THEN r.amount END"
CLOSED_IN_WINDOW = within("r.closed_at", ":window_from", ":window_to")

INDICATORS: tuple[Indicator, ...] = (
    Indicator("mutual_aid_groups_per_100k", "Mutual aid groups", "mutual_aid",
              f"r.status = 'open' AND {seen.last_crawl('groups')} = :crawl_id", noun="groups"),
    Indicator("grants_gbp_per_100k", "Grants, £", "threesixty_giving", WINDOW, measure=GBP_AMOUNT,
              excluded=f"NOT {GBP}", window="window", unit="gbp", dated_by="award_date", noun="grants"),
    Indicator("grants_count_per_100k", "Grants, number", "threesixty_giving", WINDOW, window="window",
              dated_by="award_date", noun="grants"),
    Indicator("covid_grants_gbp_per_100k", "COVID grants, £", "threesixty_giving", "r.covid = 1",
              measure=GBP_AMOUNT, excluded=f"NOT {GBP}", unit="gbp", noun="grants"),
    # Pubs and bars, as ONS counts them; members' clubs (working men's, social, British Legion...) apart.
    Indicator("pubs_per_100k", "Open pubs and bars", "fhrs_pubs", f"r.status = 'open' AND {PUBS_AND_BARS}",
              noun="pubs and bars"),
    Indicator("pub_closures_per_100k", "Pub and bar closures", "fhrs_pubs",
              f"r.status = 'closed' AND {PUBS_AND_BARS} AND {CLOSED_IN_WINDOW}", window="window",
              dated_by="closed_at", noun="pub and bar closures", more_is_worse=True),
    Indicator("social_clubs_per_100k", "Open social clubs", "fhrs_pubs", f"r.status = 'open' AND {MEMBERS_CLUBS}",
              noun="social clubs"),
    Indicator("social_club_closures_per_100k", "Social club closures", "fhrs_pubs",
              f"r.status = 'closed' AND {MEMBERS_CLUBS} AND {CLOSED_IN_WINDOW}", window="window",
              dated_by="closed_at", noun="social club closures", more_is_worse=True),
    # Listed in the latest healthy crawl: the list is re-published whole, and a library it no longer lists (a
    # row of an older layout that matched nothing later) must not count as open forever.
    Indicator("libraries_per_100k", "Open libraries", "libraries",
              f"r.status = 'open' AND {seen.last_crawl('libraries')} = :crawl_id",
              noun="libraries"),
    Indicator("library_closures_per_100k", "Library closures", "libraries",
              "r.status = 'closed' AND " + within("r.closed_at", ":since", ":window_to"), window="since",
              dated_by="closed_at", noun="library closures", more_is_worse=True),
)
BY_NAME = {i.name: i for i in INDICATORS}


def _ward_where(ind: Indicator, table: str, ward: str, window_from: str, window_to: str) -> str:
    """Return the FROM and WHERE of the records that count towards the indicator in one ward."""
    after = f"date({window_to}, '+1 day')"
    condition = (ind.condition.replace(":crawl_id", f"(select max(crawl_id) from scope_runs where source = "
                                                    f"'{ind.source}' and healthy = 1)")
                 .replace(":window_from", window_from).replace(":since", window_from)
                 .replace(":window_end", after).replace(":window_to", window_to))
    return f"from [{table}] r where r.source = '{ind.source}' and r.ward_code = {ward} and {condition}"


def ward_numerator_sql(ind: Indicator, table: str, ward: str, window_from: str, window_to: str) -> str:
    """Return a scalar SQL subquery: the indicator's numerator in one ward, from the definition above.

    ward, window_from and window_to are SQL expressions (parameters or columns): the ward's code and the window
    stored with the indicator's row (for a "since" indicator its window_from is the since date). The latest
    healthy crawl stands for :crawl_id, as in compute.py.
    """
    total = "count(*)" if ind.measure == "1" else f"total({ind.measure})"
    return f"(select {total} {_ward_where(ind, table, ward, window_from, window_to)})"


def ward_tally_sql(ind: Indicator, table: str, ward: str, window_from: str, window_to: str) -> str:
    """Return SQL giving one ward's numerator, record count and Σ measure² (for a money interval), as tally.py."""
    # Records that carry a measure (a grant in pounds): one in another currency adds nothing to the total.
    total = "count(*)" if ind.measure == "1" else f"total({ind.measure})"
    return (f"select {total}, count({ind.measure}), total(({ind.measure}) * ({ind.measure})) "
            f"{_ward_where(ind, table, ward, window_from, window_to)}")


def ward_numerators_case(tables: dict[str, str]) -> str:
    """Return the CASE over figures f (indicator, wf, wt) that gives the ward's numerator: ward_profile.sql's."""
    whens = "\n".join(f"        when '{ind.name}' then {ward_numerator_sql(ind, tables[ind.source], ':ward', 'f.wf', 'f.wt')}"
                       for ind in INDICATORS)
    return f"case f.indicator\n{whens}\n        end"
