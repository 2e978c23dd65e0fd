"""Alerts: after a crawl, one message per subscriber with the new events in the wards they watch."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import sqlite_utils

from db.store import left_behind_wards
from monitor.delivery import outbox, subscriptions
from monitor.delivery.mailer import compose, transport_from_settings
from monitor.reports.event_lines import EventLine, datasette_base, event_line, sort_lines
from monitor.reports.rendering import render_pair
from spiders import registry

ALERT_KINDS = ("closed", "announced", "reopened", "new", "changed_hands")   # 'changed' is noise for a subscriber; source failures go to the operator


@dataclass
class AlertContext:
    subject: str
    email: str
    watching: str
    lines: list[EventLine]
    counts: dict[str, int]
    licences: list[str]
    unsubscribe_url: str
    events_link: str
    now: str


def crawl_events(db: sqlite_utils.Database, crawl_id: int) -> list[dict]:
    """Return the crawl's alertable events; baseline events (a scope's first healthy crawl) never alert."""
    marks = ",".join("?" * len(ALERT_KINDS))
    # A register venue's kind decides which subscribers it reaches (a 'pub' subscriber is not told of golf clubs).
    # Backfill: a closure the source dates long ago is not news; it is counted, not alerted.
    return list(db.query(f"select e.*, p.venue_kind from events e left join pubs p on p.id = e.record_id "
                         f"where e.crawl_id = ? and coalesce(e.baseline, 0) = 0 "
                         f"and coalesce(e.backfill, 0) = 0 and e.kind in ({marks}) order by e.id",
                         [crawl_id, *ALERT_KINDS]))


def _left_behind_wards(db: sqlite_utils.Database) -> set[str]:
    return {r["code"] for r in db.query("select code from wards where left_behind = 1")}


def _lads_of(db: sqlite_utils.Database, wards: list[str]) -> set[str]:
    if not wards:
        return set()
    marks = ",".join("?" * len(wards))
    return {r["lad_code"] for r in db.query(f"select distinct lad_code from wards where code in ({marks})", wards)}


def matches(sub: subscriptions.Subscription, event: dict, left_behind: set[str], sub_lads: set[str]) -> bool:
    """Say whether an event falls in what a subscription watches."""
    if event["source"] not in sub.sources:
        return False
    if event.get("venue_kind") and event["venue_kind"] not in sub.venue_kinds:
        return False   # a venue not yet classified reaches every subscriber to the register, not none
    ward, lad = event.get("ward_code"), event.get("lad_code")
    if ward and (ward in sub.wards or (sub.left_behind and ward in left_behind)):
        return True
    if lad and lad in sub.lad_codes:
        return True
    # News is often placed only in an authority: it reaches those watching a ward of that authority.
    return bool(not ward and lad and _reports_only(event["source"]) and lad in sub_lads)


def _was_told(private_db, sub, event: dict, told: dict[int, set[int]]) -> bool:
    """A correction (a closure that was a change of hands) goes only to those whose alert told of the closure."""
    if event["kind"] != "changed_hands":
        return True
    try:
        closure = json.loads(event.get("evidence") or "{}").get("supersedes_closure")
    except ValueError:
        closure = None
    if closure is None:
        return True    # a change of hands of a venue never reported closed: news like any other
    if closure not in told:
        told[closure] = {int(k.split(":")[1]) for k in outbox.told_of(private_db, closure)}
    return sub.id in told[closure]


def _reports_only(source: str) -> bool:
    registered = registry.source(source)
    return bool(registered and registered.closure_rule == "reports")


def alert_subject(lines: list[EventLine]) -> str:
    """Name the most important event's place and ward, and how many more there are."""
    first = lines[0]
    lb = " (left-behind ward)" if first.left_behind else ""
    more = f", and {len(lines) - 1} more" if len(lines) > 1 else ""
    return f"{first.kind_label}: {first.name} — {first.place}{lb}{more}"


def _watching(db, sub) -> str:
    """Describe what a subscriber watches with ward names, not codes."""
    names = [f"{r['name']} ({r['lad_name']})" for r in db.query(
        "select name, lad_name from wards where code in (select value from json_each(?)) order by name",
        [json.dumps(sub.wards)])]
    parts = ([f"all {left_behind_wards(db)} left-behind wards"] if sub.left_behind else []) + names[:6]
    if len(names) > 6:
        parts.append(f"{len(names) - 6} more wards")
    lads = [r["lad_name"] for r in db.query("select distinct lad_name from wards where lad_code in "
                                            "(select value from json_each(?))", [json.dumps(sub.lad_codes)])]
    parts += [f"all of {name}" for name in lads]
    return ", ".join(parts)


def build_alert(db, settings: dict, sub, lines: list[EventLine], now, base: str) -> AlertContext:
    """Assemble the typed context of one subscriber's alert."""
    counts = Counter(line.kind for line in lines)
    licences = sorted({line.licence or _credit(line.source) for line in lines} - {""})
    event_ids = sorted(line.event_id for line in lines)
    return AlertContext(subject=alert_subject(lines), email=sub.email, watching=_watching(db, sub), lines=lines,
                        counts=dict(counts), licences=licences,
                        unsubscribe_url=subscriptions.unsubscribe_url(settings, sub),
                        events_link=f"{base}/events?id__in={','.join(map(str, event_ids))}",
                        now=outbox.to_datetime(now).strftime("%d %B %Y"))


def queue_alerts(db, private_db, settings: dict, crawl_id: int, now, stats: Counter) -> int:
    """Write one alert per subscriber with matching events into the outbox; return how many were queued."""
    events = crawl_events(db, crawl_id)
    stats["alerts/events"] += len(events)
    if not events:
        return 0
    base = datasette_base(db, settings)
    left_behind = _left_behind_wards(db)
    lines_by_event: dict[int, EventLine] = {}
    told: dict[int, set[int]] = {}   # closure event id -> the subscriptions its alert went to
    messages = []
    for sub in subscriptions.active(private_db):
        key = f"alert:{sub.id}:{crawl_id}"
        if outbox.already_queued(private_db, key):
            stats["alerts/already_queued"] += 1
            continue
        sub_lads = _lads_of(db, sub.wards)
        mine = [e for e in events if matches(sub, e, left_behind, sub_lads) and _was_told(private_db, sub, e, told)]
        if not mine:
            continue
        lines = sort_lines([lines_by_event.setdefault(e["id"], event_line(db, e, base)) for e in mine])
        stats["alerts/names_cleaned"] += sum(line.name_cleaned for line in lines)
        ctx = build_alert(db, settings, sub, lines, now, base)
        html, text = render_pair("alert", c=ctx)
        message_id, data = compose(mail_from=settings["mail_from"], to=sub.email, subject=ctx.subject, text=text,
                                   html=html, now=outbox.to_datetime(now), unsubscribe_url=ctx.unsubscribe_url,
                                   stats=stats)
        messages.append({"message_id": message_id, "dedupe_key": key, "kind": "alert", "recipient": sub.email,
                         "subject": ctx.subject, "message": data, "event_ids": [e["id"] for e in mine]})
    queued = outbox.enqueue(private_db, messages, now)
    stats["alerts/queued"] += queued
    return queued


def send_alerts(db, private_db, settings: dict, crawl_id: int, now, transport=None,
                stats: Counter | None = None) -> int:
    """Queue the crawl's alerts and deliver everything due in the outbox; return messages sent."""
    stats = Counter() if stats is None else stats
    queue_alerts(db, private_db, settings, crawl_id, now, stats)
    transport = transport or transport_from_settings(settings)
    sent = outbox.deliver_due(private_db, transport, settings, now, stats=stats)
    outbox.record_run(private_db, "alerts", now, stats, crawl_id=crawl_id)
    return sent


def _credit(source: str) -> str:
    registered = registry.source(source)
    return registered.credit if registered else ""
