"""The digest's source-health section: each source's last healthy crawl and coverage, so that a quiet week
("no news") is never confused with a source that did not answer ("no data")."""
from __future__ import annotations

import json
from datetime import timedelta

import sqlite_utils

from monitor.delivery.outbox import _iso, to_datetime
from monitor.reports.digest_context import SourceHealth
from monitor.reports.event_lines import table_link
from spiders import registry

STATE_LABELS = {"healthy": "Healthy", "partial": "Partly healthy", "stale": "Out of date", "failing": "Failing",
                "never": "No data yet", "archived": "Archived"}


def _stale_after(settings: dict, source: str) -> timedelta:
    cron = registry.cron(settings, source) or ""
    weekly = len(cron.split()) == 5 and cron.split()[4] != "*"
    return timedelta(days=8 if weekly else 2)


def _coverage(db: sqlite_utils.Database, source: str, until: str) -> str:
    row = db.execute("""select coverage from indicators i where computed_at = (select max(computed_at) from
                        indicators where computed_at <= ?) and area_group = 'england' and exists (
                        select 1 from crawl_runs c where c.source = ?) order by id""", [until, source]).fetchall()
    for (raw,) in row:
        cov = json.loads(raw or "{}")
        if source in (cov.get("note") or ""):
            share, resolved = cov.get("share_of_group_population"), cov.get("resolved_share")
            parts = []
            if share is not None:
                parts.append(f"{share:.0%} of England's population covered")
            if resolved is not None:
                parts.append(f"{resolved:.0%} of {cov.get('records', 0):,} records placed in a ward")
            return "; ".join(parts)
    return ""


def source_health(db: sqlite_utils.Database, settings: dict, now, week_from: str, base: str) -> list[SourceHealth]:
    """Return one health line per source, judged at `now`."""
    until = _iso(now)
    out = []
    for source, registered in registry.sources().items():
        last = next(iter(db.query("select * from crawl_runs where source = ? and now <= ? "
                                  "order by now desc, id desc limit 1", [source, until])), None)
        healthy_at = db.execute("""select max(c.now) from crawl_runs c where c.source = ? and c.now <= ?
                                   and exists (select 1 from scope_runs s where s.crawl_id = c.id and s.healthy = 1)""",
                                [source, until]).fetchone()[0]
        events = db.execute("select count(*) from events where source = ? and at > ? and at <= ? and "
                            "coalesce(baseline, 0) = 0 and kind != 'source_failing'",
                            [source, week_from, until]).fetchone()[0]
        state, summary = _judge(last, healthy_at, events, to_datetime(now), _stale_after(settings, source))
        summary += _resolved(last)
        frozen = registry.frozen(settings).get(source)
        if frozen and healthy_at and state in ("stale", "failing"):
            state = "archived"
            summary = (f"Archived listing as of {str(frozen.get('last_listing') or healthy_at)[:10]}: its publisher "
                       f"stopped keeping it ({frozen.get('archive_url', 'no archive URL')}). Crawled once or on "
                       "demand, not checked every week; its figures are kept as they were.")
        out.append(SourceHealth(
            source=source, label=registered.label, licence=registered.credit, state=state,
            state_label=STATE_LABELS[state], summary=summary,
            last_crawl=(last or {}).get("now", "")[:10] if last else "never",
            last_healthy=healthy_at[:10] if healthy_at else "never",
            coverage=_coverage(db, source, until) if healthy_at else "no data",
            events_this_week=events, link=table_link(base, "crawl_runs", source=source)))
    return out


def _resolved(last: dict | None) -> str:
    """Say how many disagreements between lists (or within a row) the latest crawl resolved, if any."""
    try:
        stats = json.loads((last or {}).get("stats") or "{}")
    except ValueError:
        return ""
    n = sum(int(v) for k, v in stats.items() if k.startswith("resolved/") and isinstance(v, (int, float)))
    return (f" {n} disagreement{'s' if n != 1 else ''} between lists resolved (the newest healthy list decides)."
            if n else "")


def _judge(last: dict | None, healthy_at: str | None, events: int, now, stale_after: timedelta) -> tuple[str, str]:
    if last is None or healthy_at is None:
        why = last.get("reason") or last.get("status") if last else ""
        reason = f" (last attempt {last['now'][:10]}: {why})" if last else ""
        return "never", f"No healthy crawl yet{reason}: its figures are blank, not zero."
    changes = f"{events} change{'s' if events != 1 else ''} this week" if events else \
        "no changes this week (checked: this is no news, not missing data)"
    if last.get("status") == "failed":
        return "failing", (f"Latest crawl {last['now'][:10]} failed ({last.get('reason') or 'no reason'}); "
                           f"figures still use the healthy crawl of {healthy_at[:10]} and no closures were inferred.")
    if now - to_datetime(healthy_at) > stale_after:
        return "stale", f"Last healthy crawl {healthy_at[:10]} is out of date; figures may lag. {changes.capitalize()}."
    if last.get("status") == "partial":
        return "partial", (f"Crawled {last['now'][:10]}; some authorities failed and keep their last good "
                           f"data. {changes.capitalize()}.")
    return "healthy", f"Crawled {healthy_at[:10]}: {changes}."
