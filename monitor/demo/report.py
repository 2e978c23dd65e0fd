"""What the demo prints at the end: the indicator table, the events, where the mail is, how to browse it."""
from __future__ import annotations

import time
from pathlib import Path

from db.store import init_public
from monitor.indicators import history
from monitor.indicators.compute import compute_and_store
from monitor.indicators.table import format_table
from monitor.reports.digest import render_digest


def _event_counts(db) -> list[tuple]:
    return db.execute("""select kind, source, sum(baseline = 0), sum(baseline = 1) from events
                         group by kind, source order by kind, source""").fetchall()


def _closure_examples(db, limit: int = 8) -> list[tuple]:
    return db.execute("""
        select e.at, e.source, e.name, coalesce(w.name, '(no ward)'), coalesce(w.lad_name, ''), w.left_behind,
               e.evidence
        from events e left join wards w on w.code = e.ward_code
        where e.kind = 'closed' and e.baseline = 0 order by e.at desc, e.id limit ?""", [limit]).fetchall()


def report(obj, directory: Path, started: float, echo) -> None:
    """Print the end-of-demo summary (obj is the command's context, pointed at the demo's databases)."""
    db = init_public(obj.db_path)
    echo("\nIndicators per 100,000 residents (latest computation):")
    last_now = db.execute("select max(now) from crawl_runs").fetchone()[0]
    computed_at = history.latest_computed_at(db)   # every demo crawl job stores one; else compute at the last crawl
    echo(format_table(history.rows_at(db, computed_at) if computed_at else compute_and_store(db, last_now, obj.settings)))
    echo("\nEvents found (not counting the first crawl of each source, which sets the baseline):")
    for kind, source, live, baseline in _event_counts(db):
        echo(f"  {kind:<15} {source:<18} {live or 0:>6}   (+{baseline or 0} baseline)")
    examples = _closure_examples(db)
    if examples:
        echo("Closures, for example:")
        for at, source, name, ward, lad, left_behind, _ in examples:
            flag = " [left behind]" if left_behind else ""
            echo(f"  {at[:10]}  {source:<10} {name} — {ward}, {lad}{flag}")
    subject, html, _, _ = render_digest(db, obj.settings, last_now)
    preview = directory / "digest-latest.html"
    preview.write_text(html, encoding="utf-8")
    maildir = Path(obj.settings["maildir"])
    messages = sorted((maildir / "new").glob("*")) + sorted((maildir / "cur").glob("*"))
    echo(f"\nMail: {len(messages)} messages for the demo subscriber in the Maildir {maildir}")
    echo(f"Latest digest rendered to {preview}  ({subject})")
    echo(f"Browse everything: python run.py --db {obj.db_path} serve")
    echo(f"Done in {time.monotonic() - started:.0f} s.")
