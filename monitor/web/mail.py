"""The confirmation email: written to the outbox ledger like every other message, then delivered at once."""
from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cache

import jinja2

from monitor.delivery import outbox
from monitor.delivery.mailer import address_of, clean_header, transport_from_settings
from monitor.delivery.outbox import to_datetime
from monitor.reports.rendering import TEMPLATES
from monitor.web.templating import shown


@cache
def _text_templates() -> jinja2.Environment:
    # Plain text (no HTML escaping in a mail body), each value through `shown` as on the pages.
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                              finalize=shown, autoescape=False)


def confirmation(state, email: str, token: str, ward_names: list[str], now) -> dict:
    """Return the outbox row of a confirmation message (the only mail sent before a subscription is confirmed)."""
    settings = state.settings
    domain = address_of(settings["mail_from"]).rpartition("@")[2] or "localhost"
    message_id = make_msgid(domain=domain)
    msg = EmailMessage()
    msg["From"] = clean_header(settings["mail_from"])
    msg["To"] = clean_header(email)
    msg["Subject"] = "Confirm your alerts from the left-behind neighbourhoods monitor"
    msg["Date"] = format_datetime(to_datetime(now))
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(_text_templates().get_template("confirm_email.txt").render(
        link=f"{state.base_url}/confirm?token={token}", wards=ward_names, home=f"{state.base_url}/wards"))
    return {"message_id": message_id, "dedupe_key": f"confirm:{message_id}", "kind": "confirmation",
            "recipient": email, "subject": str(msg["Subject"]),
            "message": msg.as_bytes(policy=msg.policy.clone(linesep="\r\n", max_line_length=998))}


def _deliver(state, now) -> None:
    db = state.private_db()
    try:
        outbox.deliver_due(db, transport_from_settings(state.settings), state.settings, now)
    finally:
        db.close()


async def send_now(state, now) -> None:
    """Deliver what is due (the confirmation just queued) without holding up the event loop for long."""
    await asyncio.to_thread(_deliver, state, now)
