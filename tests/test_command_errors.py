"""A bad path, database, date or mail server: one sentence, a non-zero exit, no traceback, nothing created."""
from __future__ import annotations

import shutil
import socket
import sqlite3

import pytest

from db.store import init_private
from tests.cli_process import can_drop_privileges, error_line, run_cli, shared_folder

MISSING = "database {} does not exist: give the right --db or --private-db, or create it with `run.py init`"


@pytest.fixture
def folder(tmp_path, template_db):
    """A folder with a public and a private database, where the commands run with relative paths."""
    (tmp_path / "a.db").write_bytes(template_db.read_bytes())
    init_private(tmp_path / "p.db").conn.close()
    return tmp_path


@pytest.mark.parametrize("args", [["status"], ["events"], ["indicators"], ["outbox"], ["digest", "--preview", "d.html"]])
def test_a_reading_command_never_creates_the_public_database(tmp_path, args):
    result = run_cli(tmp_path, "--db", "missing/dir/x.db", "--private-db", "p.db", *args)
    assert result.returncode == 2, result.stdout
    assert error_line(result) in (MISSING.format(tmp_path / "missing/dir/x.db"), MISSING.format(tmp_path / "p.db"))
    assert not (tmp_path / "missing").exists() and not (tmp_path / "p.db").exists()


@pytest.mark.parametrize("args", [["subscriptions"], ["outbox"], ["unsubscribe", "ann@example.org"]])
def test_a_reading_command_never_creates_the_private_database(folder, args):
    result = run_cli(folder, "--db", "a.db", "--private-db", "gone/p.db", *args)
    assert result.returncode == 2
    assert error_line(result) == MISSING.format(folder / "gone/p.db")
    assert not (folder / "gone").exists()


def test_a_file_that_is_not_sqlite_is_named(folder):
    (folder / "a.db").write_text("name,ward\nThe Angel,E05000026\n")
    result = run_cli(folder, "--db", "a.db", "--private-db", "p.db", "status")
    assert result.returncode == 2
    assert error_line(result) == f"{folder / 'a.db'} is not an SQLite database"


def test_a_cut_off_database_is_called_damaged(folder):
    whole = (folder / "a.db").read_bytes()
    (folder / "a.db").write_bytes(whole[:len(whole) // 2])   # the header is intact, half of the pages are gone
    result = run_cli(folder, "--db", "a.db", "--private-db", "p.db", "status")
    assert result.returncode == 2
    assert error_line(result) == (f"database {folder / 'a.db'} is damaged (SQLite: database disk image is "
                                  "malformed): restore it from a copy, or make a new one with `run.py init` and "
                                  "crawl again")


@pytest.mark.skipif(not can_drop_privileges(), reason="needs setpriv to try permissions as root")
def test_an_unreadable_database_is_named(template_db):
    folder = shared_folder()
    try:
        shutil.copyfile(template_db, folder / "a.db")
        (folder / "a.db").chmod(0o000)
        result = run_cli(folder, "--db", "a.db", "--private-db", "p.db", "status", as_nobody=True)
        assert result.returncode == 2
        assert error_line(result) == "Invalid value for '--db': File 'a.db' is not readable."
    finally:
        shutil.rmtree(folder)


@pytest.mark.skipif(not can_drop_privileges(), reason="needs setpriv to try permissions as root")
def test_a_read_only_folder_is_named_and_nothing_is_created(template_db):
    folder = shared_folder()
    try:
        shutil.copyfile(template_db, folder / "a.db")
        init_private(folder / "p.db").conn.close()
        for name in ("a.db", "p.db"):
            (folder / name).chmod(0o666)
        folder.chmod(0o555)
        status = run_cli(folder, "--db", "a.db", "--private-db", "p.db", "status", as_nobody=True)
        assert status.returncode == 2
        assert error_line(status) == (f"database {folder / 'a.db'} cannot be used: its folder {folder} cannot be "
                                      "written (SQLite needs to write there even to read)")
        init = run_cli(folder, "--db", "new/a.db", "--private-db", "p.db", "init", as_nobody=True)
        assert init.returncode == 2
        assert error_line(init) == f"cannot create the folder of database {folder / 'new/a.db'}: Permission denied"
        assert sorted(p.name for p in folder.iterdir()) == ["a.db", "p.db"]
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


@pytest.mark.parametrize("args, value", [(["events", "--since", "2024-13-45"], "2024-13-45"),
                                         (["status", "--now", "yesterday"], "yesterday"),
                                         (["indicators", "--to", "2024-02-30"], "2024-02-30")])
def test_an_invalid_date_is_refused_by_name(folder, args, value):
    result = run_cli(folder, "--db", "a.db", "--private-db", "p.db", *args)
    assert result.returncode == 2
    assert error_line(result) == (f"Invalid value for '{args[1]}': '{value}' is not a date like 2024-06-01 or a "
                                  "time like 2024-06-01T07:00:00+00:00")
    assert "No events" not in result.stdout


def closed_port() -> int:
    """Return a local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_mail_server_keeps_the_digest_in_the_outbox(folder):
    subscribed = run_cli(folder, "--db", "a.db", "--private-db", "p.db", "subscribe", "ann@example.org",
                         "--left-behind")
    assert subscribed.returncode == 0, subscribed.stderr
    port = closed_port()
    env = {"LBM_SMTP_HOST": "127.0.0.1", "LBM_SMTP_PORT": str(port), "LBM_SMTP_SECURITY": "none"}
    result = run_cli(folder, "--db", "a.db", "--private-db", "p.db", "digest", "--now", "2024-03-04T07:00:00+00:00",
                     env=env)
    assert result.returncode == 2
    assert "Sent 0 message(s)" not in result.stdout
    assert error_line(result).startswith(f"cannot reach SMTP server 127.0.0.1:{port}: ")
    assert error_line(result).endswith("; 0 message(s) sent, 1 kept in the outbox (`run.py outbox` shows them; "
                                       "a later delivery retries the queued ones)")
    rows = sqlite3.connect(folder / "p.db").execute("select recipient, status, attempts from outbox").fetchall()
    assert rows == [("ann@example.org", "queued", 1)]
    flushed = run_cli(folder, "--db", "a.db", "--private-db", "p.db", "outbox", "--flush", "--now", "2024-03-05",
                      env=env)
    assert flushed.returncode == 2 and "kept in the outbox" in error_line(flushed)


def test_status_given_a_folder_for_a_database_never_tracebacks(tmp_path):
    (tmp_path / "a.db").mkdir()
    result = run_cli(tmp_path, "--db", "a.db", "--private-db", "p.db", "status")
    assert result.returncode == 2
    assert error_line(result) == "Invalid value for '--db': File 'a.db' is a directory."
