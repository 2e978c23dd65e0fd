"""Changes and closures after a crawl: events from healthy scopes only, and closures you can trust.

For every HEALTHY scope of a crawl (monitor/health.py judged it):
  new       a record first stored since the scope's previous healthy crawl;
  changed   a record with a new version since then (evidence: the fields that changed);
  closed    the source says it closed (closed_by 'source', closed_at = the source's date or now), or, for
            sources that close by absence (pubs), it was missing from `closure_missing_crawls` consecutive
            healthy crawls of its scope (closed_by 'absence', closed_at = now);
  reopened  a record closed by absence seen again, or one the source had closed that the source now lists as
            open: the closure is retracted (status open, closed_at NULL).
An unhealthy scope changes nothing. Events of a scope's first healthy crawl are `baseline` (counted, never
alerted). All work is set-based SQL, so a crawl of 100k grants costs a few statements, not 100k loops.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import sqlite_utils

from monitor import changed_hands

# Source -> record table. Sources not listed are looked up among the record tables.
SOURCE_TABLES = {"fhrs_pubs": "pubs", "libraries": "libraries", "library_news": "news_mentions",
                 "mutual_aid": "groups", "threesixty_giving": "grants"}
# Tables whose records close when they go missing; the others close only when their source says so.
CLOSE_BY_ABSENCE = {"pubs"}
RECORD_TABLES = ("groups", "grants", "pubs", "libraries", "news_mentions")


def table_for(db: sqlite_utils.Database, source: str) -> str | None:
    """Return the record table a source writes to."""
    if source in SOURCE_TABLES:
        return SOURCE_TABLES[source]
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


def apply_crawl(db: sqlite_utils.Database, crawl_id: int, settings: dict, now: str) -> list[int]:
    """Derive events and closures from one finished crawl; return the new event ids."""
    crawl = db["crawl_runs"].get(crawl_id)
    source = crawl["source"]
    table = table_for(db, source)
    if table is None:
        return []
    first_event = (db.execute("select max(id) from events").fetchone()[0] or 0) + 1
    scopes = db.execute("select scope from scope_runs where crawl_id = ? and healthy = 1 order by scope",
                        [crawl_id]).fetchall()
    with db.conn:
        for (scope,) in scopes:
            ScopeStep(db, table, source, scope, crawl_id, settings, now).run()
        date_closures(db, table, crawl_id, settings, now)
    return [r[0] for r in db.execute("select id from events where id >= ? and crawl_id = ? order by id",
                                     [first_event, crawl_id]).fetchall()]


class ScopeStep:
    """The changes and closures of one healthy scope of one crawl."""

    def __init__(self, db, table: str, source: str, scope: str, crawl_id: int, settings: dict, now: str):
        self.db, self.table, self.source, self.scope, self.crawl_id, self.now = db, table, source, scope, crawl_id, now
        self.missing_limit = int(settings.get("closure_missing_crawls", 2))
        self.window_weeks = float(settings.get("changed_hands_window_weeks", 12))
        previous = healthy_crawls_of_scope(db, source, scope, crawl_id - 1, 1)
        self.previous_healthy = previous[0] if previous else 0
        self.baseline = int(not previous)
        columns = db[table].columns_dict
        self.lad = "coalesce(w.lad_code, r.lad_code)" if "lad_code" in columns else "w.lad_code"
        self.news_evidence = "signal" in columns

    def run(self) -> None:
        self.new_records()
        self.changed_records()
        self.closed_by_source()
        self.reopened()
        self.db.execute(f"update [{self.table}] set missing_count = 0 where source = ? and scope = ? "
                        "and last_crawl_id = ?", [self.source, self.scope, self.crawl_id])
        if self.table in CLOSE_BY_ABSENCE:
            changed_hands.supersede_closures(self, self.window_weeks)
            self.closed_by_absence()

    def _emit(self, kind: str, evidence_sql: str, where: str, params: list, evidence_params: tuple = ()) -> None:
        """Insert one event per record matching `where` (records of this scope), in one statement."""
        self.db.execute(f"""
            insert into events (kind, source, record_id, ref, name, ward_code, lad_code, at, crawl_id, evidence,
                                baseline)
            select ?, r.source, r.id, r.ref, r.name, r.ward_code, {self.lad}, ?, ?, {evidence_sql}, ?
            from [{self.table}] r left join wards w on w.code = r.ward_code
            where r.source = ? and r.scope = ? and {where}
            order by r.id""", [kind, self.now, self.crawl_id, *evidence_params, self.baseline, self.source, self.scope,
                               *params])

    def _seen(self) -> str:
        return f"r.last_crawl_id = {int(self.crawl_id)}"

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
        where = f"{self._seen()} and r.source_status = 'closed' and coalesce(r.status, 'open') != 'closed'"
        self._emit("closed", "json_object('rule', 'the source says it closed', 'year_closed', r.source_closed_at)",
                   where, [])
        self.db.execute(f"""update [{self.table}] as r set status = 'closed', closed_by = 'source',
                            closed_at = coalesce(source_closed_at, ?)
                            where source = ? and scope = ? and {where}""", [self.now, self.source, self.scope])
        # The source may date a closure it already reported (no year in 2016, "2015" later): follow its date.
        self.db.execute(f"""update [{self.table}] as r set closed_at = source_closed_at
                            where source = ? and scope = ? and {self._seen()} and status = 'closed'
                              and closed_by = 'source' and source_status = 'closed'
                              and source_closed_at is not null and closed_at != source_closed_at""",
                        [self.source, self.scope])

    def reopened(self) -> None:
        where = (f"{self._seen()} and r.status = 'closed' and (r.closed_by = 'absence' or "
                 "(r.closed_by = 'source' and coalesce(r.source_status, 'open') != 'closed'))")
        self._emit("reopened", "json_object('rule', 'listed again by the source', 'closed_by', r.closed_by, "
                               "'closed_at', r.closed_at)", where, [])
        self.db.execute(f"""update [{self.table}] as r set status = 'open', closed_at = null, closed_by = null
                            where source = ? and scope = ? and {where}""", [self.source, self.scope])

    def closed_by_absence(self) -> None:
        missing = "coalesce(r.last_crawl_id, 0) < ? and coalesce(r.status, 'open') = 'open'"
        self.db.execute(f"""update [{self.table}] as r set missing_count = coalesce(missing_count, 0) + 1
                            where source = ? and scope = ? and {missing}""",
                        [self.source, self.scope, self.crawl_id])
        crawls = sorted(healthy_crawls_of_scope(self.db, self.source, self.scope, self.crawl_id,
                                                self.missing_limit))
        rule = f"missing from {self.missing_limit} consecutive healthy crawls of {self.scope}"
        where = f"{missing} and r.missing_count >= ?"
        params = [self.crawl_id, self.missing_limit]
        changed_hands.changed_instead_of_closed(self, where, params)   # those leave status 'open': not closed
        self._emit("closed", "?", where, params, (json.dumps({"rule": rule, "crawl_ids": crawls}),))
        self.db.execute(f"""update [{self.table}] as r set status = 'closed', closed_by = 'absence', closed_at = ?
                            where source = ? and scope = ? and {where}""",
                        [self.now, self.source, self.scope, *params])


def date_closures(db, table: str, crawl_id: int, settings: dict, now: str) -> None:
    """Give the crawl's closure events the source's own date, and flag those older than backfill_days."""
    cutoff = (datetime.fromisoformat(now) - timedelta(days=int(settings.get("backfill_days", 90)))).date()
    db.execute(f"""update events set closed_on = coalesce(
                       (select r.closed_at from [{table}] r where r.id = events.record_id), substr(at, 1, 10))
                   where crawl_id = ? and kind = 'closed'""", [crawl_id])
    # A year alone ("2015") may mean any day of it: it is old news only when all of the year is before the cutoff.
    db.execute("""update events set backfill = (case when length(closed_on) = 4 then closed_on || '-12-31'
                                                     else substr(closed_on, 1, 10) end) < ?
                  where crawl_id = ? and kind = 'closed'""", [cutoff.isoformat(), crawl_id])


# Bookkeeping that changes on every crawl is not a change of the record.
_NOT_CONTENT = {"content_hash", "last_seen_at", "last_crawl_id", "first_seen_at", "first_crawl_id", "status",
                "closed_at", "closed_by", "missing_count", "source_url", "geo_method", "geo_reason"}


def changed_fields(old_json: str | None, new_json: str | None) -> dict[str, list]:
    """Return {field: [old, new]} for the fields that differ between two stored versions."""
    if not old_json or not new_json:
        return {}
    old, new = json.loads(old_json), json.loads(new_json)
    return {k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new))
            if k not in _NOT_CONTENT and old.get(k) != new.get(k)}
