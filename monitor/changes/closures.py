"""Changes and closures after a crawl: events from healthy scopes only, and closures you can trust.

For every HEALTHY scope of a crawl (monitor/changes/health.py judged it):
  new       a record first stored since the scope's previous healthy crawl;
  changed   a record with a new version since then whose name, address, postcode or ward changed (evidence:
            those fields; a field given on one side only is the source's layout, not a change);
  closed    the source says it closed, dated no later than this crawl (closed_by 'source', closed_at = the
            source's date or now; a list's "closed" with no date is closed within its window), or, for
            sources that close by absence (pubs), it was missing from `closure_missing_crawls` consecutive
            healthy crawls of its scope (closed_by 'absence', closed_at = now);
  reopened  a record closed by absence seen again, or one the source had closed that the source now lists as
            open: the closure is retracted (status open, closed_at NULL).
  changed_hands  a venue that would close by absence while a new record at the same normalised address and
            postcode appeared since it vanished: one venue under a new registration, not a closure (status
            changed_hands; the two records link by succeeds / succeeded_by). A new registration at the address of
            a venue closed by absence within `changed_hands_weeks` supersedes that closure the same way, and the
            event (evidence: supersedes_closure) goes out as a correction (monitor/changes/changed_hands.py).
  announced a closure the source dates after this crawl ("2024" in a list of December 2023), or a temporary
            closure: a warning, never counted closed (status stays open); it becomes `closed` when a later healthy
            list shows the place closed after that date, or it goes missing. Told once per announcement.
Every closure, reopening and announcement carries its observation window (window_from: the last date the source
showed the place as it was; window_to: the first date it showed otherwise) and the source's own date (closed_on).
It is `backfill` when the source's date, or where it gives none the window's start, lies more than
`backfill_days` before the crawl: counted at its date in the indicators, never alerted, never this week's
headline ("closed between 2016-07 and 2021-01"). What the step resolved between lists that disagreed is added
to the crawl's stats (resolved/*).
An unhealthy scope changes nothing. Events of a scope's first healthy crawl are `baseline` (counted, never
alerted). All work is set-based SQL, so a crawl of 100k grants costs a few statements, not 100k loops.
"""
from __future__ import annotations

import json
from collections import Counter

import sqlite_utils

from db import seen
from db.schema import RECORD_TABLES
from monitor.changes import venue_identity
from monitor.changes.changed_fields import changed_fields
from monitor.changes.changed_hands import ChangedHands
from spiders import registry


# When did a venue missing from the lists close? For a source crawled daily (pubs), when the closure is concluded;
# for one listed years apart (libraries: dated_by_first_missing), by the first list that no longer had it (older
# ones are then backfill).
def first_missing(table: str) -> str:
    return f"""(select substr(min(c.now), 1, 10) from scope_runs s join crawl_runs c on c.id = s.crawl_id
                where s.source = r.source and s.scope = r.scope and s.healthy = 1
                  and s.crawl_id > {seen.last_crawl(table)})"""


def table_for(db: sqlite_utils.Database, source: str) -> str | None:
    """Return the record table a source writes to (the registry's; else where its records are, if anywhere)."""
    if registered := registry.source(source):
        return registered.table
    for table in RECORD_TABLES:
        if db[table].exists() and db.execute(f"select 1 from [{table}] where source = ? limit 1",
                                             [source]).fetchone():
            return table
    return None


def healthy_crawls_of_scope(db, source: str, scope: str, up_to_crawl: int, limit: int) -> list[int]:
    """Return the ids of the last `limit` healthy crawls of a scope, newest first, up to a crawl."""
    rows = db.execute("select crawl_id from scope_runs where source = ? and scope = ? and healthy = 1 "
                      "and crawl_id <= ? order by crawl_id desc limit ?", [source, scope, up_to_crawl, limit])
    return [r[0] for r in rows.fetchall()]


def applied_healthy_crawls(db, source: str, scope: str, up_to_crawl: int, limit: int) -> list[int]:
    """Like healthy_crawls_of_scope, but only crawls whose events were derived (a crawl killed before that is
    no baseline: the records it first stored get their `new` events from the next crawl)."""
    rows = db.execute("select s.crawl_id from scope_runs s join crawl_runs c on c.id = s.crawl_id "
                      "where s.source = ? and s.scope = ? and s.healthy = 1 and s.crawl_id <= ? "
                      "and c.applied_at is not null order by s.crawl_id desc limit ?",
                      [source, scope, up_to_crawl, limit])
    return [r[0] for r in rows.fetchall()]


def apply_crawl(db: sqlite_utils.Database, crawl_id: int, settings: dict, now: str) -> list[int]:
    """Derive events and closures from one finished crawl; return the new event ids."""
    crawl = db["crawl_runs"].get(crawl_id)
    source = crawl["source"]
    table = table_for(db, source)
    if table is None or crawl.get("applied_at"):
        return []
    first_event = (db.execute("select max(id) from events").fetchone()[0] or 0) + 1
    scopes = db.execute("select scope from scope_runs where crawl_id = ? and healthy = 1 order by scope",
                        [crawl_id]).fetchall()
    counts: Counter = Counter()
    with db.conn:
        for (scope,) in scopes:
            ScopeStep(db, table, source, scope, crawl_id, settings, now, counts).run()
        db.execute("update crawl_runs set applied_at = ? where id = ?", [now, crawl_id])
        record_counts(db, crawl_id, counts)
    return [r[0] for r in db.execute("select id from events where id >= ? and crawl_id = ? order by id",
                                     [first_event, crawl_id]).fetchall()]


def record_counts(db, crawl_id: int, counts: Counter) -> None:
    """Add what the closures step resolved (lists that disagreed) to the crawl's stats, for source health."""
    counts = +counts
    if not counts:
        return
    row = db.execute("select stats from crawl_runs where id = ?", [crawl_id]).fetchone()
    stats = json.loads((row[0] if row else None) or "{}")
    for key, n in counts.items():
        stats[key] = stats.get(key, 0) + n
    db.execute("update crawl_runs set stats = ? where id = ?", [json.dumps(stats, sort_keys=True), crawl_id])


class ScopeStep(ChangedHands):
    """The changes and closures of one healthy scope of one crawl."""

    def __init__(self, db, table: str, source: str, scope: str, crawl_id: int, settings: dict, now: str,
                 counts: Counter | None = None):
        self.db, self.table, self.source, self.scope, self.crawl_id, self.now = db, table, source, scope, crawl_id, now
        self.missing_limit = int(settings.get("closure_missing_crawls", 2))
        previous = applied_healthy_crawls(db, source, scope, crawl_id - 1, 1)
        self.previous_healthy = previous[0] if previous else 0
        self.baseline = int(not previous)
        columns = db[table].columns_dict
        self.lad = "coalesce(w.lad_code, r.lad_code)" if "lad_code" in columns else "w.lad_code"
        self.news_evidence = "signal" in columns
        self.has_address = {"address", "postcode", "succeeds"} <= set(columns)
        self.backfill_days = int(settings.get("backfill_days", 90))
        self.hands_weeks = int(settings.get("changed_hands_weeks", 12))
        registered = registry.source(source)
        self.by_absence = bool(registered and registered.closes_by_absence)   # the spider's closure_rule
        self.dated_by_first_missing = bool(registered and registered.dated_by_first_missing)
        self.counts = counts if counts is not None else Counter()
        # Observation windows: the last date a list showed the record as it was (libraries keep it per record).
        self.tracks_state = {"listed_state_at", "announced"} <= set(columns)
        self.state_since = "substr(r.listed_state_at, 1, 10)" if self.tracks_state else "null"
        self.today = now[:10]
        before = db.execute("select substr(now, 1, 10) from crawl_runs where id = ?", [self.previous_healthy]
                            ).fetchone()
        self.previous_date = f"'{before[0]}'" if before and before[0] else "null"
        # A closure the source dates after this list, or a temporary one, is announced, not made.
        self.announcing = (f"(r.source_status = 'temporarily_closed' or (r.source_status = 'closed' "
                           f"and lbm_after(r.source_closed_at, '{now}')))")
        self.closed_now = f"(r.source_status = 'closed' and not lbm_after(r.source_closed_at, '{now}'))"
        venue_identity.register(db.conn)

    def run(self) -> None:
        self.new_records()
        if self.by_absence and self.has_address:
            self.supersede_recent_closures()
        self.changed_records()
        self.closed_by_source()
        self.reopened()
        if self.tracks_state:
            self.announced()
        self.db.execute(f"update [{self.table}] as r set missing_count = 0 where source = ? and scope = ? "
                        f"and {self._seen()} and missing_count != 0", [self.source, self.scope])
        if self.by_absence:
            self.closed_by_absence()
        if self.tracks_state:   # the start of the next observation window of everything this list showed
            self.db.execute(f"update [{self.table}] as r set listed_state_at = ? where source = ? and scope = ? "
                            f"and {self._seen()}", [self.now, self.source, self.scope])

    def _emit(self, kind: str, evidence_sql: str, where: str, params: list, evidence_params: tuple = (),
              closed_on: str = "null", backfill: str = "0", window: tuple[str, str] = ("null", "null")) -> None:
        """Insert one event per record matching `where` (records of this scope), in one statement."""
        self.db.execute(f"""
            insert into events (kind, source, record_id, ref, name, ward_code, lad_code, at, crawl_id, evidence,
                                baseline, closed_on, backfill, window_from, window_to)
            select ?, r.source, r.id, r.ref, r.name, r.ward_code, {self.lad}, ?, ?, {evidence_sql}, ?,
                   {closed_on}, {backfill}, {window[0]}, {window[1]}
            from [{self.table}] r left join wards w on w.code = r.ward_code
            where r.source = ? and r.scope = ? and {where}
            order by r.id""", [kind, self.now, self.crawl_id, *evidence_params, self.baseline, self.source, self.scope,
                               *params])

    def _backfill(self, source_date: str, window_from: str) -> str:
        return f"lbm_backfill({source_date}, {window_from}, '{self.now}', {self.backfill_days})"

    def _seen(self) -> str:
        return f"{seen.last_crawl(self.table)} = {int(self.crawl_id)}"

    def new_records(self) -> None:
        # Records first stored in an unhealthy crawl since the last healthy one are new now, not lost.
        evidence = "json_object('rule', 'first seen in this crawl', 'first_crawl_id', r.first_crawl_id"
        if self.news_evidence:
            evidence += ", 'signal', r.signal, 'post_url', r.post_url, 'reported', 1"
        self._emit("new", evidence + ")", f"{self._seen()} and r.first_crawl_id > ?", [self.previous_healthy])

    def changed_records(self) -> None:
        rows = self.db.execute(f"""
            select r.id, (select v.data from versions v where v.record_id = r.id and v.crawl_id <= ?
                          order by v.id desc limit 1),
                         (select v.data from versions v where v.record_id = r.id and v.crawl_id <= ?
                          order by v.id desc limit 1)
            from [{self.table}] r
            where r.source = ? and r.scope = ? and {self._seen()} and r.first_crawl_id <= ?
              and exists (select 1 from versions v where v.record_id = r.id and v.crawl_id > ?
                          and v.crawl_id <= ?)""",
            [self.crawl_id, self.previous_healthy, self.source, self.scope, self.previous_healthy,
             self.previous_healthy, self.crawl_id]).fetchall()
        for record_id, new, old in rows:
            fields = changed_fields(old, new)
            if fields:
                self._emit("changed", "?", "r.id = ?", [record_id], (json.dumps({"fields": fields}),))

    def closed_by_source(self) -> None:
        where = f"{self._seen()} and {self.closed_now} and coalesce(r.status, 'open') != 'closed'"
        self._emit("closed", "json_object('rule', 'the source says it closed', 'year_closed', r.source_closed_at)",
                   where, [], closed_on="r.source_closed_at", backfill=self._backfill("r.source_closed_at",
                                                                                     self.state_since),
                   window=(self.state_since, f"'{self.today}'"))
        extra = ", announced = null" if self.tracks_state else ""
        self.db.execute(f"""update [{self.table}] as r set status = 'closed', closed_by = 'source',
                            closed_at = coalesce(source_closed_at, ?){extra}
                            where source = ? and scope = ? and {where}""", [self.now, self.source, self.scope])
        # The source may date a closure it already reported (no year in 2021, "2015" in 2023): follow its date.
        self.counts["resolved/closure_redated_by_newer_list"] += self.db.execute(
            f"""update [{self.table}] as r set closed_at = source_closed_at
                where source = ? and scope = ? and {self._seen()} and status = 'closed'
                  and closed_by = 'source' and source_status = 'closed'
                  and source_closed_at is not null and closed_at != source_closed_at""",
            [self.source, self.scope]).rowcount

    def reopened(self) -> None:
        where = (f"{self._seen()} and r.status = 'closed' and (r.closed_by = 'absence' or "
                 "(r.closed_by = 'source' and coalesce(r.source_status, 'open') != 'closed'))")
        # Last seen closed: for a closure by absence, the last healthy crawl it was missing from.
        since = f"case when r.closed_by = 'absence' then {self.previous_date} else {self.state_since} end"
        self.counts["resolved/reopened_by_newer_list"] += self.db.execute(
            f"select count(*) from [{self.table}] r where r.source = ? and r.scope = ? and {where} "
            "and r.closed_by = 'source'", [self.source, self.scope]).fetchone()[0]
        self._emit("reopened", "json_object('rule', 'listed again by the source', 'closed_by', r.closed_by, "
                               "'closed_at', r.closed_at)", where, [], backfill=self._backfill("null", since),
                   window=(since, f"'{self.today}'"))
        self.db.execute(f"""update [{self.table}] as r set status = 'open', closed_at = null, closed_by = null
                            where source = ? and scope = ? and {where}""", [self.source, self.scope])

    def announced(self) -> None:
        """A closure the source dates after this list, or a temporary closure: a warning, never counted closed."""
        future = f"lbm_after(r.source_closed_at, '{self.now}')"
        text = (f"case when {future} then 'to close in ' || r.source_closed_at else 'temporarily closed' end || "
                f"case when {future} and r.source_status = 'temporarily_closed' then ' (temporary closure)' "
                "else '' end")
        where = f"{self._seen()} and {self.announcing} and coalesce(r.announced, '') != {text}"
        rule = (f"case when {future} then 'the source dates the closure after this list' "
                "else 'the source lists a temporary closure' end")
        evidence = f"json_object('rule', {rule}, 'announced', {text}, 'date_given', r.source_closed_at)"
        self._emit("announced", evidence, where, [], closed_on="r.source_closed_at",
                   backfill=self._backfill("r.source_closed_at", self.state_since),
                   window=(self.state_since, f"'{self.today}'"))
        self.db.execute(f"update [{self.table}] as r set announced = {text} where source = ? and scope = ? "
                        f"and {where}", [self.source, self.scope])
        self.db.execute(f"update [{self.table}] as r set announced = null where source = ? and scope = ? "
                        f"and {self._seen()} and r.announced is not null and not {self.announcing}",
                        [self.source, self.scope])

    def closed_by_absence(self) -> None:
        missing = f"{seen.last_crawl(self.table)} < ? and coalesce(r.status, 'open') = 'open'"
        self.db.execute(f"""update [{self.table}] as r set missing_count = coalesce(missing_count, 0) + 1
                            where source = ? and scope = ? and {missing}""",
                        [self.source, self.scope, self.crawl_id])
        crawls = sorted(healthy_crawls_of_scope(self.db, self.source, self.scope, self.crawl_id,
                                                self.missing_limit))
        where = f"{missing} and r.missing_count >= ?"
        params = [self.crawl_id, self.missing_limit]
        if self.has_address:
            self.changed_hands(where, params)
        rule = f"missing from {self.missing_limit} consecutive healthy crawls of {self.scope}"
        closed_on = first_missing(self.table) if self.dated_by_first_missing else f"'{self.now[:10]}'"
        last_seen = f"substr({seen.last_seen_at(self.table)}, 1, 10)"
        self._emit("closed", "?", where, params, (json.dumps({"rule": rule, "crawl_ids": crawls}),),
                   closed_on=closed_on, backfill=self._backfill("null", last_seen),
                   window=(last_seen, first_missing(self.table)))
        closed_at = first_missing(self.table) if self.dated_by_first_missing else "?"
        self.db.execute(f"""update [{self.table}] as r set status = 'closed', closed_by = 'absence',
                            closed_at = {closed_at} where source = ? and scope = ? and {where}""",
                        ([] if self.dated_by_first_missing else [self.now]) + [self.source, self.scope, *params])
