"""The typed context the digest templates get: every value already computed and formatted."""
from __future__ import annotations

from dataclasses import dataclass, field

from monitor.reports.event_lines import EventLine


@dataclass
class IndicatorRow:
    indicator: str
    label: str
    unit_note: str                   # "per 100,000 people", with the window when there is one
    left_behind: str
    other_deprived: str
    england: str
    lb_share: str                    # left behind as a share of England, "33%"
    lb_share_change_week: str        # in percentage points
    lb_change_week: str
    lb_change_first: str
    england_change_week: str
    gap_is_bad: bool                 # left behind below England on something good (or above on closures)
    note: str = ""                   # coverage caveat, when the source covers only part of England
    lb_interval: str = ""            # 95% interval of the left-behind rate, "0.02 to 0.31"
    england_interval: str = ""
    reliable: bool = True            # false: too few records, or the interval overlaps England's
    reliability_note: str = ""       # why not reliable: "too few to say: 3 grants (fewer than 20)"
    placed: str = ""                 # share of the source's records placed in a ward, "82% of 3,920 placed"


@dataclass
class SourceHealth:
    source: str
    label: str
    licence: str
    state: str                       # healthy | partial | stale | failing | never
    state_label: str
    summary: str                     # one sentence that never confuses "no news" with "no data"
    last_crawl: str
    last_healthy: str
    coverage: str
    events_this_week: int
    link: str


@dataclass
class EventSection:
    key: str
    title: str
    intro: str
    lines: list[EventLine]
    total: int
    more_link: str

    @property
    def more(self) -> int:
        return max(self.total - len(self.lines), 0)


@dataclass
class DigestContext:
    subject: str
    week_from: str
    week_to: str
    headline: str
    computed_at: str                 # which computation the table shows
    compared_week: str               # the computation it is compared with, or ""
    compared_first: str
    indicators: list[IndicatorRow]
    chart_cid: str | None
    sections: list[EventSection]
    sources: list[SourceHealth]
    links: dict[str, str]
    licences: list[str]
    email: str
    unsubscribe_url: str
    left_behind_wards: int           # from the reference data, not a constant
    notes: list[str] = field(default_factory=list)
