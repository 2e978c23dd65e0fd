"""A delivery process for the crash tests: `python -m tests.outbox_worker PRIVATE_DB TRANSPORT [STEP ROW]`.

TRANSPORT is smtp:PORT or maildir:PATH. With STEP and ROW, the process dies (os._exit) right after the outbox
records STEP for that row, as a kill would leave it.
"""
from __future__ import annotations

import os
import sys

from core.config import defaults
from db.store import init_private
from monitor.delivery.mailer import MaildirTransport, SMTPTransport
from monitor.delivery.outbox import deliver_due
from spiders import registry  # noqa: F401  (the settings learn the sources' own from it)

NOW = "2024-03-05T06:00:00+00:00"


def main(argv: list[str]) -> None:
    private, transport_spec = argv[0], argv[1]
    kind, _, where = transport_spec.partition(":")
    transport = SMTPTransport("127.0.0.1", int(where), security="none", timeout=20) if kind == "smtp" \
        else MaildirTransport(where)
    crash = (argv[2], int(argv[3])) if len(argv) > 3 else None

    def on_step(step: str, row_id: int) -> None:
        if crash and (step, row_id) == crash:
            os._exit(3)

    sent = deliver_due(init_private(private), transport, dict(defaults()), NOW, on_step=on_step)
    print(sent)


if __name__ == "__main__":
    main(sys.argv[1:])
