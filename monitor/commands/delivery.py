"""Commands for people and mail: subscribe, unsubscribe, subscriptions, alerts, digest, outbox."""
from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import click

from core.errors import DeliveryError
from db.store import left_behind_wards
from monitor.commands.group import ISO_DATE, cli
from monitor.delivery import outbox as ledger
from monitor.delivery import subscriptions
from monitor.delivery.mailer import transport_from_settings
from monitor.reports.alerts import send_alerts
from monitor.reports.digest import render_digest, send_digest


def _now(text: str | None) -> str:
    return text or datetime.now(UTC).isoformat(timespec="seconds")


def _report(private_db, sent: int, stats: Counter) -> None:
    """Say how many messages went; when the transport was unreachable or refused some, say why and exit non-zero."""
    unsent = sum(stats[key] for key in ledger.UNSENT)
    if unsent:
        raise DeliveryError(f"{ledger.last_error(private_db)}; {sent} message(s) sent, {unsent} kept in the outbox "
                            "(`run.py outbox` shows them; a later delivery retries the queued ones)")
    click.echo(f"Sent {sent} message(s).")


@cli.command()
@click.argument("email")
@click.option("--ward", "wards", multiple=True, help="A 2017 ward code to watch (repeatable).")
@click.option("--lad", "lads", multiple=True, help="A local authority code: watch all its wards (repeatable).")
@click.option("--left-behind", is_flag=True, help="Watch every left-behind ward (225 in the 2019 list).")
@click.option("--kinds", default=None, help="Comma list of pub (pubs and bars), social_club, sports_club, nightclub, "
              "hotel_bar, restaurant, other_venue, library, news, grant, group (default: all).")
@click.pass_obj
def subscribe(obj, email, wards, lads, left_behind, kinds):
    """Subscribe an address to alerts and the weekly digest for some wards.

    Example: python run.py subscribe ann@example.org --ward E05000028 --kinds pub,library,news
    """
    public_db = obj.public_db(create=True)
    sub = subscriptions.subscribe(obj.private_db(create=True), public_db, email, now=_now(None), wards=list(wards),
                                  lads=list(lads), left_behind=left_behind, kinds=kinds)
    click.echo(f"Subscribed {sub.email} to {sub.describe(left_behind_wards(public_db))}; "
               f"kinds: {', '.join(sub.kinds)}.")


@cli.command()
@click.argument("email_or_token")
@click.pass_obj
def unsubscribe(obj, email_or_token):
    """Stop all mail to an address, given the address or its unsubscribe token.

    Example: python run.py unsubscribe ann@example.org
    """
    sub = subscriptions.unsubscribe(obj.private_db(), email_or_token)
    click.echo(f"Unsubscribed {sub.email}.")


@cli.command("subscriptions")
@click.pass_obj
def list_subscriptions(obj):
    """List every subscription and what it watches.

    Example: python run.py subscriptions
    """
    subs = subscriptions.all_subscriptions(obj.private_db())
    if not subs:
        click.echo("No subscriptions.")
    lb_wards = left_behind_wards(obj.public_db()) if any(s.left_behind for s in subs) else 0
    for sub in subs:
        state = "active" if sub.active else "unsubscribed"
        click.echo(f"{sub.email}  [{state}]  {sub.describe(lb_wards)}; kinds: {', '.join(sub.kinds)}")


@cli.command()
@click.option("--crawl", "crawl_id", type=int, required=True, help="The crawl whose events to send.")
@click.option("--now", "now_text", type=ISO_DATE, default=None, help="The time to act at (ISO; default: now).")
@click.pass_obj
def alerts(obj, crawl_id, now_text):
    """Send the alerts of one crawl (again: a crawl's alerts go out at most once per subscriber).

    Example: python run.py alerts --crawl 12
    """
    private_db, stats = obj.private_db(), Counter()
    sent = send_alerts(obj.public_db(), private_db, obj.settings, crawl_id, _now(now_text), stats=stats)
    _report(private_db, sent, stats)


@cli.command()
@click.option("--preview", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the HTML to this file (chart embedded) and send nothing.")
@click.option("--now", "now_text", type=ISO_DATE, default=None, help="The week ends at this time (ISO; default: now).")
@click.pass_obj
def digest(obj, preview, now_text):
    """Send the weekly digest to every subscriber, or preview it as an HTML file.

    Example: python run.py digest --preview digest.html
    """
    if preview:
        subject, html, text, _ = render_digest(obj.public_db(), obj.settings, _now(now_text))
        preview.write_text(html, encoding="utf-8")
        preview.with_suffix(".txt").write_text(text, encoding="utf-8")
        click.echo(f"Wrote {preview} and {preview.with_suffix('.txt')}: {subject}")
        return
    private_db, stats = obj.private_db(), Counter()
    sent = send_digest(obj.public_db(), private_db, obj.settings, _now(now_text), stats=stats)
    _report(private_db, sent, stats)


@cli.command()
@click.option("--flush", is_flag=True, help="Deliver every message that is due now.")
@click.option("--now", "now_text", type=ISO_DATE, default=None, help="The time to act at (ISO; default: now).")
@click.pass_obj
def outbox(obj, flush, now_text):
    """Show the outbox ledger by status; with --flush, deliver what is due.

    Example: python run.py outbox --flush
    """
    db = obj.private_db()
    if flush:
        stats = Counter()
        sent = ledger.deliver_due(db, transport_from_settings(obj.settings), obj.settings, _now(now_text),
                                  stats=stats)
        _report(db, sent, stats)
    counts = ledger.status_counts(db)
    click.echo(", ".join(f"{status}: {n}" for status, n in sorted(counts.items())) or "The outbox is empty.")
