"""Helpers of the web tests: read a form's CSRF token, read the Maildir, run the command line."""
from __future__ import annotations

import email
import os
import re
import subprocess
import sys
from email import policy
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent


def csrf_of(html: str) -> str:
    field = BeautifulSoup(html, "html.parser").select_one("input[name=csrftoken]")
    assert field is not None and field["value"], "the form carries no CSRF token"
    return field["value"]


def mails(maildir: Path) -> list[email.message.EmailMessage]:
    """Every message delivered into the Maildir, oldest file first."""
    folder = Path(maildir) / "new"
    files = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]


def mails_to(maildir: Path, address: str) -> list[email.message.EmailMessage]:
    return [m for m in mails(maildir) if m["To"] == address]


def link_in(message, path: str) -> str:
    body = message.get_body(("plain",)).get_content()
    found = re.search(rf"https?://\S+{re.escape(path)}\?token=[A-Za-z0-9_-]+", body)
    assert found, f"no {path} link in: {body}"
    return found.group(0)


def run_cli(site: dict, *args: str) -> str:
    """Run `run.py` as a person would, from the site's folder with relative paths; return its output."""
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "--db", "leftbehind.db", "--private-db",
                             "private.db", "--config", "site.toml", *args], cwd=site["folder"],
                            capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, LBM_POSTCODES_URL=site["postcodes_url"]))
    assert result.returncode == 0, result.stderr
    return result.stdout
