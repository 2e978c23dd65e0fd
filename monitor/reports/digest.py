"""The weekly digest: the indicator table and its chart, the week's events, source health, links into Datasette."""
from __future__ import annotations

import base64
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import sqlite_utils

from db.store import left_behind_wards
from monitor.delivery import outbox, subscriptions
from monitor.delivery.mailer import compose, transport_from_settings
from monitor.reports.chart import gap_chart
from monitor.reports.digest_context import DigestContext, EventSection
from monitor.reports.digest_figures import chart_series, indicator_rows, share_history
from monitor.reports.event_lines import datasette_base, event_line, sort_lines, table_link
from monitor.reports.rendering import render_pair
from monitor.reports.source_health import source_health
from spiders import registry

CHART_CID = "indicator-chart"
SECTION_LIMIT = 25

# Which sources a section shows, by what their spiders declare (spiders/registry.py).
VENUES = "venues"        # sources whose records close by absence: pubs, libraries
REPORTS = "reports"      # news: reports of closures, not closures


def section_sources(which: str) -> tuple[str, ...]:
    """Return the sources a section shows: VENUES, REPORTS, or those writing to a record table."""
    def wanted(s: registry.Source) -> bool:
        if which == VENUES:
            return s.closes_by_absence
        if which == REPORTS:
            return s.closure_rule == "reports"
        return s.table == which
    return tuple(name for name, s in registry.sources().items() if wanted(s))


# key, title, intro, event kind, sources, left-behind wards only, notable records only (an SQL condition over the
# event e with one parameter: the value of the setting its source names, e.g. notable_grant_amount); each source's
# own section of new records, if it has one, follows these (all_sections()).
SECTIONS = (
    ("closures", "Closures", "Closures in left-behind wards first. A venue is closed when its source says so or "
     "when it was missing from consecutive healthy crawls.", "closed", VENUES, False, ("", "")),
    ("changed_hands", "Changed hands", "Not closures: the venue is listed again at the same address under a new "
     "registration (a new operator). Where a closure was reported earlier, this corrects it.", "changed_hands",
     VENUES, False, ("", "")),
    ("announced", "Announced closures", "Warnings, not closures: the list dates a closure after this week, or "
     "lists a temporary closure. Never counted as closed; a later list that shows the place closed makes it one.",
     "announced", VENUES, False, ("", "")),
    ("older", "Newly reported older closures", "Closures the source dates months or years ago, or that happened "
     "between two lists years apart, first listed this week: counted at their own date, not news of this week.",
     "closed", VENUES, False, ("", "")),
    ("reopenings", "Reopenings", "Closures retracted: the venue is listed again.", "reopened",
     VENUES, False, ("", "")),
)


def all_sections() -> tuple:
    """Return the digest's sections: the venues' news, then each source's new records as the source words them."""
    own = tuple((d.get("key", s.name), d["title"], d.get("intro", ""), "new", (s.name,), bool(d.get("left_behind_only")),
                 (d["notable"], d["notable_setting"]) if d.get("notable") else ("", ""))
                for s in registry.ranked() if (d := s.digest_section))
    return SECTIONS + own


def _section_sql(kind: str, sources: tuple, left_behind_only: bool, notable: str,
                 backfill: bool = False) -> tuple[str, list]:
    marks = ",".join("?" * len(sources))
    sql = (f"from events e left join wards w on w.code = e.ward_code where e.at > ? and e.at <= ? "
           f"and coalesce(e.baseline, 0) = 0 and e.kind = ? and e.source in ({marks}) "
           f"and coalesce(e.backfill, 0) = {int(backfill)}")
    params: list = [kind, *sources]
    if left_behind_only:
        sql += " and w.left_behind = 1"
    if notable:
        sql += f" and {notable}"
    return sql, params


def event_sections(db: sqlite_utils.Database, settings: dict, week_from: str, until: str,
                   base: str) -> list[EventSection]:
    """Return the week's events by section, most important first, each capped with a link to the rest."""
    sections = []
    for key, title, intro, kind, which, lb_only, (notable, setting) in all_sections():
        sources = which if isinstance(which, tuple) else section_sources(which)
        sql, params = _section_sql(kind, sources, lb_only, notable, backfill=key == "older")
        amount = float(settings[setting]) if notable else 0.0
        params = [week_from, until, *params] + ([amount] if notable else [])
        total = db.execute(f"select count(*) {sql}", params).fetchone()[0]
        rows = list(db.query(f"select e.* {sql} order by coalesce(w.left_behind, 0) desc, e.at desc, e.id "
                             f"limit {SECTION_LIMIT}", params))
        more_link = table_link(base, "events", kind=kind, at__gt=week_from, baseline=0, source__in=",".join(sources))
        sections.append(EventSection(key, title, intro.format(amount=f"£{amount:,.0f}"),
                                     sort_lines([event_line(db, r, base) for r in rows]), total, more_link))
    return sections


def _headline(sections: list[EventSection]) -> str:
    totals = {s.key: s.total for s in sections}
    closures_lb = sum(1 for s in sections if s.key == "closures" for line in s.lines if line.left_behind)
    parts = [f"{totals['closures']} closure{'s' if totals['closures'] != 1 else ''}"
             + (f" ({closures_lb} in left-behind wards)" if totals["closures"] else ""),
             # an early warning is news when there is one; "0 announced closures" every week is not
             *([f"{totals['announced']} announced closure{'s' if totals['announced'] != 1 else ''}"]
               if totals["announced"] else []),
             f"{totals['reopenings']} reopening{'s' if totals['reopenings'] != 1 else ''}"]
    # Each source's new records, in its own words ("1 new mutual aid group"), where it gives a headline.
    for s in registry.ranked():
        if (d := s.digest_section).get("headline"):
            n = totals[d.get("key", s.name)]
            parts.append(f"{n} {d['headline'][n != 1]}")
    return "This week: " + ", ".join(parts) + "."


def build_context(db: sqlite_utils.Database, settings: dict, now, stats: Counter | None = None) -> DigestContext:
    """Assemble the digest's typed context for `now` (the week ending then), for no one in particular."""
    when = outbox.to_datetime(now)
    until, week_from = outbox._iso(when), outbox._iso(when - timedelta(days=7))
    base = datasette_base(db, settings)
    rows, (latest, previous, first) = indicator_rows(db, now)
    sections = event_sections(db, settings, week_from, until, base)
    if stats is not None:
        stats["digest/names_cleaned"] += sum(line.name_cleaned for s in sections for line in s.lines)
    closures = next(s.total for s in sections if s.key == "closures")
    week_to = when.strftime("%d %B %Y").lstrip("0")
    subject = (f"Weekly digest: left-behind neighbourhoods, week to {week_to} — "
               f"{closures} closure{'s' if closures != 1 else ''}")
    return DigestContext(
        subject=subject, week_from=(when - timedelta(days=7)).strftime("%d %B %Y").lstrip("0"), week_to=week_to,
        headline=_headline(sections), computed_at=(latest or "")[:16].replace("T", " "),
        compared_week=(previous or "")[:10], compared_first=(first or "")[:10], indicators=rows,
        chart_cid=CHART_CID if rows else None, sections=sections,
        sources=source_health(db, settings, now, week_from, base),
        links={"home": base, "indicators": table_link(base, "indicators", computed_at=latest or ""),
               "events": table_link(base, "events", at__gt=week_from, baseline=0),
               "wards": table_link(base, "wards", left_behind=1)},
        licences=[s.credit for s in registry.sources().values()], email="you", unsubscribe_url=settings["unsubscribe_url"],
        left_behind_wards=left_behind_wards(db))


def render(ctx: DigestContext) -> tuple[str, str]:
    """Render the digest's HTML (CSS inlined) and text parts."""
    return render_pair("digest", c=ctx)


def render_digest(db: sqlite_utils.Database, settings: dict, now) -> tuple[str, str, str, bytes]:
    """Return (subject, html, text, chart PNG); the HTML shows the chart as a data: URL, for previews."""
    ctx = build_context(db, settings, now)
    png = gap_chart(chart_series(db, now), share_history(db, now))
    html, text = render(ctx)
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()
    return ctx.subject, html.replace(f"cid:{CHART_CID}", data_url), text, png


QUEUE_BATCH = 50   # digests composed before they are written to the outbox (each is ~0.5 MB with its chart)


def send_digest(db, private_db, settings: dict, now, transport=None, stats: Counter | None = None) -> int:
    """Queue this week's digest for every active subscriber and deliver what is due; return messages sent."""
    stats = Counter() if stats is None else stats
    ctx = build_context(db, settings, now, stats)
    png = gap_chart(chart_series(db, now), share_history(db, now))
    year, week, _ = outbox.to_datetime(now).isocalendar()
    messages = []
    for sub in subscriptions.active(private_db):
        key = f"digest:{sub.id}:{year}-W{week:02d}"
        if outbox.already_queued(private_db, key):
            stats["digest/already_queued"] += 1
            continue
        mine = replace(ctx, email=sub.email, unsubscribe_url=subscriptions.unsubscribe_url(settings, sub))
        html, text = render(mine)
        message_id, data = compose(mail_from=settings["mail_from"], to=sub.email, subject=ctx.subject, text=text,
                                   html=html, now=outbox.to_datetime(now), unsubscribe_url=mine.unsubscribe_url,
                                   images={CHART_CID: png} if ctx.chart_cid else None, stats=stats)
        messages.append({"message_id": message_id, "dedupe_key": key, "kind": "digest", "recipient": sub.email,
                         "subject": ctx.subject, "message": data})
        if len(messages) == QUEUE_BATCH:   # into the ledger a batch at a time: memory stays one batch deep
            stats["digest/queued"] += outbox.enqueue(private_db, messages, now)
            messages = []
    stats["digest/queued"] += outbox.enqueue(private_db, messages, now)
    sent = outbox.deliver_due(private_db, transport or transport_from_settings(settings), settings, now,
                              stats=stats)
    outbox.record_run(private_db, "digest", now, stats)
    return sent
