"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), recording every message it accepts."""
from __future__ import annotations

import email
import socket
import threading
import time
from email import policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """The aiosmtpd handler: keeps (envelope recipients, parsed message); can refuse or pause."""

    def __init__(self):
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []
        self.refuse_with: str | None = None        # e.g. "451 try later"
        # callable(count) run after a message is kept, before 250; if it returns True the message is dropped, as a
        # server may drop a message whose client vanished before reading the reply
        self.before_reply = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_with:
            return self.refuse_with
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), msg))
            count = len(self.received)
        if self.before_reply and self.before_reply(count):
            with self.lock:
                self.received.remove((list(envelope.rcpt_tos), msg))
            return "451 4.4.2 client went away, message dropped"
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [m["Message-ID"] for _, m in self.received]

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.received)} of {count} messages arrived")
            time.sleep(0.02)


class SMTPServer:
    """Start and stop an aiosmtpd Controller on a fixed local port (so it can be stopped and started again)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.handler = Recorder()
        self.controller = None

    def start(self) -> "SMTPServer":
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None

    def settings(self, base: dict) -> dict:
        return {**base, "smtp_host": "127.0.0.1", "smtp_port": self.port, "smtp_security": "none",
                "smtp_timeout": 10.0}
