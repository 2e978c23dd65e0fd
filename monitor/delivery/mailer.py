"""The mailer seam: compose a MIME message safely, and hand it to a transport (SMTP, or a Maildir folder).

A transport has two methods: `session()`, a context manager whose `send()` hands one message over, and
`delivered(message_id)`, which says whether a message already arrived (True/False), or None when the transport
cannot know (SMTP). `send()` calls `on_handed_over()` as soon as the message is out of our hands (the SMTP final
dot written; the Maildir file renamed into new/), so the outbox can record it before waiting for the reply.
"""
from __future__ import annotations

import hashlib
import os
import re
import smtplib
import ssl
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from core.errors import DeliveryError
from monitor.delivery.text import clean_text


class TransientDeliveryError(DeliveryError):
    """The transport may accept the message later (connection refused, 4xx)."""


class PermanentDeliveryError(DeliveryError):
    """The transport will never accept the message (5xx)."""


def clean_header(value: str, stats: Counter | None = None, limit: int = 200) -> str:
    """Return a header value on one line: control and bidi characters become spaces, length is capped."""
    cleaned = clean_text(value, limit)
    if cleaned != (value or "") and stats is not None:
        stats["mail/header_sanitised"] += 1
    return cleaned


def address_of(mailbox: str) -> str:
    """Return the bare address of 'Name <addr>'."""
    return parseaddr(mailbox)[1]


def compose(*, mail_from: str, to: str, subject: str, text: str, html: str, now, unsubscribe_url: str,
            images: dict[str, bytes] | None = None, stats: Counter | None = None) -> tuple[str, bytes]:
    """Build a text+HTML message with inline PNGs and unsubscribe headers; return (Message-ID, bytes)."""
    domain = address_of(mail_from).rpartition("@")[2] or "localhost"
    message_id = make_msgid(domain=domain)
    msg = EmailMessage()
    msg["From"] = clean_header(mail_from, stats)
    msg["To"] = clean_header(to, stats)
    msg["Subject"] = clean_header(subject, stats)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    if unsubscribe_url:   # every subscriber's message has one; the operator's own alerts have none
        msg["List-Unsubscribe"] = f"<{clean_header(unsubscribe_url, stats, 500)}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    html_part = msg.get_payload()[1]
    for cid, png in (images or {}).items():
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", filename=f"{cid}.png")
    # Long lines allowed (RFC 5322: 998) so the unsubscribe URL is never folded onto a continuation line.
    return message_id, msg.as_bytes(policy=msg.policy.clone(linesep="\r\n", max_line_length=998))


def transport_from_settings(settings: dict):
    """Return the SMTP transport when smtp_host is set, else the Maildir transport."""
    if settings.get("smtp_host"):
        return SMTPTransport(host=settings["smtp_host"], port=int(settings["smtp_port"]),
                             security=settings.get("smtp_security", "starttls"), user=settings.get("smtp_user", ""),
                             password=settings.get("smtp_password", ""),
                             timeout=float(settings.get("smtp_timeout", 30)))
    return MaildirTransport(settings["maildir"])


class MaildirTransport:
    """Deliver into a Maildir folder: write tmp/, fsync, rename into new/. Idempotent per Message-ID."""

    name = "maildir"

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def _filename(self, message_id: str) -> str:
        # A name derived from the Message-ID makes delivery checkable and repeatable without duplicates.
        return hashlib.sha1(message_id.encode()).hexdigest()[:24] + ".leftbehind"

    def delivered(self, message_id: str) -> bool:
        name = self._filename(message_id)
        if (self.folder / "new" / name).exists():
            return True
        cur = self.folder / "cur"
        return cur.is_dir() and any(p.name.split(":")[0] == name for p in cur.iterdir())

    @contextmanager
    def session(self) -> Iterator["MaildirTransport"]:
        try:
            for sub in ("tmp", "new", "cur"):
                (self.folder / sub).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise TransientDeliveryError(f"cannot create Maildir {self.folder}: {e.strerror}") from None
        yield self

    def send(self, sender: str, recipient: str, data: bytes, message_id: str,
             on_handed_over: Callable[[], None] = lambda: None) -> str:
        if self.delivered(message_id):
            on_handed_over()
            return "already in Maildir"
        name = self._filename(message_id)
        tmp = self.folder / "tmp" / name
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, self.folder / "new" / name)
        except OSError as e:
            raise TransientDeliveryError(f"cannot write to Maildir {self.folder}: {e.strerror}") from None
        on_handed_over()
        return "written to Maildir"


class SMTPTransport:
    """Deliver over SMTP (STARTTLS, SSL or plain), one connection per batch."""

    name = "smtp"

    def __init__(self, host: str, port: int, security: str = "starttls", user: str = "", password: str = "",
                 timeout: float = 30.0):
        if security not in ("starttls", "ssl", "none"):
            raise DeliveryError(f"smtp_security must be starttls, ssl or none, not {security!r}")
        self.host, self.port, self.security = host, port, security
        self.user, self.password, self.timeout = user, password, timeout

    def delivered(self, message_id: str) -> None:
        return None  # SMTP gives no way to ask a server whether it already has a message

    @contextmanager
    def session(self) -> Iterator["_SMTPSession"]:
        try:
            if self.security == "ssl":
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo_or_helo_if_needed()
            if self.user:
                smtp.login(self.user, self.password)
        except smtplib.SMTPAuthenticationError as e:
            # Retried, not failed: messages wait in the outbox until the operator fixes the credentials.
            raise TransientDeliveryError(f"SMTP login to {self.host} refused: {e.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as e:
            raise TransientDeliveryError(f"cannot reach SMTP server {self.host}:{self.port}: {e}") from None
        try:
            yield _SMTPSession(smtp)
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


class _SMTPSession:
    def __init__(self, smtp: smtplib.SMTP):
        self.smtp = smtp

    def send(self, sender: str, recipient: str, data: bytes, message_id: str,
             on_handed_over: Callable[[], None] = lambda: None) -> str:
        """Run MAIL, RCPT, DATA by hand so the outbox can record the moment the final dot is written."""
        try:
            self._expect(self.smtp.mail(sender), 250)
            self._expect(self.smtp.rcpt(recipient), 250, 251)
            self.smtp.putcmd("data")
            self._expect(self.smtp.getreply(), 354)
            body = re.sub(rb"(?m)^\.", b"..", data)  # SMTP transparency: a leading dot is doubled
            if not body.endswith(b"\r\n"):
                body += b"\r\n"
            self.smtp.send(body + b".\r\n")
            on_handed_over()
            code, reply = self.smtp.getreply()
        except (OSError, smtplib.SMTPServerDisconnected) as e:
            raise TransientDeliveryError(f"SMTP connection lost: {e}") from None
        self._expect((code, reply), 250)
        return f"{code} {reply.decode(errors='replace')}"

    def _expect(self, reply: tuple[int, bytes], *codes: int) -> None:
        code, text = reply
        if code in codes:
            return
        detail = f"SMTP {code} {text.decode(errors='replace')}"
        try:
            self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            pass
        if 400 <= code < 500 or code < 0:
            raise TransientDeliveryError(detail)
        raise PermanentDeliveryError(detail)
