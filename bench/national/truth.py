"""What was planted, and what the monitor found: events and unhealthy scopes compared, week by week."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

# Event kinds the monitor derives from records; baseline events (a scope's first healthy crawl) are not news.
RECORD_EVENTS = ("new", "changed", "closed", "reopened", "changed_hands", "announced", "source_failing")
NAMED_BY_NAME = {"libraries"}   # sources whose refs the identity pipeline assigns: planted and found by name


@dataclass
class Truth:
    """Planted events as (kind, source, ref, week) and planted unhealthy scopes as (source, scope, week)."""
    events: set[tuple[str, str, str, int]] = field(default_factory=set)
    unhealthy: set[tuple[str, str, int]] = field(default_factory=set)
    silent: dict[str, set[str]] = field(default_factory=dict)   # label -> record ids that must raise no event

    def plant(self, kind: str, source: str, ref, week: int) -> None:
        self.events.add((kind, source, str(ref), week))


def found_events(db, weeks: dict[int, int]) -> set[tuple[str, str, str, int]]:
    """Return the monitor's news events as (kind, source, ref, week); weeks maps crawl id -> week."""
    rows = db.execute(f"""select kind, source, ref, name, crawl_id from events where coalesce(baseline, 0) = 0
                          and kind in ({",".join("?" * len(RECORD_EVENTS))})""", RECORD_EVENTS).fetchall()
    return {(kind, source, str(name if source in NAMED_BY_NAME else ref), weeks.get(crawl_id, 0))
            for kind, source, ref, name, crawl_id in rows}


def found_unhealthy(db, weeks: dict[int, int]) -> set[tuple[str, str, int]]:
    rows = db.execute("select source, scope, crawl_id from scope_runs where healthy = 0").fetchall()
    return {(source, scope, weeks.get(crawl_id, 0)) for source, scope, crawl_id in rows}


def silent_broken(db, truth: Truth) -> dict[str, int]:
    """Return, per silent group, how many of its records raised a news event (each must raise none)."""
    out = {}
    for label, ids in truth.silent.items():
        hits = 0
        for chunk in range(0, len(ids), 500):
            part = sorted(ids)[chunk:chunk + 500]
            hits += db.execute(f"select count(distinct record_id) from events where coalesce(baseline, 0) = 0 "
                               f"and record_id in ({','.join('?' * len(part))})", part).fetchone()[0]
        out[label] = hits
    return out


def compare(db, truth: Truth, weeks: dict[int, int]) -> dict:
    """Return planted and found per kind, and the false and missed ones (a few examples of each)."""
    events, scopes = found_events(db, weeks), found_unhealthy(db, weeks)
    planted, found = Counter(), Counter()
    for kind, source, _, _ in truth.events:
        planted[f"{source}/{kind}"] += 1
    for kind, source, _, _ in truth.events & events:
        found[f"{source}/{kind}"] += 1
    for source, _, _ in truth.unhealthy:
        planted[f"{source}/unhealthy"] += 1
    for source, _, _ in truth.unhealthy & scopes:
        found[f"{source}/unhealthy"] += 1
    broken = silent_broken(db, truth)
    for label in truth.silent:
        planted[label] += 1
        found[label] += int(broken[label] == 0)
    false = sorted(events - truth.events) + sorted(scopes - truth.unhealthy)
    missed = sorted(truth.events - events) + sorted(truth.unhealthy - scopes)
    missed += [label for label, hits in broken.items() if hits]
    return {"planted": dict(sorted(planted.items())), "found": dict(sorted(found.items())),
            "false": len(false), "missed": len(missed), "false_examples": [list(x) for x in false[:10]],
            "missed_examples": [list(x) if isinstance(x, tuple) else x for x in missed[:10]]}
