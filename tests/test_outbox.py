import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from core.config import defaults
from monitor.delivery import outbox
from monitor.delivery.mailer import MaildirTransport, SMTPTransport, compose
from tests.smtp_server import SMTPServer

ROOT = Path(__file__).resolve().parent.parent
NOW = "2024-03-05T06:00:00+00:00"
SETTINGS = {**defaults(), "mail_retry_seconds": 60, "mail_max_attempts": 5}


def queue(private_db, n: int) -> list[str]:
    messages = []
    for i in range(n):
        mid, data = compose(mail_from="Monitor <monitor@example.org>", to=f"user{i}@example.org",
                            subject=f"Message {i}", text=f"Body {i}\n.starts with a dot", html=f"<p>Body {i}</p>",
                            now=outbox.to_datetime(NOW), unsubscribe_url=f"http://x/unsubscribe?token={i}")
        messages.append({"message_id": mid, "dedupe_key": f"test:{i}", "kind": "alert",
                         "recipient": f"user{i}@example.org", "subject": f"Message {i}", "message": data})
    assert outbox.enqueue(private_db, messages, NOW) == n
    return [m["message_id"] for m in messages]


def worker(private_db_path, transport: str, *crash) -> subprocess.CompletedProcess | subprocess.Popen:
    args = [sys.executable, "-m", "tests.outbox_worker", str(private_db_path), transport, *map(str, crash)]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_enqueue_is_idempotent_per_dedupe_key(private_db):
    queue(private_db, 3)
    again = [{"message_id": "<other@x>", "dedupe_key": "test:0", "kind": "alert", "recipient": "a@example.org",
              "subject": "s", "message": b"x"}]
    assert outbox.enqueue(private_db, again, NOW) == 0
    assert private_db["outbox"].count == 3


@pytest.mark.parametrize("server_drops_it", [True, False])
def test_killed_after_the_final_dot_before_the_250_loses_nothing(private_db, private_db_path, server_drops_it):
    """Killed while the server holds its reply to message 10: only a 250 counts, so message 10 is resent."""
    ids = queue(private_db, 30)
    server = SMTPServer().start()
    tenth_arrived, killed = threading.Event(), threading.Event()

    def hold_tenth(count):
        if count == 10:
            tenth_arrived.set()
            killed.wait(10)
            return server_drops_it
        return False

    server.handler.before_reply = hold_tenth
    try:
        proc = worker(private_db_path, f"smtp:{server.port}")
        assert tenth_arrived.wait(20), proc.communicate()
        # The worker wrote the final dot of message 10 and waits for the reply: kill it there.
        deadline = time.monotonic() + 10
        while private_db.execute("select count(*) from outbox where status = 'handed_over'").fetchone()[0] == 0:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.kill()
        proc.wait(10)
        killed.set()
        server.handler.before_reply = None
        statuses = outbox.status_counts(private_db)
        assert statuses["sent"] == 9 and statuses["handed_over"] == 1 and statuses["queued"] == 20
        restarted = worker(private_db_path, f"smtp:{server.port}")
        out, err = restarted.communicate(timeout=60)
        assert restarted.returncode == 0, err
        assert out.strip() == "21"                     # the 20 never tried, and message 10 again
    finally:
        server.stop()
    received = server.handler.message_ids()
    # A server that dropped message 10 gets it once, from the resend; one that kept it gets it twice, under the
    # same Message-ID (a duplicate mail stores collapse) - never zero times.
    expected = Counter(ids) if server_drops_it else Counter(ids) + Counter([ids[9]])
    assert Counter(received) == expected
    assert outbox.status_counts(private_db) == {"sent": 30}
    note = private_db.execute("select note from outbox where note like 'recovered%'").fetchone()[0]
    assert note.startswith("recovered: requeued, fate unknown after the final dot; 250 ")


def test_crash_at_each_step_delivers_exactly_once_over_smtp(private_db, private_db_path):
    ids = queue(private_db, 6)
    server = SMTPServer().start()
    try:
        for step, row in (("sending", 2), ("handed_over", 4)):
            crashed = worker(private_db_path, f"smtp:{server.port}", step, row)
            crashed.communicate(timeout=60)
            assert crashed.returncode == 3
        final = worker(private_db_path, f"smtp:{server.port}")
        final.communicate(timeout=60)
        assert final.returncode == 0
        server.handler.wait_for(7)
        time.sleep(0.2)
    finally:
        server.stop()
    # Row 4 died after its final dot, before the 250: its fate is unknown, so it is sent again (same Message-ID).
    assert Counter(server.handler.message_ids()) == Counter(ids) + Counter([ids[3]])
    assert outbox.status_counts(private_db) == {"sent": 6}


def test_crash_in_maildir_is_settled_by_looking_at_the_folder(private_db, private_db_path, tmp_path):
    ids = queue(private_db, 4)
    mail = tmp_path / "mail"
    crashed = worker(private_db_path, f"maildir:{mail}", "handed_over", 2)
    crashed.communicate(timeout=60)
    assert crashed.returncode == 3
    # A crash after the file landed but before the ledger said so: the row is still 'sending'.
    transport = MaildirTransport(mail)
    row = private_db["outbox"].get(3)
    with transport.session() as session:
        session.send("m@example.org", row["recipient"], row["message"], row["message_id"])
    private_db["outbox"].update(3, {"status": "sending"})
    stats = Counter()
    assert outbox.deliver_due(private_db, transport, SETTINGS, NOW, stats=stats) == 1
    assert stats["outbox/recovered_found_delivered"] == 2
    files = list((mail / "new").iterdir())
    assert len(files) == 4
    assert sorted(transport._filename(i) for i in ids) == sorted(f.name for f in files)


def test_smtp_down_then_back_messages_wait_and_go_out(private_db):
    ids = queue(private_db, 3)
    server = SMTPServer()                                  # not started: connection refused
    transport = SMTPTransport("127.0.0.1", server.port, security="none", timeout=5)
    stats = Counter()
    assert outbox.deliver_due(private_db, transport, SETTINGS, NOW, stats=stats) == 0
    rows = list(private_db.query("select status, attempts, next_attempt_at, last_error from outbox"))
    assert {r["status"] for r in rows} == {"queued"} and {r["attempts"] for r in rows} == {1}
    assert rows[0]["next_attempt_at"] == "2024-03-05T06:01:00+00:00"
    assert "cannot reach SMTP server" in rows[0]["last_error"]
    server.start()
    try:
        server.handler.refuse_with = "451 4.3.0 try again later"
        assert outbox.deliver_due(private_db, transport, SETTINGS, "2024-03-05T06:00:30+00:00") == 0  # not due yet
        assert outbox.deliver_due(private_db, transport, SETTINGS, "2024-03-05T06:01:00+00:00") == 0  # 451
        backoff = private_db.execute("select max(next_attempt_at), max(attempts) from outbox").fetchone()
        assert backoff == ("2024-03-05T06:03:00+00:00", 2)     # 60 s, then 120 s
        server.handler.refuse_with = None
        assert outbox.deliver_due(private_db, transport, SETTINGS, "2024-03-05T06:03:00+00:00") == 3
    finally:
        server.stop()
    assert Counter(server.handler.message_ids()) == Counter(ids)
    assert outbox.status_counts(private_db) == {"sent": 3}


def test_permanent_refusal_fails_the_message(private_db):
    queue(private_db, 2)
    server = SMTPServer().start()
    try:
        server.handler.refuse_with = "550 5.1.1 no such user"
        transport = SMTPTransport("127.0.0.1", server.port, security="none", timeout=5)
        assert outbox.deliver_due(private_db, transport, SETTINGS, NOW) == 0
    finally:
        server.stop()
    rows = list(private_db.query("select status, last_error from outbox"))
    assert {r["status"] for r in rows} == {"failed"}
    assert "550" in rows[0]["last_error"]


def test_gives_up_after_max_attempts_and_keeps_the_message(private_db):
    queue(private_db, 1)
    transport = SMTPTransport("127.0.0.1", SMTPServer().port, security="none", timeout=5)   # nobody listening
    settings = {**SETTINGS, "mail_max_attempts": 2}
    stats = Counter()
    outbox.deliver_due(private_db, transport, settings, NOW, stats=stats)
    outbox.deliver_due(private_db, transport, settings, "2024-03-05T07:00:00+00:00", stats=stats)
    row = private_db["outbox"].get(1)
    assert (row["status"], row["attempts"]) == ("failed", 2)
    assert row["message"]                                   # kept, for the operator to look at
    assert stats["outbox/retry_scheduled"] == 1 and stats["outbox/failed_after_retries"] == 1
